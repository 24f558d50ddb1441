//! Downloading backups into a directory: every artifact of a backup and of
//! the backups it builds on, each opened and verified, and only then moved
//! to its name. Used by `restore --to-dir`, by the restore into Neo4j
//! (staging) and by `verify --deep`.
//!
//! Each artifact is written to a hidden temporary file inside DIR (same
//! filesystem, so the final move is an atomic rename). Temporary files are
//! removed on any failure; a crash can leave only `.graphvault-partial-*`
//! files, never a file with an artifact's name. Existing files are never
//! overwritten.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::BackupManifest;
use crate::pipeline::{open_with_progress, Identities};

use super::progress::{ProgressStyle, Tracker};
use crate::store::ObjectStore;

use super::catalog::find_backup;
use super::chain::resolve_chain;
use super::OpsError;
use crate::signing::ManifestTrust;

/// Restores backup `id` (and its chain) into `dir`; returns the paths
/// written. Archived objects get a restore request first (`archive.rs`).
pub async fn restore_to_dir(
    store: Arc<dyn ObjectStore>,
    identities: Arc<Identities>,
    trust: &ManifestTrust,
    id: &str,
    dir: &Path,
    wait_for_archive: Option<std::time::Duration>,
    progress: ProgressStyle,
) -> Result<Vec<PathBuf>, OpsError> {
    let key = find_backup(store.as_ref(), id).await?;
    let chain = resolve_chain(store.as_ref(), trust, &key).await?;
    super::archive::ensure_readable(store.as_ref(), &chain, wait_for_archive, archive_poll(wait_for_archive)).await?;
    let written = download_verified(store, identities, &chain, dir, progress).await?;
    tracing::info!(backup_id = id, artifacts = written.len(), dir = %dir.display(), "restore verified and complete");
    Ok(written)
}

/// How often to look at archived objects while waiting for them.
pub fn archive_poll(wait: Option<std::time::Duration>) -> std::time::Duration {
    use std::time::Duration;
    wait.map_or(Duration::from_secs(1), |w| {
        (w / 10).clamp(Duration::from_secs(1), Duration::from_secs(300))
    })
}

/// Downloads and verifies every artifact of `chain` into `dir`; nothing gets
/// its final name until all of them verified.
pub async fn download_verified(
    store: Arc<dyn ObjectStore>,
    identities: Arc<Identities>,
    chain: &[BackupManifest],
    dir: &Path,
    progress: ProgressStyle,
) -> Result<Vec<PathBuf>, OpsError> {
    std::fs::create_dir_all(dir).map_err(|e| OpsError::local_io("cannot create directory", dir, e))?;
    let mut verified = Vec::new();
    for manifest in chain {
        for record in &manifest.artifacts {
            let dest = dir.join(&record.name);
            if dest.exists() {
                return Err(OpsError::DestinationExists { path: dest });
            }
            let tmp = tempfile::Builder::new()
                .prefix(".graphvault-partial-")
                .tempfile_in(dir)
                .map_err(|e| OpsError::local_io("cannot create a temporary file in", dir, e))?;
            let out = tmp
                .as_file()
                .try_clone()
                .map_err(|e| OpsError::local_io("cannot write", tmp.path(), e))?;
            tracing::info!(key = record.key, size = record.size, "downloading and verifying");
            let tracker = Tracker::start(progress, &record.name, record.stored_size);
            open_with_progress(
                store.clone(),
                record,
                &manifest.encryption.recipients,
                identities.clone(),
                crate::pipeline::WritebackFile::new(out),
                Some(tracker.counter()),
            )
            .await?;
            drop(tracker);
            tmp.as_file()
                .sync_all()
                .map_err(|e| OpsError::local_io("cannot fsync", tmp.path(), e))?;
            verified.push((tmp, dest));
        }
    }

    // Every artifact verified: now, and only now, give them their names.
    let mut written = Vec::new();
    for (tmp, dest) in verified {
        tmp.persist_noclobber(&dest).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                OpsError::DestinationExists { path: dest.clone() }
            } else {
                OpsError::local_io("cannot move the verified artifact to", &dest, e.error)
            }
        })?;
        written.push(dest);
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| OpsError::local_io("cannot fsync directory", dir, e))?;
    Ok(written)
}
