//! Ctrl-C and SIGTERM (systemd stopping a unit) while neo4j-admin may run.
//!
//! The default action of SIGTERM ends graphvault at once and leaves
//! neo4j-admin's worker running (it is not in graphvault's process group and
//! gets no signal). Commands that run neo4j-admin therefore catch both
//! signals, stop every neo4j-admin process group they started (SIGTERM, the
//! grace period, SIGKILL) and only then stop, with `Interrupted` (exit 3).

use std::future::Future;
use std::time::Duration;

use super::OpsError;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Stops every neo4j-admin this process runs; logs what it could not stop.
pub async fn stop_admins(grace: Duration) {
    let left = crate::neo4j::stop_running_admins(grace).await;
    if !left.is_empty() {
        tracing::error!(pids = ?left, "neo4j-admin processes did not stop on SIGTERM and SIGKILL; stop them by hand");
    }
}

/// Runs `work` to its end, unless Ctrl-C or SIGTERM comes first: then every
/// running neo4j-admin group is stopped while `work` is still held (its
/// launchers unreaped), `work` is dropped, and the result is `Interrupted`.
pub async fn until_interrupted<T, E: From<OpsError>>(
    what: &str,
    grace: Duration,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => done,
        _ = interrupted() => {
            tracing::warn!(what, "interrupted by a signal: stopping neo4j-admin (its whole process group) before exiting");
            stop_admins(grace).await;
            Err(OpsError::Interrupted { what: what.to_string() }.into())
        }
    }
}
