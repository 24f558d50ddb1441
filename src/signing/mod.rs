//! Signed manifests: who may say a backup exists.
//!
//! Encryption keeps backups secret, but anyone who can write to the bucket
//! could still drop a manifest of their own there, pointing at data of their
//! choice, or crowd real backups out of the retention window with fake newer
//! ones. So the backup host signs every manifest with a minisign key
//! (`[signing] key_file`) and writes the signature next to it
//! (`<manifest>.minisig`, before the manifest itself). Restore, verify, drill
//! and prune only trust manifests whose signature checks out against a key
//! listed in `[signing] trusted_keys` (or the public half of this host's own
//! signing key). `--allow-unsigned` / `signing.allow_unsigned` accepts the
//! rest, with a warning per manifest.
//!
//! The signature's trusted comment names the manifest key, so a genuine
//! signature cannot be replayed for another manifest. The files are standard
//! minisign: `minisign -V -P <public key> -m <manifest>.json` checks one
//! without graphvault (docs/FORMAT.md).

mod keyfile;

pub use keyfile::{generate_signing_key, load_public_key, SigningKey};

use minisign::{PublicKey, SignatureBox};

/// The signature object of a manifest key.
pub fn signature_key(manifest_key: &str) -> String {
    format!("{manifest_key}{SIGNATURE_SUFFIX}")
}

/// Why a manifest whose signature object is missing is not trusted.
pub fn missing_signature(manifest_key: &str) -> String {
    format!("it has no signature ({} is missing)", signature_key(manifest_key))
}

/// What a signature object's name ends with.
pub const SIGNATURE_SUFFIX: &str = ".minisig";

/// The trusted (signed) comment binding a signature to its manifest key.
pub fn trusted_comment(manifest_key: &str) -> String {
    format!("graphvault-manifest {manifest_key}")
}

/// A signing problem.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("signing key file {path} cannot be read: {source}")]
    KeyUnreadable {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key file {path} is readable by group or others (mode {mode:04o}): run `chmod 600 {path}`")]
    KeyPermissions { path: std::path::PathBuf, mode: u32 },
    #[error("signing key file {path} is not an unencrypted minisign secret key ({detail}): make one with `graphvault key generate-signing --output FILE`")]
    KeyInvalid { path: std::path::PathBuf, detail: String },
    #[error("{path} already exists: refusing to overwrite a key; choose another --output")]
    KeyExists { path: std::path::PathBuf },
    #[error("cannot write key file {path}: {source}")]
    KeyWrite {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("backups must be signed: set [signing] key_file (make one with `graphvault key generate-signing --output FILE`), or set signing.allow_unsigned = true to write unsigned backups")]
    NoSigningKey,
    #[error("no trusted signing keys: set [signing] trusted_keys = [\"RW…\"] (the public key `graphvault key generate-signing` printed on the backup host), or pass --allow-unsigned to accept unsigned manifests")]
    NoTrustedKeys,
    #[error("manifest {key} is not trusted: {reason}. It may have been forged by someone with write access to the bucket. If you know it is genuine, pass --allow-unsigned (logged)")]
    Untrusted { key: String, reason: String },
    #[error("cannot sign manifest {key}: {detail}")]
    Sign { key: String, detail: String },
}

/// The public keys manifests must be signed by.
#[derive(Clone, Default)]
pub struct ManifestTrust {
    keys: Vec<PublicKey>,
    allow_unsigned: bool,
}

impl std::fmt::Debug for ManifestTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(key_id).collect();
        f.debug_struct("ManifestTrust")
            .field("keys", &ids)
            .field("allow_unsigned", &self.allow_unsigned)
            .finish()
    }
}

/// The id minisign prints for a key (16 hex digits).
pub fn key_id(pk: &PublicKey) -> String {
    let mut n = [0u8; 8];
    n.copy_from_slice(&pk.keynum()[..8]);
    format!("{:016X}", u64::from_le_bytes(n))
}

fn signature_key_id(sig: &SignatureBox) -> String {
    let mut n = [0u8; 8];
    n.copy_from_slice(&sig.keynum()[..8]);
    format!("{:016X}", u64::from_le_bytes(n))
}

/// How a manifest came to be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by the trusted key with this id.
    Signed { key_id: String },
    /// Not (validly) signed, accepted because unsigned manifests are allowed.
    AcceptedUnsigned { reason: String },
}

impl ManifestTrust {
    /// Trust these keys; `allow_unsigned` accepts every manifest (logged).
    /// Without keys and without `allow_unsigned` nothing could be trusted:
    /// that is a configuration error, reported before any work starts.
    pub fn new(keys: Vec<PublicKey>, allow_unsigned: bool) -> Result<Self, SigningError> {
        if keys.is_empty() && !allow_unsigned {
            return Err(SigningError::NoTrustedKeys);
        }
        Ok(Self { keys, allow_unsigned })
    }

    /// Accepts every manifest (tests and `--allow-unsigned`).
    pub fn allow_unsigned() -> Self {
        Self {
            keys: Vec::new(),
            allow_unsigned: true,
        }
    }

    pub fn allows_unsigned(&self) -> bool {
        self.allow_unsigned
    }

    /// Changes whenever what is trusted changes (a key added or removed,
    /// unsigned manifests allowed or not): caches of checked manifests are
    /// keyed by it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut keys: Vec<String> = self.keys.iter().map(PublicKey::to_base64).collect();
        keys.sort();
        let mut h = Sha256::new();
        for k in &keys {
            h.update(k.as_bytes());
            h.update(b"\n");
        }
        h.update(if self.allow_unsigned {
            b"unsigned-allowed"
        } else {
            b"signed-only....."
        });
        hex::encode(h.finalize())
    }

    /// Checks the manifest stored at `key` (`body`) against its signature
    /// object (`signature`, `None` when there is none).
    pub fn check(&self, key: &str, body: &[u8], signature: Option<&[u8]>) -> Result<Verdict, SigningError> {
        match self.reason_to_distrust(key, body, signature) {
            Ok(key_id) => Ok(Verdict::Signed { key_id }),
            Err(reason) if self.allow_unsigned => {
                tracing::warn!(
                    manifest = key,
                    reason,
                    "accepting a manifest without a trusted signature (unsigned manifests are allowed)"
                );
                Ok(Verdict::AcceptedUnsigned { reason })
            }
            Err(reason) => Err(SigningError::Untrusted {
                key: key.to_string(),
                reason,
            }),
        }
    }

    /// The id of the trusted key that signed it, or why it is not trusted.
    fn reason_to_distrust(&self, key: &str, body: &[u8], signature: Option<&[u8]>) -> Result<String, String> {
        let sig = signature.ok_or_else(|| missing_signature(key))?;
        let text = std::str::from_utf8(sig).map_err(|_| "its signature object is not text".to_string())?;
        let sig = SignatureBox::from_string(text).map_err(|e| format!("its signature object is unreadable ({e})"))?;
        let signer = signature_key_id(&sig);
        let pk = self
            .keys
            .iter()
            .find(|pk| key_id(pk) == signer)
            .ok_or_else(|| format!("it is signed by key {signer}, which is not in [signing] trusted_keys"))?;
        minisign::verify(pk, &sig, std::io::Cursor::new(body), true, false, false)
            .map_err(|_| format!("its signature by key {signer} does not match its content (edited after signing?)"))?;
        let comment = sig.trusted_comment().unwrap_or_default();
        if comment != trusted_comment(key) {
            return Err(format!(
                "its signature by key {signer} was made for another manifest ('{comment}')"
            ));
        }
        Ok(signer)
    }
}

#[cfg(test)]
mod tests;
