//! Checks made before neo4j-admin runs, so a backup fails early with a
//! message that names the number, the path or the setting to fix.
//!
//! Run-wide: recipients parse, neo4j-admin is 5.x/2025.x, the store accepts a
//! write. Per database: the staging folder is writable and has room for the
//! artifact (estimated from the database's last backup) times a safety factor.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::{ObjectStore, PutMode};

/// Where the free space of a directory comes from (a fake one in tests).
pub trait FreeSpace: Send + Sync {
    fn available(&self, dir: &Path) -> std::io::Result<u64>;
}

/// `statvfs(2)`: the bytes an unprivileged user may still write.
pub struct StatvfsFreeSpace;

impl FreeSpace for StatvfsFreeSpace {
    fn available(&self, dir: &Path) -> std::io::Result<u64> {
        use std::os::unix::ffi::OsStrExt;
        let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: c_path is a valid NUL-terminated string and `st` is a
        // properly sized out-parameter that statvfs fills on success.
        let rc = unsafe { libc::statvfs(c_path.as_ptr(), st.as_mut_ptr()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: statvfs returned 0, so it initialised `st`.
        let st = unsafe { st.assume_init() };
        #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
        Ok(st.f_bavail as u64 * st.f_frsize as u64)
    }
}

/// Not enough room in staging for a database's artifact.
#[derive(Debug, thiserror::Error)]
#[error(
    "staging {dir} has {available} free but the backup of '{database}' needs about {needed} \
     ({basis}); free space there, point [backup] staging_dir at a larger disk, or lower \
     [backup] free_space_factor / min_free_mib"
)]
pub struct NoSpace {
    pub dir: String,
    pub database: String,
    pub available: Bytes,
    pub needed: Bytes,
    pub basis: String,
}

/// A byte count printed for humans (and exact in parentheses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut v = self.0 as f64;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} B", self.0)
        } else {
            write!(f, "{v:.1} {} ({} bytes)", UNITS[unit], self.0)
        }
    }
}

impl Bytes {
    /// `1.2 GiB`-style, without the exact count (tables).
    pub fn short(self) -> String {
        let s = self.to_string();
        s.split(" (").next().unwrap_or(&s).to_string()
    }
}

/// The space a backup of a database needs: its last artifact size (or the
/// store size the server reports) × factor, and at least `min_free`.
pub fn needed_space(last_size: Option<u64>, store_size: Option<u64>, factor: f64, min_free: u64) -> (u64, String) {
    let (base, basis) = match (last_size, store_size) {
        (Some(l), _) => (l, format!("{} × {factor} from its last backup", Bytes(l))),
        (None, Some(s)) => (s, format!("{} × {factor} from its store size", Bytes(s))),
        (None, None) => (0, "no earlier backup to estimate from".to_string()),
    };
    let estimate = (base as f64 * factor).ceil() as u64;
    if estimate >= min_free {
        (estimate, basis)
    } else {
        (min_free, format!("{basis}; at least [backup] min_free_mib"))
    }
}

/// Checks the free space of `dir` for `database`.
pub fn check_space(
    fs: &dyn FreeSpace,
    dir: &Path,
    database: &str,
    needed: (u64, String),
) -> Result<u64, PreflightError> {
    let available = fs.available(dir).map_err(|source| PreflightError::Staging {
        path: dir.display().to_string(),
        source,
    })?;
    if available < needed.0 {
        return Err(PreflightError::NoSpace(NoSpace {
            dir: dir.display().to_string(),
            database: database.to_string(),
            available: Bytes(available),
            needed: Bytes(needed.0),
            basis: needed.1,
        }));
    }
    Ok(available)
}

/// A pre-flight failure.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(transparent)]
    NoSpace(NoSpace),
    #[error("staging {path} is full{}: {source}; free space there or point [backup] staging_dir at a larger disk", free_note(.available))]
    Full {
        path: String,
        available: Option<Bytes>,
        #[source]
        source: std::io::Error,
    },
    #[error("staging {path} is not usable: {source}; check [backup] staging_dir and its owner and mode")]
    Staging {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the store {location} does not accept writes: {source}; check the bucket, the endpoint and the credentials' put permission")]
    StoreWrite {
        location: String,
        #[source]
        source: crate::store::StoreError,
    },
}

/// Writes and removes a probe file in the staging folder. A full disk is
/// reported as one, with the free space `fs` reports.
pub fn check_writable(dir: &Path, fs: &dyn FreeSpace) -> Result<(), PreflightError> {
    let probe = dir.join(".graphvault-probe");
    let staging = |source: std::io::Error| {
        if is_disk_full(&source) {
            PreflightError::Full {
                path: dir.display().to_string(),
                available: fs.available(dir).map(Bytes).ok(),
                source,
            }
        } else {
            PreflightError::Staging {
                path: dir.display().to_string(),
                source,
            }
        }
    };
    std::fs::write(&probe, b"probe").map_err(staging)?;
    std::fs::remove_file(&probe).map_err(staging)
}

/// ENOSPC, or EDQUOT (a quota is as full as a disk to the writer).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

/// " (N free)" when known.
fn free_note(available: &Option<Bytes>) -> String {
    available.map(|b| format!(" ({} free)", b.short())).unwrap_or_default()
}

/// Overwrites `probe/<host>` in the store: proves it is reachable and takes
/// writes without needing delete permission (backup hosts should not have it).
pub async fn check_store_writable(store: &dyn ObjectStore, host: &str) -> Result<(), PreflightError> {
    let body = format!("graphvault write probe from {host}\n");
    let sha: [u8; 32] = Sha256::digest(body.as_bytes()).into();
    store
        .put(&format!("probe/{host}"), body.into(), sha, PutMode::Overwrite)
        .await
        .map_err(|source| PreflightError::StoreWrite {
            location: store.location(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u64);
    impl FreeSpace for Fixed {
        fn available(&self, _: &Path) -> std::io::Result<u64> {
            Ok(self.0)
        }
    }

    #[test]
    fn space_needed_comes_from_the_last_backup_then_the_store_size_then_the_minimum() {
        const MIB: u64 = 1 << 20;
        for (last, store, min, needed) in [
            (Some(1000 * MIB), Some(5000 * MIB), 10 * MIB, 1500 * MIB),
            (None, Some(2000 * MIB), 10 * MIB, 3000 * MIB),
            (None, None, 1024 * MIB, 1024 * MIB),
            (Some(MIB), None, 1024 * MIB, 1024 * MIB),
        ] {
            assert_eq!(needed_space(last, store, 1.5, min).0, needed, "{last:?} {store:?}");
        }
    }

    #[test]
    fn a_full_disk_is_reported_as_full_with_the_free_space_not_as_a_permission_problem() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(is_disk_full(&full) && is_disk_full(&std::io::Error::from_raw_os_error(libc::EDQUOT)));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(libc::EACCES)));
        let e = PreflightError::Full {
            path: "/var/lib/graphvault/staging/customer1-1".into(),
            available: Some(Bytes(4096)),
            source: full,
        };
        let text = e.to_string();
        assert!(
            text.contains("is full (4.0 KiB free)")
                && !text.contains("((")
                && text.contains("staging_dir")
                && !text.contains("owner and mode"),
            "{text}"
        );
    }

    #[test]
    fn too_little_space_names_both_numbers_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let need = needed_space(Some(3 << 30), None, 1.5, 0);
        let e = check_space(&Fixed(1 << 30), dir.path(), "customer1-1", need).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("1.0 GiB") && text.contains("4.5 GiB") && text.contains("staging_dir"),
            "{text}"
        );
        assert!(check_space(
            &Fixed(5 << 30),
            dir.path(),
            "c",
            needed_space(Some(3 << 30), None, 1.5, 0)
        )
        .is_ok());
    }

    #[test]
    fn statvfs_reports_some_space_for_a_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert!(StatvfsFreeSpace.available(dir.path()).unwrap() > 0);
        assert!(StatvfsFreeSpace.available(Path::new("/nonexistent/x")).is_err());
    }
}
