//! A prune run as its textfile metrics and webhook see it.

use super::PruneReport;
use crate::monitor::run_metrics::{Job, JobRun};

/// Backups by what the plan did with them (`keep`, `delete`, `defer`,
/// `incomplete`, …), plus `failed` deletions. A dry run deletes nothing
/// but counts what it would.
pub fn job_run(r: &PruneReport) -> JobRun {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for b in &r.plan.backups {
        match counts.iter_mut().find(|(a, _)| *a == b.action) {
            Some((_, n)) => *n += 1,
            None => counts.push((b.action, 1)),
        }
    }
    counts.push(("failed", r.failures.len()));
    JobRun {
        job: Job::Prune,
        ok: r.failures.is_empty(),
        counted: "backups",
        counts,
        aliases: Vec::new(),
    }
}
