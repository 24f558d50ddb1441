//! Committing a backup and restoring it at the ops level: the manifest
//! write and local failures during restore, on S3 (LocalStack).

mod common;

use std::io::Write;
use std::sync::Arc;

use graphvault::config::Config;
use graphvault::model::DbName;
use graphvault::ops::{backup_artifacts, list_backups, ArtifactBackupRequest, BackupFilter, OpsError};
use graphvault::pipeline::{open_from_store, OpenError};
use graphvault::store::{Fault, FaultPlan, FaultyStore, ObjectStore, Op, RetryingStore};

fn config(recipient: &str) -> Config {
    let mut sets = vec![
        "storage.url=s3://unused".to_string(),
        format!("encryption.recipients={recipient}"),
    ];
    sets.extend(common::signing_sets());
    let mut c = graphvault::config::load(None, Vec::new(), &sets).expect("config");
    c.storage.retry = common::fast_retry();
    c
}

fn request(dir: &std::path::Path, data: &[u8]) -> ArtifactBackupRequest {
    ArtifactBackupRequest {
        artifacts: vec![common::write_artifact(dir, "customer1-1767741527", data)],
        database: "customer1-1767741527".parse().unwrap(),
        alias: Some("customer1".parse::<DbName>().unwrap()),
        labels: vec![],
        neo4j: None,
        progress: graphvault::ops::progress::ProgressStyle::Off,
        lease_lost: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_put_whose_response_was_lost_still_commits_the_backup_once() {
    let key = common::TestKey::new();
    let base = common::s3_store().await;
    let plan = FaultPlan::new().inject(Op::Put, 2, 1, Fault::LostResponse);
    let faulty: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base.clone(), plan.clone()));
    let store: Arc<dyn ObjectStore> = Arc::new(RetryingStore::new(faulty, common::fast_retry()));
    let dir = tempfile::tempdir().unwrap();
    // Three PUTs: the (single-part) data object, the manifest's signature,
    // then the manifest, whose response is lost.
    let manifest = backup_artifacts(store, &config(&key.recipient), &request(dir.path(), b"tiny artifact"))
        .await
        .expect("the retried create-only PUT finds its own manifest and succeeds");
    assert_eq!(plan.calls(Op::Put), 4);
    let listed = list_backups(base.as_ref(), &BackupFilter::default()).await.unwrap();
    assert_eq!(listed, vec![manifest.key()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_the_commit_and_leaves_no_manifest() {
    let key = common::TestKey::new();
    let store = common::s3_store().await;
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path(), b"tiny artifact");
    req.lease_lost = Some(Arc::new(std::sync::atomic::AtomicBool::new(true)));
    let err = backup_artifacts(store.clone(), &config(&key.recipient), &req)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::LeaseLost { .. }), "{err:?}");
    assert!(list_backups(store.as_ref(), &BackupFilter::default())
        .await
        .unwrap()
        .is_empty());
}

/// A writer that fails like a full disk after `room` bytes.
struct FullDisk {
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::other("No space left on device"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_restore_is_a_local_write_error_not_an_integrity_failure() {
    let key = common::TestKey::new();
    let store = common::s3_store().await;
    let dir = tempfile::tempdir().unwrap();
    let data = common::random_bytes(3 << 20, 11);
    let manifest = backup_artifacts(store.clone(), &config(&key.recipient), &request(dir.path(), &data))
        .await
        .unwrap();
    let record = &manifest.artifacts[0];
    let err = open_from_store(
        store,
        record,
        &manifest.encryption.recipients,
        key.identities(),
        FullDisk { room: 1 << 20 },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OpenError::Write { .. }), "{err:?}");
    let exit = graphvault::exit::classify(&anyhow::Error::new(OpsError::Open(err)));
    assert_eq!(exit, graphvault::exit::Exit::LocalIo);
}
