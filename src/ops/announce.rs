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
use crate::notify::Notification;

/// Writes `run`'s metrics (when a file is given) and sends `note` to the
/// webhook (when configured and wanted for this outcome: a run that is not
/// `ok`, unchecked drills included, counts as a failure).
pub async fn announce(config: &Config, metrics_file: Option<&Path>, run: &JobRun, note: Notification) {
    if let Some(path) = metrics_file {
        if let Err(e) = run_metrics::write(path, run, chrono::Utc::now().timestamp()) {
            tracing::error!(path = %path.display(), error = %e, "metrics file not written");
        }
    }
    if !crate::notify::wanted(&config.notify, run.ok) {
        return;
    }
    if let Err(e) = crate::notify::send(&config.notify, &note.body()).await {
        tracing::error!(error = %e, "webhook notification not delivered");
    }
}
