//! Crash recovery in the store: multipart uploads that a killed backup left
//! unfinished are aborted at the start of the next run. The run holds the
//! store lease, so no other graphvault run is uploading and every unfinished
//! upload under `data/` is abandoned; `[backup] abandoned_upload_hours`
//! (default 0) spares younger ones for stores shared with other writers.
//! They are invisible to listings and never part of a backup, but S3 bills
//! their parts.

use chrono::{DateTime, Utc};

use crate::model::DATA;
use crate::store::{ObjectStore, PendingUpload};

/// Uploads under `data/` initiated before `cutoff` (an unknown start time
/// counts as old: it cannot be proven fresh, and data uploads are ours).
pub fn abandoned(pending: &[PendingUpload], cutoff: DateTime<Utc>) -> Vec<&PendingUpload> {
    pending
        .iter()
        .filter(|p| p.key.starts_with(DATA))
        .filter(|p| p.initiated.is_none_or(|t| t <= cutoff))
        .collect()
}

/// Aborts abandoned uploads, those older than `min_age` by the store's own
/// clock (uploads are dated by it: a host whose clock runs fast must not
/// take a running upload for an old one); problems are logged, never fatal.
/// Returns how many were aborted.
pub async fn abort_abandoned(store: &dyn ObjectStore, min_age: chrono::Duration) -> usize {
    let store_now = match store.clock().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the store's clock; unfinished uploads are left for a later run");
            return 0;
        }
    };
    let cutoff = store_now - min_age;
    let pending = match store.list_multipart(DATA).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list unfinished uploads; skipping their cleanup");
            return 0;
        }
    };
    let mut aborted = 0;
    for p in abandoned(&pending, cutoff) {
        match store.abort_multipart(&p.key, &p.upload_id).await {
            Ok(()) => {
                aborted += 1;
                tracing::warn!(key = %p.key, initiated = ?p.initiated, "aborted an unfinished upload of an earlier, interrupted run");
            }
            Err(e) => tracing::warn!(key = %p.key, error = %e, "cannot abort an unfinished upload"),
        }
    }
    aborted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_data_uploads_are_abandoned() {
        let t = |h: i64| Some(Utc::now() - chrono::Duration::hours(h));
        let up = |key: &str, initiated| PendingUpload {
            key: key.into(),
            upload_id: "u".into(),
            initiated,
        };
        let pending = [
            up("data/c1/20261124T020000Z-aaaaaa/a.backup.zst.age", t(30)),
            up("data/c1/20261125T020000Z-bbbbbb/a.backup.zst.age", t(1)),
            up("data/c2/x", None),
            up("reports/x", t(100)),
        ];
        let cutoff = Utc::now() - chrono::Duration::hours(24);
        let keys: Vec<&str> = abandoned(&pending, cutoff).iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["data/c1/20261124T020000Z-aaaaaa/a.backup.zst.age", "data/c2/x"]);
    }
}
