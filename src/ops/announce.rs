//! After a verify, prune or drill run: its textfile metrics and its webhook.
//!
//! Both are told of a run that failed before it could judge anything (no
//! store, a held lease, unreadable bucket settings) as well as of one that
//! judged and failed: an alert on "no passing verify for 8 days" must fire
//! either way. Neither ever changes the run's exit code; a metrics file that
//! cannot be written or a webhook that cannot be delivered is logged.

use std::path::Path;

use crate::config::Config;
use crate::monitor::run_metrics::{self, JobRun};

/// Writes `run`'s metrics (when a file is given) and sends the webhook
/// (when configured and wanted for this outcome). `details` is the run's
/// JSON report, or the error's text for a run that failed early.
pub async fn announce(
    config: &Config,
    host: &str,
    metrics_file: Option<&Path>,
    run: &JobRun,
    details: serde_json::Value,
) {
    if let Some(path) = metrics_file {
        if let Err(e) = run_metrics::write(path, run, chrono::Utc::now().timestamp()) {
            tracing::error!(path = %path.display(), error = %e, "metrics file not written");
        }
    }
    if !crate::notify::wanted(&config.notify, run.ok) {
        return;
    }
    let payload = payload(run, host, details);
    if let Err(e) = crate::notify::send(&config.notify, &payload).await {
        tracing::error!(error = %e, "webhook notification not delivered");
    }
}

/// The webhook body: the event, the outcome, where and when, and the details.
fn payload(run: &JobRun, host: &str, details: serde_json::Value) -> serde_json::Value {
    let mut p = match details {
        serde_json::Value::Object(_) => details,
        serde_json::Value::String(error) => serde_json::json!({ "error": error }),
        other => serde_json::json!({ "report": other }),
    };
    p["event"] = run.job.as_str().into();
    // The details may name a finer outcome (a drill's `unchecked`).
    if !p["outcome"].is_string() {
        p["outcome"] = if run.ok { "ok" } else { "failed" }.into();
    }
    p["host"] = host.into();
    p["finished_at"] = chrono::Utc::now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .into();
    p["graphvault_version"] = crate::VERSION.into();
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::run_metrics::Job;

    #[test]
    fn the_payload_names_the_event_and_keeps_the_details() {
        let failed = JobRun::failed_early(Job::Prune);
        let p = payload(&failed, "h", "the lease is held".into());
        assert_eq!(p["event"], "prune");
        assert_eq!(p["outcome"], "failed");
        assert_eq!(p["error"], "the lease is held");
        let p = payload(&failed, "h", serde_json::json!([1, 2]));
        assert_eq!(p["report"], serde_json::json!([1, 2]));
        let p = payload(&failed, "h", serde_json::json!({"deleted_backups": 2}));
        assert_eq!(p["deleted_backups"], 2);
        assert!(p["finished_at"].as_str().unwrap().ends_with('Z'));
    }
}
