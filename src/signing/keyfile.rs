//! Signing key files: `graphvault key generate-signing` writes an unencrypted
//! minisign secret key (0600, never overwriting) and its public key file;
//! backup hosts load the secret key, refusing one others can read.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox};

use super::{signature_key, trusted_comment, SigningError};
use crate::secret_file::{read_secret_file, SecretFileError};

/// A backup host's signing key.
pub struct SigningKey {
    secret: SecretKey,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, secret redacted)", super::key_id(&self.public))
    }
}

impl SigningKey {
    /// Loads an unencrypted minisign secret key, refusing one that group or
    /// others can read.
    pub fn from_file(path: &Path) -> Result<Self, SigningError> {
        let bytes = read_secret_file(path).map_err(|e| match e {
            SecretFileError::Unreadable(source) => SigningError::KeyUnreadable {
                path: path.to_path_buf(),
                source,
            },
            SecretFileError::Exposed { mode } => SigningError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            },
        })?;
        let invalid = |detail: String| SigningError::KeyInvalid {
            path: path.to_path_buf(),
            detail,
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not text".into()))?;
        let sk_box = SecretKeyBox::from_string(&text).map_err(|e| invalid(e.to_string()))?;
        let secret = SecretKey::from_unencrypted_box(sk_box)
            .map_err(|e| invalid(format!("{e}; a password-protected key cannot sign unattended")))?;
        let public = PublicKey::from_secret_key(&secret).map_err(|e| invalid(e.to_string()))?;
        Ok(Self { secret, public })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The signature file for the manifest stored at `manifest_key`.
    pub fn sign_manifest(&self, manifest_key: &str, body: &[u8]) -> Result<String, SigningError> {
        let untrusted = format!("signature of {} by graphvault", signature_key(manifest_key));
        let sig = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(body),
            Some(&trusted_comment(manifest_key)),
            Some(&untrusted),
        )
        .map_err(|e| SigningError::Sign {
            key: manifest_key.to_string(),
            detail: e.to_string(),
        })?;
        Ok(sig.into_string())
    }
}

/// Parses a public key as written in `[signing] trusted_keys`: the base64
/// line `RW…` of a minisign public key file.
pub fn load_public_key(text: &str) -> Result<PublicKey, String> {
    PublicKey::from_base64(text.trim()).map_err(|e| e.to_string())
}

/// Writes a new signing key to `path` (mode 0600, never overwriting) and its
/// public key file to `path.pub`; returns the public key line (`RW…`).
pub fn generate_signing_key(path: &Path) -> Result<String, SigningError> {
    let write_err = |path: PathBuf| {
        move |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                SigningError::KeyExists { path: path.clone() }
            } else {
                SigningError::KeyWrite {
                    path: path.clone(),
                    source,
                }
            }
        }
    };
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    let KeyPair { pk, sk } = KeyPair::generate_unencrypted_keypair().map_err(|e| SigningError::KeyWrite {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let id = super::key_id(&pk);
    let to_text = |r: minisign::Result<String>| {
        r.map_err(|e| SigningError::KeyWrite {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    };
    let secret = to_text(
        sk.to_box(Some(&format!("graphvault signing key {id}")))
            .map(|b| b.to_string()),
    )?;
    let public = to_text(pk.to_box().map(|b| b.to_string()))?;
    for (file, body, mode) in [(path.to_path_buf(), secret, 0o600), (pub_path, public, 0o644)] {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&file)
            .map_err(write_err(file.clone()))?;
        f.write_all(body.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(write_err(file.clone()))?;
    }
    Ok(pk.to_base64())
}
