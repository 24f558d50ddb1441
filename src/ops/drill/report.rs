//! Drill results: per alias, the checks, the phases and the recovery time;
//! rendered as Markdown for people and JSON for machines, and stored in the
//! bucket under `reports/drills/` so `drill history` works from any host.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::DrillCheck;
use crate::neo4j::{BoltError, QueryCheck};
use crate::store::{get_all, ObjectStore, PutMode};

use super::super::restore_db::Phase;
use super::super::OpsError;

const REPORTS: &str = "reports/drills/";

/// One validation query's outcome.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CheckResult {
    pub query: String,
    pub passed: bool,
    pub detail: String,
}

impl CheckResult {
    pub fn judge(check: &DrillCheck, got: Result<QueryCheck, BoltError>) -> Self {
        let (passed, detail) = match (got, check.min) {
            (Err(e), _) => (false, format!("query failed: {e}")),
            (Ok(q), Some(min)) => match q.first {
                Some(v) => (v >= min, format!("{v} (at least {min})")),
                None => (
                    false,
                    format!(
                        "no integer in the first column of {} row(s); expected at least {min}",
                        q.rows
                    ),
                ),
            },
            (Ok(q), None) => (q.rows > 0, format!("{} row(s)", q.rows)),
        };
        Self {
            query: check.query.clone(),
            passed,
            detail,
        }
    }
}

/// The restored count of what `what` names against the one recorded at
/// backup time, within `tolerance_percent`.
pub fn judge_count(
    what: &str,
    recorded: i64,
    restored: Result<QueryCheck, BoltError>,
    tolerance_percent: f64,
) -> CheckResult {
    let (passed, detail) = match restored.map(|q| q.first) {
        Ok(Some(n)) => {
            let allowed = (recorded as f64 * tolerance_percent / 100.0).ceil() as i64;
            (
                (n - recorded).abs() <= allowed,
                format!("{n} restored, {recorded} counted after the backup (±{allowed})"),
            )
        }
        Ok(None) => (false, "the count query returned no integer".into()),
        Err(e) => (false, format!("query failed: {e}")),
    };
    CheckResult {
        query: format!("{what} count"),
        passed,
        detail,
    }
}

/// One alias's drill.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DrillResult {
    pub alias: String,
    pub backup_id: String,
    pub source_database: String,
    pub scratch: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub bytes: u64,
    #[serde(skip_deserializing)]
    pub phases: Vec<Phase>,
    /// Download, verify, restore and online: what an incident would take.
    pub recovery_seconds: f64,
    pub seconds: f64,
    pub checks: Vec<CheckResult>,
}

/// A whole drill.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DrillReport {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub host: String,
    pub leftovers_dropped: Vec<String>,
    pub results: Vec<DrillResult>,
}

impl DrillReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// The drill as its metrics see it.
    pub fn job_run(&self) -> crate::monitor::run_metrics::JobRun {
        use crate::monitor::run_metrics::{AliasRun, Job, JobRun};
        let failed = self.failed();
        JobRun {
            job: Job::Drill,
            ok: failed == 0,
            counted: "aliases",
            counts: vec![("passed", self.results.len() - failed), ("failed", failed)],
            aliases: self
                .results
                .iter()
                .map(|r| AliasRun {
                    alias: r.alias.clone(),
                    ok: r.passed,
                    recovery_seconds: Some(r.recovery_seconds),
                    unchecked: false,
                })
                .collect(),
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# Restore drill {}\n\nHost `{}`, {} alias(es), {} failed.\n\n\
             | alias | backup | result | recovery (s) | bytes | checks |\n|---|---|---|---:|---:|---|\n",
            self.started_at.format("%Y-%m-%d %H:%M UTC"),
            self.host,
            self.results.len(),
            self.failed()
        );
        for r in &self.results {
            let checks: Vec<String> = r
                .checks
                .iter()
                .map(|c| format!("{} `{}`: {}", if c.passed { "ok" } else { "FAILED" }, c.query, c.detail))
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} | {:.1} | {} | {} |\n",
                r.alias,
                r.backup_id,
                if r.passed { "passed" } else { "FAILED" },
                r.recovery_seconds,
                r.bytes,
                checks.join("<br>")
            ));
        }
        for r in self.results.iter().filter(|r| r.error.is_some()) {
            out.push_str(&format!(
                "\n**{}**: {}\n",
                r.alias,
                r.error.as_deref().unwrap_or_default()
            ));
        }
        out
    }
}

/// Stores the report as JSON under `reports/drills/<time>-<host>.json`.
pub async fn store_report(store: &dyn ObjectStore, r: &DrillReport) -> Result<String, OpsError> {
    let stem = format!("{REPORTS}{}-{}", r.started_at.format("%Y%m%dT%H%M%SZ"), r.host);
    let body = bytes::Bytes::from(serde_json::to_vec_pretty(r).unwrap_or_default());
    let sha: [u8; 32] = Sha256::digest(&body).into();
    // Two drills started on one host in the same second: the second one's
    // report takes the next free name instead of failing the drill.
    let mut n = 1;
    loop {
        let key = if n == 1 {
            format!("{stem}.json")
        } else {
            format!("{stem}-{n}.json")
        };
        match store.put(&key, body.clone(), sha, PutMode::CreateOnly).await {
            Ok(_) => return Ok(key),
            Err(crate::store::StoreError::PreconditionFailed { .. }) if n < 100 => n += 1,
            Err(source) => {
                return Err(OpsError::Store {
                    location: store.location(),
                    source,
                })
            }
        }
    }
}

/// Every stored drill report, oldest first.
pub async fn history(store: &dyn ObjectStore) -> Result<Vec<DrillReport>, OpsError> {
    let err = |source| OpsError::Store {
        location: store.location(),
        source,
    };
    let mut keys: Vec<String> = store
        .list(REPORTS)
        .await
        .map_err(err)?
        .into_iter()
        .map(|o| o.key)
        .collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let bytes = get_all(store, &key).await.map_err(err)?;
        match serde_json::from_slice::<DrillReport>(&bytes) {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!(key, error = %e, "unreadable drill report skipped"),
        }
    }
    // Keys sort by start second; several in one second sort by start time.
    out.sort_by_key(|r| r.started_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_drills_in_one_second_keep_both_reports_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::FsStore::new(dir.path()).unwrap();
        let started = Utc::now();
        let report = |offset_ms: i64| DrillReport {
            started_at: started + chrono::Duration::milliseconds(offset_ms),
            finished_at: started,
            host: "h".into(),
            leftovers_dropped: vec![],
            results: vec![],
        };
        // Same second in the key; the later one is stored first.
        let (late, early) = (report(1), report(0));
        let k1 = store_report(&store, &late).await.unwrap();
        let k2 = store_report(&store, &early).await.unwrap();
        assert_ne!(k1, k2);
        let h = history(&store).await.unwrap();
        assert_eq!(
            h.iter().map(|r| r.started_at).collect::<Vec<_>>(),
            [early.started_at, late.started_at]
        );
    }
}
