//! Keeping a held lease alive, and knowing the moment it is no longer ours.
//!
//! The renewer overwrites the holder's own generation with a later expiry
//! every `renew_every`, then lists the scope: a newer generation means another
//! run took over. It never revives a lease that lapsed: a renewal that has not
//! landed by the lease's current expiry (by this host's clock) marks the lease
//! lost, because from that moment another run may judge it stale and take
//! over, and a late renewal would leave two runs each believing it holds the
//! lease. A lost lease stays lost; the run stops before its next commit.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{chrono_dur, newest, put_record, record, Holder, LeaseError, LeaseRecord, LeaseSettings};
use crate::store::{ObjectStore, PutMode};

/// What the holder and its renewer share.
#[derive(Debug)]
pub(super) struct LeaseState {
    /// Set once the lease is lost; handed to work that must stop then.
    pub lost: Arc<AtomicBool>,
    /// The expiry of the last renewal that landed in time (ms since the epoch).
    valid_until_ms: AtomicI64,
}

impl LeaseState {
    pub fn new(expires_at: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self {
            lost: Arc::new(AtomicBool::new(false)),
            valid_until_ms: AtomicI64::new(expires_at.timestamp_millis()),
        })
    }

    /// Lost when marked so, or once the last good expiry has passed (even if
    /// the renewer has not run yet, e.g. after the process was suspended).
    pub fn is_lost(&self, key: &str) -> bool {
        if self.lost.load(Ordering::SeqCst) {
            return true;
        }
        if Utc::now().timestamp_millis() >= self.valid_until_ms.load(Ordering::SeqCst) {
            self.mark_lost(key, "it expired before it could be renewed");
            return true;
        }
        false
    }

    fn extend(&self, until: DateTime<Utc>) {
        self.valid_until_ms.store(until.timestamp_millis(), Ordering::SeqCst);
    }

    fn mark_lost(&self, key: &str, why: &str) {
        if !self.lost.swap(true, Ordering::SeqCst) {
            tracing::error!(
                key,
                "lease lost: {why}; another run may now hold this store, so this run commits nothing more"
            );
        }
    }
}

/// Time left until `t` (zero once past).
fn until(t: DateTime<Utc>) -> Duration {
    (t - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

enum Renewal {
    Extended(LeaseRecord),
    TakenBy(Holder),
}

/// One renewal: extend our generation, then look for a newer one.
async fn renew_once(
    store: &dyn ObjectStore,
    scope: &str,
    key: &str,
    current: &LeaseRecord,
    ttl: chrono::Duration,
) -> Result<Renewal, LeaseError> {
    let now = Utc::now();
    let mut next = current.clone();
    next.renewed_at = now;
    next.expires_at = now + ttl;
    put_record(store, key, &next, PutMode::Overwrite)
        .await
        .map_err(|source| LeaseError::Store {
            location: store.location(),
            source,
        })?;
    match newest(store, scope).await? {
        Some((g, r, _)) if g > current.generation && r.holder.run_id != current.holder.run_id => {
            Ok(Renewal::TakenBy(r.holder))
        }
        _ => Ok(Renewal::Extended(next)),
    }
}

/// The renewer task: runs until the lease is lost, `stop` fires, or its
/// sender is dropped.
pub(super) async fn renew(
    store: Arc<dyn ObjectStore>,
    scope: String,
    mut current: LeaseRecord,
    settings: LeaseSettings,
    state: Arc<LeaseState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let key = record::generation_key(&scope, current.generation);
    let ttl = chrono_dur(settings.ttl);
    loop {
        let deadline = current.expires_at;
        tokio::select! {
            _ = tokio::time::sleep(settings.renew_every.min(until(deadline))) => {}
            _ = stop.changed() => return,
        }
        if Utc::now() >= deadline {
            state.mark_lost(&key, "it could not be renewed before it expired");
            return;
        }
        let attempt = renew_once(store.as_ref(), &scope, &key, &current, ttl);
        match tokio::time::timeout(until(deadline), attempt).await {
            Err(_) => {
                state.mark_lost(&key, "its renewal did not finish before it expired");
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, key, "cannot renew the lease; retrying"),
            Ok(Ok(Renewal::TakenBy(holder))) => {
                state.mark_lost(&key, &format!("{holder} took it over"));
                return;
            }
            Ok(Ok(Renewal::Extended(next))) => {
                if Utc::now() >= deadline {
                    state.mark_lost(&key, "it was renewed only after it had expired");
                    return;
                }
                current = next;
                state.extend(current.expires_at);
            }
        }
    }
}
