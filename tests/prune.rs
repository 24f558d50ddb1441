//! Prune on LocalStack over two years of daily backups plus pre-deploy ones:
//! exactly what the retention plan deletes is deleted (manifest and data),
//! pinned backups stay, orphans past the grace period and unfinished uploads
//! go, a dry run deletes nothing.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use graphvault::config::Config;
use graphvault::model::ManifestKey;
use graphvault::ops::prune::{prune, PruneRequest};
use graphvault::ops::{list_backups, BackupFilter};
use graphvault::retention::select;
use graphvault::store::{ObjectStore, PutMode};
use sha2::{Digest, Sha256};

/// Retention tests fabricate unsigned manifests: they run with unsigned
/// manifests allowed (`signed_backups_*` below covers the signed path).
fn config() -> Config {
    let sets = [
        "storage.url=s3://unused".to_string(),
        "signing.allow_unsigned=true".to_string(),
    ];
    graphvault::config::load(None, Vec::new(), &sets).expect("config")
}

async fn put(store: &dyn ObjectStore, key: String, body: &'static [u8]) {
    let sha: [u8; 32] = Sha256::digest(body).into();
    store.put(&key, body.into(), sha, PutMode::Overwrite).await.unwrap();
}

/// A backup prune can read: a placeholder manifest naming its one data
/// object (prune reads the manifests of the backups it keeps).
async fn put_backup(store: &dyn ObjectStore, manifest: String, data: String) {
    let key = ManifestKey::parse(&manifest).expect("a manifest key");
    let body = graphvault::model::BackupManifest::placeholder(&key, &[(data.clone(), 6)]).to_json();
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store
        .put(&manifest, body.into(), sha, PutMode::Overwrite)
        .await
        .unwrap();
    put(store, data, b"sealed").await;
}

/// A manifest key and a data object for a backup at `t` (bodies are not read
/// by prune: it plans from the listings alone).
fn backup_keys(alias: &str, t: DateTime<Utc>, n: u32, labels: &str) -> (String, String) {
    let id = format!("{}-{n:06x}", t.format("%Y%m%dT%H%M%SZ"));
    (
        format!("manifests/{alias}/{id}~{alias}-1700000000{labels}.json"),
        format!("data/{alias}/{id}/{alias}-1700000000-x.backup.zst.age"),
    )
}

async fn fabricate(store: &Arc<dyn ObjectStore>, end: DateTime<Utc>) {
    let mut keys = Vec::new();
    for day in 0..730 {
        let t = end - Duration::days(day) - Duration::hours(22);
        keys.push(backup_keys("customer1", t, day as u32, ""));
    }
    for (i, days_ago) in [400i64, 200, 45].iter().enumerate() {
        keys.push(backup_keys(
            "customer1",
            end - Duration::days(*days_ago) - Duration::hours(3),
            0xf0 + i as u32,
            "~pre-deploy",
        ));
    }
    futures::stream::iter(keys)
        .for_each_concurrent(32, |(m, d)| {
            let store = store.clone();
            async move {
                put_backup(store.as_ref(), m, d).await;
            }
        })
        .await;
}

/// Backups of customer1 this many days before `now`, oldest first:
/// (manifest key, data key) each.
async fn customer1_backups(store: &dyn ObjectStore, now: DateTime<Utc>, days_ago: &[i64]) -> Vec<(String, String)> {
    let mut backups = Vec::new();
    for (i, days) in days_ago.iter().enumerate() {
        let (m, d) = backup_keys("customer1", now - Duration::days(*days), i as u32, "");
        put_backup(store, m.clone(), d.clone()).await;
        backups.push((m, d));
    }
    backups
}

/// A fresh bucket with object lock (and so versioning) on.
async fn locked_bucket() -> (graphvault::store::S3Store, String, Arc<dyn ObjectStore>) {
    common::test_credentials();
    let bucket = common::unique("gv-lock");
    let s3 = graphvault::store::S3Store::connect(&common::s3_settings(&bucket, "gv")).await;
    s3.client()
        .create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());
    (s3, bucket, store)
}

/// Unsigned manifests allowed, only the newest backup kept, plus `extra`.
fn keep_last_one(extra: &[&str]) -> Config {
    let mut sets: Vec<String> = [
        "storage.url=s3://unused",
        "signing.allow_unsigned=true",
        "retention.keep_last=1",
        "retention.keep_daily=0",
        "retention.keep_weekly=0",
        "retention.keep_monthly=0",
    ]
    .map(String::from)
    .to_vec();
    sets.extend(extra.iter().map(|s| s.to_string()));
    graphvault::config::load(None, Vec::new(), &sets).expect("config")
}

/// A prune that deletes, planned at `now`.
fn real_run(now: DateTime<Utc>) -> PruneRequest {
    PruneRequest {
        database: None,
        dry_run: false,
        now,
        host: "test".into(),
    }
}

fn ids(keys: &[ManifestKey]) -> BTreeSet<String> {
    keys.iter().map(|k| k.backup_id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_years_of_dailies_are_pruned_to_the_policy_and_nothing_else() {
    let store = common::s3_store().await;
    let end: DateTime<Utc> = Utc::now();
    fabricate(&store, end).await;
    // An orphaned backup prefix and an unfinished upload a crash left.
    put(
        store.as_ref(),
        "data/customer1/20250101T020000Z-0rphan/x.backup.zst.age".into(),
        b"x",
    )
    .await;
    let upload = store
        .create_multipart("data/customer1/20261124T020000Z-abcdef/y.zst.age")
        .await
        .unwrap();

    let before = list_backups(store.as_ref(), &BackupFilter::default()).await.unwrap();
    assert_eq!(before.len(), 733);
    let now = end + Duration::days(2); // past the orphan grace of 24 h
    let expected_kept: BTreeSet<String> = select(&before, &config().retention.default, now)
        .kept()
        .map(|d| d.backup.backup_id.to_string())
        .collect();

    let dry = PruneRequest {
        database: None,
        dry_run: true,
        now,
        host: "test".into(),
    };
    let report = prune(store.clone(), &config(), &dry).await.unwrap();
    assert_eq!(report.plan.to_delete().count(), 733 - expected_kept.len());
    assert_eq!(
        list_backups(store.as_ref(), &BackupFilter::default())
            .await
            .unwrap()
            .len(),
        733,
        "dry run"
    );

    let real = PruneRequest { dry_run: false, ..dry };
    let started = std::time::Instant::now();
    let report = prune(store.clone(), &config(), &real).await.unwrap();
    eprintln!("prune of 733 backups: {:.1} s", started.elapsed().as_secs_f64());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.deleted_orphans, 1);
    assert_eq!(report.aborted_uploads, 1);
    let after = list_backups(store.as_ref(), &BackupFilter::default()).await.unwrap();
    assert_eq!(ids(&after), expected_kept);
    let pre_deploy = after
        .iter()
        .filter(|k| k.labels.iter().any(|l| l.as_str() == "pre-deploy"))
        .count();
    assert_eq!(pre_deploy, 3, "pre-deploy backups are kept forever");
    // GFS: 7 daily + 4 weekly + 12 monthly overlap to at most 23, plus the 3 pinned.
    assert!(
        expected_kept.len() <= 23 + 3 && expected_kept.len() >= 12 + 3,
        "{}",
        expected_kept.len()
    );

    // Data follows manifests: exactly the kept backups still have data.
    let data = store.list("data/").await.unwrap();
    let with_data: BTreeSet<String> = data
        .iter()
        .filter_map(|o| o.key.split('/').nth(2).map(String::from))
        .collect();
    assert_eq!(with_data, expected_kept);
    assert!(store
        .list_multipart("data/")
        .await
        .unwrap()
        .iter()
        .all(|u| u.upload_id != upload));

    // Kept backups carry the tier of the longest rule that keeps them.
    let plan = &report.plan;
    let monthly_only = plan
        .backups
        .iter()
        .find(|b| b.action == "keep" && b.reasons.iter().all(|r| r.starts_with("monthly")))
        .expect("a backup kept only as a monthly");
    let tags = store.get_tags(&monthly_only.manifest_key).await.unwrap();
    assert_eq!(tags, [("graphvault-tier".to_string(), "monthly".to_string())]);
    let pinned = plan
        .backups
        .iter()
        .find(|b| b.labels.iter().any(|l| l == "pre-deploy"))
        .unwrap();
    let tags = store.get_tags(&pinned.data_keys[0]).await.unwrap();
    assert_eq!(tags, [("graphvault-tier".to_string(), "pinned".to_string())]);

    // Pruning again deletes nothing more, and the lease generation of the
    // run before (the only older one) goes: `locks/` does not grow.
    let again = prune(store.clone(), &config(), &real).await.unwrap();
    assert_eq!(again.plan.to_delete().count(), 0);
    assert_eq!(
        (report.removed_lease_generations, again.removed_lease_generations),
        (0, 1)
    );
    let generations: Vec<String> = store
        .list("locks/repository/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(generations, ["locks/repository/00000000000000000002.json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_and_held_objects_are_deferred_and_versions_do_not_linger() {
    use aws_sdk_s3::types::{
        ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockRetention, ObjectLockRetentionMode,
    };
    let (s3, bucket, store) = locked_bucket().await;
    let now = Utc::now();
    let backups = customer1_backups(store.as_ref(), now, &[30, 20, 10, 0]).await;
    // The oldest backup's data is under GOVERNANCE retention, the next one's
    // manifest under legal hold; the third is free to go.
    let until = aws_sdk_s3::primitives::DateTime::from_secs((now + Duration::days(3)).timestamp());
    s3.client()
        .put_object_retention()
        .bucket(&bucket)
        .key(format!("gv/{}", backups[0].1))
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Governance)
                .retain_until_date(until)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.client()
        .put_object_legal_hold()
        .bucket(&bucket)
        .key(format!("gv/{}", backups[1].0))
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let config = keep_last_one(&[]);
    let req = real_run(now);
    let report = prune(store.clone(), &config, &req).await.unwrap();
    assert!(
        report.features.object_lock && report.features.versioning,
        "{:?}",
        report.features
    );
    assert!(
        report.failures.is_empty(),
        "nothing protected was attempted: {:?}",
        report.failures
    );
    let action = |i: usize| {
        let id = backups[i]
            .0
            .split('/')
            .nth(2)
            .unwrap()
            .split('~')
            .next()
            .unwrap()
            .to_string();
        report.plan.backups.iter().find(|b| b.backup_id == id).unwrap().clone()
    };
    assert_eq!(action(0).action, "defer");
    assert!(
        action(0)
            .reasons
            .iter()
            .any(|r| r.contains("GOVERNANCE retention until")),
        "{:?}",
        action(0).reasons
    );
    assert_eq!(action(1).action, "defer");
    assert!(
        action(1).reasons.iter().any(|r| r.contains("legal hold")),
        "{:?}",
        action(1).reasons
    );
    assert_eq!(action(2).action, "delete");
    assert_eq!(action(3).action, "keep");
    assert_eq!(report.deleted_backups, 1);

    // The deleted backup leaves no version and no delete marker behind.
    let versions = s3
        .client()
        .list_object_versions()
        .bucket(&bucket)
        .prefix(format!("gv/{}", backups[2].1))
        .send()
        .await
        .unwrap();
    assert!(
        versions.versions().is_empty() && versions.delete_markers().is_empty(),
        "{versions:?}"
    );
    let left = list_backups(store.as_ref(), &BackupFilter::default()).await.unwrap();
    assert_eq!(left.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_backups_are_locked_until_their_tier_ends_and_prune_extends_promotions() {
    let (_, _, store) = locked_bucket().await;
    let key = common::TestKey::new();
    let mut sets = vec![
        "storage.url=s3://unused".to_string(),
        format!("encryption.recipients={}", key.recipient),
        "retention.object_lock_mode=GOVERNANCE".into(),
    ];
    sets.extend(common::signing_sets());
    let config = graphvault::config::load(None, Vec::new(), &sets).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let req = graphvault::ops::ArtifactBackupRequest {
        artifacts: vec![common::write_artifact(dir.path(), "customer1-1700000000", b"artifact")],
        database: "customer1-1700000000".parse().unwrap(),
        alias: Some("customer1".parse().unwrap()),
        labels: vec![],
        neo4j: None,
        progress: graphvault::ops::progress::ProgressStyle::Off,
        lease_lost: None,
    };
    let manifest = graphvault::ops::backup_artifacts(store.clone(), &config, &req)
        .await
        .unwrap();
    let data = &manifest.artifacts[0].key;
    let p = store.protection(data).await.unwrap();
    let until = p.retain_until.unwrap();
    assert_eq!(p.mode.as_deref(), Some("GOVERNANCE"));
    let days = (until - Utc::now()).num_hours() as f64 / 24.0;
    assert!(
        (8.5..=9.1).contains(&days),
        "a daily backup is locked for the daily tier (9 days): {days}"
    );

    // Twenty days on, the single backup is kept as the monthly: its lock grows.
    let later = Utc::now() + Duration::days(20);
    let req = PruneRequest {
        database: None,
        dry_run: false,
        now: later,
        host: "test".into(),
    };
    prune(store.clone(), &config, &req).await.unwrap();
    let until = store.protection(data).await.unwrap().retain_until.unwrap();
    assert!(
        until > Utc::now() + Duration::days(400),
        "extended to the monthly tier: {until}"
    );
    let tags = store.get_tags(data).await.unwrap();
    assert_eq!(tags, [("graphvault-tier".to_string(), "monthly".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_locks_are_respected_and_versions_can_be_left_to_a_lifecycle_rule() {
    use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
    use graphvault::ops::doctor::{doctor, DoctorContext, Severity};
    let (s3, bucket, store) = locked_bucket().await;
    let now = Utc::now();
    let backups = customer1_backups(store.as_ref(), now, &[20, 10, 0]).await;
    let until = aws_sdk_s3::primitives::DateTime::from_secs((now + Duration::days(2)).timestamp());
    s3.client()
        .put_object_retention()
        .bucket(&bucket)
        .key(format!("gv/{}", backups[0].1))
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Compliance)
                .retain_until_date(until)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let config = keep_last_one(&["retention.noncurrent_versions=lifecycle"]);
    let req = real_run(now);
    let report = prune(store.clone(), &config, &req).await.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let deferred: Vec<_> = report.plan.backups.iter().filter(|b| b.action == "defer").collect();
    assert_eq!(deferred.len(), 1);
    assert!(
        deferred[0].reasons.iter().any(|r| r.contains("COMPLIANCE")),
        "{:?}",
        deferred[0].reasons
    );
    assert_eq!(report.deleted_backups, 1);
    // Left to a lifecycle rule: the deleted backup's old version is still there…
    let versions = s3
        .client()
        .list_object_versions()
        .bucket(&bucket)
        .prefix(format!("gv/{}", backups[1].1))
        .send()
        .await
        .unwrap();
    assert!(!versions.versions().is_empty() && !versions.delete_markers().is_empty());
    // …and doctor says no rule removes it.
    let ctx = DoctorContext {
        store: store.clone(),
        config: &config,
        catalog: None,
        admin: None,
        free_space: &graphvault::ops::backup_run::StatvfsFreeSpace,
        max_backup_age: Duration::hours(1000),
    };
    let findings = doctor(&ctx).await;
    let versions = findings.iter().find(|f| f.check == "versions").unwrap();
    assert_eq!(versions.severity, Severity::Error, "{versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_whose_retention_cannot_be_read_is_deferred_never_attempted() {
    use common::s3_proxy::{Action, S3Op, S3Proxy};
    let (_, bucket, direct) = locked_bucket().await;
    let proxy = S3Proxy::start().await;
    let settings = graphvault::store::S3Settings {
        endpoint: Some(proxy.endpoint.clone()),
        ..common::s3_settings(&bucket, "gv")
    };
    let store: Arc<dyn ObjectStore> = Arc::new(graphvault::store::S3Store::connect(&settings).await);
    let now = Utc::now();
    let backups = customer1_backups(direct.as_ref(), now, &[20, 10, 0]).await;
    // The role may not read the oldest backup's data retention.
    proxy.inject_on(
        S3Op::GetObjectProtection,
        &backups[0].1,
        0,
        usize::MAX,
        Action::Error {
            status: 403,
            code: "AccessDenied",
        },
    );
    let config = keep_last_one(&[]);
    let req = real_run(now);
    let report = prune(store.clone(), &config, &req).await.unwrap();
    assert!(report.features.object_lock, "{:?}", report.features);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let oldest = report
        .plan
        .backups
        .iter()
        .find(|b| b.manifest_key == backups[0].0)
        .unwrap();
    assert_eq!(oldest.action, "defer", "{oldest:?}");
    assert!(
        oldest
            .reasons
            .iter()
            .any(|r| r.contains("could not be read") && r.contains("AccessDenied")),
        "{:?}",
        oldest.reasons
    );
    assert_eq!(
        report.deleted_backups, 1,
        "the middle backup goes, the unreadable one stays"
    );
    let deletes_of_oldest = proxy
        .seen()
        .iter()
        .filter(|r| r.op == S3Op::Delete && (r.target.contains(&backups[0].0) || r.target.contains(&backups[0].1)))
        .count();
    assert_eq!(deletes_of_oldest, 0, "never attempted");
    let left = list_backups(direct.as_ref(), &BackupFilter::default()).await.unwrap();
    assert_eq!(left.len(), 2);
}
