//! Files that hold secret keys (age identities, signing keys): read only
//! when neither group nor others can read them, as ssh does for its keys.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Why a secret file was not read.
#[derive(Debug)]
pub enum SecretFileError {
    Unreadable(std::io::Error),
    /// Group or others may read it; the file's permission bits.
    Exposed {
        mode: u32,
    },
}

/// The contents of `path`, if only its owner can read it.
pub fn read_secret_file(path: &Path) -> Result<Vec<u8>, SecretFileError> {
    let meta = std::fs::metadata(path).map_err(SecretFileError::Unreadable)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::Exposed { mode });
    }
    std::fs::read(path).map_err(SecretFileError::Unreadable)
}
