//! The catalog: which backups exist, read from manifest keys alone.
//!
//! A backup exists if and only if its manifest exists. Listing is one
//! `ListObjectsV2` walk over `manifests/`; reading a manifest is one GET, done
//! only for the backup a command acts on, together with its signature
//! (`<manifest>.minisig`, see `src/signing/`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{BackupId, BackupManifest, DbName, ManifestKey, MANIFESTS};
use crate::signing::{signature_key, ManifestTrust, Verdict, SIGNATURE_SUFFIX};
use crate::store::{get_all, ObjectInfo, ObjectStore, StoreError};

use super::known_names::KnownNames;
use super::OpsError;

/// Which backups a command is about.
#[derive(Clone, Debug, Default)]
pub struct BackupFilter {
    /// Matches the alias or the concrete database name.
    pub database: Option<DbName>,
}

impl BackupFilter {
    pub fn matches(&self, k: &ManifestKey) -> bool {
        self.database.as_ref().is_none_or(|d| &k.alias == d || &k.database == d)
    }
}

fn store_err(store: &dyn ObjectStore) -> impl FnOnce(crate::store::StoreError) -> OpsError + '_ {
    move |source| OpsError::Store {
        location: store.location(),
        source,
    }
}

/// Every backup matching the filter, oldest first (ties by alias).
pub async fn list_backups(store: &dyn ObjectStore, filter: &BackupFilter) -> Result<Vec<ManifestKey>, OpsError> {
    Ok(list_with_signatures(store, filter).await?.keys)
}

/// One listing of `manifests/`, filtered.
#[derive(Clone, Debug, Default)]
pub struct CatalogListing {
    /// The backups, oldest first (ties by alias).
    pub keys: Vec<ManifestKey>,
    /// The manifest objects themselves (ETag, size, time), by key.
    pub objects: BTreeMap<String, ObjectInfo>,
    /// Signature objects whose manifest name matches the filter.
    pub signatures: Vec<ObjectInfo>,
    /// Every alias and database with a manifest, whatever the filter: what
    /// a filter that matched nothing is told about (`known_names.rs`).
    pub names: KnownNames,
}

impl CatalogListing {
    /// The manifest keys that have a signature object listed next to them.
    pub fn signed_keys(&self) -> BTreeSet<&str> {
        signed_manifests(&self.signatures)
    }
}

/// The manifest keys these signature objects sign (whether a signature
/// checks out takes a GET: `read_manifest`).
pub fn signed_manifests(signatures: &[ObjectInfo]) -> BTreeSet<&str> {
    signatures
        .iter()
        .filter_map(|o| o.key.strip_suffix(SIGNATURE_SUFFIX))
        .collect()
}

/// The backups matching the filter and the signature objects under
/// `manifests/` whose name matches it too, from one listing.
pub async fn list_with_signatures(store: &dyn ObjectStore, filter: &BackupFilter) -> Result<CatalogListing, OpsError> {
    let listed = store.list(MANIFESTS).await.map_err(store_err(store))?;
    let mut out = CatalogListing::default();
    for o in listed {
        if let Some(manifest) = o.key.strip_suffix(SIGNATURE_SUFFIX) {
            if ManifestKey::parse(manifest).is_some_and(|k| filter.matches(&k)) {
                out.signatures.push(o);
            }
            continue;
        }
        let parsed = ManifestKey::parse(&o.key);
        if let Some(k) = &parsed {
            out.names.add(k);
        }
        match parsed {
            Some(k) if filter.matches(&k) => {
                out.keys.push(k);
                out.objects.insert(o.key.clone(), o);
            }
            Some(_) => {}
            None => tracing::debug!(key = %o.key, "ignoring an object under manifests/ that is not a manifest key"),
        }
    }
    out.keys
        .sort_by(|a, b| (&a.backup_id, &a.alias).cmp(&(&b.backup_id, &b.alias)));
    Ok(out)
}

/// Finds one backup by id.
pub async fn find_backup(store: &dyn ObjectStore, id: &str) -> Result<ManifestKey, OpsError> {
    find_backup_in(store, id, &BackupFilter::default()).await
}

/// Finds one backup by id among those the filter matches. Anyone who can
/// write to the bucket can copy a manifest under another alias or label,
/// so several manifests may carry one id: one with a signature object
/// listed next to it is preferred (reading it still checks the signature).
pub async fn find_backup_in(store: &dyn ObjectStore, id: &str, filter: &BackupFilter) -> Result<ManifestKey, OpsError> {
    id.parse::<BackupId>()?;
    let listing = list_with_signatures(store, filter).await?;
    let signed = listing.signed_keys();
    let with_id: Vec<&ManifestKey> = listing.keys.iter().filter(|k| k.backup_id.as_str() == id).collect();
    with_id
        .iter()
        .find(|k| signed.contains(k.to_string().as_str()))
        .or(with_id.first())
        .map(|k| (*k).clone())
        .ok_or_else(|| OpsError::BackupNotFound {
            what: format!("with id {id}"),
            location: store.location(),
        })
}

/// The manifest of backup `id` among `alias`'s, from one listing of only
/// that backup's keys (`manifests/<alias>/<id>~`): how a parent in a chain is
/// found without listing the whole catalog.
pub async fn find_in_alias(
    store: &dyn ObjectStore,
    alias: &DbName,
    id: &BackupId,
) -> Result<Option<ManifestKey>, OpsError> {
    let prefix = format!("{}{id}~", ManifestKey::alias_prefix(alias));
    let listed = store.list(&prefix).await.map_err(store_err(store))?;
    Ok(listed.iter().find_map(|o| ManifestKey::parse(&o.key)))
}

/// The newest backup id of `alias`, from one listing of only its manifests
/// (`manifests/<alias>/`): what a new backup's id must sort after.
pub async fn newest_in_alias(store: &dyn ObjectStore, alias: &DbName) -> Result<Option<BackupId>, OpsError> {
    let listed = store
        .list(&ManifestKey::alias_prefix(alias))
        .await
        .map_err(store_err(store))?;
    Ok(listed
        .iter()
        .filter_map(|o| ManifestKey::parse(&o.key))
        .map(|k| k.backup_id)
        .max())
}

/// Reads the manifest behind a key and checks its signature: the one read
/// that restore, verify and drill act on (prune checks the backups it keeps
/// with [`check_signature`]).
pub async fn read_manifest(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    key: &ManifestKey,
) -> Result<BackupManifest, OpsError> {
    let text = key.to_string();
    let bytes = get_all(store, &text).await.map_err(store_err(store))?;
    check_bytes(store, trust, &text, &bytes).await?;
    Ok(BackupManifest::from_json(&text, &bytes)?)
}

/// Reads the manifest behind a key WITHOUT checking its signature: only for
/// what a forged manifest cannot turn into harm (the next backup's size
/// estimate, tests).
pub async fn read_manifest_unverified(store: &dyn ObjectStore, key: &ManifestKey) -> Result<BackupManifest, OpsError> {
    let text = key.to_string();
    let bytes = get_all(store, &text).await.map_err(store_err(store))?;
    Ok(BackupManifest::from_json(&text, &bytes)?)
}

/// Checks the signature of the manifest at `key` (two GETs).
pub async fn check_signature(store: &dyn ObjectStore, trust: &ManifestTrust, key: &str) -> Result<Verdict, OpsError> {
    let bytes = get_all(store, key).await.map_err(store_err(store))?;
    check_bytes(store, trust, key, &bytes).await
}

async fn check_bytes(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    key: &str,
    body: &[u8],
) -> Result<Verdict, OpsError> {
    let signature = match get_all(store, &signature_key(key)).await {
        Ok(sig) => Some(sig),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(store_err(store)(e)),
    };
    Ok(trust.check(key, body, signature.as_deref())?)
}
