//! Tests of the backup run's report: outcome, table and JSON.

use super::*;

fn ok(db: &str, size: u64, stored: u64) -> DbResult {
    DbResult {
        alias: db.split('-').next().unwrap().into(),
        database: db.into(),
        outcome: DbOutcome::Ok {
            backup_id: "20261124T020000Z-abcdef".into(),
            backup_type: Some("FULL".into()),
            size,
            stored,
            warnings: Vec::new(),
            anomalies: Vec::new(),
        },
        seconds: 1.25,
    }
}

fn failed(db: &str) -> DbResult {
    DbResult {
        alias: db.into(),
        database: db.into(),
        outcome: DbOutcome::Failed {
            error: OpsError::NothingToBackUp { what: "x".into() },
        },
        seconds: 0.5,
    }
}

#[test]
fn the_outcome_separates_ok_partial_and_all_failed() {
    let report = |rs: Vec<DbResult>| RunReport {
        results: rs,
        unaliased: vec![],
        skipped_aliases: vec![],
    };
    assert_eq!(report(vec![]).outcome(), RunOutcome::Ok);
    assert_eq!(report(vec![ok("a-1", 1, 1)]).outcome(), RunOutcome::Ok);
    assert_eq!(
        report(vec![ok("a-1", 1, 1), failed("b-1")]).outcome(),
        RunOutcome::Partial
    );
    assert_eq!(
        report(vec![failed("a-1"), failed("b-1")]).outcome(),
        RunOutcome::AllFailed
    );
    assert_eq!(
        report(vec![failed("a-1")]).to_json()["outcome"],
        "failed",
        "one word for every run that did nothing: `all_failed` is gone"
    );
}

#[test]
fn the_table_has_a_row_per_database_and_names_failures() {
    let r = RunReport {
        results: vec![ok("customer1-100", 4 << 20, 1 << 20), failed("customer2-200")],
        unaliased: vec!["neo4j".into()],
        skipped_aliases: vec!["garden.flowers: constituent of the composite database 'garden'".into()],
    };
    assert_eq!(
        r.to_json()["skipped_aliases"][0],
        "garden.flowers: constituent of the composite database 'garden'"
    );
    let t = r.table();
    assert!(
        t.contains("alias skipped: garden.flowers: constituent of the composite database 'garden'"),
        "{t}"
    );
    assert!(t.starts_with("DATABASE"), "{t}");
    let row: Vec<&str> = t.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row,
        [
            "customer1-100",
            "customer1",
            "ok",
            "4.0",
            "MiB",
            "1.0",
            "MiB",
            "4.00",
            "1.2"
        ],
        "{t}"
    );
    assert!(t.contains("FAILED") && t.contains("customer2-200: "), "{t}");
    assert!(
        t.contains("1 of 2 database(s) backed up; 1 without an alias skipped"),
        "{t}"
    );
    let j = r.to_json();
    assert_eq!(j["outcome"], "partial");
    assert_eq!(j["databases"][0]["stored_size"], 1 << 20);
    assert_eq!(j["schema"], "graphvault.backup/1");
    assert_eq!(j["databases"][1]["outcome"], "failed");
    assert!(j["databases"][0].get("warnings").is_none(), "no empty warnings list");
}

#[test]
fn an_anomalous_backup_is_committed_but_the_run_says_anomalous() {
    use crate::monitor::{Anomaly, AnomalyKind};
    let mut row = ok("customer1-100", 4096, 4096);
    let anomaly = Anomaly {
        kind: AnomalyKind::SizeShrank,
        value: 4096.0,
        median: 2.0 * (1u64 << 30) as f64,
        of: 5,
    };
    if let DbOutcome::Ok {
        warnings, anomalies, ..
    } = &mut row.outcome
    {
        warnings.push(anomaly.to_string());
        anomalies.push(anomaly);
    }
    let r = RunReport {
        results: vec![row, ok("customer2-200", 1, 1)],
        unaliased: vec![],
        skipped_aliases: vec![],
    };
    assert_eq!(r.outcome(), RunOutcome::Anomalous);
    let t = r.table();
    assert!(
        t.contains("customer1-100: warning: anomaly (size_shrank): size 4.0 KiB is 0.0% of the median 2.0 GiB"),
        "{t}"
    );
    assert!(
        t.contains("2 of 2 database(s) backed up, 1 with warnings (1 anomalous"),
        "{t}"
    );
    let j = r.to_json();
    assert_eq!(j["outcome"], "anomalous");
    assert_eq!(j["databases"][0]["outcome"], "anomalous");
    assert_eq!(j["databases"][0]["anomalies"][0]["kind"], "size_shrank");
    assert_eq!(j["databases"][0]["anomalies"][0]["of"], 5);
    assert!(j["databases"][1].get("anomalies").is_none(), "no empty anomalies list");
    let failed_too = RunReport {
        results: vec![r.results.into_iter().next().unwrap(), failed("customer3-300")],
        unaliased: vec![],
        skipped_aliases: vec![],
    };
    assert_eq!(
        failed_too.outcome(),
        RunOutcome::Partial,
        "a failure outranks an anomaly"
    );
}

#[test]
fn a_backup_with_warnings_is_ok_and_its_warnings_are_shown() {
    let mut row = ok("customer1-100", 1, 1);
    if let DbOutcome::Ok { warnings, .. } = &mut row.outcome {
        warnings.push("neo4j-admin exited 1; servers it reported problems with: db1:6362".into());
    }
    let r = RunReport {
        results: vec![row],
        unaliased: vec![],
        skipped_aliases: vec![],
    };
    assert_eq!(r.outcome(), RunOutcome::Ok);
    let t = r.table();
    assert!(
        t.contains("customer1-100: warning: neo4j-admin exited 1; servers it reported problems with: db1:6362"),
        "{t}"
    );
    assert!(t.contains("1 of 1 database(s) backed up, 1 with warnings"), "{t}");
    let j = r.to_json();
    assert_eq!(j["outcome"], "ok");
    assert_eq!(j["databases"][0]["outcome"], "ok");
    assert_eq!(
        j["databases"][0]["warnings"][0].as_str().unwrap(),
        "neo4j-admin exited 1; servers it reported problems with: db1:6362"
    );
}
