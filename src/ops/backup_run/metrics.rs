//! Prometheus textfile-collector metrics of a backup run (`--metrics-file`).
//!
//! The file is replaced atomically (temporary file in the same directory,
//! then rename), so node_exporter never reads half of it. The last success
//! time of a database that failed this run is carried over from the previous
//! file: an alert on "no success for 26 h" keeps working across failures.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::report::{DbOutcome, RunReport};

const LAST_SUCCESS: &str = "graphvault_backup_last_success_timestamp_seconds";

/// Samples of one gauge: (label set, value).
type Samples = Vec<(String, String)>;

/// `{alias="…",database="…"}` with Prometheus escaping.
fn labels(alias: &str, database: &str) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("{{alias=\"{}\",database=\"{}\"}}", esc(alias), esc(database))
}

/// Last-success samples of an earlier file: label set → value.
fn previous_successes(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(LAST_SUCCESS))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once(' ')?;
            labels.starts_with('{').then(|| (labels.to_string(), value.to_string()))
        })
        .collect()
}

/// The metrics text for a run that ended at `now` (Unix seconds).
pub fn render(report: &RunReport, now: i64, previous: &str) -> String {
    let mut last_success = previous_successes(previous);
    let mut gauges: Vec<(&str, &str, Samples)> = vec![
        (
            "graphvault_backup_success",
            "1 if the database's backup in the last run committed, else 0.",
            vec![],
        ),
        (
            "graphvault_backup_duration_seconds",
            "Time the database's backup took in the last run.",
            vec![],
        ),
        (
            "graphvault_backup_bytes_read",
            "Artifact bytes read (plaintext) in the last run.",
            vec![],
        ),
        (
            "graphvault_backup_bytes_stored",
            "Bytes stored after compression and encryption in the last run.",
            vec![],
        ),
        (
            "graphvault_backup_warnings",
            "Warnings of the database's backup in the last run (it committed, but e.g. a --from server did not respond, or its size was an anomaly).",
            vec![],
        ),
        (
            "graphvault_backup_anomalies",
            "Anomalies of the database's backup in the last run: size, compression ratio or time far from its recent backups of the same type.",
            vec![],
        ),
    ];
    let mut anomaly_samples: Samples = Vec::new();
    for r in &report.results {
        let l = labels(&r.alias, &r.database);
        let (ok, read, stored, warned, anomalies) = match &r.outcome {
            DbOutcome::Ok {
                size,
                stored,
                warnings,
                anomalies,
                ..
            } => (1, *size, *stored, warnings.len(), anomalies.as_slice()),
            DbOutcome::Failed { .. } => (0, 0, 0, 0, &[][..]),
        };
        for a in anomalies {
            let with_kind = format!("{},kind=\"{}\"}}", l.trim_end_matches('}'), a.kind.as_str());
            anomaly_samples.push((with_kind, "1".into()));
        }
        if ok == 1 {
            last_success.insert(l.clone(), now.to_string());
        }
        let values = [
            ok.to_string(),
            format!("{:.3}", r.seconds),
            read.to_string(),
            stored.to_string(),
            warned.to_string(),
            anomalies.len().to_string(),
        ];
        for (g, v) in gauges.iter_mut().zip(values) {
            g.2.push((l.clone(), v));
        }
    }
    let failed = report.failures().count();
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, samples: &[(String, String)]| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (l, v) in samples {
            out.push_str(&format!("{name}{l} {v}\n"));
        }
    };
    let carried: Samples = last_success.into_iter().collect();
    gauge(
        LAST_SUCCESS,
        "When the database's last backup committed (Unix time).",
        &carried,
    );
    for (name, help, samples) in &gauges {
        gauge(name, help, samples);
    }
    gauge(
        "graphvault_backup_anomaly",
        "1 for each kind of anomaly (size_shrank, stored_grew, ratio_fell, duration_grew, …) of the database's backup in the last run.",
        &anomaly_samples,
    );
    gauge(
        "graphvault_backup_run_timestamp_seconds",
        "When the last backup run ended (Unix time).",
        &[(String::new(), now.to_string())],
    );
    gauge(
        "graphvault_backup_run_databases",
        "Databases in the last backup run, by result.",
        &[
            ("{result=\"ok\"}".into(), (report.results.len() - failed).to_string()),
            ("{result=\"failed\"}".into(), failed.to_string()),
        ],
    );
    out
}

/// Writes the metrics for `report` to `path`, atomically.
pub fn write(path: &Path, report: &RunReport, now: i64) -> std::io::Result<()> {
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    let text = render(report, now, &previous);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".graphvault-metrics")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    // node_exporter runs as another user: the file is readable, not secret.
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::report::DbResult;
    use super::*;
    use crate::ops::OpsError;

    fn result(db: &str, ok: bool) -> DbResult {
        DbResult {
            alias: db.split('-').next().unwrap().into(),
            database: db.into(),
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

    #[test]
    fn a_failed_database_keeps_its_last_success_time() {
        let first = RunReport {
            results: vec![result("customer1-1", true), result("customer2-1", true)],
            unaliased: vec![],
            skipped_aliases: vec![],
        };
        let text1 = render(&first, 1000, "");
        let second = RunReport {
            results: vec![result("customer1-1", true), result("customer2-1", false)],
            unaliased: vec![],
            skipped_aliases: vec![],
        };
        let text2 = render(&second, 2000, &text1);
        let l1 = labels("customer1", "customer1-1");
        let l2 = labels("customer2", "customer2-1");
        assert!(text2.contains(&format!("{LAST_SUCCESS}{l1} 2000\n")), "{text2}");
        assert!(text2.contains(&format!("{LAST_SUCCESS}{l2} 1000\n")), "{text2}");
        assert!(text2.contains(&format!("graphvault_backup_success{l2} 0\n")), "{text2}");
        assert!(
            text2.contains(&format!("graphvault_backup_bytes_stored{l1} 100\n")),
            "{text2}"
        );
        assert!(
            text2.contains(&format!("graphvault_backup_warnings{l1} 1\n")),
            "{text2}"
        );
        assert!(
            text2.contains(&format!("graphvault_backup_warnings{l2} 0\n")),
            "{text2}"
        );
        assert!(
            text2.contains(&format!("graphvault_backup_anomalies{l2} 0\n")),
            "{text2}"
        );
        assert!(
            text2.contains(
                "graphvault_backup_anomaly{alias=\"customer1\",database=\"customer1-1\",kind=\"size_shrank\"} 1\n"
            ),
            "{text2}"
        );
        assert!(
            text2.contains("graphvault_backup_run_databases{result=\"failed\"} 1\n"),
            "{text2}"
        );
        assert!(
            text2.contains("graphvault_backup_run_timestamp_seconds 2000\n"),
            "{text2}"
        );
        // Every sample line is `name{labels} value` or `name value`.
        for line in text2.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("graphvault.prom");
        let report = RunReport {
            results: vec![result("customer1-1", true)],
            unaliased: vec![],
            skipped_aliases: vec![],
        };
        write(&path, &report, 1000).unwrap();
        write(&path, &report, 2000).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("graphvault_backup_run_timestamp_seconds 2000"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
