//! The `[signing]` section: the key this backup host signs manifests with,
//! the public keys manifests must be signed by, and the logged escape hatch
//! for unsigned ones (`src/signing/` explains why).

use std::path::PathBuf;

use minisign::PublicKey;
use serde::Deserialize;

use super::{ConfigError, OneOrMany};
use crate::signing::{load_public_key, ManifestTrust, SigningError, SigningKey};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSigning {
    key_file: Option<PathBuf>,
    #[serde(default)]
    trusted_keys: OneOrMany,
    allow_unsigned: Option<bool>,
}

/// Keys of `[signing]` (for env and `--set` validation).
pub(super) const KEYS: &[&str] = &["key_file", "trusted_keys", "allow_unsigned"];

/// Validated `[signing]` settings.
#[derive(Clone, Debug, Default)]
pub struct SigningConfig {
    /// The secret key backups are signed with (backup hosts).
    pub key_file: Option<PathBuf>,
    /// Public keys whose signatures make a manifest trusted.
    pub trusted_keys: Vec<PublicKey>,
    /// Accept (and write) manifests without a trusted signature, with a warning.
    pub allow_unsigned: bool,
}

impl SigningConfig {
    /// The key to sign new manifests with; `None` when unsigned backups are
    /// allowed and no key is configured.
    pub fn signer(&self) -> Result<Option<SigningKey>, SigningError> {
        match &self.key_file {
            Some(path) => SigningKey::from_file(path).map(Some),
            None if self.allow_unsigned => {
                tracing::warn!(
                    "no [signing] key_file: this backup's manifest is not signed (unsigned manifests are allowed)"
                );
                Ok(None)
            }
            None => Err(SigningError::NoSigningKey),
        }
    }

    /// Which manifests to trust: those signed by a trusted key or by this
    /// host's own signing key.
    pub fn trust(&self) -> Result<ManifestTrust, SigningError> {
        let mut keys = self.trusted_keys.clone();
        if let Some(path) = &self.key_file {
            keys.push(SigningKey::from_file(path)?.public().clone());
        }
        ManifestTrust::new(keys, self.allow_unsigned)
    }
}

pub(super) fn from_raw(raw: RawSigning) -> Result<SigningConfig, ConfigError> {
    let mut trusted_keys = Vec::new();
    for (n, text) in raw.trusted_keys.into_vec().iter().enumerate() {
        let pk = load_public_key(text).map_err(|e| ConfigError::Invalid {
            key: "signing.trusted_keys",
            message: format!(
                "entry {} ('{text}') is not a minisign public key ({e}): use the RW… line `graphvault key generate-signing` printed (also the second line of its .pub file)",
                n + 1
            ),
        })?;
        trusted_keys.push(pk);
    }
    Ok(SigningConfig {
        key_file: raw.key_file,
        trusted_keys,
        allow_unsigned: raw.allow_unsigned.unwrap_or(false),
    })
}
