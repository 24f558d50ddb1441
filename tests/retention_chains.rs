//! Retention that never makes a kept backup unrestorable, on LocalStack with
//! real differential chains from the neo4j-admin double: a kept differential
//! keeps its parents, a backup with missing data never counts, chains are
//! bounded by `backup.max_chain_length`, and a second prune reads no manifest
//! (the local cache of verified manifests).

mod common;

use std::time::Duration;

use chrono::Utc;
use common::world::World;
use graphvault::config::Config;
use graphvault::model::Chain;
use graphvault::ops::backup_run::{BackupRunRequest, StatvfsFreeSpace};
use graphvault::ops::prune::{prune, PruneReport, PruneRequest};
use graphvault::ops::verify::{verify, VerifyContext};
use graphvault::ops::{list_backups, BackupFilter};
use graphvault::retention::RetentionPolicy;

async fn nightly(w: &World, nights: usize) {
    for _ in 0..nights {
        let report = w
            .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
            .await
            .unwrap();
        assert_eq!(
            report.outcome(),
            graphvault::ops::backup_run::RunOutcome::Ok,
            "{}",
            report.table()
        );
    }
}

/// `keep_last = 1` and nothing else, with a private cache directory.
fn keep_last_one(w: &World) -> Config {
    let mut c = w.config.clone();
    c.retention.default = RetentionPolicy {
        keep_last: 1,
        keep_daily: 0,
        keep_weekly: 0,
        keep_monthly: 0,
        keep_yearly: 0,
        keep_within: None,
    };
    c.retention.orphan_grace = Duration::from_secs(0);
    c.cache_dir = Some(w.work.path().join("cache"));
    c
}

async fn prune_now(w: &World, config: &Config) -> PruneReport {
    let req = PruneRequest {
        database: None,
        dry_run: false,
        now: Utc::now() + chrono::Duration::seconds(5),
        host: "test".into(),
    };
    prune(w.store.clone(), config, &req).await.unwrap()
}

/// Every backup left verifies with the identity (decrypts, checksums match)
/// and its chain resolves from the bucket alone.
async fn all_verify(w: &World) -> usize {
    let keys = list_backups(w.store.as_ref(), &BackupFilter::default()).await.unwrap();
    let ctx = VerifyContext {
        store: w.store.clone(),
        trust: w.config.signing.trust().unwrap(),
        identities: Some(w.key.identities()),
        deep: None,
    };
    for r in verify(&ctx, &keys).await {
        assert!(r.problem.is_none(), "{} does not verify: {:?}", r.backup_id, r.problem);
        assert!(r.objects.iter().all(|o| o.problem.is_none()), "{r:?}");
    }
    for k in &keys {
        graphvault::ops::resolve_chain(w.store.as_ref(), &ctx.trust, k)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", k.backup_id));
    }
    keys.len()
}

/// The case: `type = "auto"`, `keep_local = 3`, four nights give
/// FULL ← DIFF ← DIFF ← DIFF; `keep_last = 1` keeps the newest and its parents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_keeps_the_whole_chain_of_a_kept_differential_and_everything_left_verifies() {
    let w = World::new(1, "keep_local = 3\ntype = \"auto\"\n").await;
    nightly(&w, 4).await;
    let keys = list_backups(w.store.as_ref(), &BackupFilter::default()).await.unwrap();
    assert!(matches!(keys[0].chain, Chain::Full), "{}", keys[0]);
    for pair in keys.windows(2) {
        assert_eq!(pair[1].chain, Chain::Diff(pair[0].backup_id.clone()), "{}", pair[1]);
    }

    let config = keep_last_one(&w);
    let report = prune_now(&w, &config).await;
    assert_eq!(report.deleted_backups, 0, "{}", graphvault::ops::prune::render(&report));
    let newest = keys[3].backup_id.to_string();
    for b in report.plan.backups.iter().skip(1) {
        assert_eq!(b.action, "keep");
        assert_eq!(b.reasons, [format!("parent of {newest}")]);
    }
    assert_eq!(all_verify(&w).await, 4);

    // A second prune reads no manifest: the cache knows the kept ones.
    let again = prune_now(&w, &config).await;
    assert_eq!(again.manifests_read, 0);
    assert_eq!(again.deleted_backups, 0);

    // A new full backup ends the chain: the old one may go now.
    let full = BackupRunRequest {
        backup_type: Some(graphvault::neo4j::BackupType::Full),
        ..BackupRunRequest::default()
    };
    w.run(&full, &[], &StatvfsFreeSpace).await.unwrap();
    let report = prune_now(&w, &config).await;
    assert_eq!(report.deleted_backups, 4, "{}", graphvault::ops::prune::render(&report));
    assert_eq!(report.manifests_read, 1, "only the new backup's manifest is read");
    assert_eq!(all_verify(&w).await, 1);
}

/// `auto` takes a full backup once the chain has `max_chain_length`
/// differentials, so retention is never forced to keep an endless chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_backups_start_a_new_chain_at_max_chain_length() {
    let w = World::new(1, "keep_local = 10\ntype = \"auto\"\nmax_chain_length = 2\n").await;
    nightly(&w, 5).await;
    let keys = list_backups(w.store.as_ref(), &BackupFilter::default()).await.unwrap();
    let kinds: Vec<&str> = keys
        .iter()
        .map(|k| if matches!(k.chain, Chain::Full) { "FULL" } else { "DIFF" })
        .collect();
    assert_eq!(kinds, ["FULL", "DIFF", "DIFF", "FULL", "DIFF"]);
}

/// The newest backup's data deleted by hand: prune keeps the older, good
/// backup as "newest", reports the broken one, and deletes neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_whose_data_is_gone_never_protects_the_alias() {
    let w = World::new(1, "").await;
    nightly(&w, 2).await;
    let manifests = w.manifests().await;
    let (broken, m) = &manifests[1];
    w.store.delete(&m.artifacts[0].key).await.unwrap();

    let report = prune_now(&w, &keep_last_one(&w)).await;
    let rendered = graphvault::ops::prune::render(&report);
    let actions: Vec<(&str, &str)> = report
        .plan
        .backups
        .iter()
        .map(|b| (b.backup_id.as_str(), b.action))
        .collect();
    assert_eq!(
        actions,
        [
            (broken.backup_id.as_str(), "incomplete"),
            (manifests[0].0.backup_id.as_str(), "keep")
        ],
        "{rendered}"
    );
    assert!(rendered.contains("1 incomplete"), "{rendered}");
    assert_eq!(report.deleted_backups, 0);
    // The good one restores.
    let ctx = VerifyContext {
        store: w.store.clone(),
        trust: w.config.signing.trust().unwrap(),
        identities: Some(w.key.identities()),
        deep: None,
    };
    let r = verify(&ctx, std::slice::from_ref(&manifests[0].0)).await;
    assert!(
        r[0].problem.is_none() && r[0].objects.iter().all(|o| o.problem.is_none()),
        "{r:?}"
    );
}

/// A new differential backup whose parent was taken days earlier: the
/// parent's tier tag is raised when the child is written, so a lifecycle
/// rule can never expire the parent before the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_a_differential_raises_its_parents_tier_so_no_rule_expires_it_first() {
    use graphvault::model::{BackupManifest, ManifestKey, Neo4jInfo};
    use graphvault::ops::{backup_artifacts, ArtifactBackupRequest};
    use graphvault::retention::tier::TIER_TAG;
    use sha2::{Digest, Sha256};

    let w = World::new(1, "").await;
    let store = w.store.as_ref();
    // A full backup taken three days ago, tagged `daily` as every new backup is.
    let when = Utc::now() - chrono::Duration::days(3);
    let parent_id = format!("{}-00000a", when.format("%Y%m%dT%H%M%SZ"));
    let key = format!("manifests/customer1/{parent_id}~customer1-1800000000~FULL.json");
    let data = format!("data/customer1/{parent_id}/customer1.backup.zst.age");
    let body = BackupManifest::placeholder(&ManifestKey::parse(&key).unwrap(), &[(data.clone(), 6)]).to_json();
    let daily = [(TIER_TAG.to_string(), "daily".to_string())];
    for (k, b) in [(&key, body), (&data, b"sealed".to_vec())] {
        let sha: [u8; 32] = Sha256::digest(&b).into();
        store
            .put(k, b.into(), sha, graphvault::store::PutMode::Overwrite)
            .await
            .unwrap();
        store.put_tags(k, &daily).await.unwrap();
    }

    let artifact = common::write_artifact(w.work.path(), "customer1-1800000000", b"a differential artifact");
    backup_artifacts(
        w.store.clone(),
        &w.config,
        &ArtifactBackupRequest {
            artifacts: vec![artifact],
            database: "customer1-1800000000".parse().unwrap(),
            alias: Some("customer1".parse().unwrap()),
            labels: Vec::new(),
            neo4j: Some(Neo4jInfo {
                backup_type: Some("DIFF".into()),
                parent: Some(parent_id.clone()),
                ..Neo4jInfo::default()
            }),
            progress: graphvault::ops::progress::ProgressStyle::Off,
            lease_lost: None,
        },
    )
    .await
    .unwrap();
    // Default policy: daily expires after 9 days, weekly after 35. The child
    // (daily, today) lives until day 9 from now; the parent as `daily` only
    // until day 6 from now, so it becomes `weekly`.
    for k in [&key, &data] {
        let tags = store.get_tags(k).await.unwrap();
        assert!(
            tags.contains(&(TIER_TAG.to_string(), "weekly".to_string())),
            "{k}: {tags:?}"
        );
    }
}
