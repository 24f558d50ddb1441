//! Which backup a command means, and the chain it needs: the newest of an
//! alias or database, the newest at or before a time (both: the newest
//! trusted, complete one, `latest.rs`), or one by id; for a differential
//! backup, its parents back to the full one (from the bucket alone, as a
//! fresh host must).

use chrono::{DateTime, Utc};

use crate::model::{BackupManifest, DbName, ManifestKey};
use crate::signing::ManifestTrust;
use crate::store::ObjectStore;

use super::catalog::{find_backup, find_backup_in, find_in_alias, list_with_signatures, read_manifest, BackupFilter};
use super::known_names::NameKind;
use super::latest::newest_usable;
use super::OpsError;

/// How the operator named the backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    Id(String),
    Latest,
    /// The newest backup started at or before this time.
    At(DateTime<Utc>),
}

/// The backup of `database` (alias or database name) that `pick` means. A
/// backup named by id is taken as named (reading it checks it); "the
/// newest" skips the untrusted and incomplete ones, saying so.
pub async fn pick_backup(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    database: Option<&DbName>,
    pick: &Pick,
) -> Result<ManifestKey, OpsError> {
    let filter = BackupFilter {
        database: database.cloned(),
    };
    if let Pick::Id(id) = pick {
        return match (find_backup_in(store, id, &filter).await, database) {
            (Err(OpsError::BackupNotFound { .. }), Some(db)) => {
                let other = find_backup(store, id).await?;
                Err(OpsError::BackupNotFound {
                    what: format!(
                        "with id {id} of '{db}' (that backup is of {} / {})",
                        other.alias, other.database
                    ),
                    location: store.location(),
                })
            }
            (found, _) => found,
        };
    }
    let listing = list_with_signatures(store, &filter).await?;
    if let Some(db) = database {
        listing
            .names
            .require(NameKind::AliasOrDatabase, db.as_str(), &store.location())?;
    }
    let candidates: Vec<ManifestKey> = match pick {
        Pick::At(t) => listing
            .keys
            .iter()
            .filter(|k| k.backup_id.time() <= *t)
            .cloned()
            .collect(),
        _ => listing.keys.clone(),
    };
    let what = match (pick, database) {
        (Pick::At(t), Some(db)) => format!("of '{db}' at or before {t}"),
        (Pick::At(t), None) => format!("at or before {t}"),
        (_, Some(db)) => format!("of '{db}'"),
        _ => "at all".into(),
    };
    let (found, skipped) = newest_usable(store, trust, &candidates, &listing.signed_keys()).await?;
    match (found, skipped.first()) {
        (Some(key), _) => Ok(key),
        (None, Some(newest)) => Err(OpsError::NoUsableBackup {
            what,
            location: store.location(),
            skipped: skipped.len(),
            newest: newest.key.backup_id.to_string(),
            reason: newest.reason.clone(),
        }),
        (None, None) => Err(OpsError::BackupNotFound {
            what,
            location: store.location(),
        }),
    }
}

/// The backup and the ones it builds on, oldest (the full one) first.
pub async fn resolve_chain(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    key: &ManifestKey,
) -> Result<Vec<BackupManifest>, OpsError> {
    let newest = read_manifest(store, trust, key).await?;
    chain_from(store, trust, key, newest).await
}

/// `resolve_chain` for a manifest already read (and trusted) from `key`.
pub async fn chain_from(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    key: &ManifestKey,
    newest: BackupManifest,
) -> Result<Vec<BackupManifest>, OpsError> {
    let mut chain = vec![newest];
    while let Some(parent) = chain
        .last()
        .and_then(|m| m.neo4j.as_ref())
        .and_then(|n| n.parent.clone())
    {
        if chain.len() > 1000 || chain.iter().any(|m| m.backup_id.as_str() == parent) {
            return Err(OpsError::BrokenChain {
                backup: key.backup_id.to_string(),
                detail: format!("the chain of parents loops or is implausibly long at {parent}"),
            });
        }
        // The parent is under the same alias: one small listing finds it
        // (the whole catalog is searched only if it is not there).
        let alias = chain
            .last()
            .map(|m| m.alias.clone())
            .unwrap_or_else(|| key.alias.clone());
        let near = match parent.parse() {
            Ok(id) => find_in_alias(store, &alias, &id).await?,
            Err(_) => None,
        };
        let parent_key = match near {
            Some(k) => k,
            None => find_backup(store, &parent).await.map_err(|e| match e {
                OpsError::BackupNotFound { .. } => OpsError::BrokenChain {
                    backup: key.backup_id.to_string(),
                    detail: format!("its parent backup {parent} is missing from the bucket"),
                },
                other => other,
            })?,
        };
        chain.push(read_manifest(store, trust, &parent_key).await?);
    }
    chain.reverse();
    Ok(chain)
}
