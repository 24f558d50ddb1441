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
