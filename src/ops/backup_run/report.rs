//! The result of a backup run: one row per database, the summary table an
//! operator reads in the cron mail, and the JSON a machine reads.

use serde::Serialize;

use super::preflight::Bytes;
use crate::json::{JsonDocument, Outcome};
use crate::monitor::Anomaly;
use crate::ops::OpsError;

/// What happened to one database.
#[derive(Debug)]
pub enum DbOutcome {
    Ok {
        backup_id: String,
        backup_type: Option<String>,
        /// Artifact bytes, and bytes stored after compression and encryption.
        size: u64,
        stored: u64,
        /// Problems of a backup that still succeeded (neo4j-admin exit 1
        /// with its artifact made, e.g. a `--from` server not responding),
        /// anomalies included.
        warnings: Vec<String>,
        /// Size or time far from the alias's recent history (also in
        /// `warnings`, as text). The backup is committed all the same.
        anomalies: Vec<Anomaly>,
    },
    Failed {
        error: OpsError,
    },
}

/// One database's row.
#[derive(Debug)]
pub struct DbResult {
    pub alias: String,
    pub database: String,
    pub outcome: DbOutcome,
    pub seconds: f64,
}

/// Every database of a run.
#[derive(Debug, Default)]
pub struct RunReport {
    pub results: Vec<DbResult>,
    /// Databases skipped because no alias points at them.
    pub unaliased: Vec<String>,
    /// Aliases not followed (composite constituents, names graphvault
    /// cannot store), as `name: reason`.
    pub skipped_aliases: Vec<String>,
}

/// The run as a whole: decides the exit code (docs/EXIT_CODES.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every selected database was backed up (or there was none).
    Ok,
    /// Every selected database was backed up, and at least one backup's
    /// size or time is an anomaly.
    Anomalous,
    /// Some were backed up, some failed.
    Partial,
    /// Every selected database failed.
    AllFailed,
}

impl RunOutcome {
    /// Its word in JSON documents and webhooks (`all_failed` is `failed`).
    pub fn word(self) -> Outcome {
        match self {
            Self::Ok => Outcome::Ok,
            Self::Anomalous => Outcome::Anomalous,
            Self::Partial => Outcome::Partial,
            Self::AllFailed => Outcome::Failed,
        }
    }
}

/// A row of the JSON report.
#[derive(Serialize)]
struct JsonRow<'a> {
    alias: &'a str,
    database: &'a str,
    /// `ok`, `anomalous` or `failed` (docs/JSON.md).
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stored_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "<[Anomaly]>::is_empty")]
    anomalies: &'a [Anomaly],
    seconds: f64,
}

impl RunReport {
    pub fn outcome(&self) -> RunOutcome {
        let failed = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, DbOutcome::Failed { .. }))
            .count();
        match failed {
            0 if self.anomalies().next().is_some() => RunOutcome::Anomalous,
            0 => RunOutcome::Ok,
            n if n == self.results.len() => RunOutcome::AllFailed,
            _ => RunOutcome::Partial,
        }
    }

    /// The first failure, whose exit code a single-database run may report.
    pub fn failures(&self) -> impl Iterator<Item = (&DbResult, &OpsError)> {
        self.results.iter().filter_map(|r| match &r.outcome {
            DbOutcome::Failed { error } => Some((r, error)),
            DbOutcome::Ok { .. } => None,
        })
    }

    /// The warnings of backups that succeeded, by database.
    pub fn warnings(&self) -> impl Iterator<Item = (&DbResult, &String)> {
        self.results.iter().flat_map(|r| match &r.outcome {
            DbOutcome::Ok { warnings, .. } => warnings.iter().map(|w| (r, w)).collect::<Vec<_>>(),
            DbOutcome::Failed { .. } => Vec::new(),
        })
    }

    /// The anomalies of backups that succeeded, by database.
    pub fn anomalies(&self) -> impl Iterator<Item = (&DbResult, &Anomaly)> {
        self.results.iter().flat_map(|r| match &r.outcome {
            DbOutcome::Ok { anomalies, .. } => anomalies.iter().map(|a| (r, a)).collect::<Vec<_>>(),
            DbOutcome::Failed { .. } => Vec::new(),
        })
    }

    /// How many databases' backups are anomalous.
    pub fn anomalous(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(&r.outcome, DbOutcome::Ok { anomalies, .. } if !anomalies.is_empty()))
            .count()
    }

    /// The summary table (fixed-width, for terminals and cron mail).
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "DATABASE".to_string(),
            "ALIAS".into(),
            "STATUS".into(),
            "ARTIFACTS".into(),
            "STORED".into(),
            "RATIO".into(),
            "SECONDS".into(),
        ]];
        for r in &self.results {
            let (status, size, stored, ratio) = match &r.outcome {
                DbOutcome::Ok { size, stored, .. } => (
                    "ok".to_string(),
                    Bytes(*size).short(),
                    Bytes(*stored).short(),
                    format!("{:.2}", *size as f64 / (*stored).max(1) as f64),
                ),
                DbOutcome::Failed { .. } => ("FAILED".to_string(), "-".into(), "-".into(), "-".into()),
            };
            rows.push([
                r.database.clone(),
                r.alias.clone(),
                status,
                size,
                stored,
                ratio,
                format!("{:.1}", r.seconds),
            ]);
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    if i < 3 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        for (r, e) in self.failures() {
            out.push_str(&format!("{}: {e}\n", r.database));
        }
        for (r, w) in self.warnings() {
            out.push_str(&format!("{}: warning: {w}\n", r.database));
        }
        let ok = self.results.len() - self.failures().count();
        let warned = self
            .results
            .iter()
            .filter(|r| matches!(&r.outcome, DbOutcome::Ok { warnings, .. } if !warnings.is_empty()))
            .count();
        let anomalous = self.anomalous();
        out.push_str(&format!(
            "{ok} of {} database(s) backed up{}{}{}\n",
            self.results.len(),
            if warned == 0 {
                String::new()
            } else {
                format!(", {warned} with warnings")
            },
            if anomalous == 0 {
                String::new()
            } else {
                format!(" ({anomalous} anomalous: size or time far from the recent backups; kept, check them)")
            },
            if self.unaliased.is_empty() {
                String::new()
            } else {
                format!("; {} without an alias skipped", self.unaliased.len())
            }
        ));
        for a in &self.skipped_aliases {
            out.push_str(&format!("alias skipped: {a}\n"));
        }
        out
    }

    /// The report as the `graphvault.backup` document (docs/JSON.md):
    /// `{"schema": …, "outcome": …, "databases": [...], "skipped_…": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<JsonRow> = self
            .results
            .iter()
            .map(|r| {
                let mut row = JsonRow {
                    alias: &r.alias,
                    database: &r.database,
                    outcome: Outcome::Ok,
                    backup_id: None,
                    backup_type: None,
                    size: None,
                    stored_size: None,
                    error: None,
                    warnings: &[],
                    anomalies: &[],
                    seconds: (r.seconds * 1000.0).round() / 1000.0,
                };
                match &r.outcome {
                    DbOutcome::Ok {
                        backup_id,
                        backup_type,
                        size,
                        stored,
                        warnings,
                        anomalies,
                    } => {
                        if !anomalies.is_empty() {
                            row.outcome = Outcome::Anomalous;
                        }
                        row.anomalies = anomalies;
                        row.backup_id = Some(backup_id);
                        row.backup_type = backup_type.as_deref();
                        row.size = Some(*size);
                        row.stored_size = Some(*stored);
                        row.warnings = warnings;
                    }
                    DbOutcome::Failed { error } => {
                        row.outcome = Outcome::Failed;
                        row.error = Some(error.to_string());
                    }
                }
                row
            })
            .collect();
        let body = serde_json::json!({
            "outcome": self.outcome().word(),
            "databases": rows,
            "skipped_unaliased": self.unaliased,
            "skipped_aliases": self.skipped_aliases,
        });
        crate::json::value(JsonDocument::Backup, &body).unwrap_or(body)
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
