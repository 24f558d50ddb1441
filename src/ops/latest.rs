//! What "the latest backup" means: the newest one that is trusted (its
//! manifest, and every manifest of its differential chain, signed by a
//! trusted key) and complete (every data object of the chain listed at the
//! size its manifest records) — the same two tests prune applies before it
//! counts a backup (`prune/plan.rs`). Anyone who can write to the bucket can
//! drop a newer manifest there; it must not be able to block every restore.
//!
//! Candidates are tried newest first. One without a signature object in the
//! listing is skipped without a GET; the others cost their chain's manifest
//! GETs and one LIST per backup of the chain, and only until one passes.
//! Each skipped backup is logged (WARN) with the reason. A failure that says
//! nothing about the backup itself (the store did not answer) stops the
//! choice: it is never taken as a reason to fall back to an older backup.
//! With unsigned manifests allowed, the signature test is left out (the old
//! behaviour; every unsigned manifest used is logged by `signing`).

use std::collections::BTreeSet;

use crate::model::{backup_data_prefix, BackupManifest, ManifestKey};
use crate::retention::chain::{restorability, ChainNode};
use crate::signing::{missing_signature, ManifestTrust, SigningError};
use crate::store::ObjectStore;

use super::chain::resolve_chain;
use super::prune::ManifestFacts;
use super::OpsError;

/// A backup passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub key: ManifestKey,
    pub reason: String,
}

/// The newest of `candidates` (oldest first, as the catalog lists them) that
/// is trusted and complete, and the newer ones skipped on the way (newest
/// first). `signed`: the manifest keys with a signature object listed.
pub async fn newest_usable(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    candidates: &[ManifestKey],
    signed: &BTreeSet<&str>,
) -> Result<(Option<ManifestKey>, Vec<Skipped>), OpsError> {
    let mut skipped = Vec::new();
    for key in candidates.iter().rev() {
        let text = key.to_string();
        let reason = if !trust.allows_unsigned() && !signed.contains(text.as_str()) {
            Some(missing_signature(&text))
        } else {
            why_unusable(store, trust, key).await?
        };
        match reason {
            None => return Ok((Some(key.clone()), skipped)),
            Some(reason) => {
                tracing::warn!(
                    backup_id = %key.backup_id,
                    manifest = text,
                    reason,
                    "skipping backup {} as the latest: {reason}",
                    key.backup_id
                );
                skipped.push(Skipped {
                    key: key.clone(),
                    reason,
                });
            }
        }
    }
    Ok((None, skipped))
}

/// Why the backup at `key` cannot be the latest (`None`: it can), or an
/// error when that could not be found out.
async fn why_unusable(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    key: &ManifestKey,
) -> Result<Option<String>, OpsError> {
    let chain = match resolve_chain(store, trust, key).await {
        Ok(chain) => chain,
        Err(OpsError::Signing(SigningError::Untrusted { key, reason })) => {
            return Ok(Some(format!("manifest {key} is not trusted: {reason}")))
        }
        Err(OpsError::Manifest(e)) => return Ok(Some(e.to_string())),
        Err(OpsError::BrokenChain { detail, .. }) => return Ok(Some(detail)),
        Err(other) => return Err(other),
    };
    let mut faults = Vec::new();
    for m in &chain {
        faults.push(own_fault(store, m).await?);
    }
    // Resolved oldest first: each backup builds on the one before it.
    let nodes: Vec<ChainNode> = faults
        .into_iter()
        .enumerate()
        .map(|(i, own_fault)| ChainNode {
            id: &chain[i].backup_id,
            parent: Some(i.checked_sub(1).map(|p| &chain[p].backup_id)),
            own_fault,
        })
        .collect();
    Ok(restorability(&nodes).pop().and_then(Result::err))
}

/// Why one backup's own data is incomplete (one LIST of its data prefix).
async fn own_fault(store: &dyn ObjectStore, m: &BackupManifest) -> Result<Option<String>, OpsError> {
    let prefix = backup_data_prefix(&m.alias, &m.backup_id);
    let listed = store.list(&prefix).await.map_err(|source| OpsError::Store {
        location: store.location(),
        source,
    })?;
    Ok(ManifestFacts::of(m).missing_data(&listed.iter().collect::<Vec<_>>()))
}
