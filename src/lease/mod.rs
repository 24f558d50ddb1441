//! Leases: at most one graphvault run backs up or prunes a store prefix at a
//! time, across hosts, and a crashed run's lease is taken over safely.
//!
//! The lease is a sequence of generations, `locks/<scope>/<generation>.json`,
//! created only with create-only PUTs (`If-None-Match: *`), which S3 and the
//! filesystem store support (a probe checks the store really honours them,
//! `probe.rs`); no conditional overwrite or delete is needed. To acquire, a
//! run reads the newest
//! generation: if it is held and not expired, the run stops with `Held`;
//! expiry is judged by the store's clock alone (its date on the generation
//! against the time it gives now, `store::clock`), so a host whose clock is
//! off cannot take over a live lease;
//! otherwise it creates the next generation, and of several runs racing for
//! it exactly one wins the create. A lease counts as expired at most
//! `max_ttl` after the store wrote it, whatever its `expires_at` says
//! (`record.rs`), so a lease object written by hand or by a forger blocks
//! runs for that long at most. The holder renews by overwriting its own
//! generation and then checks that no newer one exists (`renew.rs`); finding
//! one, or failing to renew before expiry, makes the lease `lost`. The
//! backup run checks `lost()` before each manifest commit. Release marks the
//! generation released (a backup host may lack delete permission). Old
//! generations are small and are removed by prune or a lifecycle rule on
//! `locks/`. docs/DESIGN.md, "Leases and locks", has the reasoning.

mod local;
mod probe;
mod record;
mod renew;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

pub use local::{LocalLock, LockError};
pub use probe::PROBE_KEY;
pub use record::{generation_key, Holder, LeaseRecord, STORE_TIME_RESOLUTION};

use renew::LeaseState;

use crate::store::{get_all, ObjectStore, PutMode, StoreError};

/// Lease timing.
#[derive(Clone, Copy, Debug)]
pub struct LeaseSettings {
    pub ttl: Duration,
    pub renew_every: Duration,
    /// How far past its expiry (by the store's clock) a foreign lease must
    /// be before it is taken over: room for request latency and for clocks
    /// that run at slightly different rates (their offsets do not matter).
    pub clock_skew: Duration,
    /// The longest a lease can hold after it was last written, whatever it
    /// claims (at least `ttl`, and at least the TTL of every host sharing
    /// the store).
    pub max_ttl: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            renew_every: Duration::from_secs(200),
            clock_skew: Duration::from_secs(60),
            max_ttl: Duration::from_secs(3600),
        }
    }
}

/// A lease problem.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("{location} is in use by {holder} until {free_at}{note} (lease {key}); wait for that run to finish. If that host is gone, the lease is taken over automatically from then on")]
    Held {
        location: String,
        key: String,
        holder: Box<Holder>,
        /// From when another run may take the lease over.
        free_at: chrono::DateTime<Utc>,
        /// Said of a lease that claims more than the maximum TTL.
        note: String,
    },
    #[error("lease object {key} is not a graphvault lease ({detail}); inspect it, and remove it only when no graphvault run uses this store")]
    Corrupt { key: String, detail: String },
    #[error("lease on {location}: {source}")]
    Store {
        location: String,
        #[source]
        source: StoreError,
    },
}

fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// A held lease; renewed in the background until released or dropped.
pub struct Lease {
    store: Arc<dyn ObjectStore>,
    scope: String,
    record: LeaseRecord,
    key: String,
    state: Arc<LeaseState>,
    stop: tokio::sync::watch::Sender<bool>,
    renewer: tokio::task::JoinHandle<()>,
    grace: Duration,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("key", &self.key).finish()
    }
}

async fn put_record(store: &dyn ObjectStore, key: &str, r: &LeaseRecord, mode: PutMode) -> Result<(), StoreError> {
    let body = r.to_json();
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store.put(key, body.into(), sha, mode).await
}

/// The newest generation of `scope`: (number, record, when the store wrote it).
async fn newest(
    store: &dyn ObjectStore,
    scope: &str,
) -> Result<Option<(u64, LeaseRecord, chrono::DateTime<Utc>)>, LeaseError> {
    let store_err = |source| LeaseError::Store {
        location: store.location(),
        source,
    };
    let listed = store.list(&record::scope_prefix(scope)).await.map_err(store_err)?;
    let Some((generation, info)) = listed
        .iter()
        .filter_map(|o| record::parse_generation(scope, &o.key).map(|g| (g, o)))
        .max_by_key(|(g, _)| *g)
    else {
        return Ok(None);
    };
    let key = generation_key(scope, generation);
    // Its age is judged by the store's date alone; without one it cannot be.
    let Some(stored_at) = info.last_modified else {
        return Err(LeaseError::Corrupt {
            key,
            detail: "the store lists it without a modification time, so its age cannot be judged".into(),
        });
    };
    let bytes = get_all(store, &key).await.map_err(store_err)?;
    let r = LeaseRecord::from_json(&bytes).map_err(|detail| LeaseError::Corrupt { key, detail })?;
    Ok(Some((generation, r, stored_at)))
}

/// The newest generation of a scope as a reader sees it (for `doctor`).
#[derive(Clone, Debug)]
pub struct LeaseView {
    pub key: String,
    pub record: LeaseRecord,
    /// When the store last wrote it (S3's LastModified, the file's mtime).
    pub stored_at: chrono::DateTime<Utc>,
}

/// The newest generation of `scope`, if any (one LIST and one GET).
pub async fn inspect(store: &dyn ObjectStore, scope: &str) -> Result<Option<LeaseView>, LeaseError> {
    Ok(newest(store, scope).await?.map(|(g, record, stored_at)| LeaseView {
        key: generation_key(scope, g),
        record,
        stored_at,
    }))
}

/// What a `Held` error adds about a lease that claims more than `max_ttl`.
fn over_long_note(r: &LeaseRecord, max_ttl: chrono::Duration) -> String {
    if r.is_over_long(max_ttl) {
        format!(
            " (it claims to last until {}, longer than lease_max_ttl_secs allows; `graphvault doctor` says how to clear it)",
            r.expires_at
        )
    } else {
        String::new()
    }
}

/// Takes the lease of `scope` for `holder`, or says who has it.
pub async fn acquire(
    store: Arc<dyn ObjectStore>,
    scope: &str,
    holder: Holder,
    settings: LeaseSettings,
) -> Result<Lease, LeaseError> {
    let (ttl, skew, max_ttl) = (
        chrono_dur(settings.ttl),
        chrono_dur(settings.clock_skew),
        chrono_dur(settings.max_ttl),
    );
    let location = store.location();
    probe::ensure_create_only_is_honoured(store.as_ref())
        .await
        .map_err(|source| LeaseError::Store {
            location: location.clone(),
            source,
        })?;
    // The store's clock, read before the lease: a holder's renewal that
    // landed after this instant is then certainly seen, so a live lease is
    // never judged stale from a read that a stall made old. Only the store's
    // clock is compared with the store's dates (`record.rs`).
    let store_now = store.clock().await.map_err(|source| LeaseError::Store {
        location: location.clone(),
        source,
    })?;
    let current = newest(store.as_ref(), scope).await?;
    let next = match &current {
        None => 1,
        Some((g, r, stored_at)) => {
            let free_at = r.free_at(*stored_at, skew, max_ttl);
            if !r.is_free(store_now, *stored_at, skew, max_ttl) {
                return Err(LeaseError::Held {
                    location,
                    key: generation_key(scope, *g),
                    holder: Box::new(r.holder.clone()),
                    free_at,
                    note: over_long_note(r, max_ttl),
                });
            }
            if r.is_over_long(max_ttl) && !r.released {
                tracing::warn!(previous = %r.holder, claimed_expiry = %r.expires_at, generation = g,
                    "taking over the lease of {}: it claimed to last until {}, longer than lease_max_ttl_secs, so it could be taken over from {free_at} (forged, or edited by hand)",
                    r.holder, r.expires_at);
            } else if !r.released {
                tracing::warn!(previous = %r.holder, expired_at = %r.expires_by_store(*stored_at, max_ttl), generation = g,
                    "taking over the stale lease of {} (expired at {} by the store's clock): that run did not finish (crashed, killed or stalled)",
                    r.holder, r.expires_by_store(*stored_at, max_ttl));
            }
            g.checked_add(1).ok_or_else(|| LeaseError::Corrupt {
                key: generation_key(scope, *g),
                detail: "its generation number is the largest there can be, so no lease can follow it".into(),
            })?
        }
    };
    let key = generation_key(scope, next);
    let record = LeaseRecord::new(next, holder.clone(), Utc::now(), ttl);
    match put_record(store.as_ref(), &key, &record, PutMode::CreateOnly).await {
        Ok(()) => {}
        Err(StoreError::PreconditionFailed { .. }) => {
            // Another run created this generation first, or our own PUT
            // succeeded and only its response was lost (then it is ours).
            let bytes = get_all(store.as_ref(), &key)
                .await
                .map_err(|source| LeaseError::Store {
                    location: location.clone(),
                    source,
                })?;
            let winner = LeaseRecord::from_json(&bytes).map_err(|detail| LeaseError::Corrupt {
                key: key.clone(),
                detail,
            })?;
            if winner.holder.run_id != holder.run_id {
                // It was written just now: date it by the store's clock.
                return Err(LeaseError::Held {
                    location,
                    key,
                    note: over_long_note(&winner, max_ttl),
                    free_at: winner.free_at(store_now, skew, max_ttl),
                    holder: Box::new(winner.holder),
                });
            }
        }
        Err(source) => return Err(LeaseError::Store { location, source }),
    }
    tracing::info!(key, holder = %holder, "lease acquired");
    let state = LeaseState::new(record.expires_at);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let renewer = tokio::spawn(renew::renew(
        store.clone(),
        scope.to_string(),
        record.clone(),
        settings,
        state.clone(),
        stopped,
    ));
    Ok(Lease {
        store,
        scope: scope.to_string(),
        record,
        key,
        state,
        stop,
        renewer,
        grace: settings.renew_every.min(RELEASE_GRACE),
    })
}

/// How long `release` lets a renewal in flight finish, so it cannot land
/// after the release and make the lease look held again.
const RELEASE_GRACE: Duration = Duration::from_secs(30);

impl Lease {
    /// True once the lease was taken over or its expiry passed without a
    /// renewal; it never becomes false again.
    pub fn lost(&self) -> bool {
        self.state.is_lost(&self.key)
    }

    /// A flag to hand to work that must stop when the lease is lost; the
    /// renewer sets it when a takeover is seen or the expiry passes.
    pub fn lost_flag(&self) -> Arc<AtomicBool> {
        self.state.lost.clone()
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Removes the generations before this one (prune does it for every
    /// run: a backup host may lack delete permission). They can never be
    /// the newest again, so nothing reads them. Failures are logged, not
    /// fatal. Returns how many were removed.
    /// On a versioned bucket every version goes (`versioned`), or each
    /// removal would leave a delete marker and keep the old versions billed.
    pub async fn remove_older_generations(&self, versioned: bool) -> usize {
        let listed = match self.store.list(&record::scope_prefix(&self.scope)).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list old lease generations; they stay");
                return 0;
            }
        };
        let mut removed = 0;
        for o in listed {
            let older = record::parse_generation(&self.scope, &o.key).is_some_and(|g| g < self.record.generation);
            if !older {
                continue;
            }
            let deleted = if versioned {
                self.store.delete_all_versions(&o.key).await.map(|_| ())
            } else {
                self.store.delete(&o.key).await
            };
            match deleted {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!(key = o.key, error = %e, "cannot remove an old lease generation"),
            }
        }
        if removed > 0 {
            tracing::info!(removed, "old lease generations removed");
        }
        removed
    }

    /// Marks the lease released so the next run need not wait for expiry.
    pub async fn release(mut self) -> Result<(), LeaseError> {
        let _ = self.stop.send(true);
        if tokio::time::timeout(self.grace, &mut self.renewer).await.is_err() {
            self.renewer.abort();
        }
        if self.lost() {
            return Ok(());
        }
        let mut r = self.record.clone();
        r.released = true;
        r.renewed_at = Utc::now();
        put_record(self.store.as_ref(), &self.key, &r, PutMode::Overwrite)
            .await
            .map_err(|source| LeaseError::Store {
                location: self.store.location(),
                source,
            })?;
        tracing::info!(key = self.key, "lease released");
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Without release the lease simply expires.
        self.renewer.abort();
    }
}
