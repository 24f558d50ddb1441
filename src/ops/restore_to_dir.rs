//! Downloading backups into a directory: every artifact of a backup and of
//! the backups it builds on, each opened and verified, and only then moved
//! to its name. Used by `restore --to-dir`, by the restore into Neo4j
//! (staging) and by `verify --deep`.
//!
//! Each artifact is written to a hidden temporary file inside DIR (same
//! filesystem, so the final move is an atomic rename). Temporary files are
//! removed on any failure; a crash can leave only `.graphvault-partial-*`
//! files, never a file with an artifact's name. Existing files are never
//! overwritten. Every artifact name must be a plain file name, distinct in
//! the whole chain, before anything is downloaded: a name from a manifest
//! never becomes a path outside DIR (the manifest parser refuses such names
//! too; this is the second line).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::{artifact_path, BackupManifest, ManifestError, ManifestKey};
use crate::pipeline::{open_with_progress, Identities};

use super::progress::{ProgressStyle, Tracker};
use crate::store::ObjectStore;

use super::backup_run::{Bytes, FreeSpace, StatvfsFreeSpace};
use super::chain::resolve_chain;
use super::OpsError;
use crate::signing::ManifestTrust;

/// Restores the backup at `key` (and its chain) into `dir`; returns the
/// paths written. Archived objects get a restore request first
/// (`archive.rs`).
pub async fn restore_to_dir(
    store: Arc<dyn ObjectStore>,
    identities: Arc<Identities>,
    trust: &ManifestTrust,
    key: &ManifestKey,
    dir: &Path,
    wait_for_archive: Option<std::time::Duration>,
    progress: ProgressStyle,
) -> Result<Vec<PathBuf>, OpsError> {
    let chain = resolve_chain(store.as_ref(), trust, key).await?;
    check_room(&StatvfsFreeSpace, dir, key, &chain)?;
    super::archive::ensure_readable(store.as_ref(), &chain, wait_for_archive, archive_poll(wait_for_archive)).await?;
    let written = download_verified(store, identities, &chain, dir, progress).await?;
    tracing::info!(backup_id = %key.backup_id, artifacts = written.len(), dir = %dir.display(), "restore verified and complete");
    Ok(written)
}

/// Refuses a restore into `dir` that cannot fit: the plain artifacts of the
/// whole chain against the free space of `dir` (or of its nearest existing
/// ancestor, when it is still to be made). Unknown free space passes: the
/// writes then say what failed.
pub fn check_room(
    free: &dyn FreeSpace,
    dir: &Path,
    key: &ManifestKey,
    chain: &[BackupManifest],
) -> Result<(), OpsError> {
    let needed: u64 = chain.iter().flat_map(|m| &m.artifacts).map(|a| a.size).sum();
    let Some(existing) = dir.ancestors().find(|d| d.is_dir()) else {
        return Ok(());
    };
    match free.available(existing) {
        Ok(available) if available < needed => Err(OpsError::NoRoom {
            dir: dir.to_path_buf(),
            backup_id: key.backup_id.to_string(),
            available: Bytes(available),
            needed: Bytes(needed),
        }),
        _ => Ok(()),
    }
}

/// How often to look at archived objects while waiting for them.
pub fn archive_poll(wait: Option<std::time::Duration>) -> std::time::Duration {
    use std::time::Duration;
    wait.map_or(Duration::from_secs(1), |w| {
        (w / 10).clamp(Duration::from_secs(1), Duration::from_secs(300))
    })
}

/// The path of every artifact of `chain` in `dir`, in order; refused (exit
/// 4, nothing written) when a name is not a plain file name or two artifacts
/// of the chain share one.
fn destinations(chain: &[BackupManifest], dir: &Path) -> Result<Vec<PathBuf>, OpsError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for manifest in chain {
        let key = || manifest.key().to_string();
        for record in &manifest.artifacts {
            let path = artifact_path(dir, &record.name).map_err(|_| ManifestError::UnsafeArtifactName {
                key: key(),
                name: record.name.clone(),
            })?;
            if out.contains(&path) {
                return Err(ManifestError::BadArtifact {
                    key: key(),
                    what: format!(
                        "its artifact {} has the name of another artifact of its chain",
                        record.name
                    ),
                }
                .into());
            }
            out.push(path);
        }
    }
    Ok(out)
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
    let dests = destinations(chain, dir)?;
    std::fs::create_dir_all(dir).map_err(|e| OpsError::local_io("cannot create directory", dir, e))?;
    let mut verified = Vec::new();
    let records = chain.iter().flat_map(|m| m.artifacts.iter().map(move |r| (m, r)));
    for ((manifest, record), dest) in records.zip(dests) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestKey;

    fn manifest(id: &str, name: &str) -> BackupManifest {
        let key = ManifestKey::parse(&format!("manifests/customer1/{id}~customer1~FULL.json")).unwrap();
        let object = format!("data/customer1/{id}/{name}.zst.age");
        BackupManifest::placeholder(&key, &[(object, 6)])
    }

    #[test]
    fn names_that_leave_the_directory_or_repeat_in_the_chain_are_refused_before_any_download() {
        let dir = Path::new("/restore/here");
        let (a, b) = (
            manifest("20261124T020000Z-3fa91c", "a.backup"),
            manifest("20261125T020000Z-3fa91d", "b.backup"),
        );
        assert_eq!(
            destinations(&[a.clone(), b], dir).unwrap(),
            [dir.join("a.backup"), dir.join("b.backup")]
        );
        for bad in ["../a.backup", "/etc/cron.d/a", "x/../../a", ".."] {
            let mut forged = a.clone();
            forged.artifacts[0].name = bad.into();
            let err = destinations(&[forged], dir).unwrap_err();
            assert!(
                matches!(err, OpsError::Manifest(ManifestError::UnsafeArtifactName { .. })),
                "{bad:?}: {err}"
            );
        }
        let twice = manifest("20261125T020000Z-3fa91d", "a.backup");
        assert!(matches!(
            destinations(&[a, twice], dir),
            Err(OpsError::Manifest(ManifestError::BadArtifact { .. }))
        ));
    }
}
