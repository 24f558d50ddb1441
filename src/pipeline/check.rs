//! Checking a stored object without opening it: stream it once and compare
//! its size and SHA-256 with the manifest. Needs no identity, so a backup
//! host can verify what it wrote; writes nothing anywhere.

use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::hashing::parse_sha256_hex;
use super::open::OpenError;
use crate::model::ArtifactRecord;
use crate::store::ObjectStore;

/// Streams `record`'s object and checks the stored size and SHA-256.
pub async fn check_stored(store: &dyn ObjectStore, record: &ArtifactRecord) -> Result<(), OpenError> {
    let key = record.key.clone();
    let store_err = |source| OpenError::Store {
        key: key.clone(),
        source,
    };
    let mut stream = store.get(&key, None).await.map_err(store_err)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(store_err)?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let integrity = |what: String| OpenError::Integrity { key: key.clone(), what };
    if size != record.stored_size {
        return Err(integrity(format!(
            "stored object is {size} bytes, the manifest records {} (truncated or replaced)",
            record.stored_size
        )));
    }
    let digest: [u8; 32] = hasher.finalize().into();
    if Some(digest) != parse_sha256_hex(&record.stored_sha256) {
        return Err(integrity(format!(
            "stored object sha256 is {}, the manifest records {} (corrupted or replaced)",
            hex::encode(digest),
            record.stored_sha256
        )));
    }
    Ok(())
}
