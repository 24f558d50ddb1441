//! The sealed pipeline end to end at the library level: seal → store → open,
//! on the filesystem store and on S3 (LocalStack), with faults injected.

mod common;

use std::io::Read;
use std::sync::Arc;

use graphvault::model::ArtifactRecord;
use graphvault::pipeline::{open_from_store, seal_to_store, OpenError, SealError, SealSettings, SealedObject};
use graphvault::store::{Fault, FaultPlan, FaultyStore, ObjectStore, Op, RetryingStore, StoreError};

const MIB: usize = 1 << 20;

fn settings() -> SealSettings {
    SealSettings {
        part_size: 5 * MIB as u64,
        concurrency: 3,
        ..SealSettings::default()
    }
}

fn record(key: &str, sealed: &SealedObject) -> ArtifactRecord {
    sealed.to_record("artifact.backup", key)
}

/// Opens with `key`'s identity an object the manifest says was sealed to `key`.
async fn open_to_vec(
    store: Arc<dyn ObjectStore>,
    rec: &ArtifactRecord,
    key: &common::TestKey,
) -> Result<Vec<u8>, OpenError> {
    open_with(store, rec, key, key).await
}

async fn open_with(
    store: Arc<dyn ObjectStore>,
    rec: &ArtifactRecord,
    sealed_to: &common::TestKey,
    opener: &common::TestKey,
) -> Result<Vec<u8>, OpenError> {
    let mut tmp = tempfile::tempfile().unwrap();
    let out = tmp.try_clone().unwrap();
    open_from_store(
        store,
        rec,
        std::slice::from_ref(&sealed_to.recipient),
        opener.identities(),
        out,
    )
    .await?;
    use std::io::Seek;
    tmp.rewind().unwrap();
    let mut v = Vec::new();
    tmp.read_to_end(&mut v).unwrap();
    Ok(v)
}

async fn seal_bytes(
    store: Arc<dyn ObjectStore>,
    data: &[u8],
    key: &common::TestKey,
    s: &SealSettings,
    object_key: &str,
) -> Result<SealedObject, SealError> {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_artifact(dir.path(), "db", data);
    seal_to_store(store, &path, object_key, key.recipients(), s, None).await
}

async fn round_trips_at_part_boundaries(store: Arc<dyn ObjectStore>) {
    let key = common::TestKey::new();
    for (i, len) in [0, 1, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 16 * MIB + 7]
        .into_iter()
        .enumerate()
    {
        let data = common::random_bytes(len, i as u64);
        let object_key = format!("data/rt/{len}");
        let sealed = seal_bytes(store.clone(), &data, &key, &settings(), &object_key)
            .await
            .unwrap();
        assert_eq!(sealed.plain.size, len as u64);
        assert_eq!(
            sealed.parts as u64,
            sealed.stored.size.div_ceil(sealed.part_size).max(1),
            "len {len}"
        );
        assert_eq!(store.head(&object_key).await.unwrap().size, sealed.stored.size);
        let back = open_to_vec(store.clone(), &record(&object_key, &sealed), &key)
            .await
            .unwrap();
        assert!(back == data, "round trip of {len} bytes differs");
    }
    assert!(
        store.list_multipart("").await.unwrap().is_empty(),
        "no multipart upload left behind"
    );
}

async fn compressible_input_shrinks_and_random_input_gets_the_cheap_level(store: Arc<dyn ObjectStore>) {
    let key = common::TestKey::new();
    let text = common::compressible_bytes(8 * MIB, 1);
    let sealed = seal_bytes(store.clone(), &text, &key, &settings(), "data/c/text")
        .await
        .unwrap();
    assert_eq!(sealed.compression_level, 3);
    assert!(sealed.stored.size * 4 < sealed.plain.size, "{sealed:?}");
    let back = open_to_vec(store.clone(), &record("data/c/text", &sealed), &key)
        .await
        .unwrap();
    assert!(back == text);

    let noise = common::random_bytes(6 * MIB, 2);
    let sealed = seal_bytes(store.clone(), &noise, &key, &settings(), "data/c/noise")
        .await
        .unwrap();
    assert_eq!(
        sealed.compression_level, 1,
        "incompressible input uses incompressible_level"
    );
    assert!(sealed.stored.size < sealed.plain.size + 64 * 1024, "{sealed:?}");
}

async fn the_wrong_identity_is_a_clear_key_error(store: Arc<dyn ObjectStore>) {
    let key = common::TestKey::new();
    let other = common::TestKey::new();
    let data = common::compressible_bytes(100_000, 3);
    let sealed = seal_bytes(store.clone(), &data, &key, &settings(), "data/w/x")
        .await
        .unwrap();
    let err = open_with(store, &record("data/w/x", &sealed), &key, &other)
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::WrongIdentity { .. }), "{err:?}");
    assert!(err.to_string().contains(&key.recipient), "names the recipients: {err}");
}

macro_rules! on_both_stores {
    ($($check:ident),* $(,)?) => {
        mod fs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let (store, _dir) = crate::common::fs_store();
                    super::$check(store).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(crate::common::s3_store().await).await;
                }
            )*
        }
    };
}

on_both_stores!(
    round_trips_at_part_boundaries,
    compressible_input_shrinks_and_random_input_gets_the_cheap_level,
    the_wrong_identity_is_a_clear_key_error,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_corrupted_on_the_wire_is_rejected_by_s3_and_resent_by_the_retry_wrapper() {
    let key = common::TestKey::new();
    let plan = FaultPlan::new().inject(Op::UploadPart, 1, 1, Fault::CorruptBody);
    let faulty: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(common::s3_store().await, plan.clone()));
    let store: Arc<dyn ObjectStore> = Arc::new(RetryingStore::new(faulty, common::fast_retry()));
    let data = common::random_bytes(12 * MIB, 4);
    let sealed = seal_bytes(store.clone(), &data, &key, &settings(), "data/f/x")
        .await
        .unwrap();
    assert_eq!(
        plan.calls(Op::UploadPart),
        sealed.parts as usize + 1,
        "one part was sent twice"
    );
    assert!(open_to_vec(store, &record("data/f/x", &sealed), &key).await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_is_aborted_and_leaves_nothing_behind() {
    let key = common::TestKey::new();
    let base = common::s3_store().await;
    for (fault, skip) in [(Fault::Permanent, 1), (Fault::CorruptBody, 0), (Fault::Transient, 2)] {
        let plan = FaultPlan::new().inject(Op::UploadPart, skip, 100, fault);
        let store: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base.clone(), plan.clone()));
        let data = common::random_bytes(20 * MIB, 5);
        let err = seal_bytes(store.clone(), &data, &key, &settings(), "data/a/x")
            .await
            .unwrap_err();
        assert!(matches!(err, SealError::Store { .. }), "{fault:?}: {err:?}");
        if fault == Fault::CorruptBody {
            assert!(
                matches!(
                    err,
                    SealError::Store {
                        source: StoreError::ChecksumMismatch { .. },
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        assert_eq!(plan.calls(Op::AbortMultipart), 1, "{fault:?}: the upload was aborted");
        assert!(
            base.list_multipart("").await.unwrap().is_empty(),
            "{fault:?}: no orphaned upload"
        );
        assert!(
            base.head("data/a/x").await.unwrap_err().is_not_found(),
            "{fault:?}: no object"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_until_the_upload_succeeds() {
    let key = common::TestKey::new();
    let plan = FaultPlan::new()
        .inject(Op::CreateMultipart, 0, 2, Fault::Transient)
        .inject(Op::UploadPart, 0, 3, Fault::Transient)
        .inject(Op::CompleteMultipart, 0, 1, Fault::Transient)
        .inject(Op::Head, 0, 1, Fault::Transient);
    let faulty: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(common::s3_store().await, plan.clone()));
    let store: Arc<dyn ObjectStore> = Arc::new(RetryingStore::new(faulty, common::fast_retry()));
    let data = common::compressible_bytes(30 * MIB, 6);
    let mut s = settings();
    s.level = 1; // keep the stored object above one part
    let data = [data, common::random_bytes(8 * MIB, 7)].concat();
    let sealed = seal_bytes(store.clone(), &data, &key, &s, "data/t/x").await.unwrap();
    assert!(sealed.parts >= 2, "{sealed:?}");
    assert_eq!(plan.calls(Op::CreateMultipart), 3);
    assert!(open_to_vec(store, &record("data/t/x", &sealed), &key).await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_short_is_resumed_where_it_stopped() {
    let key = common::TestKey::new();
    let base = common::s3_store().await;
    let data = common::random_bytes(3 * MIB, 8);
    let sealed = seal_bytes(base.clone(), &data, &key, &settings(), "data/tr/x")
        .await
        .unwrap();
    // The first GET's body ends half-way: the range is fetched again from there.
    let plan = FaultPlan::new().inject(Op::Get, 0, 1, Fault::TruncateBody);
    let store: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base.clone(), plan.clone()));
    let restored = open_to_vec(store, &record("data/tr/x", &sealed), &key).await.unwrap();
    assert!(restored == data, "the resumed download gives back the artifact");
    assert_eq!(plan.calls(Op::Get), 2, "one cut-short GET, one resumed GET");

    // Cut short every time: a storage error after the attempts, not a wrong artifact.
    let plan = FaultPlan::new().inject(Op::Get, 0, 100, Fault::TruncateBody);
    let store: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base, plan));
    let err = open_to_vec(store, &record("data/tr/x", &sealed), &key)
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::Store { .. }), "{err:?}");
    assert!(
        err.to_string().contains("data/tr/x") && err.to_string().contains("ended early"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_that_changes_while_sealed_is_refused_and_not_stored() {
    let key = common::TestKey::new();
    let store = common::s3_store().await;
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_artifact(dir.path(), "db", &common::random_bytes(40 * MIB, 9));
    let grower = {
        let path = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            f.write_all(&[0u8; 1 << 20]).unwrap();
        })
    };
    let result = seal_to_store(store.clone(), &path, "data/ch/x", key.recipients(), &settings(), None).await;
    grower.join().unwrap();
    match result {
        Err(SealError::Changed { .. }) => {
            assert!(store.head("data/ch/x").await.unwrap_err().is_not_found());
            assert!(store.list_multipart("").await.unwrap().is_empty());
        }
        // The append may land after the last read; then the file read is the one stored.
        Ok(sealed) => assert_eq!(sealed.plain.size, 40 * MIB as u64),
        Err(other) => panic!("unexpected {other:?}"),
    }
}
