//! Small JSON records the bucket keeps beside the backups (drill reports,
//! verify runs, alias switches): written create-only, so a record is never
//! overwritten, and never holding key material.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{ObjectStore, PutMode};

use super::OpsError;

/// Writes `value` as pretty JSON at `key`, refusing to replace an object.
pub async fn put_new_json<T: Serialize>(store: &dyn ObjectStore, key: &str, value: &T) -> Result<(), OpsError> {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store
        .put(key, body.into(), sha, PutMode::CreateOnly)
        .await
        .map_err(|source| OpsError::Store {
            location: store.location(),
            source,
        })
}

/// Writes `value` at `<stem>.json`, or, when a record already has that
/// name (two runs on one host in the same second), at `<stem>~02.json`,
/// `<stem>~03.json`, … (up to 99); returns the key written. `~` sorts after
/// `.` and host names never hold it, so keys sort in the order written.
pub async fn put_unique_json<T: Serialize>(store: &dyn ObjectStore, stem: &str, value: &T) -> Result<String, OpsError> {
    let mut n = 1;
    loop {
        let key = if n == 1 {
            format!("{stem}.json")
        } else {
            format!("{stem}~{n:02}.json")
        };
        match put_new_json(store, &key, value).await {
            Err(OpsError::Store {
                source: crate::store::StoreError::PreconditionFailed { .. },
                ..
            }) if n < 99 => n += 1,
            other => return other.map(|()| key),
        }
    }
}
