//! `version`, `help`, `backup inspect`, `database restore` and `database check`.

mod common;

use std::fs;

use common::{admin, artifacts, Scratch};
use serde_json::Value;

fn backup(s: &Scratch, db: &str) {
    let r = admin(s.path(), &["database", "backup", "--to-path=b", db], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
}

#[test]
fn version_output_matches_each_line_of_releases() {
    let s = Scratch::new();
    let r = admin(s.path(), &["--version"], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "5.26.0\n"));
    let r = admin(s.path(), &["version"], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "neo4j 5.26.0\n"));
    let cal = [("NEO4J_ADMIN_DOUBLE_VERSION", "2025.10.1")];
    assert_eq!(admin(s.path(), &["-V"], &cal).stdout, "2025.10.1\n");
    assert_eq!(admin(s.path(), &["version"], &cal).stdout, "neo4j 2025.10.1\n");

    let old = [("NEO4J_ADMIN_DOUBLE_VERSION", "4.4.30")];
    assert_eq!(admin(s.path(), &["--version"], &old).stdout, "4.4.30\n");
    s.dir("b");
    let r = admin(s.path(), &["database", "backup", "--to-path=b", "neo4j"], &old);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.starts_with(
        "Unmatched arguments from index 0: 'database', 'backup', '--to-path=b', 'neo4j'\nUsage: neo4j-admin"
    ));
    assert!(artifacts(&s.path().join("b")).is_empty());
    assert_eq!(admin(s.path(), &["version"], &old).code, Some(2));
}

#[test]
fn help_and_root_level_errors() {
    let s = Scratch::new();
    for args in [&["--help"][..], &["help"], &["-h"]] {
        let r = admin(s.path(), args, &[]);
        assert_eq!(r.code, Some(0));
        assert!(r.stdout.starts_with("Usage: neo4j-admin [-hV]"), "{args:?}");
    }
    let r = admin(s.path(), &["database", "backup", "--help"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("\nUSAGE\n\nneo4j-admin database backup [-h]"));
    let r = admin(s.path(), &["help", "database", "restore"], &[]);
    assert!(r.code == Some(0) && r.stdout.contains("neo4j-admin database restore"));
    let r = admin(s.path(), &[], &[]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.starts_with("Usage: neo4j-admin"));
    let r = admin(s.path(), &["database", "frobnicate"], &[]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.starts_with("Unmatched argument at index 1: 'frobnicate'"));
}

#[test]
fn inspect_json_describes_artifacts() {
    let s = Scratch::new();
    s.dir("b");
    backup(&s, "neo4j");
    backup(&s, "neo4j");
    let r = admin(
        s.path(),
        &["backup", "inspect", "b", "--format=JSON", "--show-metadata"],
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.all());
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["full"], false, "newest first");
    assert_eq!(rows[1]["full"], true);
    for row in rows {
        assert_eq!(row["database"], "neo4j");
        assert!(row["file"].as_str().unwrap().starts_with("file:///"));
        for key in ["databaseId", "time", "compressed", "lowestTx", "highestTx"] {
            assert!(row.get(key).is_some(), "{key}");
        }
        assert!(row.get("recovered").is_none(), "5.26 has no RECOVERED");
    }

    let r = admin(s.path(), &["backup", "inspect", "b", "--format=json"], &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v[0].as_object().unwrap().len(),
        1,
        "5.26 without --show-metadata lists files only"
    );

    let new = [("NEO4J_ADMIN_DOUBLE_VERSION", "2025.10.1")];
    let r = admin(
        s.path(),
        &["backup", "inspect", "b", "--format=JSON", "--latest-backup"],
        &new,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(v[0].get("recovered").is_some() && v[0].get("highestTx").is_some());

    let r = admin(s.path(), &["backup", "inspect", "b", "--show-metadata"], &[]);
    assert!(
        r.stdout.starts_with("|") && r.stdout.contains("| DATABASE |"),
        "{}",
        r.stdout
    );

    let r = admin(
        s.path(),
        &["backup", "inspect", "b"],
        &[("NEO4J_ADMIN_DOUBLE_VERSION", "5.20.0")],
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("Did you mean: neo4j-admin database backup?"));
    let r = admin(s.path(), &["backup", "inspect", "b", "--format=XML"], &[]);
    assert_eq!(r.code, Some(64));
}

#[test]
fn restore_writes_a_store_and_refuses_to_overwrite() {
    let s = Scratch::new();
    s.dir("b");
    backup(&s, "neo4j");
    backup(&s, "neo4j");
    let files = artifacts(&s.path().join("b"));
    let last = format!("b/{}", files[1].file_name().unwrap().to_string_lossy());
    let env = [("NEO4J_ADMIN_DOUBLE_DATA", "data")];
    let args = ["database", "restore", &format!("--from-path={last}"), "copy"];
    let r = admin(s.path(), &args, &env);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let store = s.path().join("data/databases/copy");
    let header: Value = serde_json::from_str(&fs::read_to_string(store.join("header.json")).unwrap()).unwrap();
    assert_eq!(
        (header["database"].as_str(), header["type"].as_str()),
        (Some("neo4j"), Some("DIFF"))
    );
    let marker: Value = serde_json::from_str(&fs::read_to_string(store.join("restored.marker")).unwrap()).unwrap();
    assert_eq!(
        marker["chain"].as_array().unwrap().len(),
        2,
        "the chain ending at the differential"
    );

    let r = admin(s.path(), &args, &env);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.starts_with("Database with name [copy] already exists at "),
        "{}",
        r.stderr
    );
    let r = admin(s.path(), &[&args[..], &["--overwrite-destination=true"]].concat(), &env);
    assert_eq!(r.code, Some(0), "{}", r.all());

    let r = admin(
        s.path(),
        &["database", "restore", "--from-path=b/nothing.backup", "x"],
        &env,
    );
    assert_eq!(r.code, Some(1));
    let both = format!("--from-path={},{last}", files[0].display());
    let r = admin(s.path(), &["database", "restore", &both, "copy2"], &env);
    assert_eq!(r.code, Some(64), "a database name needs a single artifact: {}", r.all());
    let r = admin(s.path(), &["database", "restore", "copy3"], &env);
    assert_eq!(r.code, Some(64));
    assert!(r
        .stderr
        .starts_with("Missing required option: '--from-path=<path>[,<path>...]'"));

    let fail = [
        ("NEO4J_ADMIN_DOUBLE_DATA", "data"),
        ("NEO4J_ADMIN_DOUBLE_FAIL", "other:restorefail"),
    ];
    let r = admin(
        s.path(),
        &["database", "restore", &format!("--from-path={last}"), "other"],
        &fail,
    );
    assert_eq!(r.code, Some(1));
    assert!(!s.path().join("data/databases/other").exists());
}

#[test]
fn check_reads_the_latest_chain_of_a_directory() {
    let s = Scratch::new();
    s.dir("b");
    backup(&s, "neo4j");
    let r = admin(s.path(), &["database", "check", "--from-path=b", "neo4j"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("Consistency check\n") && r.stdout.contains(".................... 100%"));

    let file = artifacts(&s.path().join("b"))[0].display().to_string();
    let r = admin(
        s.path(),
        &["database", "check", &format!("--from-path={file}"), "neo4j"],
        &[],
    );
    assert_eq!(r.code, Some(70), "a file is not a directory of artifacts: {}", r.all());
    assert!(r
        .stderr
        .starts_with("Failed to prepare for consistency check: Could not find a valid backup"));
    let r = admin(s.path(), &["database", "check", "--from-path=b", "other"], &[]);
    assert_eq!(r.code, Some(70));

    let r = admin(
        s.path(),
        &["database", "check", "--from-path=b", "--report-path=.", "neo4j"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "neo4j:inconsistent")],
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("Inconsistencies found. See '"));
    let r = admin(s.path(), &["database", "check", "--from-path=b"], &[]);
    assert_eq!(r.code, Some(64));
    assert!(r.stderr.starts_with("Missing required parameter: '<database>'"));
}
