//! Leases: at most one graphvault run backs up or prunes a store prefix at a
//! time, across hosts, and a crashed run's lease is taken over safely.
//!
//! The lease is a sequence of generations, `locks/<scope>/<generation>.json`,
//! written only with create-only PUTs (`If-None-Match: *`), which every
//! S3-compatible store and the filesystem store support; no conditional
//! overwrite or delete is needed. To acquire, a run reads the newest
//! generation: if it is held and not expired, the run stops with `Held`;
//! otherwise it creates the next generation, and of several runs racing for
//! it exactly one wins the create. The holder renews by overwriting its own
//! generation and then checks that no newer one exists; finding one means it
//! was taken over (it was stalled past expiry) and the lease is `lost`. The
//! backup run checks `lost()` before each manifest commit. Release marks the
//! generation released (a backup host may lack delete permission). Old
//! generations are small and are removed by prune or a lifecycle rule on
//! `locks/`. docs/DESIGN.md, "Leases and locks", has the reasoning.

mod local;
mod record;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

pub use local::{LocalLock, LockError};
pub use record::{generation_key, Holder, LeaseRecord};

use crate::store::{get_all, ObjectStore, PutMode, StoreError};

/// Lease timing.
#[derive(Clone, Copy, Debug)]
pub struct LeaseSettings {
    pub ttl: Duration,
    pub renew_every: Duration,
    /// How far past expiry a foreign lease must be before it is taken over.
    pub clock_skew: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            renew_every: Duration::from_secs(200),
            clock_skew: Duration::from_secs(60),
        }
    }
}

/// A lease problem.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("{location} is in use by {holder} until {expires_at} (lease {key}); wait for that run to finish. If that host is gone, the lease is taken over automatically once it has expired")]
    Held {
        location: String,
        key: String,
        holder: Box<Holder>,
        expires_at: chrono::DateTime<Utc>,
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
    record: LeaseRecord,
    key: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
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

/// The newest generation of `scope`: (number, record, store time).
async fn newest(
    store: &dyn ObjectStore,
    scope: &str,
) -> Result<Option<(u64, LeaseRecord, Option<chrono::DateTime<Utc>>)>, LeaseError> {
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
    let bytes = get_all(store, &key).await.map_err(store_err)?;
    let r = LeaseRecord::from_json(&bytes).map_err(|detail| LeaseError::Corrupt { key, detail })?;
    Ok(Some((generation, r, info.last_modified)))
}

/// Takes the lease of `scope` for `holder`, or says who has it.
pub async fn acquire(
    store: Arc<dyn ObjectStore>,
    scope: &str,
    holder: Holder,
    settings: LeaseSettings,
) -> Result<Lease, LeaseError> {
    let (ttl, skew) = (chrono_dur(settings.ttl), chrono_dur(settings.clock_skew));
    let location = store.location();
    let current = newest(store.as_ref(), scope).await?;
    let next = match &current {
        None => 1,
        Some((g, r, stored_at)) => {
            if !r.is_free(Utc::now(), *stored_at, skew) {
                return Err(LeaseError::Held {
                    location,
                    key: generation_key(scope, *g),
                    holder: Box::new(r.holder.clone()),
                    expires_at: r.expires_at,
                });
            }
            if !r.released {
                tracing::warn!(previous = %r.holder, expired_at = %r.expires_at, generation = g,
                    "taking over the stale lease of a run that did not finish (crashed or killed)");
            }
            g + 1
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
                return Err(LeaseError::Held {
                    location,
                    key,
                    holder: Box::new(winner.holder),
                    expires_at: winner.expires_at,
                });
            }
        }
        Err(source) => return Err(LeaseError::Store { location, source }),
    }
    tracing::info!(key, holder = %holder, "lease acquired");
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = tokio::spawn(renew(
        store.clone(),
        scope.to_string(),
        record.clone(),
        settings,
        lost.clone(),
    ));
    Ok(Lease {
        store,
        record,
        key,
        lost,
        renewer,
    })
}

/// Keeps the lease alive; marks it lost when taken over or expired.
async fn renew(
    store: Arc<dyn ObjectStore>,
    scope: String,
    mut record: LeaseRecord,
    settings: LeaseSettings,
    lost: Arc<AtomicBool>,
) {
    let key = generation_key(&scope, record.generation);
    let ttl = chrono_dur(settings.ttl);
    loop {
        tokio::time::sleep(settings.renew_every).await;
        let now = Utc::now();
        let mut next = record.clone();
        next.renewed_at = now;
        next.expires_at = now + ttl;
        match put_record(store.as_ref(), &key, &next, PutMode::Overwrite).await {
            Ok(()) => record = next,
            Err(e) => tracing::warn!(error = %e, key, "cannot renew the lease; retrying"),
        }
        let taken = match newest(store.as_ref(), &scope).await {
            Ok(Some((g, r, _))) => g > record.generation && r.holder.run_id != record.holder.run_id,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the lease");
                false
            }
        };
        if taken || Utc::now() > record.expires_at {
            lost.store(true, Ordering::SeqCst);
            tracing::error!(
                key,
                "lease lost: another run took over this store; this run stops before committing anything more"
            );
            return;
        }
    }
}

impl Lease {
    /// True once the lease was taken over or could not be renewed in time.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// A flag to hand to work that must stop when the lease is lost.
    pub fn lost_flag(&self) -> Arc<AtomicBool> {
        self.lost.clone()
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Marks the lease released so the next run need not wait for expiry.
    pub async fn release(self) -> Result<(), LeaseError> {
        self.renewer.abort();
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
