//! Disaster recovery into Neo4j (`ops::restore_db`) with both doubles and
//! LocalStack: a fresh host with only the bucket, a config and the identity
//! restores and switches the alias; damaged, missing or wrongly keyed backups
//! are refused before neo4j-admin runs; differential chains; existing targets.

mod common;

use common::world::World;
use graphvault::config::Config;
use graphvault::neo4j::Neo4jCatalog;
use graphvault::ops::backup_run::{BackupRunRequest, StatvfsFreeSpace};
use graphvault::ops::restore_db::RestoreDbRequest;
use graphvault::ops::{OpsError, Pick};
use graphvault::pipeline::OpenError;

/// The backup host's world, with one nightly backup taken.
async fn backed_up(customers: usize, extra: &str) -> World {
    let w = World::new(customers, extra).await;
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{}", report.table());
    w
}

/// A config for a fresh restore host: same bucket and Neo4j, new staging.
fn fresh_host(w: &World) -> (Config, tempfile::TempDir) {
    let host = tempfile::tempdir().unwrap();
    let mut config = w.config.clone();
    config.backup.staging_dir = host.path().join("staging");
    (config, host)
}

fn request(database: &str) -> RestoreDbRequest {
    RestoreDbRequest {
        database: database.parse().unwrap(),
        pick: Pick::Latest,
        target: None,
        switch_alias: false,
        overwrite_destination: false,
        wait_for_archive: None,
    }
}

fn restores(w: &World) -> Vec<Vec<String>> {
    w.admin_calls()
        .into_iter()
        .filter(|a| a.starts_with(&["database".to_string(), "restore".to_string()]))
        .collect()
}

#[tokio::test]
async fn a_fresh_host_restores_the_latest_backup_and_switches_the_alias() {
    let w = backed_up(2, "").await;
    let (config, host) = fresh_host(&w);
    let mut req = request("customer1");
    req.switch_alias = true;
    let out = w.restore(&config, w.key.identities(), &req).await.unwrap();
    assert!(
        out.target.starts_with("customer1-") && out.target != "customer1-1800000000",
        "{out:?}"
    );
    assert_eq!(out.source_database, "customer1-1800000000");
    let phases: Vec<&str> = out.phases.iter().map(|p| p.name.as_ref()).collect();
    assert_eq!(
        phases,
        ["download_verify", "neo4j_admin_restore", "online", "switch_alias"]
    );

    let calls = restores(&w);
    assert_eq!(calls.len(), 1);
    assert!(calls[0].last() == Some(&out.target), "{calls:?}");
    let from = calls[0].iter().find(|a| a.starts_with("--from-path=")).unwrap();
    assert!(
        from.contains(&host.path().display().to_string()),
        "restored from the fresh host's staging: {from}"
    );
    assert!(w
        .work
        .path()
        .join("data/databases")
        .join(&out.target)
        .join("restored.marker")
        .is_file());

    let catalog = w.catalog();
    let db = catalog.database(&out.target.parse().unwrap()).await.unwrap().unwrap();
    assert!(db.is_online());
    let aliases = catalog.aliases().await.unwrap();
    let c1 = aliases.iter().find(|a| a.name == "customer1").unwrap();
    assert_eq!(c1.database, out.target);
    assert!(
        catalog
            .database(&"customer1-1800000000".parse().unwrap())
            .await
            .unwrap()
            .is_some(),
        "the old target is kept for rollback"
    );
    let text = graphvault::ops::restore_db::render(&out);
    assert!(
        text.contains("to roll back: graphvault alias rollback customer1"),
        "{text}"
    );
    // The switch is recorded like any other: rollback finds it.
    let back = graphvault::ops::cutover::rollback(w.store.clone(), &catalog, &"customer1".parse().unwrap(), "any-host")
        .await
        .unwrap();
    assert_eq!(back.target, "customer1-1800000000");
    let staged = std::fs::read_dir(config.backup.staging_dir).unwrap().count();
    assert_eq!(staged, 0, "the restored artifacts are removed from staging");
}

#[tokio::test]
async fn damaged_missing_or_foreign_backups_never_reach_neo4j_admin() {
    let w = backed_up(5, "").await;
    let (config, _host) = fresh_host(&w);
    let manifests = w.manifests().await;
    let key_of = |db: &str| {
        manifests
            .iter()
            .find(|(k, _)| k.database.as_str() == db)
            .map(|(_, m)| m.artifacts[0].key.clone())
            .unwrap()
    };
    // Named by id: "the latest" would skip the ones whose objects are
    // missing or of the wrong size (below); by id they are downloaded, and
    // the download must catch each kind of damage.
    let by_id = |db: &str| {
        let id = manifests
            .iter()
            .find(|(k, _)| k.alias.as_str() == db)
            .map(|(k, _)| k.backup_id.to_string())
            .unwrap();
        RestoreDbRequest {
            pick: Pick::Id(id),
            ..request(db)
        }
    };
    // customer1: a flipped byte; customer2: the object is gone.
    let k1 = key_of("customer1-1800000000");
    let mut body = graphvault::store::get_all(w.store.as_ref(), &k1)
        .await
        .unwrap()
        .to_vec();
    let mid = body.len() / 2;
    body[mid] ^= 1;
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
    w.store
        .put(&k1, body.into(), sha, graphvault::store::PutMode::Overwrite)
        .await
        .unwrap();
    w.store.delete(&key_of("customer2-1800000000")).await.unwrap();
    // customer4: truncated; customer5: replaced by another backup's object.
    let put = |key: String, body: Vec<u8>| {
        let store = w.store.clone();
        async move {
            let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
            store
                .put(&key, body.into(), sha, graphvault::store::PutMode::Overwrite)
                .await
                .unwrap();
        }
    };
    let k4 = key_of("customer4-1800000000");
    let body = graphvault::store::get_all(w.store.as_ref(), &k4)
        .await
        .unwrap()
        .to_vec();
    put(k4, body[..body.len() - 1000].to_vec()).await;
    let other = graphvault::store::get_all(w.store.as_ref(), &key_of("customer3-1800000000"))
        .await
        .unwrap()
        .to_vec();
    put(key_of("customer5-1800000000"), other).await;
    for db in ["customer4", "customer5"] {
        let err = w.restore(&config, w.key.identities(), &by_id(db)).await.unwrap_err();
        assert!(
            matches!(err, OpsError::Open(OpenError::Integrity { .. })),
            "{db}: {err:?}"
        );
        assert!(err.to_string().contains(db), "{db}: the object is named: {err}");
    }

    let err = w
        .restore(&config, w.key.identities(), &request("customer1"))
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::Open(OpenError::Integrity { .. })), "{err:?}");
    // As "the latest", a backup whose object is gone or of the wrong size is
    // skipped, and with no other backup there is none to restore.
    for db in ["customer2", "customer4"] {
        let err = w.restore(&config, w.key.identities(), &request(db)).await.unwrap_err();
        assert!(matches!(err, OpsError::NoUsableBackup { .. }), "{db}: {err:?}");
        assert!(err.to_string().contains("data object"), "{db}: {err}");
    }
    let err = w
        .restore(&config, w.key.identities(), &by_id("customer2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OpsError::Open(OpenError::Store { .. }) | OpsError::Store { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("customer2"),
        "the missing object is named: {err}"
    );
    let stranger = common::TestKey::new();
    let err = w
        .restore(&config, stranger.identities(), &request("customer3"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OpsError::Open(OpenError::WrongIdentity { .. })),
        "{err:?}"
    );

    assert!(restores(&w).is_empty(), "neo4j-admin never saw a file");
    let names: Vec<String> = w.server.databases().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names.len(),
        3 + 10,
        "no database was created (system, neo4j, scratch-1 and 5 × 2 customers): {names:?}"
    );
}

#[tokio::test]
async fn a_differential_backup_is_restored_with_its_chain() {
    let w = backed_up(1, "keep_local = 1\ntype = \"auto\"\n").await;
    w.run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    let (config, _host) = fresh_host(&w);
    let out = w
        .restore(&config, w.key.identities(), &request("customer1"))
        .await
        .unwrap();
    assert_eq!(out.chain, 2);
    let marker = std::fs::read_to_string(
        w.work
            .path()
            .join("data/databases")
            .join(&out.target)
            .join("restored.marker"),
    )
    .unwrap();
    let marker: serde_json::Value = serde_json::from_str(&marker).unwrap();
    assert_eq!(marker["chain"].as_array().map(Vec::len), Some(2), "{marker}");
}

/// A differential backup whose full parent is gone is refused, naming the
/// missing parent, before neo4j-admin runs; verify says the same.
#[tokio::test]
async fn a_differential_backup_with_a_missing_parent_never_reaches_neo4j_admin() {
    let w = backed_up(1, "keep_local = 1\ntype = \"auto\"\n").await;
    w.run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    let keys = graphvault::ops::list_backups(w.store.as_ref(), &Default::default())
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let full = &keys[0];
    w.store.delete(&full.to_string()).await.unwrap();
    let (config, _host) = fresh_host(&w);
    let before = restores(&w).len();
    // By id: refused as a broken chain; as "the latest": skipped for it,
    // leaving none.
    let by_id = RestoreDbRequest {
        pick: Pick::Id(keys[1].backup_id.to_string()),
        ..request("customer1")
    };
    for (req, broken) in [(by_id, true), (request("customer1"), false)] {
        let err = w.restore(&config, w.key.identities(), &req).await.unwrap_err();
        let text = err.to_string();
        if broken {
            assert!(matches!(err, OpsError::BrokenChain { .. }), "{text}");
        } else {
            assert!(matches!(err, OpsError::NoUsableBackup { .. }), "{text}");
        }
        assert!(
            text.contains(full.backup_id.as_str()),
            "names the missing parent: {text}"
        );
    }
    assert_eq!(restores(&w).len(), before, "neo4j-admin never ran");
    let ctx = graphvault::ops::verify::VerifyContext {
        store: w.store.clone(),
        identities: Some(w.key.identities()),
        trust: w.config.signing.trust().unwrap(),
        deep: None,
    };
    let results = graphvault::ops::verify::verify(&ctx, &keys[1..]).await;
    let problem = results[0].problem.clone().unwrap_or_default()
        + &results[0]
            .objects
            .iter()
            .filter_map(|o| o.problem.clone())
            .collect::<String>();
    assert!(
        !results[0].ok() && problem.contains(full.backup_id.as_str()),
        "verify names the missing parent: {problem}"
    );
}

#[tokio::test]
async fn an_existing_target_is_refused_unless_overwrite_is_explicit_and_at_picks_older_backups() {
    let w = backed_up(1, "").await;
    let first_time = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    w.run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    let (config, _host) = fresh_host(&w);

    let mut req = request("customer1");
    req.target = Some("customer1-1700000000".parse().unwrap());
    let err = w.restore(&config, w.key.identities(), &req).await.unwrap_err();
    assert!(matches!(err, OpsError::TargetExists { .. }), "{err:?}");
    assert!(restores(&w).is_empty());

    req.overwrite_destination = true;
    req.pick = Pick::At(first_time);
    let out = w.restore(&config, w.key.identities(), &req).await.unwrap();
    let manifests = w.manifests().await;
    assert_eq!(
        out.backup_id,
        manifests[0].0.backup_id.as_str(),
        "--at picked the older backup"
    );
    assert!(restores(&w)[0].contains(&"--overwrite-destination=true".to_string()));
    let log = w.server.query_log();
    assert!(
        log.iter()
            .any(|q| q.starts_with("STOP DATABASE `customer1-1700000000`")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|q| q.starts_with("START DATABASE `customer1-1700000000`")),
        "{log:?}"
    );
}

#[tokio::test]
async fn archived_objects_get_a_restore_request_and_the_restore_stops_until_they_are_readable() {
    let w = backed_up(1, "").await;
    let (config, _host) = fresh_host(&w);
    // A lifecycle rule moved the data object to GLACIER (done here by a copy onto itself).
    let (key, _) = w.manifests().await.into_iter().next().unwrap();
    let manifest = graphvault::ops::read_manifest_unverified(w.store.as_ref(), &key)
        .await
        .unwrap();
    let object = format!("gv/{}", manifest.artifacts[0].key);
    let s3 = w.s3();
    s3.client()
        .copy_object()
        .bucket(s3.bucket())
        .key(&object)
        .copy_source(format!("{}/{object}", s3.bucket()))
        .storage_class(aws_sdk_s3::types::StorageClass::Glacier)
        .send()
        .await
        .unwrap();
    let info = w.store.head(&manifest.artifacts[0].key).await.unwrap();
    assert_eq!(info.storage_class.as_deref(), Some("GLACIER"));

    let err = w
        .restore(&config, w.key.identities(), &request("customer1"))
        .await
        .unwrap_err();
    match &err {
        OpsError::ArchivePending {
            objects,
            requested,
            waited,
            ..
        } => {
            assert_eq!((*objects, *requested, *waited), (1, 1, false), "{err}")
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("--wait-for-archive"), "{err}");
    assert!(restores(&w).is_empty(), "neo4j-admin never ran");
    // LocalStack completes the restore request at once (S3 takes hours);
    // the object now carries `x-amz-restore: ongoing-request="false"`.
    let info = w.store.head(&manifest.artifacts[0].key).await.unwrap();
    assert!(
        info.restore
            .as_deref()
            .unwrap_or_default()
            .contains("ongoing-request=\"false\""),
        "{info:?}"
    );
    let mut req = request("customer1");
    req.wait_for_archive = Some(std::time::Duration::from_secs(5));
    let out = w.restore(&config, w.key.identities(), &req).await.unwrap();
    assert_eq!(out.source_database, "customer1-1800000000");
    assert_eq!(restores(&w).len(), 1);
}
