//! `graphvault backup --artifact PATH…`: seal existing artifacts and commit a
//! manifest. The Neo4j-driven backup reuses this path for each database.
//!
//! Write order (docs/DESIGN.md): every data object is uploaded and verified
//! first; the manifest is written last, with a create-only PUT. A crash at any
//! earlier point leaves only data objects without a manifest, which no command
//! treats as a backup. The artifact files are only read, never removed here.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::model::{
    check_artifact_name, data_key, BackupId, BackupManifest, CompressionInfo, DbName, EncryptionInfo, Label, Neo4jInfo,
    MANIFEST_FORMAT, MANIFEST_VERSION,
};
use crate::pipeline::{seal_to_store, Recipients};
use crate::signing::signature_key;
use crate::store::{get_all, ObjectStore, PutMode, StoreError};

use super::progress::{ProgressStyle, Tracker};
use super::OpsError;

/// What to back up.
#[derive(Clone, Debug)]
pub struct ArtifactBackupRequest {
    pub artifacts: Vec<PathBuf>,
    pub database: DbName,
    /// Grouping alias; the database name when `None`.
    pub alias: Option<DbName>,
    pub labels: Vec<Label>,
    pub neo4j: Option<Neo4jInfo>,
    /// How upload progress is shown.
    pub progress: ProgressStyle,
    /// Set when the run's lease was lost: the manifest is then not written.
    pub lease_lost: Option<Arc<AtomicBool>>,
}

/// Checks that every artifact is a readable regular file with a storable,
/// unique name; returns the names. Writes nothing.
pub fn check_artifacts(artifacts: &[PathBuf]) -> Result<Vec<String>, OpsError> {
    let mut names = Vec::new();
    for path in artifacts {
        let missing = |detail: String| OpsError::ArtifactMissing {
            path: path.clone(),
            detail,
        };
        let meta = std::fs::metadata(path).map_err(|e| missing(e.to_string()))?;
        if !meta.is_file() {
            return Err(missing("not a regular file".into()));
        }
        // Read its first bytes now: an unreadable second artifact must stop
        // the run before the first one is sent, not leave it as orphan data.
        read_start(path).map_err(|e| missing(format!("cannot be read ({e}); check its owner and mode")))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| missing("no file name".into()))?;
        check_artifact_name(&name).map_err(|e| missing(e.to_string()))?;
        if names.contains(&name) {
            return Err(missing("the same file name is given twice".into()));
        }
        names.push(name);
    }
    Ok(names)
}

/// Opens `path` and reads its first block.
fn read_start(path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Read;
    let mut first = [0u8; 4096];
    std::fs::File::open(path)?.read(&mut first).map(drop)
}

/// Seals and uploads the artifacts, then commits the manifest.
pub async fn backup_artifacts(
    store: Arc<dyn ObjectStore>,
    config: &Config,
    req: &ArtifactBackupRequest,
) -> Result<BackupManifest, OpsError> {
    let recipients = Arc::new(Recipients::parse(&config.recipients)?);
    let signer = config.signing.signer()?;
    let names = check_artifacts(&req.artifacts)?;

    let started_at = Utc::now();
    let alias = req.alias.clone().unwrap_or_else(|| req.database.clone());
    let previous = super::catalog::newest_in_alias(store.as_ref(), &alias).await?;
    let backup_id = BackupId::after(started_at, previous.as_ref());
    if backup_id.time() > started_at + chrono::Duration::seconds(1) {
        tracing::warn!(
            newest = %previous.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            backup_id = %backup_id,
            "this host's clock is behind the alias's newest backup: the id is set after it, so backups stay in the order they were made"
        );
    }
    let span = tracing::info_span!("backup", backup_id = %backup_id, alias = %alias, database = %req.database);
    let _enter = span.enter();

    let mut records = Vec::new();
    for (path, name) in req.artifacts.iter().zip(&names) {
        let key = data_key(&alias, &backup_id, name);
        tracing::info!(artifact = %path.display(), key, "sealing and uploading");
        let t0 = std::time::Instant::now();
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let tracker = Tracker::start(req.progress, name, size);
        let counter = Some(tracker.counter());
        let sealed = seal_to_store(store.clone(), path, &key, recipients.clone(), &config.seal, counter).await?;
        drop(tracker);
        let secs = t0.elapsed().as_secs_f64();
        tracing::info!(
            key,
            size = sealed.plain.size,
            stored_size = sealed.stored.size,
            parts = sealed.parts,
            level = sealed.compression_level,
            seconds = format!("{secs:.2}"),
            mib_per_s = format!("{:.1}", sealed.plain.size as f64 / (1 << 20) as f64 / secs.max(1e-9)),
            "artifact stored and verified"
        );
        records.push(sealed.to_record(name, &key));
    }

    let manifest = BackupManifest {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        backup_id,
        alias,
        database: req.database.clone(),
        labels: req.labels.clone(),
        started_at,
        finished_at: Utc::now(),
        graphvault_version: crate::VERSION.into(),
        compression: CompressionInfo {
            algorithm: "zstd".into(),
            level: config.seal.level,
        },
        encryption: EncryptionInfo {
            scheme: "age".into(),
            recipients: recipients.as_strings().to_vec(),
        },
        neo4j: req.neo4j.clone(),
        artifacts: records,
    };
    if req.lease_lost.as_ref().is_some_and(|l| l.load(Ordering::SeqCst)) {
        return Err(OpsError::LeaseLost {
            location: store.location(),
        });
    }
    let key = manifest.key().to_string();
    let body = manifest.to_json();
    // The signature goes first: a manifest is never visible unsigned. A crash
    // in between leaves a signature without a manifest, which prune removes.
    if let Some(signer) = &signer {
        let signature = signer.sign_manifest(&key, &body)?;
        put_create_only(store.as_ref(), &signature_key(&key), signature.into_bytes()).await?;
    }
    put_create_only(store.as_ref(), &key, body).await?;
    tracing::info!(manifest = key, signed = signer.is_some(), "backup committed");
    tag_tier(store.as_ref(), &manifest, signer.is_some(), config).await;
    raise_chain_tiers(store.as_ref(), &manifest, config).await;
    Ok(manifest)
}

/// Writes an object that must not exist yet. A retried PUT whose first
/// response was lost finds its own bytes there, which counts as success;
/// anything else there is an error (never overwritten).
async fn put_create_only(store: &dyn ObjectStore, key: &str, body: Vec<u8>) -> Result<(), OpsError> {
    let sha256: [u8; 32] = Sha256::digest(&body).into();
    let store_err = |source| OpsError::Store {
        location: store.location(),
        source,
    };
    match store.put(key, body.clone().into(), sha256, PutMode::CreateOnly).await {
        Ok(()) => Ok(()),
        Err(StoreError::PreconditionFailed { .. }) => {
            let existing = get_all(store, key).await.map_err(store_err)?;
            if existing[..] != body[..] {
                return Err(store_err(StoreError::PreconditionFailed { key: key.to_string() }));
            }
            Ok(())
        }
        Err(e) => Err(store_err(e)),
    }
}

/// Tags the new backup's objects with their retention tier (`daily`, or
/// `pinned`), for lifecycle rules that expire tiers server-side. Best
/// effort: an untagged object is simply never expired by such a rule.
async fn tag_tier(store: &dyn ObjectStore, manifest: &BackupManifest, signed: bool, config: &Config) {
    use crate::retention::tier;
    let pinned = manifest.labels.iter().any(|l| l.is_pinning());
    let t = tier::tier_of(&[], pinned);
    let tags = [(tier::TIER_TAG.to_string(), t.to_string())];
    let policy = config.retention.policy_for(manifest.alias.as_str());
    let until = tier::retain_until(policy, t, manifest.started_at, Utc::now());
    let manifest_key = manifest.key().to_string();
    let signature = signed.then(|| signature_key(&manifest_key));
    let keys = std::iter::once(manifest_key)
        .chain(signature)
        .chain(manifest.artifacts.iter().map(|a| a.key.clone()));
    for key in keys {
        if let Err(e) = store.put_tags(&key, &tags).await {
            tracing::warn!(key, error = %e, "cannot tag the object with its retention tier");
        }
        if let Some(mode) = &config.retention.object_lock_mode {
            if let Err(e) = store.set_retention(&key, mode, until).await {
                tracing::warn!(key, error = %e, "cannot set object-lock retention");
            }
        }
    }
}

/// A new differential backup lives as long as its tier; its parents must
/// live at least as long, or a lifecycle rule could expire them first. Raises
/// the tier tag (and object-lock retention) of every parent that would
/// expire too early. Best effort, like the tagging itself: prune does the
/// same for every kept chain on its next run.
async fn raise_chain_tiers(store: &dyn ObjectStore, manifest: &BackupManifest, config: &Config) {
    use crate::model::{backup_data_prefix, Chain, ManifestKey, MANIFESTS};
    use crate::retention::tier;
    let policy = config.retention.policy_for(manifest.alias.as_str());
    let child = (
        tier::tier_of(&[], manifest.labels.iter().any(|l| l.is_pinning())),
        manifest.started_at,
    );
    let mut cursor = manifest.parent();
    let mut hops = 0;
    while let Some(parent) = cursor.take() {
        hops += 1;
        if hops > 1000 {
            break;
        }
        let prefix = format!("{MANIFESTS}{}/{parent}~", manifest.alias);
        let listed = match store.list(&prefix).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(parent = %parent, error = %e, "cannot find the parent backup to raise its retention tier");
                return;
            }
        };
        let Some(key) = listed.iter().find_map(|o| ManifestKey::parse(&o.key)) else {
            tracing::warn!(parent = %parent, "the parent backup is not in the bucket; its tier cannot be raised");
            return;
        };
        let text = key.to_string();
        let current = store
            .get_tags(&text)
            .await
            .ok()
            .and_then(|tags| tags.into_iter().find(|(k, _)| k == tier::TIER_TAG))
            .map(|(_, v)| v);
        let own = tier::from_tag(current.as_deref());
        let needed = tier::outliving(policy, own, parent.time(), &[child]);
        if needed != own {
            let data = store
                .list(&backup_data_prefix(&manifest.alias, &parent))
                .await
                .unwrap_or_default();
            let tags = [(tier::TIER_TAG.to_string(), needed.to_string())];
            let until = tier::retain_until(policy, needed, parent.time(), Utc::now());
            for o in listed.iter().chain(data.iter()) {
                if let Err(e) = store.put_tags(&o.key, &tags).await {
                    tracing::warn!(key = o.key, error = %e, "cannot raise the retention tier of a parent backup");
                }
                if let Some(mode) = &config.retention.object_lock_mode {
                    if let Err(e) = store.set_retention(&o.key, mode, until).await {
                        tracing::warn!(key = o.key, error = %e, "cannot extend object-lock retention of a parent backup");
                    }
                }
            }
            tracing::info!(parent = %parent, from = own, to = needed, "raised the retention tier of a parent backup");
        }
        cursor = match &key.chain {
            Chain::Diff(p) => Some(p.clone()),
            Chain::Full => None,
            Chain::Unknown => match super::catalog::read_manifest_unverified(store, &key).await {
                Ok(m) => m.parent(),
                Err(_) => None,
            },
        };
    }
}
