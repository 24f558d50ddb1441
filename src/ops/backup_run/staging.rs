//! The staging directory of one database, `<staging_dir>/<database>/`, where
//! neo4j-admin writes its artifacts.
//!
//! Rules (docs/DESIGN.md, "Staging"):
//! - `committed.json` lists the backups whose artifacts are in the bucket
//!   under a committed manifest; it is written after the manifest.
//! - Before neo4j-admin runs, every other file in the folder (a partial
//!   artifact of a killed run, an artifact whose upload never committed) is
//!   moved to `.leftover/`, so a differential backup never builds on it.
//! - `.leftover/` holds one run's leftovers at most: newer ones replace
//!   older ones, a commit empties it, and a backup short of room takes it
//!   back (it holds no backup: nothing in the bucket depends on it), so
//!   killed runs can never wedge staging or pile up plaintext.
//! - Committed artifacts beyond `keep_local` are removed after the commit,
//!   keeping the chains (full + differentials) of the kept backups.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const COMMITTED: &str = "committed.json";
const LEFTOVER: &str = ".leftover";

/// One committed backup whose artifacts may still be in staging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalBackup {
    pub backup_id: String,
    pub artifacts: Vec<String>,
    /// `FULL` or `DIFF`, when known.
    #[serde(default)]
    pub backup_type: Option<String>,
    /// The backup a differential one builds on.
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Committed {
    backups: Vec<LocalBackup>,
}

/// A local staging problem; names the path.
#[derive(Debug, thiserror::Error)]
#[error("staging {path}: {what}: {source}")]
pub struct StagingError {
    pub path: PathBuf,
    pub what: &'static str,
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> StagingError {
    let path = path.to_path_buf();
    move |source| StagingError { path, what, source }
}

/// `<staging_dir>/<database>/`.
#[derive(Clone, Debug)]
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Creates the folder (mode 0700: artifacts are plaintext database copies).
    pub fn open(staging_dir: &Path, database: &str) -> Result<Self, StagingError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = staging_dir.join(database);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(err(&dir, "cannot create the directory"))?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn committed(&self) -> Result<Committed, StagingError> {
        let path = self.dir.join(COMMITTED);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                // Only a cache of what the bucket holds: start over, loudly.
                tracing::warn!(path = %path.display(), error = %e, "unreadable committed.json ignored");
                Committed::default()
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Committed::default()),
            Err(e) => Err(err(&path, "cannot read")(e)),
        }
    }

    fn write_committed(&self, c: &Committed) -> Result<(), StagingError> {
        let path = self.dir.join(COMMITTED);
        let tmp = self.dir.join(".committed.json.tmp");
        let body = serde_json::to_vec_pretty(c).unwrap_or_default();
        std::fs::write(&tmp, body).map_err(err(&tmp, "cannot write"))?;
        std::fs::rename(&tmp, &path).map_err(err(&path, "cannot replace"))
    }

    /// The committed backups still (partly) on disk, oldest first.
    pub fn local_backups(&self) -> Result<Vec<LocalBackup>, StagingError> {
        Ok(self.committed()?.backups)
    }

    /// Moves every file that is not an artifact of a committed backup into
    /// `.leftover/`; returns their names. What an earlier run set aside
    /// there is removed first: the newer leftovers supersede it, so at most
    /// one run's plaintext waits there. If `.leftover/` cannot be made (a
    /// full disk), the files are removed instead: they are no backup.
    pub fn set_aside_leftovers(&self) -> Result<Vec<String>, StagingError> {
        let known: BTreeSet<String> = self
            .committed()?
            .backups
            .into_iter()
            .flat_map(|b| b.artifacts)
            .collect();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(err(&self.dir, "cannot list"))? {
            let entry = entry.map_err(err(&self.dir, "cannot list"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != COMMITTED && name != LEFTOVER && !known.contains(&name) {
                found.push(name);
            }
        }
        if found.is_empty() {
            return Ok(found);
        }
        if self.clear_leftovers()? > 0 {
            tracing::info!("leftovers of an earlier run removed: newer ones supersede them");
        }
        let leftover = self.dir.join(LEFTOVER);
        let made = std::fs::create_dir_all(&leftover);
        for name in &found {
            let path = self.dir.join(name);
            if let Err(e) = &made {
                tracing::warn!(file = %name, error = %e, "cannot make .leftover/; removing a file no committed backup accounts for");
                remove_any(&path).map_err(err(&path, "cannot remove a leftover"))?;
                continue;
            }
            let dest = leftover.join(name);
            std::fs::rename(&path, &dest).map_err(err(&dest, "cannot move a leftover"))?;
            tracing::warn!(file = %name, to = %dest.display(), "set aside a file no committed backup accounts for (removed when a backup commits, when room is needed, or when newer leftovers replace it)");
        }
        Ok(found)
    }

    /// Bytes in `.leftover/`: room a backup may take back.
    pub fn leftover_bytes(&self) -> u64 {
        fn size(path: &Path) -> u64 {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => std::fs::read_dir(path)
                    .map(|d| d.flatten().map(|e| size(&e.path())).sum())
                    .unwrap_or(0),
                Ok(m) => m.len(),
                Err(_) => 0,
            }
        }
        size(&self.dir.join(LEFTOVER))
    }

    /// Removes `.leftover/`; returns the bytes it held.
    pub fn clear_leftovers(&self) -> Result<u64, StagingError> {
        let leftover = self.dir.join(LEFTOVER);
        let bytes = self.leftover_bytes();
        match std::fs::remove_dir_all(&leftover) {
            Ok(()) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(err(&leftover, "cannot remove")(e)),
        }
    }

    /// Records a committed backup, then empties `.leftover/` and removes
    /// committed artifacts beyond `keep_local` (chain-aware). Returns the
    /// names removed from the folder itself.
    pub fn commit(&self, backup: LocalBackup, keep_local: u32) -> Result<Vec<String>, StagingError> {
        let mut c = self.committed()?;
        c.backups.push(backup);
        let keep = kept_ids(&c.backups, keep_local as usize);
        let (kept, dropped): (Vec<_>, Vec<_>) = c.backups.into_iter().partition(|b| keep.contains(&b.backup_id));
        // Record first: a crash between here and the removals leaves files
        // that the next run sets aside and deletes; nothing is lost either way.
        self.write_committed(&Committed { backups: kept })?;
        let mut removed = Vec::new();
        for name in dropped.into_iter().flat_map(|b| b.artifacts) {
            let path = self.dir.join(&name);
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(name),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(&path, "cannot remove an uploaded artifact")(e)),
            }
        }
        if self.clear_leftovers()? > 0 {
            tracing::info!(path = %self.dir.join(LEFTOVER).display(), "leftovers of an earlier run removed");
        }
        Ok(removed)
    }
}

/// Removes a file, or a directory with what it holds.
fn remove_any(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// How many differential backups the newest one stands on top of its full
/// backup with (itself included; 0 when it is full or there is none).
pub fn diffs_on_top(backups: &[LocalBackup]) -> usize {
    let mut n = 0;
    let mut cur = backups.last();
    while let Some(b) = cur.filter(|b| b.parent.is_some()) {
        n += 1;
        if n > backups.len() {
            break; // a loop in a damaged committed.json
        }
        cur = b
            .parent
            .as_ref()
            .and_then(|p| backups.iter().find(|y| &y.backup_id == p));
    }
    n
}

/// Ids of the newest `keep` backups and the ancestors their chains need.
fn kept_ids(backups: &[LocalBackup], keep: usize) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    for b in backups.iter().rev().take(keep) {
        let mut cur = Some(b);
        while let Some(x) = cur {
            if !kept.insert(x.backup_id.clone()) {
                break;
            }
            cur = x
                .parent
                .as_ref()
                .and_then(|p| backups.iter().find(|y| &y.backup_id == p));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(id: &str, parent: Option<&str>) -> LocalBackup {
        LocalBackup {
            backup_id: id.into(),
            artifacts: vec![format!("db-{id}.backup")],
            backup_type: Some(if parent.is_some() { "DIFF" } else { "FULL" }.into()),
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn the_chain_length_counts_differentials_back_to_the_full_backup() {
        assert_eq!(diffs_on_top(&[]), 0);
        assert_eq!(diffs_on_top(&[local("a", None)]), 0);
        let chain = [local("a", None), local("b", Some("a")), local("c", Some("b"))];
        assert_eq!(diffs_on_top(&chain), 2);
        let restarted = [local("a", None), local("b", Some("a")), local("c", None)];
        assert_eq!(diffs_on_top(&restarted), 0);
    }

    #[test]
    fn keep_local_keeps_the_chains_of_the_newest() {
        let chain = [
            local("1", None),
            local("2", Some("1")),
            local("3", None),
            local("4", Some("3")),
            local("5", Some("4")),
        ];
        for (keep, expected) in [
            (0, vec![]),
            (1, vec!["3", "4", "5"]),
            (3, vec!["3", "4", "5"]),
            (4, vec!["1", "2", "3", "4", "5"]),
        ] {
            let got: Vec<String> = kept_ids(&chain, keep).into_iter().collect();
            assert_eq!(got, expected, "keep {keep}");
        }
    }

    #[test]
    fn leftovers_are_set_aside_and_removed_only_after_a_commit() {
        let root = tempfile::tempdir().unwrap();
        let s = Staging::open(root.path(), "customer1-1").unwrap();
        std::fs::write(s.dir().join("db-old.backup"), b"partial").unwrap();
        assert_eq!(s.set_aside_leftovers().unwrap(), ["db-old.backup"]);
        assert!(s.dir().join(".leftover/db-old.backup").is_file());
        std::fs::write(s.dir().join("db-1.backup"), b"new").unwrap();
        let removed = s.commit(local("1", None), 0).unwrap();
        assert_eq!(removed, ["db-1.backup"]);
        assert!(!s.dir().join(".leftover").exists());
        assert!(s.local_backups().unwrap().is_empty());

        std::fs::write(s.dir().join("db-2.backup"), b"kept").unwrap();
        assert!(s.commit(local("2", None), 1).unwrap().is_empty());
        assert!(
            s.set_aside_leftovers().unwrap().is_empty(),
            "a kept artifact is not a leftover"
        );
    }
}
