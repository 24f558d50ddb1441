//! Backups in archive storage classes (GLACIER, DEEP_ARCHIVE, e.g. moved by
//! a lifecycle rule): before a restore downloads anything, every archived
//! object of the chain gets a restore request (a temporary readable copy),
//! and the command either waits until all are readable or stops with exit
//! code 13 and says to come back later. GLACIER_IR needs nothing.

use std::time::Duration;

use crate::model::BackupManifest;
use crate::store::{is_archive_class, ObjectStore};

use super::OpsError;

/// Days the restored copy stays readable.
const RESTORED_DAYS: i32 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Readable,
    Restoring,
    Archived,
}

fn state(storage_class: Option<&str>, restore: Option<&str>) -> State {
    match (storage_class, restore) {
        (Some(c), _) if !is_archive_class(c) => State::Readable,
        (None, _) => State::Readable,
        (Some(_), None) => State::Archived,
        (Some(_), Some(r)) if r.contains("ongoing-request=\"true\"") => State::Restoring,
        (Some(_), Some(_)) => State::Readable,
    }
}

/// Ensures every object of `chain` can be read, requesting restores of
/// archived ones; waits up to `wait` (polling every `poll`) or fails with
/// `ArchivePending`.
pub async fn ensure_readable(
    store: &dyn ObjectStore,
    chain: &[BackupManifest],
    wait: Option<Duration>,
    poll: Duration,
) -> Result<(), OpsError> {
    let store_err = |source| OpsError::Store {
        location: store.location(),
        source,
    };
    let keys: Vec<&str> = chain
        .iter()
        .flat_map(|m| m.artifacts.iter().map(|a| a.key.as_str()))
        .collect();
    let deadline = wait.map(|w| tokio::time::Instant::now() + w);
    let mut requested = 0;
    let mut first_round = true;
    loop {
        let mut pending = Vec::new();
        for key in &keys {
            let info = store.head(key).await.map_err(store_err)?;
            match state(info.storage_class.as_deref(), info.restore.as_deref()) {
                State::Readable => {}
                State::Restoring => pending.push(key.to_string()),
                State::Archived => {
                    if first_round {
                        store.restore_archived(key, RESTORED_DAYS).await.map_err(store_err)?;
                        requested += 1;
                        tracing::warn!(key, class = ?info.storage_class, "object is archived: restore requested");
                    }
                    pending.push(key.to_string());
                }
            }
        }
        first_round = false;
        if pending.is_empty() {
            return Ok(());
        }
        let timed_out = deadline.is_none_or(|d| tokio::time::Instant::now() + poll > d);
        if timed_out {
            return Err(OpsError::ArchivePending {
                objects: pending.len(),
                first: pending[0].clone(),
                requested,
                waited: wait.is_some(),
            });
        }
        tracing::info!(pending = pending.len(), "waiting for archived objects to be restored");
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_states_follow_the_storage_class_and_restore_header() {
        for (class, restore, expected) in [
            (None, None, State::Readable),
            (Some("STANDARD"), None, State::Readable),
            (Some("GLACIER_IR"), None, State::Readable),
            (Some("GLACIER"), None, State::Archived),
            (Some("DEEP_ARCHIVE"), Some("ongoing-request=\"true\""), State::Restoring),
            (
                Some("GLACIER"),
                Some("ongoing-request=\"false\", expiry-date=\"Fri, 27 Nov 2026 00:00:00 GMT\""),
                State::Readable,
            ),
        ] {
            assert_eq!(state(class, restore), expected, "{class:?} {restore:?}");
        }
    }
}
