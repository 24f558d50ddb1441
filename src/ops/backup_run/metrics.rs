//! Prometheus textfile-collector metrics of a backup run (`--metrics-file`).
//!
//! Series are labelled by **alias**, which stays the same across blue/green
//! cutovers; the database an alias pointed at is an info metric
//! (`graphvault_backup_database_info{alias,database} 1`), so a cutover does
//! not break dashboards or alerts. What an alert needs is carried over from
//! the previous file for every alias this run did not back up (a failed
//! run, a run that never reached Neo4j, a run limited with `--alias`): the
//! last success time of a failing alias never disappears. An alias leaves
//! the file only when a complete run (no `--alias`/`--database`) no longer
//! finds it on the server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::report::{DbOutcome, RunReport};
use crate::monitor::textfile::{self, Textfile};

const LAST_SUCCESS: &str = "graphvault_backup_last_success_timestamp_seconds";
const LAST_ATTEMPT: &str = "graphvault_backup_last_attempt_timestamp_seconds";

/// Per-alias gauges other than the two timestamps: (name, help). Their
/// last value is carried over for an alias not backed up in this run.
const PER_ALIAS: [(&str, &str); 7] = [
    (
        "graphvault_backup_success",
        "1 if the alias's last backup attempt committed, else 0.",
    ),
    (
        "graphvault_backup_duration_seconds",
        "Time the alias's last backup attempt took.",
    ),
    (
        "graphvault_backup_bytes_read",
        "Artifact bytes read (plaintext) by the alias's last backup.",
    ),
    (
        "graphvault_backup_bytes_stored",
        "Bytes stored after compression and encryption by the alias's last backup.",
    ),
    (
        "graphvault_backup_compression_ratio",
        "Plain bytes per stored byte of the alias's last backup.",
    ),
    (
        "graphvault_backup_warnings",
        "Warnings of the alias's last backup (it committed, but e.g. a --from server did not respond, or its size was an anomaly).",
    ),
    (
        "graphvault_backup_anomalies",
        "Anomalies of the alias's last backup: size, compression ratio or time far from its recent backups of the same type.",
    ),
];

/// How the run ended, for its metrics.
pub enum RunEnd<'a> {
    /// The run reached Neo4j; `every_alias` when it was not limited to some
    /// aliases or databases (then an alias it did not see is gone).
    Report { report: &'a RunReport, every_alias: bool },
    /// The run failed before any database (Neo4j, storage, lease, staging).
    Error,
}

/// The metrics text for a run that ended at `now` (Unix seconds), given
/// the previous file's text.
pub fn render(end: &RunEnd<'_>, now: i64, previous: &str) -> String {
    let (results, every_alias) = match end {
        RunEnd::Report { report, every_alias } => (report.results.as_slice(), *every_alias),
        RunEnd::Error => (&[][..], false),
    };
    let attempted: BTreeSet<&str> = results.iter().map(|r| r.alias.as_str()).collect();
    let mut last_success = textfile::carried(previous, LAST_SUCCESS, Some("alias"));
    let mut last_attempt = textfile::carried(previous, LAST_ATTEMPT, Some("alias"));
    // Aliases this run did not back up keep every value they had.
    let known: BTreeSet<String> = [LAST_SUCCESS, LAST_ATTEMPT, PER_ALIAS[0].0]
        .into_iter()
        .flat_map(|m| textfile::carried(previous, m, Some("alias")).into_keys())
        .collect();
    let kept: Vec<String> = known
        .into_iter()
        .filter(|a| !attempted.contains(a.as_str()) && !every_alias)
        .collect();
    if every_alias {
        last_success.retain(|a, _| attempted.contains(a.as_str()));
        last_attempt.retain(|a, _| attempted.contains(a.as_str()));
    }

    let mut t = Textfile::default();
    t.declare(LAST_SUCCESS, "When the alias's last backup committed (Unix time).");
    t.declare(LAST_ATTEMPT, "When the alias's last backup was attempted (Unix time).");
    for (name, help) in PER_ALIAS {
        t.declare(name, help);
    }
    let mut per_alias: Vec<BTreeMap<&str, f64>> = vec![BTreeMap::new(); PER_ALIAS.len()];
    for r in results {
        last_attempt.insert(r.alias.clone(), now as f64);
        let (ok, read, stored, warnings, anomalies) = match &r.outcome {
            DbOutcome::Ok {
                size,
                stored,
                warnings,
                anomalies,
                ..
            } => (1.0, *size, *stored, warnings.len(), anomalies.as_slice()),
            DbOutcome::Failed { .. } => (0.0, 0, 0, 0, &[][..]),
        };
        if ok == 1.0 {
            last_success.insert(r.alias.clone(), now as f64);
        }
        let ratio = if stored > 0 { read as f64 / stored as f64 } else { 0.0 };
        let values = [
            ok,
            r.seconds,
            read as f64,
            stored as f64,
            ratio,
            warnings as f64,
            anomalies.len() as f64,
        ];
        for (slot, v) in per_alias.iter_mut().zip(values) {
            slot.insert(&r.alias, v);
        }
        for a in anomalies {
            t.sample(
                "graphvault_backup_anomaly",
                "1 for each kind of anomaly (size_shrank, stored_grew, ratio_fell, duration_grew, …) of the alias's last backup.",
                &[("alias", &r.alias), ("kind", a.kind.as_str())],
                1,
            );
        }
        t.sample(
            "graphvault_backup_database_info",
            "The database the alias pointed at when it was last backed up.",
            &[("alias", &r.alias), ("database", &r.database)],
            1,
        );
    }
    for ((name, _), slot) in PER_ALIAS.iter().zip(per_alias.iter_mut()) {
        for (alias, v) in textfile::carried(previous, name, Some("alias")) {
            if let Some(a) = kept.iter().find(|k| **k == alias) {
                slot.insert(a.as_str(), v);
            }
        }
    }
    for (alias, v) in &last_success {
        t.sample(LAST_SUCCESS, "", &[("alias", alias)], v);
    }
    for (alias, v) in &last_attempt {
        t.sample(LAST_ATTEMPT, "", &[("alias", alias)], v);
    }
    for ((name, help), slot) in PER_ALIAS.iter().zip(per_alias) {
        for (alias, v) in slot {
            t.sample(name, help, &[("alias", alias)], format_value(v));
        }
    }

    let failed = results
        .iter()
        .filter(|r| matches!(r.outcome, DbOutcome::Failed { .. }))
        .count();
    let run_ok = matches!(end, RunEnd::Report { .. }) && failed == 0;
    t.sample(
        "graphvault_backup_run_timestamp_seconds",
        "When the last backup run ended (Unix time).",
        &[],
        now,
    );
    t.sample(
        "graphvault_backup_run_success",
        "1 if the last backup run backed up every database it selected (anomalies aside), 0 if any failed or the run itself failed.",
        &[],
        u8::from(run_ok),
    );
    let help = "Databases in the last backup run, by result.";
    t.sample(
        "graphvault_backup_run_databases",
        help,
        &[("result", "ok")],
        results.len() - failed,
    );
    t.sample("graphvault_backup_run_databases", help, &[("result", "failed")], failed);
    t.render()
}

/// Integers without a fraction, others to the millisecond.
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Writes the metrics for a run to `path`, atomically.
pub fn write(path: &Path, end: &RunEnd<'_>, now: i64) -> std::io::Result<()> {
    let text = render(end, now, &textfile::previous(path));
    textfile::write(path, &text)
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
