//! When backups were last proven restorable: the newest `verify` record
//! (`reports/verify/`) and drill report (`reports/drills/`) in the bucket,
//! and the last one that passed. Old, missing or failed ones are warnings:
//! they do not stop the next backup, but nobody knows the backups are good.

use chrono::{DateTime, Duration, Utc};

use crate::ops::drill::{DrillReport, REPORTS as DRILL_REPORTS};
use crate::ops::verify_record::{VerifyRun, VERIFY_REPORTS};
use crate::store::{get_all, ObjectStore};

use super::{finding, Finding, Severity};

/// Verify runs weekly (`infra/systemd`): older than this is a warning.
pub const VERIFY_MAX_AGE_DAYS: i64 = 8;
/// Drills run monthly.
pub const DRILL_MAX_AGE_DAYS: i64 = 35;
/// Records read back, newest first, looking for the last that passed.
const LOOK_BACK: usize = 60;

/// One recorded run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub at: DateTime<Utc>,
    pub host: String,
    /// Backups verified, or aliases drilled.
    pub total: usize,
    pub failed: usize,
    pub unchecked: usize,
}

impl RunSummary {
    fn passed(&self) -> bool {
        self.failed == 0 && self.unchecked == 0 && self.total > 0
    }
}

/// The newest run and the newest that passed.
#[derive(Clone, Debug, Default)]
pub struct Proof {
    pub newest: Option<RunSummary>,
    pub last_passed: Option<RunSummary>,
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let hours = (now - t).num_minutes() as f64 / 60.0;
    if hours < 48.0 {
        format!("{hours:.1} h ago")
    } else {
        format!("{:.1} days ago", hours / 24.0)
    }
}

/// Judges one kind of proof (`what`: "verify" or "drill").
pub fn judge_proof(what: &str, proof: &Proof, now: DateTime<Utc>, max_age: Duration, command: &str) -> Finding {
    let warn = |message: String, fix: String| {
        let mut f = finding(what, Severity::Warning, message, None);
        f.fix = Some(fix);
        f
    };
    let Some(newest) = &proof.newest else {
        return warn(
            format!("no {what} is recorded in the bucket: nothing says the backups restore"),
            format!("run `{command}` (and enable its timer, infra/systemd)"),
        );
    };
    if !newest.passed() {
        let last = proof
            .last_passed
            .as_ref()
            .map_or("never".to_string(), |p| ago(now, p.at));
        return warn(
            format!(
                "the last {what} ({}, on {}) did not pass: {} of {} failed, {} unchecked; the last that passed: {last}",
                ago(now, newest.at),
                newest.host,
                newest.failed,
                newest.total,
                newest.unchecked
            ),
            format!("read its report, fix what it names and run `{command}` again"),
        );
    }
    if now - newest.at > max_age {
        return warn(
            format!(
                "the last {what} passed {} (on {}), longer than {} days",
                ago(now, newest.at),
                newest.host,
                max_age.num_days()
            ),
            format!("check the {what} timer or cron on the restore host; run `{command}`"),
        );
    }
    finding(
        what,
        Severity::Ok,
        format!(
            "the last {what} passed {} on {} ({} checked)",
            ago(now, newest.at),
            newest.host,
            newest.total
        ),
        None,
    )
}

/// Reads records under `prefix` newest first until one passed.
async fn read_proof(
    store: &dyn ObjectStore,
    prefix: &str,
    summarize: impl Fn(&[u8]) -> Option<RunSummary>,
) -> Result<Proof, String> {
    let mut keys: Vec<String> = store
        .list(prefix)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k.ends_with(".json"))
        .collect();
    keys.sort();
    let mut proof = Proof::default();
    for key in keys.iter().rev().take(LOOK_BACK) {
        let bytes = get_all(store, key).await.map_err(|e| e.to_string())?;
        let Some(run) = summarize(&bytes) else {
            tracing::warn!(key, "unreadable record skipped");
            continue;
        };
        if proof.newest.is_none() {
            proof.newest = Some(run.clone());
        }
        if run.passed() {
            proof.last_passed = Some(run);
            break;
        }
    }
    Ok(proof)
}

/// The verify and drill findings.
pub async fn findings(store: &dyn ObjectStore, now: DateTime<Utc>) -> Vec<Finding> {
    let verify = read_proof(store, VERIFY_REPORTS, |b| {
        let r: VerifyRun = serde_json::from_slice(b).ok()?;
        Some(RunSummary {
            at: r.finished_at,
            total: r.backups.len(),
            failed: r.failed(),
            unchecked: 0,
            host: r.host,
        })
    })
    .await;
    let drill = read_proof(store, DRILL_REPORTS, |b| {
        let r: DrillReport = serde_json::from_slice(b).ok()?;
        Some(RunSummary {
            at: r.finished_at,
            total: r.results.len(),
            failed: r.failed(),
            unchecked: r.unchecked(),
            host: r.host,
        })
    })
    .await;
    [
        ("verify", verify, VERIFY_MAX_AGE_DAYS, "graphvault verify --latest"),
        ("drill", drill, DRILL_MAX_AGE_DAYS, "graphvault drill"),
    ]
    .into_iter()
    .map(|(what, read, days, command)| match read {
        Ok(proof) => judge_proof(what, &proof, now, Duration::days(days), command),
        Err(e) => finding(
            what,
            Severity::Warning,
            format!("cannot read the {what} records in the bucket: {e}"),
            Some("grant this host's role read access to reports/ (every terraform role has it)"),
        ),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(days_ago: i64, failed: usize, unchecked: usize) -> RunSummary {
        RunSummary {
            at: now() - Duration::days(days_ago),
            host: "r1".into(),
            total: 3,
            failed,
            unchecked,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn missing_old_failed_or_unchecked_proofs_are_warnings() {
        let max = Duration::days(8);
        let table = [
            (Proof::default(), Severity::Warning, "no verify is recorded"),
            (
                Proof {
                    newest: Some(run(2, 0, 0)),
                    last_passed: Some(run(2, 0, 0)),
                },
                Severity::Ok,
                "passed 2.0 days ago on r1",
            ),
            (
                Proof {
                    newest: Some(run(20, 0, 0)),
                    last_passed: Some(run(20, 0, 0)),
                },
                Severity::Warning,
                "longer than 8 days",
            ),
            (
                Proof {
                    newest: Some(run(1, 1, 0)),
                    last_passed: Some(run(9, 0, 0)),
                },
                Severity::Warning,
                "1 of 3 failed, 0 unchecked; the last that passed: 9.0 days ago",
            ),
            (
                Proof {
                    newest: Some(run(1, 0, 2)),
                    last_passed: None,
                },
                Severity::Warning,
                "2 unchecked; the last that passed: never",
            ),
        ];
        for (proof, severity, text) in table {
            let f = judge_proof("verify", &proof, now(), max, "graphvault verify --latest");
            assert_eq!(f.severity, severity, "{f:?}");
            assert!(f.message.contains(text), "{text}: {f:?}");
        }
    }
}
