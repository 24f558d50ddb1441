//! The catalog: which backups exist, read from manifest keys alone.
//!
//! A backup exists if and only if its manifest exists. Listing is one
//! `ListObjectsV2` walk over `manifests/`; reading a manifest is one GET, done
//! only for the backup a command acts on.

use crate::model::{BackupId, BackupManifest, DbName, ManifestKey, MANIFESTS};
use crate::store::{get_all, ObjectStore};

use super::OpsError;

/// Which backups a command is about.
#[derive(Clone, Debug, Default)]
pub struct BackupFilter {
    /// Matches the alias or the concrete database name.
    pub database: Option<DbName>,
}

impl BackupFilter {
    fn matches(&self, k: &ManifestKey) -> bool {
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
    let objects = store.list(MANIFESTS).await.map_err(store_err(store))?;
    let mut keys: Vec<ManifestKey> = objects
        .iter()
        .filter_map(|o| {
            let parsed = ManifestKey::parse(&o.key);
            if parsed.is_none() {
                tracing::debug!(key = %o.key, "ignoring an object under manifests/ that is not a manifest key");
            }
            parsed
        })
        .filter(|k| filter.matches(k))
        .collect();
    keys.sort_by(|a, b| (&a.backup_id, &a.alias).cmp(&(&b.backup_id, &b.alias)));
    Ok(keys)
}

/// Finds one backup by id.
pub async fn find_backup(store: &dyn ObjectStore, id: &str) -> Result<ManifestKey, OpsError> {
    id.parse::<BackupId>()?;
    let all = list_backups(store, &BackupFilter::default()).await?;
    all.into_iter()
        .find(|k| k.backup_id.as_str() == id)
        .ok_or_else(|| OpsError::BackupNotFound {
            id: id.to_string(),
            location: store.location(),
        })
}

/// Reads and parses the manifest behind a key.
pub async fn read_manifest(store: &dyn ObjectStore, key: &ManifestKey) -> Result<BackupManifest, OpsError> {
    let text = key.to_string();
    let bytes = get_all(store, &text).await.map_err(store_err(store))?;
    Ok(BackupManifest::from_json(&text, &bytes)?)
}
