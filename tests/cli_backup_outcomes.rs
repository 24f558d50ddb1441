//! What a Neo4j-driven `graphvault backup` records when neo4j-admin's exit
//! code or its log lines alone would mislead: exit 1 with the artifact made
//! (a `--from` server did not respond), and AUTO backups that fall back from
//! a differential to a full backup. The binary, the Bolt double, the
//! neo4j-admin double, LocalStack.

mod common;

use common::cli::EXIT_OK;
use common::cli_world::{Setup, SMALL};
use graphvault::model::{Chain, ManifestKey};
use graphvault::ops::{list_backups, read_manifest_unverified, BackupFilter};
use serde_json::Value;

const EXIT_ALL_FAILED: i32 = 11;
const TWO_SERVERS: &str = "neo4j.backup_from=[\"db1:6362\", \"db2:6362\"]";

/// Every committed backup of `customer1`, oldest first, with the kind its
/// manifest records.
async fn recorded(s: &Setup) -> Vec<(ManifestKey, Option<String>)> {
    let keys = list_backups(&s.store, &BackupFilter::default()).await.unwrap();
    let mut out = Vec::new();
    for key in keys.into_iter().filter(|k| k.alias.as_str() == "customer1") {
        let m = read_manifest_unverified(&s.store, &key).await.unwrap();
        out.push((key, m.neo4j.and_then(|n| n.backup_type)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_did_not_respond_is_a_warning_when_the_artifact_was_made() {
    let s = Setup::new(&format!(
        "{SMALL}, NEO4J_ADMIN_DOUBLE_FAIL = \"*:unreachable:db1:6362\""
    ))
    .await;
    s.answer_counts(10, 20);
    let r = s
        .run(&["--set", TWO_SERVERS, "backup", "--alias", "customer1", "--json"])
        .await;
    assert_eq!(
        r.code,
        EXIT_OK,
        "neo4j-admin exit 1 with a verified artifact is a success: {}",
        r.explain()
    );
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let row = &report["databases"][0];
    assert_eq!(row["outcome"], "ok", "{report}");
    let warnings = row["warnings"].as_array().expect("a warnings list").clone();
    assert_eq!(warnings.len(), 1, "{report}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.contains("db1:6362") && !w.contains("db2:6362"),
        "names only the server that failed: {w}"
    );
    assert_eq!(recorded(&s).await.len(), 1);

    // The summary table says it too.
    let r = s.run(&["--set", TWO_SERVERS, "backup", "--alias", "customer1"]).await;
    assert_eq!(r.code, EXIT_OK, "{}", r.explain());
    assert!(
        r.stdout.contains("customer1-1800000000: warning:") && r.stdout.contains("db1:6362"),
        "{}",
        r.explain()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_responding_is_still_a_failed_backup() {
    let s = Setup::new(&format!(
        "{SMALL}, NEO4J_ADMIN_DOUBLE_FAIL = \"*:unreachable:db1:6362,*:unreachable:db2:6362\""
    ))
    .await;
    let r = s
        .run(&["--set", TWO_SERVERS, "backup", "--alias", "customer1", "--json"])
        .await;
    assert_eq!(r.code, EXIT_ALL_FAILED, "{}", r.explain());
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["outcome"], "failed", "one word for a run that did nothing");
    assert_eq!(report["databases"][0]["outcome"], "failed");
    assert!(recorded(&s).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_backup_that_fell_back_to_full_is_recorded_as_full_without_a_parent() {
    let s = Setup::new(SMALL).await;
    let auto = [
        "--set",
        "backup.keep_local=1",
        "backup",
        "--type",
        "auto",
        "--alias",
        "customer1",
    ];
    // Backups in the order they were made: two made within the same second
    // do not sort by id (the id has one-second resolution and a random tail).
    let mut got: Vec<(ManifestKey, Option<String>)> = Vec::new();
    async fn newest(s: &Setup, got: &mut Vec<(ManifestKey, Option<String>)>) {
        let new: Vec<_> = recorded(s)
            .await
            .into_iter()
            .filter(|(k, _)| !got.iter().any(|(g, _)| g == k))
            .collect();
        assert_eq!(new.len(), 1, "one new backup per run: {new:?}");
        got.extend(new);
    }
    // 1: empty staging: neo4j-admin starts a differential, falls back, makes a full.
    s.run(&auto).await.ok();
    newest(&s, &mut got).await;
    // 2: a real differential on top of it.
    s.run(&auto).await.ok();
    newest(&s, &mut got).await;
    // 3: the server cannot serve a differential: AUTO falls back to full again.
    let config = std::fs::read_to_string(&s.config).unwrap();
    let nodiff = format!("{SMALL}, NEO4J_ADMIN_DOUBLE_FAIL = \"customer1-1800000000:nodiff\"");
    std::fs::write(&s.config, config.replacen(SMALL, &nodiff, 1)).unwrap();
    s.run(&auto).await.ok();
    newest(&s, &mut got).await;
    assert_eq!((&got[0].0.chain, got[0].1.as_deref()), (&Chain::Full, Some("FULL")));
    assert_eq!(
        (&got[1].0.chain, got[1].1.as_deref()),
        (&Chain::Diff(got[0].0.backup_id.clone()), Some("DIFF"))
    );
    assert_eq!(
        (&got[2].0.chain, got[2].1.as_deref()),
        (&Chain::Full, Some("FULL")),
        "a fall-back to full must not be recorded as a differential of the previous backup"
    );
}
