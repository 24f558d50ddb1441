//! Drill results: per alias, the checks, the phases and the recovery time;
//! rendered as Markdown for people and JSON for machines, and stored in the
//! bucket under `reports/drills/` so `drill history` works from any host.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::DrillCheck;
use crate::json::{JsonDocument, Outcome, WithOutcome};
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

impl DrillReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// The drill as a whole: `ok`, `partial` or `failed` (docs/JSON.md).
    pub fn outcome(&self) -> Outcome {
        Outcome::of_counts(self.failed(), self.results.len())
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

/// Stores the report's document under `reports/drills/<time>-<host>.json`.
pub async fn store_report(store: &dyn ObjectStore, r: &DrillReport) -> Result<String, OpsError> {
    let key = format!("{REPORTS}{}-{}.json", r.started_at.format("%Y%m%dT%H%M%SZ"), r.host);
    let body = crate::json::text(&r.to_json()).into_bytes();
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store
        .put(&key, body.into(), sha, PutMode::CreateOnly)
        .await
        .map_err(|source| OpsError::Store {
            location: store.location(),
            source,
        })?;
    Ok(key)
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
    Ok(out)
}
