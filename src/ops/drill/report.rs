//! Drill results: per alias, the checks, the phases and the recovery time;
//! rendered as Markdown for people and JSON for machines, and stored in the
//! bucket under `reports/drills/` so `drill history` works from any host.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::DrillCheck;
use crate::json::{JsonDocument, Outcome, WithOutcome};
use crate::neo4j::{BoltError, QueryCheck};
use crate::store::{get_all, ObjectStore};

use super::super::restore_db::Phase;
use super::super::OpsError;

/// Where drill reports live.
pub const REPORTS: &str = "reports/drills/";

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

/// How one alias's drill ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrillStatus {
    /// Restored, and every check (queries and recorded counts) passed.
    Passed,
    /// The restore or a check failed.
    Failed,
    /// Restored, but nothing checked the data: no `[[drill.check]]` for the
    /// alias and no counts recorded at backup time. Never "passed".
    Unchecked,
}

impl DrillStatus {
    /// The decision: an error or a failed check fails; no check at all is
    /// unchecked; otherwise passed.
    pub fn judge(error: Option<&str>, checks: &[CheckResult]) -> Self {
        match (error, checks) {
            (Some(_), _) => Self::Failed,
            (None, []) => Self::Unchecked,
            (None, c) if c.iter().all(|c| c.passed) => Self::Passed,
            (None, _) => Self::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "FAILED",
            Self::Unchecked => "UNCHECKED",
        }
    }
}

/// One alias's drill.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DrillResult {
    pub alias: String,
    pub backup_id: String,
    pub source_database: String,
    pub scratch: String,
    /// True only for `status` passed.
    pub passed: bool,
    /// Absent only in reports written before it existed (then `passed` says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DrillStatus>,
    /// Why it failed (the error, or which checks failed), or why it is unchecked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub bytes: u64,
    /// Reports stored before the phases were kept have none.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// Download, verify, restore and online: what an incident would take.
    pub recovery_seconds: f64,
    pub seconds: f64,
    pub checks: Vec<CheckResult>,
}

/// A whole drill.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DrillReport {
    #[serde(with = "crate::json::timestamp")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::json::timestamp")]
    pub finished_at: DateTime<Utc>,
    pub host: String,
    pub leftovers_dropped: Vec<String>,
    pub results: Vec<DrillResult>,
}

impl DrillResult {
    pub fn status(&self) -> DrillStatus {
        self.status.unwrap_or(if self.passed {
            DrillStatus::Passed
        } else {
            DrillStatus::Failed
        })
    }
}

impl DrillReport {
    pub fn failed(&self) -> usize {
        self.count(DrillStatus::Failed)
    }

    pub fn unchecked(&self) -> usize {
        self.count(DrillStatus::Unchecked)
    }

    fn count(&self, status: DrillStatus) -> usize {
        self.results.iter().filter(|r| r.status() == status).count()
    }

    /// The drill as its metrics see it.
    pub fn job_run(&self) -> crate::monitor::run_metrics::JobRun {
        use crate::monitor::run_metrics::{AliasRun, Job, JobRun};
        let (failed, unchecked) = (self.failed(), self.unchecked());
        JobRun {
            job: Job::Drill,
            // An unchecked drill proved nothing: not a pass.
            ok: self.outcome() == Outcome::Ok,
            counted: "aliases",
            counts: vec![
                ("passed", self.results.len() - failed - unchecked),
                ("failed", failed),
                ("unchecked", unchecked),
            ],
            aliases: self
                .results
                .iter()
                .map(|r| AliasRun {
                    alias: r.alias.clone(),
                    ok: r.status() == DrillStatus::Passed,
                    recovery_seconds: Some(r.recovery_seconds),
                    unchecked: r.status() == DrillStatus::Unchecked,
                })
                .collect(),
        }
    }

    /// The drill as a whole: `ok`, `unchecked` (nothing failed, something
    /// was not checked), `partial` or `failed` (a failure wins; docs/JSON.md).
    pub fn outcome(&self) -> Outcome {
        match (self.failed(), self.unchecked()) {
            (0, 0) => Outcome::Ok,
            (0, _) => Outcome::Unchecked,
            (failed, _) => Outcome::of_counts(failed, self.results.len()),
        }
    }

    /// The `graphvault.drill` document: what `drill --json` prints,
    /// `--report` writes, the bucket keeps and the webhook carries.
    pub fn to_json(&self) -> serde_json::Value {
        let body = WithOutcome {
            outcome: self.outcome(),
            body: self,
        };
        crate::json::value(JsonDocument::Drill, &body).unwrap_or_default()
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# Restore drill {}\n\nHost `{}`, {} alias(es), {} failed, {} unchecked.\n\n\
             | alias | backup | result | recovery (s) | bytes | checks |\n|---|---|---|---:|---:|---|\n",
            self.started_at.format("%Y-%m-%d %H:%M UTC"),
            self.host,
            self.results.len(),
            self.failed(),
            self.unchecked()
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
                r.status().as_str(),
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

/// Stores the report's document under `reports/drills/<time>-<host>.json`.
pub async fn store_report(store: &dyn ObjectStore, r: &DrillReport) -> Result<String, OpsError> {
    let stem = format!("{REPORTS}{}-{}", r.started_at.format("%Y%m%dT%H%M%SZ"), r.host);
    super::super::record::put_unique_json(store, &stem, &r.to_json()).await
}

/// The body of the `graphvault.drill-history` document: every report as
/// `drill --json` printed it, without its `schema`.
pub fn history_body(reports: &[DrillReport]) -> impl Serialize + '_ {
    let drills: Vec<WithOutcome<DrillReport>> = reports
        .iter()
        .map(|r| WithOutcome {
            outcome: r.outcome(),
            body: r,
        })
        .collect();
    serde_json::json!({ "drills": drills })
}

/// Every stored drill report, oldest first (phases included).
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
    // Keys sort by start second, then in the order written (`~NN`); the
    // stable sort keeps that order for reports of one second.
    out.sort_by_key(|r| r.started_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(passed: bool) -> CheckResult {
        CheckResult {
            query: "q".into(),
            passed,
            detail: String::new(),
        }
    }

    #[test]
    fn a_drill_with_nothing_checked_is_unchecked_never_passed() {
        use DrillStatus::*;
        let table: [(Option<&str>, Vec<CheckResult>, DrillStatus); 6] = [
            (None, vec![], Unchecked),
            (None, vec![check(true)], Passed),
            (None, vec![check(true), check(true)], Passed),
            (None, vec![check(true), check(false)], Failed),
            (Some("restore failed"), vec![], Failed),
            (Some("restore failed"), vec![check(true)], Failed),
        ];
        for (error, checks, want) in table {
            assert_eq!(DrillStatus::judge(error, &checks), want, "{error:?} {checks:?}");
        }
    }

    #[test]
    fn reports_written_before_the_status_existed_read_by_passed() {
        let old: DrillResult = serde_json::from_str(
            r#"{"alias":"c1","backup_id":"b","source_database":"d","scratch":"s","passed":true,
                "bytes":1,"recovery_seconds":1.0,"seconds":1.0,"checks":[]}"#,
        )
        .unwrap();
        assert_eq!(old.status(), DrillStatus::Passed);
        let unchecked = DrillResult {
            passed: false,
            status: Some(DrillStatus::Unchecked),
            ..old.clone()
        };
        let report = DrillReport {
            started_at: Utc::now(),
            finished_at: Utc::now(),
            host: "h".into(),
            leftovers_dropped: vec![],
            results: vec![old, unchecked],
        };
        assert_eq!(
            (report.failed(), report.unchecked(), report.outcome()),
            (0, 1, Outcome::Unchecked)
        );
        assert!(report.markdown().contains("| UNCHECKED |"), "{}", report.markdown());
    }

    #[tokio::test]
    async fn two_drills_in_one_second_keep_both_reports_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::FsStore::new(dir.path()).unwrap();
        let started = Utc::now();
        // One host, one second; `leftovers_dropped` tells the reports apart.
        let report = |tag: &str| DrillReport {
            started_at: started,
            finished_at: started,
            host: "h".into(),
            leftovers_dropped: vec![tag.to_string()],
            results: vec![],
        };
        let mut keys = Vec::new();
        for tag in ["first", "second", "third"] {
            keys.push(store_report(&store, &report(tag)).await.unwrap());
        }
        assert!(
            keys[1].ends_with("~02.json") && keys[2].ends_with("~03.json"),
            "{keys:?}"
        );
        let h = history(&store).await.unwrap();
        let order: Vec<&str> = h.iter().map(|r| r.leftovers_dropped[0].as_str()).collect();
        assert_eq!(order, ["first", "second", "third"], "in the order they were stored");
    }
}
