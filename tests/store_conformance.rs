//! One conformance suite, run against every store: the filesystem store and
//! S3 on LocalStack. Each check is a function over `&dyn ObjectStore`; the
//! macro at the bottom instantiates it once per backend.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use graphvault::store::{get_all, ObjectStore, PutMode, StoreError, StoredChecksum};
use sha2::{Digest, Sha256};

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

async fn put(store: &dyn ObjectStore, key: &str, body: &[u8]) {
    store
        .put(key, Bytes::copy_from_slice(body), sha(body), PutMode::Overwrite)
        .await
        .expect("put");
}

async fn put_get_head_round_trip(store: Arc<dyn ObjectStore>) {
    for (key, body) in [("a/empty", &b""[..]), ("a/one", b"x"), ("a/b/c.json", b"{\"k\":1}")] {
        put(store.as_ref(), key, body).await;
        assert_eq!(&get_all(store.as_ref(), key).await.unwrap()[..], body, "{key}");
        let info = store.head(key).await.unwrap();
        assert_eq!(info.size, body.len() as u64);
        if let Some(c) = info.checksum {
            assert_eq!(c, StoredChecksum::Full(sha(body)), "single PUT reports the full sha256");
        }
    }
}

async fn put_with_a_wrong_sha256_is_rejected_and_stores_nothing(store: Arc<dyn ObjectStore>) {
    let err = store
        .put(
            "bad/sum",
            Bytes::from_static(b"hello"),
            sha(b"other"),
            PutMode::Overwrite,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ChecksumMismatch { .. }), "{err:?}");
    assert!(store.head("bad/sum").await.unwrap_err().is_not_found());
}

async fn create_only_put_refuses_an_existing_key(store: Arc<dyn ObjectStore>) {
    let body = b"manifest";
    store
        .put("m/1.json", Bytes::from_static(body), sha(body), PutMode::CreateOnly)
        .await
        .unwrap();
    let err = store
        .put(
            "m/1.json",
            Bytes::from_static(b"other"),
            sha(b"other"),
            PutMode::CreateOnly,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::PreconditionFailed { .. }), "{err:?}");
    assert_eq!(&get_all(store.as_ref(), "m/1.json").await.unwrap()[..], body);
}

async fn concurrent_create_only_puts_have_exactly_one_winner(store: Arc<dyn ObjectStore>) {
    // Leases and manifest commits rely on this; repeated to give a race a chance.
    for round in 0..3 {
        let key = format!("race/{round}.json");
        let puts = (0..8).map(|i| {
            let (store, key) = (store.clone(), key.clone());
            async move {
                let body = format!("writer {i}").into_bytes();
                let sum = sha(&body);
                (
                    body.clone(),
                    store.put(&key, body.into(), sum, PutMode::CreateOnly).await,
                )
            }
        });
        let results = futures::future::join_all(puts).await;
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, r) in &results {
            assert!(
                matches!(r, Ok(()) | Err(StoreError::PreconditionFailed { .. })),
                "{r:?}"
            );
        }
        assert_eq!(get_all(store.as_ref(), &key).await.unwrap()[..], winners[0].0[..]);
    }
}

async fn missing_objects_are_not_found(store: Arc<dyn ObjectStore>) {
    assert!(store.head("nope").await.unwrap_err().is_not_found());
    assert!(store.get("nope", None).await.err().expect("error").is_not_found());
}

async fn ranged_get_returns_exactly_the_range(store: Arc<dyn ObjectStore>) {
    let body: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    put(store.as_ref(), "r/obj", &body).await;
    use futures::TryStreamExt;
    for range in [0..1, 10..20, 2990..3000, 0..3000] {
        let chunks: Vec<Bytes> = store
            .get("r/obj", Some(range.clone()))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let got: Vec<u8> = chunks.concat();
        assert_eq!(got, body[range.start as usize..range.end as usize], "{range:?}");
    }
}

async fn list_returns_every_key_under_the_prefix_in_order(store: Arc<dyn ObjectStore>) {
    for key in ["l/b/2", "l/a/1", "l/b/1", "l2/x", "other/y"] {
        put(store.as_ref(), key, b"v").await;
    }
    let keys: Vec<String> = store.list("l/").await.unwrap().into_iter().map(|o| o.key).collect();
    assert_eq!(keys, ["l/a/1", "l/b/1", "l/b/2"]);
    let keys: Vec<String> = store.list("l").await.unwrap().into_iter().map(|o| o.key).collect();
    assert_eq!(keys, ["l/a/1", "l/b/1", "l/b/2", "l2/x"]);
    assert!(store.list("absent/").await.unwrap().is_empty());
}

async fn folders_are_the_next_segments_under_a_prefix(store: Arc<dyn ObjectStore>) {
    for key in ["f/b/2", "f/a/1", "f/a/deep/3", "f/file", "g/x"] {
        put(store.as_ref(), key, b"v").await;
    }
    assert_eq!(store.folders("").await.unwrap(), ["f/", "g/"]);
    assert_eq!(store.folders("f/").await.unwrap(), ["f/a/", "f/b/"]);
    assert_eq!(store.folders("f/a/").await.unwrap(), ["f/a/deep/"]);
    assert!(store.folders("f/b/").await.unwrap().is_empty());
    assert!(store.folders("absent/").await.unwrap().is_empty());
}

async fn delete_is_idempotent(store: Arc<dyn ObjectStore>) {
    put(store.as_ref(), "d/x", b"v").await;
    store.delete("d/x").await.unwrap();
    store.delete("d/x").await.unwrap();
    assert!(store.head("d/x").await.unwrap_err().is_not_found());
}

const MIB: usize = 1 << 20;

async fn multipart_upload_assembles_parts_and_reports_the_composite_checksum(store: Arc<dyn ObjectStore>) {
    let parts = [
        common::random_bytes(5 * MIB, 1),
        common::random_bytes(5 * MIB, 2),
        common::random_bytes(1234, 3),
    ];
    let id = store.create_multipart("mp/obj").await.unwrap();
    assert!(
        store.head("mp/obj").await.unwrap_err().is_not_found(),
        "invisible before completion"
    );
    let mut receipts = Vec::new();
    // Upload out of order: completion orders by part number.
    for n in [3u32, 1, 2] {
        let body = &parts[n as usize - 1];
        receipts.push(
            store
                .upload_part("mp/obj", &id, n, Bytes::copy_from_slice(body), sha(body))
                .await
                .unwrap(),
        );
    }
    receipts.sort_by_key(|r| r.part_number);
    store.complete_multipart("mp/obj", &id, &receipts).await.unwrap();
    let whole = parts.concat();
    assert_eq!(get_all(store.as_ref(), "mp/obj").await.unwrap(), whole);
    let info = store.head("mp/obj").await.unwrap();
    assert_eq!(info.size, whole.len() as u64);
    if let Some(c) = info.checksum {
        let digests: Vec<[u8; 32]> = parts.iter().map(|p| sha(p)).collect();
        assert_eq!(c, StoredChecksum::composite(&digests));
    }
    assert!(store.list_multipart("mp/").await.unwrap().is_empty());
}

/// Uploads `parts` (number, body) in the order given, the last upload of a
/// number winning, completes with the numbers in `complete`, and checks the
/// object is those parts' bodies in order.
async fn upload_and_check(store: &dyn ObjectStore, key: &str, hint: u64, parts: &[(u32, Vec<u8>)], complete: &[u32]) {
    let id = store.create_multipart_sized(key, hint).await.unwrap();
    let mut receipts = std::collections::BTreeMap::new();
    for (n, body) in parts {
        let receipt = store
            .upload_part(key, &id, *n, Bytes::copy_from_slice(body), sha(body))
            .await
            .unwrap();
        receipts.insert(*n, (receipt, body.clone()));
    }
    let chosen: Vec<_> = complete.iter().map(|n| receipts[n].0.clone()).collect();
    store.complete_multipart(key, &id, &chosen).await.unwrap();
    let whole: Vec<u8> = complete.iter().flat_map(|n| receipts[n].1.clone()).collect();
    assert_eq!(get_all(store, key).await.unwrap(), whole, "{key}");
    assert_eq!(store.head(key).await.unwrap().size, whole.len() as u64);
}

/// With a part size given, uniform parts (the filesystem store writes them
/// in place) and parts that break the promise (too big, gaps in the numbers,
/// re-uploaded) all assemble to the right object.
async fn sized_multipart_uploads_assemble_whatever_the_part_sizes(store: Arc<dyn ObjectStore>) {
    let five = 5 * MIB as u64;
    let r = |len: usize, seed: u64| common::random_bytes(len, seed);
    let store = store.as_ref();
    upload_and_check(
        store,
        "sized/uniform",
        five,
        &[(3, r(1234, 3)), (1, r(5 * MIB, 1)), (2, r(5 * MIB, 2))],
        &[1, 2, 3],
    )
    .await;
    upload_and_check(store, "sized/single", five, &[(1, r(777, 4))], &[1]).await;
    upload_and_check(
        store,
        "sized/too-big",
        five,
        &[(1, r(6 * MIB, 5)), (2, r(5 * MIB, 6)), (3, r(10, 7))],
        &[1, 2, 3],
    )
    .await;
    upload_and_check(store, "sized/gap", five, &[(1, r(5 * MIB, 8)), (3, r(99, 9))], &[1, 3]).await;
    upload_and_check(
        store,
        "sized/retried",
        five,
        &[(1, r(5 * MIB, 10)), (2, r(50, 11)), (2, r(60, 12))],
        &[1, 2],
    )
    .await;
    assert!(store.list_multipart("sized/").await.unwrap().is_empty());
}

async fn a_part_with_a_wrong_sha256_is_rejected(store: Arc<dyn ObjectStore>) {
    let id = store.create_multipart("mp/bad").await.unwrap();
    let err = store
        .upload_part("mp/bad", &id, 1, Bytes::from_static(b"data"), sha(b"not data"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ChecksumMismatch { .. }), "{err:?}");
    store.abort_multipart("mp/bad", &id).await.unwrap();
}

async fn aborted_uploads_disappear_and_pending_ones_are_listed(store: Arc<dyn ObjectStore>) {
    let keep = store.create_multipart("pending/a").await.unwrap();
    let drop = store.create_multipart("pending/b").await.unwrap();
    store
        .upload_part("pending/b", &drop, 1, Bytes::from_static(b"x"), sha(b"x"))
        .await
        .unwrap();
    let pending = store.list_multipart("pending/").await.unwrap();
    let ids: Vec<&str> = pending.iter().map(|p| p.upload_id.as_str()).collect();
    assert!(
        ids.contains(&keep.as_str()) && ids.contains(&drop.as_str()),
        "{pending:?}"
    );
    store.abort_multipart("pending/b", &drop).await.unwrap();
    store.abort_multipart("pending/b", &drop).await.unwrap();
    let pending = store.list_multipart("pending/").await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].key, "pending/a");
    assert!(store.head("pending/b").await.unwrap_err().is_not_found());
    store.abort_multipart("pending/a", &keep).await.unwrap();
}

async fn tags_round_trip(store: Arc<dyn ObjectStore>) {
    put(store.as_ref(), "t/x", b"v").await;
    assert!(store.get_tags("t/x").await.unwrap().is_empty());
    let tags = vec![
        ("tier".to_string(), "monthly".to_string()),
        ("db".to_string(), "customer1".to_string()),
    ];
    store.put_tags("t/x", &tags).await.unwrap();
    let mut got = store.get_tags("t/x").await.unwrap();
    got.sort();
    let mut want = tags.clone();
    want.sort();
    assert_eq!(got, want);
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod fs {
            $(
                #[tokio::test]
                async fn $check() {
                    let (store, _dir) = crate::common::fs_store();
                    super::$check(store).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(crate::common::s3_store().await).await;
                }
            )*
        }
    };
}

conformance!(
    put_get_head_round_trip,
    put_with_a_wrong_sha256_is_rejected_and_stores_nothing,
    create_only_put_refuses_an_existing_key,
    concurrent_create_only_puts_have_exactly_one_winner,
    missing_objects_are_not_found,
    ranged_get_returns_exactly_the_range,
    list_returns_every_key_under_the_prefix_in_order,
    folders_are_the_next_segments_under_a_prefix,
    delete_is_idempotent,
    multipart_upload_assembles_parts_and_reports_the_composite_checksum,
    sized_multipart_uploads_assemble_whatever_the_part_sizes,
    a_part_with_a_wrong_sha256_is_rejected,
    aborted_uploads_disappear_and_pending_ones_are_listed,
    tags_round_trip,
);

#[tokio::test]
async fn s3_reports_the_checksums_it_keeps() {
    // The filesystem store keeps none; S3 must, or upload verification is blind.
    let store = common::s3_store().await;
    put(store.as_ref(), "c/x", b"abc").await;
    assert_eq!(
        store.head("c/x").await.unwrap().checksum,
        Some(StoredChecksum::Full(sha(b"abc")))
    );
}

#[tokio::test]
async fn s3_list_pages_past_1000_keys() {
    let store = common::s3_store().await;
    let puts = (0..1003).map(|i| {
        let store = store.clone();
        async move { put(store.as_ref(), &format!("many/{i:05}"), b"").await }
    });
    futures::future::join_all(puts).await;
    let listed = store.list("many/").await.unwrap();
    assert_eq!(listed.len(), 1003);
    assert_eq!(listed[1002].key, "many/01002");
}

/// `storage.list_page_size` only changes how many pages a listing takes:
/// 3 keys a page walks 4 pages of 10 keys, 100,000 takes one, and both
/// return every key in order.
#[tokio::test]
async fn s3_list_is_the_same_whatever_the_page_size() {
    let (store, bucket) = common::s3_store_with_bucket("gv").await;
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    for i in 0..10 {
        put(store.as_ref(), &format!("pages/{i:02}"), b"").await;
    }
    put(store.as_ref(), "other/x", b"").await;
    for page in [1, 3, 10, 100_000] {
        let settings = graphvault::store::S3Settings {
            list_page_size: page,
            ..common::s3_settings(&bucket, "gv")
        };
        let paged = graphvault::store::S3Store::connect(&settings).await;
        let keys: Vec<String> = paged.list("pages/").await.unwrap().into_iter().map(|o| o.key).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("pages/{i:02}")).collect();
        assert_eq!(keys, expected, "page size {page}");
    }
}
