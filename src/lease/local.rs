//! The local lock: `flock(2)` on `<staging_dir>/.graphvault.lock`, so two
//! runs on one host never share a staging directory. The kernel drops the
//! lock when the process dies, so a crash never leaves a stale local lock.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// A local lock problem.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path} is locked by another graphvault run ({holder}); wait for it to finish")]
    Busy { path: PathBuf, holder: String },
    #[error("cannot lock {path}: {source}; check [backup] staging_dir and its permissions")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Held until dropped.
#[derive(Debug)]
pub struct LocalLock {
    _file: File,
    path: PathBuf,
}

impl LocalLock {
    /// Takes the lock without waiting; writes who holds it into the file.
    pub fn acquire(dir: &Path, run_id: &str) -> Result<Self, LockError> {
        let path = dir.join(".graphvault.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(LockError::Busy {
                    path,
                    holder: holder.trim().to_string(),
                });
            }
            return Err(io(err));
        }
        let who = format!(
            "pid {} run {} since {}\n",
            std::process::id(),
            run_id,
            crate::json::timestamp::format(&chrono::Utc::now())
        );
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(who.as_bytes()).map_err(io)?;
        Ok(Self { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder_and_is_free_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalLock::acquire(dir.path(), "run-a").unwrap();
        let err = LocalLock::acquire(dir.path(), "run-b").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains("run-a"),
            "{text}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(first.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(first);
        LocalLock::acquire(dir.path(), "run-b").unwrap();
    }
}
