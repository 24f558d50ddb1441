//! The Neo4j-driven backup run (`ops::backup_run`) against both doubles —
//! the Bolt server double for discovery and the neo4j-admin double for the
//! artifacts — and LocalStack S3 for storage.

mod common;

use common::world::{FakeFree, World};
use graphvault::neo4j::BackupType;
use graphvault::ops::backup_run::{BackupRunRequest, DbOutcome, RunOutcome, RunReport, StatvfsFreeSpace};
use graphvault::ops::OpsError;

fn status(report: &RunReport) -> Vec<(String, bool)> {
    report
        .results
        .iter()
        .map(|r| (r.database.clone(), matches!(r.outcome, DbOutcome::Ok { .. })))
        .collect()
}

#[tokio::test]
async fn every_aliased_database_of_ten_is_backed_up_and_the_rest_skipped() {
    let w = World::new(10, "").await;
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.outcome(), RunOutcome::Ok, "{}", report.table());
    assert_eq!(report.results.len(), 10);
    assert!(report.unaliased.contains(&"scratch-1".to_string()));
    assert!(
        report.unaliased.contains(&"customer3-1700000000".to_string()),
        "blue side is not aliased"
    );

    let manifests = w.manifests().await;
    assert_eq!(manifests.len(), 10);
    for (key, m) in &manifests {
        assert_eq!(
            format!("{}-1800000000", key.alias),
            key.database.as_str(),
            "alias and database recorded"
        );
        assert_eq!(m.neo4j.as_ref().unwrap().backup_type.as_deref(), Some("FULL"));
        assert_eq!(m.artifacts.len(), 1);
        assert!(m.artifacts[0].size >= 200_000);
    }
    // keep_local = 0: nothing stays in staging once the upload verified.
    let left: Vec<_> = std::fs::read_dir(w.staging("customer1-1800000000"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".backup"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let table = report.table();
    assert!(table.contains("10 of 10 database(s) backed up"), "{table}");
}

#[tokio::test]
async fn one_database_failing_never_stops_the_others() {
    let w = World::new(4, "").await;
    // customer1: neo4j-admin exits 3 (not running); customer2: dies half-way
    // through its artifact; customer4: offline according to the server.
    w.server.set_status("customer4-1800000000", "offline");
    let fail = "customer1-1800000000:exit3,customer2-1800000000:partial";
    let report = w
        .run(
            &BackupRunRequest::default(),
            &[("NEO4J_ADMIN_DOUBLE_FAIL", fail)],
            &StatvfsFreeSpace,
        )
        .await
        .unwrap();
    assert_eq!(report.outcome(), RunOutcome::Partial, "{}", report.table());
    assert_eq!(
        status(&report),
        [
            ("customer1-1800000000".to_string(), false),
            ("customer2-1800000000".to_string(), false),
            ("customer3-1800000000".to_string(), true),
            ("customer4-1800000000".to_string(), false),
        ]
    );
    let table = report.table();
    assert!(
        table.contains("exit 3") && table.contains("is offline, not online"),
        "{table}"
    );
    let log = std::fs::read_to_string(w.work.path().join("admin.jsonl")).unwrap();
    assert!(
        !log.contains("customer4-1800000000"),
        "neo4j-admin never ran for the offline one"
    );
    w.server.set_status("customer4-1800000000", "online");
    let manifests = w.manifests().await;
    assert_eq!(manifests.len(), 1, "no manifest for a failed database");
    assert_eq!(manifests[0].0.database.as_str(), "customer3-1800000000");

    // The half-written artifact stays until a later backup of it commits.
    let staging = w.staging("customer2-1800000000");
    let partial = std::fs::read_dir(&staging).unwrap().flatten().count();
    assert!(partial >= 1, "the partial artifact is not deleted by a failed run");
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.outcome(), RunOutcome::Ok, "{}", report.table());
    assert!(
        !staging.join(".leftover").exists(),
        "leftovers go once a backup committed"
    );

    let all = w
        .run(
            &BackupRunRequest::default(),
            &[("NEO4J_ADMIN_DOUBLE_FAIL", "*:exit1")],
            &StatvfsFreeSpace,
        )
        .await
        .unwrap();
    assert_eq!(all.outcome(), RunOutcome::AllFailed);
}

#[tokio::test]
async fn too_little_staging_space_fails_that_database_before_neo4j_admin_runs() {
    let w = World::new(2, "").await;
    let free = FakeFree {
        tight: vec!["customer1-1800000000".into()],
    };
    let report = w.run(&BackupRunRequest::default(), &[], &free).await.unwrap();
    assert_eq!(report.outcome(), RunOutcome::Partial);
    let (_, err) = report.failures().next().unwrap();
    let text = err.to_string();
    assert!(
        text.contains("512.0 KiB") && text.contains("1.0 MiB") && text.contains("min_free_mib"),
        "{text}"
    );
    let log = std::fs::read_to_string(w.work.path().join("admin.jsonl")).unwrap();
    assert!(!log.contains("customer1-1800000000"), "neo4j-admin never ran for it");
}

#[tokio::test]
async fn selectors_narrow_the_run_and_unknown_names_are_refused() {
    let w = World::new(3, "").await;
    let req = BackupRunRequest {
        aliases: vec!["customer2".into()],
        databases: vec!["scratch-1".into()],
        ..BackupRunRequest::default()
    };
    let report = w.run(&req, &[], &StatvfsFreeSpace).await.unwrap();
    let mut got: Vec<(String, String)> = report
        .results
        .iter()
        .map(|r| (r.alias.clone(), r.database.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("customer2".to_string(), "customer2-1800000000".to_string()),
            ("scratch-1".to_string(), "scratch-1".to_string())
        ]
    );
    let req = BackupRunRequest {
        aliases: vec!["customer9".into()],
        ..BackupRunRequest::default()
    };
    let err = w.run(&req, &[], &StatvfsFreeSpace).await.unwrap_err();
    assert!(matches!(err, OpsError::NothingToBackUp { .. }), "{err:?}");
}

#[tokio::test]
async fn a_differential_backup_records_its_parent_and_keep_local_keeps_the_chain() {
    let w = World::new(1, "keep_local = 1\ntype = \"auto\"\n").await;
    let first = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    let second = w
        .run(
            &BackupRunRequest {
                labels: vec!["pre-deploy".parse().unwrap()],
                ..BackupRunRequest::default()
            },
            &[],
            &StatvfsFreeSpace,
        )
        .await
        .unwrap();
    let id = |r: &RunReport| match &r.results[0].outcome {
        DbOutcome::Ok { backup_id, .. } => backup_id.clone(),
        DbOutcome::Failed { error } => panic!("{error}"),
    };
    let manifests = w.manifests().await;
    assert_eq!(manifests.len(), 2);
    let (k2, m2) = manifests
        .iter()
        .find(|(k, _)| k.backup_id.as_str() == id(&second))
        .unwrap();
    let neo4j = m2.neo4j.as_ref().unwrap();
    assert_eq!(neo4j.backup_type.as_deref(), Some("DIFF"));
    assert_eq!(neo4j.parent.as_deref(), Some(id(&first).as_str()));
    assert!(k2.labels.iter().any(|l| l.as_str() == "pre-deploy"));
    // Both artifacts of the chain stay in staging for the next differential.
    let kept = std::fs::read_dir(w.staging("customer1-1800000000"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".backup"))
        .count();
    assert_eq!(kept, 2);

    let full = w
        .run(
            &BackupRunRequest {
                backup_type: Some(BackupType::Full),
                ..BackupRunRequest::default()
            },
            &[],
            &StatvfsFreeSpace,
        )
        .await
        .unwrap();
    assert_eq!(full.outcome(), RunOutcome::Ok);
    let kept = std::fs::read_dir(w.staging("customer1-1800000000"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".backup"))
        .count();
    assert_eq!(kept, 1, "a new full backup ends the old chain's local copies");
}

#[tokio::test]
async fn a_second_run_is_refused_while_the_lease_or_the_staging_lock_is_held() {
    use graphvault::lease::{acquire, Holder, LeaseError, LeaseSettings, LocalLock, LockError};
    let w = World::new(1, "").await;
    let other = Holder {
        run_id: "other-run".into(),
        host: "backup-2".into(),
        pid: 4242,
        command: "backup".into(),
    };
    let lease = acquire(w.store.clone(), "repository", other, LeaseSettings::default())
        .await
        .unwrap();
    let err = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::Lease(LeaseError::Held { .. })), "{err:?}");
    assert!(err.to_string().contains("backup-2"), "{err}");
    lease.release().await.unwrap();

    let lock = LocalLock::acquire(&w.work.path().join("staging"), "local-run").unwrap();
    let err = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::Lock(LockError::Busy { .. })), "{err:?}");
    drop(lock);
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.outcome(), RunOutcome::Ok);
    assert!(
        w.manifests().await.len() == 1,
        "nothing was written by the refused runs"
    );
}

/// A staging disk of `capacity` bytes: free is what the database's folder
/// does not use (the folder stands for the whole small disk).
struct SmallDisk {
    capacity: u64,
}

fn used(path: &std::path::Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|d| d.flatten().map(|e| used(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

impl graphvault::ops::backup_run::FreeSpace for SmallDisk {
    fn available(&self, dir: &std::path::Path) -> std::io::Result<u64> {
        Ok(self.capacity.saturating_sub(used(dir)))
    }
}

#[tokio::test]
async fn killed_runs_never_wedge_a_small_staging_disk_nor_pile_up_plaintext() {
    let w = World::new(1, "").await;
    // Room for the 1 MiB minimum and a little more, not for a leftover too.
    let disk = SmallDisk {
        capacity: (1 << 20) + 60_000,
    };
    let staging = w.staging("customer1-1800000000");
    for run in 1..=3 {
        // Dies half-way through its artifact, like a killed run.
        let fail = [("NEO4J_ADMIN_DOUBLE_FAIL", "customer1-1800000000:partial")];
        let report = w.run(&BackupRunRequest::default(), &fail, &disk).await.unwrap();
        let (_, err) = report.failures().next().expect("the half-written backup fails");
        assert!(
            !err.to_string().contains("staging"),
            "run {run} failed on staging, not on neo4j-admin: {err}"
        );
        // At most one run's leftovers (the half artifact of the run before) wait.
        let waiting = used(&staging.join(".leftover"));
        assert!(waiting <= 100_000, "run {run}: {waiting} bytes in .leftover");
    }
    let report = w.run(&BackupRunRequest::default(), &[], &disk).await.unwrap();
    assert_eq!(report.outcome(), RunOutcome::Ok, "{}", report.table());
    assert!(!staging.join(".leftover").exists(), "a commit empties .leftover");
}
