//! Tests of the backup run's metrics: alias labels, carry-over, cutovers.

use super::super::report::DbResult;
use super::*;
use crate::ops::OpsError;

fn result(alias: &str, database: &str, ok: bool) -> DbResult {
    DbResult {
        alias: alias.into(),
        database: database.into(),
        outcome: if ok {
            DbOutcome::Ok {
                backup_id: "x".into(),
                backup_type: None,
                size: 400,
                stored: 100,
                warnings: vec!["a --from server did not respond".into()],
                anomalies: vec![crate::monitor::Anomaly {
                    kind: crate::monitor::AnomalyKind::SizeShrank,
                    value: 400.0,
                    median: 4e9,
                    of: 3,
                }],
            }
        } else {
            DbOutcome::Failed {
                error: OpsError::NothingToBackUp { what: "x".into() },
            }
        },
        seconds: 2.5,
    }
}

fn report(results: Vec<DbResult>) -> RunReport {
    RunReport {
        results,
        unaliased: vec![],
        skipped_aliases: vec![],
    }
}

fn every(r: &RunReport) -> RunEnd<'_> {
    RunEnd::Report {
        report: r,
        every_alias: true,
    }
}

/// Every sample line of `text` as `name{labels} value`.
fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[test]
fn a_failed_alias_keeps_its_last_success_time_and_says_it_failed() {
    let first = report(vec![
        result("customer1", "customer1-1", true),
        result("customer2", "customer2-1", true),
    ]);
    let text1 = render(&every(&first), 1000, "");
    let second = report(vec![
        result("customer1", "customer1-1", true),
        result("customer2", "customer2-1", false),
    ]);
    let text2 = render(&every(&second), 2000, &text1);
    for line in [
        "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\"} 2000",
        "graphvault_backup_last_success_timestamp_seconds{alias=\"customer2\"} 1000",
        "graphvault_backup_last_attempt_timestamp_seconds{alias=\"customer2\"} 2000",
        "graphvault_backup_success{alias=\"customer2\"} 0",
        "graphvault_backup_success{alias=\"customer1\"} 1",
        "graphvault_backup_bytes_stored{alias=\"customer1\"} 100",
        "graphvault_backup_compression_ratio{alias=\"customer1\"} 4",
        "graphvault_backup_duration_seconds{alias=\"customer1\"} 2.500",
        "graphvault_backup_warnings{alias=\"customer1\"} 1",
        "graphvault_backup_anomalies{alias=\"customer2\"} 0",
        "graphvault_backup_anomaly{alias=\"customer1\",kind=\"size_shrank\"} 1",
        "graphvault_backup_database_info{alias=\"customer2\",database=\"customer2-1\"} 1",
        "graphvault_backup_run_databases{result=\"failed\"} 1",
        "graphvault_backup_run_success 0",
        "graphvault_backup_run_timestamp_seconds 2000",
    ] {
        assert!(has(&text2, line), "missing {line}:\n{text2}");
    }
    for line in text2.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').unwrap();
        value.parse::<f64>().unwrap();
    }
}

#[test]
fn a_cutover_keeps_every_series_and_moves_the_info_metric() {
    let before = report(vec![result("customer1", "customer1-1700000000", true)]);
    let text1 = render(&every(&before), 1000, "");
    let after = report(vec![result("customer1", "customer1-1800000000", false)]);
    let text2 = render(&every(&after), 2000, &text1);
    assert!(
        has(
            &text2,
            "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\"} 1000"
        ),
        "{text2}"
    );
    assert!(has(
        &text2,
        "graphvault_backup_database_info{alias=\"customer1\",database=\"customer1-1800000000\"} 1"
    ));
    assert!(!text2.contains("customer1-1700000000"), "{text2}");
}

#[test]
fn a_run_that_never_reached_neo4j_or_was_limited_carries_every_alias_over() {
    let first = report(vec![
        result("customer1", "c1-1", true),
        result("customer2", "c2-1", false),
    ]);
    let text1 = render(&every(&first), 1000, "");
    let text2 = render(&RunEnd::Error, 2000, &text1);
    for line in [
        "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\"} 1000",
        "graphvault_backup_last_attempt_timestamp_seconds{alias=\"customer2\"} 1000",
        "graphvault_backup_success{alias=\"customer2\"} 0",
        "graphvault_backup_bytes_stored{alias=\"customer1\"} 100",
        "graphvault_backup_run_success 0",
        "graphvault_backup_run_timestamp_seconds 2000",
    ] {
        assert!(has(&text2, line), "missing {line}:\n{text2}");
    }
    let only_two = report(vec![result("customer2", "c2-1", true)]);
    let limited = RunEnd::Report {
        report: &only_two,
        every_alias: false,
    };
    let text3 = render(&limited, 3000, &text2);
    assert!(has(
        &text3,
        "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\"} 1000"
    ));
    assert!(has(&text3, "graphvault_backup_success{alias=\"customer1\"} 1"));
    assert!(has(
        &text3,
        "graphvault_backup_last_success_timestamp_seconds{alias=\"customer2\"} 3000"
    ));
    assert!(has(&text3, "graphvault_backup_run_success 1"));
}

#[test]
fn a_complete_run_drops_an_alias_the_server_no_longer_has() {
    let first = report(vec![result("customer1", "c1-1", true), result("gone", "gone-1", true)]);
    let text1 = render(&every(&first), 1000, "");
    let second = report(vec![result("customer1", "c1-1", true)]);
    let text2 = render(&every(&second), 2000, &text1);
    assert!(!text2.contains("alias=\"gone\""), "{text2}");
}

#[test]
fn an_older_file_labelled_by_database_too_is_read_by_alias() {
    let old = "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\",database=\"customer1-1\"} 900\n\
               graphvault_backup_success{alias=\"customer1\",database=\"customer1-1\"} 1\n";
    let text = render(&RunEnd::Error, 2000, old);
    assert!(
        has(
            &text,
            "graphvault_backup_last_success_timestamp_seconds{alias=\"customer1\"} 900"
        ),
        "{text}"
    );
    assert!(has(&text, "graphvault_backup_success{alias=\"customer1\"} 1"), "{text}");
    assert!(!text.contains("database=\"customer1-1\"}"), "{text}");
}

#[test]
fn the_file_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("graphvault.prom");
    let r = report(vec![result("customer1", "customer1-1", true)]);
    write(&path, &every(&r), 1000).unwrap();
    write(&path, &every(&r), 2000).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("graphvault_backup_run_timestamp_seconds 2000"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}
