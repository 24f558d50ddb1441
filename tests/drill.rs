//! Restore drills with both doubles and LocalStack: passing drills with a
//! validation query, a failing check, a corrupted backup (fails at verify,
//! scratch never created), an injected neo4j-admin failure (cleaned up), a
//! crashed drill's leftover dropped, and history from the bucket.

mod common;

use bolt_double::Value;
use common::world::World;
use graphvault::config::Config;
use graphvault::ops::backup_run::{BackupRunRequest, StatvfsFreeSpace};
use graphvault::ops::drill::{drill, history, store_report, DrillContext, DrillReport, DrillRequest};

const CHECK: &str = "MATCH (n) RETURN count(n) AS nodes";

async fn world(min: i64) -> World {
    let extra = format!("[[drill.check]]\nalias = \"*\"\nquery = \"{CHECK}\"\nmin = {min}\n");
    let w = World::new(2, &extra).await;
    let report = w
        .run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0);
    w.server
        .canned_query("*", CHECK, &["nodes"], vec![vec![Value::Int(42)]]);
    w
}

async fn run(w: &World, config: &Config, env: &[(&str, &str)]) -> DrillReport {
    let catalog = w.catalog();
    let admin = w.admin(env);
    let ctx = DrillContext {
        store: w.store.clone(),
        config,
        identities: w.key.identities(),
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: "drill-host".into(),
    };
    drill(&ctx, &DrillRequest::default()).await.unwrap()
}

fn scratch_left(w: &World) -> Vec<String> {
    w.server
        .databases()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("drill-"))
        .collect()
}

#[tokio::test]
async fn a_drill_restores_checks_measures_and_cleans_up() {
    let w = world(10).await;
    w.server.add_database("drill-customer1-1600000000"); // a crashed drill's leftover
    let report = run(&w, &w.config, &[]).await;
    assert_eq!(report.leftovers_dropped, ["drill-customer1-1600000000"]);
    assert_eq!(report.results.len(), 2);
    for r in &report.results {
        assert!(r.passed, "{r:?}");
        assert!(r.scratch.starts_with(&format!("drill-{}-", r.alias)));
        assert_eq!(r.checks[0].detail, "42 (at least 10)");
        let phases: Vec<&str> = r.phases.iter().map(|p| p.name.as_ref()).collect();
        assert_eq!(phases, ["download_verify", "neo4j_admin_restore", "online", "checks"]);
        assert!(r.recovery_seconds > 0.0 && r.bytes > 0);
        let restore_phases: f64 = r.phases.iter().filter(|p| p.name != "checks").map(|p| p.seconds).sum();
        assert!((r.recovery_seconds - restore_phases).abs() < 1e-9, "the figures add up");
        assert!(r.seconds >= r.recovery_seconds);
    }
    assert!(scratch_left(&w).is_empty(), "scratch databases are dropped");
    let aliases = w.server.aliases();
    assert!(
        aliases.iter().all(|(_, db)| !db.starts_with("drill-")),
        "no alias ever points at a scratch database"
    );
    let staged = std::fs::read_dir(&w.config.backup.staging_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("restore-"))
        .count();
    assert_eq!(staged, 0);

    store_report(w.store.as_ref(), &report).await.unwrap();
    let past = history(w.store.as_ref()).await.unwrap();
    assert_eq!(past.len(), 1);
    assert_eq!(past[0].results.len(), 2);
    let md = report.markdown();
    assert!(md.contains("| customer1 |") && md.contains("passed"), "{md}");
}

#[tokio::test]
async fn failing_checks_corrupted_backups_and_neo4j_admin_failures_fail_the_drill_and_still_clean_up() {
    let w = world(100).await;
    // Too few nodes: the check fails.
    let report = run(&w, &w.config, &[]).await;
    assert_eq!(report.failed(), 2);
    assert!(report.results[0].checks[0].detail.contains("42 (at least 100)"));
    assert!(scratch_left(&w).is_empty());

    // neo4j-admin restore fails for every database: nothing left behind.
    let report = run(&w, &w.config, &[("NEO4J_ADMIN_DOUBLE_FAIL", "*:restorefail")]).await;
    assert_eq!(report.failed(), 2);
    assert!(report.results[0]
        .error
        .as_deref()
        .unwrap_or_default()
        .contains("neo4j-admin"));
    assert!(scratch_left(&w).is_empty());
    let staged = std::fs::read_dir(&w.config.backup.staging_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("restore-"))
        .count();
    assert_eq!(staged, 0, "staging is cleaned after a failure too");

    // A corrupted backup fails at verify; its scratch database is never created.
    let (key, manifest) = w.manifests().await.into_iter().next().unwrap();
    let object = &manifest.artifacts[0].key;
    let mut body = graphvault::store::get_all(w.store.as_ref(), object)
        .await
        .unwrap()
        .to_vec();
    body[500] ^= 1;
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
    w.store
        .put(object, body.into(), sha, graphvault::store::PutMode::Overwrite)
        .await
        .unwrap();
    let before = w.server.query_log().len();
    let report = run(&w, &w.config, &[]).await;
    let broken = report.results.iter().find(|r| r.alias == key.alias.as_str()).unwrap();
    assert!(
        !broken.passed && broken.error.as_deref().unwrap_or_default().contains("integrity"),
        "{broken:?}"
    );
    let created: Vec<String> = w.server.query_log()[before..]
        .iter()
        .filter(|q| q.starts_with(&format!("CREATE DATABASE `{}", broken.scratch)))
        .cloned()
        .collect();
    assert!(created.is_empty(), "{created:?}");
}

#[tokio::test]
async fn counts_recorded_at_backup_time_are_compared_with_the_restored_copy() {
    use graphvault::neo4j::{NODE_COUNT_QUERY, RELATIONSHIP_COUNT_QUERY};
    let w = World::new(1, "").await;
    w.server
        .canned_query("*", NODE_COUNT_QUERY, &["nodes"], vec![vec![Value::Int(1000)]]);
    w.server.canned_query(
        "*",
        RELATIONSHIP_COUNT_QUERY,
        &["relationships"],
        vec![vec![Value::Int(5000)]],
    );
    w.run(&BackupRunRequest::default(), &[], &StatvfsFreeSpace)
        .await
        .unwrap();
    let (_, manifest) = w.manifests().await.into_iter().next().unwrap();
    let info = manifest.neo4j.unwrap();
    assert_eq!((info.node_count, info.relationship_count), (Some(1000), Some(5000)));

    // The restored copy: nodes within 5 %, relationships far off.
    w.server
        .canned_query("*", NODE_COUNT_QUERY, &["nodes"], vec![vec![Value::Int(1020)]]);
    w.server.canned_query(
        "*",
        RELATIONSHIP_COUNT_QUERY,
        &["relationships"],
        vec![vec![Value::Int(4000)]],
    );
    let report = run(&w, &w.config, &[]).await;
    let checks = &report.results[0].checks;
    let by = |q: &str| checks.iter().find(|c| c.query == q).unwrap();
    assert!(by("node count").passed, "{checks:?}");
    assert!(!by("relationship count").passed, "{checks:?}");
    assert!(
        by("relationship count").detail.contains("4000 restored, 5000 counted"),
        "{checks:?}"
    );
    assert!(!report.results[0].passed);
}
