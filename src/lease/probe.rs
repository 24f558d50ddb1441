//! The conditional-write probe: before a run trusts create-only PUTs to keep
//! runs apart, it checks that the store really refuses one on an existing key.
//!
//! Some S3-compatible stores ignore `If-None-Match: *` and overwrite; on such
//! a store two runs could both "win" a lease generation (and a manifest could
//! be replaced). A store that rejects the header outright (501) is caught by
//! the store layer as `Unsupported`; one that silently ignores it is only
//! caught here. The probe never deletes anything (a backup host may lack
//! delete permission): its object stays, and every later probe is one PUT
//! that the store must refuse with 412.

use sha2::{Digest, Sha256};

use crate::store::{ObjectStore, PutMode, StoreError};

/// The probe object, outside every lease scope's prefix.
pub const PROBE_KEY: &str = "locks/create-only-probe";

const PROBE_BODY: &[u8] = b"graphvault writes this object with create-only PUTs to check that the store \
refuses to overwrite it (S3 conditional writes, If-None-Match: *). Leave it in place.\n";

/// `Ok` when the store refused a create-only PUT of an existing key; an
/// `Unsupported` error when it accepted one.
pub async fn ensure_create_only_is_honoured(store: &dyn ObjectStore) -> Result<(), StoreError> {
    let sha: [u8; 32] = Sha256::digest(PROBE_BODY).into();
    // First ever probe: the first PUT creates the object and the second must be refused.
    for attempt in 1..=2 {
        match store.put(PROBE_KEY, PROBE_BODY.into(), sha, PutMode::CreateOnly).await {
            Err(StoreError::PreconditionFailed { .. }) => return Ok(()),
            Ok(()) if attempt == 1 => continue,
            Ok(()) => break,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unsupported {
        op: "create-only PUT (If-None-Match: *)",
        detail: format!(
            "a create-only PUT of the existing object {PROBE_KEY} succeeded, so the store ignores the condition \
             and two graphvault runs could overwrite each other's lease and manifests"
        ),
    })
}
