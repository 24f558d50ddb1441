//! The checksum a store reports for an object, and how we predict it.
//!
//! S3 keeps, for objects uploaded with SHA-256 checksums, either the SHA-256 of
//! the whole object (single PUT) or a composite: the SHA-256 of the concatenated
//! binary part digests, written `base64-N` for N parts. We compute the expected
//! value from what we sent and compare it with what the store reports.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A checksum as kept by the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredChecksum {
    /// SHA-256 of the whole object.
    Full([u8; 32]),
    /// SHA-256 over the part digests, for an object of `parts` parts.
    Composite { digest: [u8; 32], parts: u32 },
}

impl StoredChecksum {
    /// The composite checksum S3 reports for an upload made of these parts.
    pub fn composite(part_digests: &[[u8; 32]]) -> Self {
        let mut h = Sha256::new();
        for d in part_digests {
            h.update(d);
        }
        Self::Composite {
            digest: h.finalize().into(),
            parts: part_digests.len() as u32,
        }
    }

    /// Parses S3's `x-amz-checksum-sha256` value (`base64` or `base64-N`).
    pub fn parse_s3(value: &str) -> Option<Self> {
        let (b64, parts) = match value.split_once('-') {
            Some((b, n)) => (b, Some(n.parse::<u32>().ok()?)),
            None => (value, None),
        };
        let digest: [u8; 32] = B64.decode(b64).ok()?.try_into().ok()?;
        Some(match parts {
            Some(parts) => Self::Composite { digest, parts },
            None => Self::Full(digest),
        })
    }
}

impl std::fmt::Display for StoredChecksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full(d) => write!(f, "sha256:{}", hex::encode(d)),
            Self::Composite { digest, parts } => write!(f, "sha256-of-{parts}-parts:{}", hex::encode(digest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_values_parse_into_full_and_composite() {
        let d = [7u8; 32];
        let b = B64.encode(d);
        assert_eq!(StoredChecksum::parse_s3(&b), Some(StoredChecksum::Full(d)));
        assert_eq!(
            StoredChecksum::parse_s3(&format!("{b}-3")),
            Some(StoredChecksum::Composite { digest: d, parts: 3 })
        );
        assert_eq!(StoredChecksum::parse_s3("not base64!"), None);
        assert_eq!(StoredChecksum::parse_s3(&format!("{b}-x")), None);
    }

    #[test]
    fn composite_is_sha256_of_concatenated_part_digests() {
        let parts = [[1u8; 32], [2u8; 32]];
        let mut cat = Vec::new();
        cat.extend_from_slice(&parts[0]);
        cat.extend_from_slice(&parts[1]);
        let expected: [u8; 32] = Sha256::digest(&cat).into();
        assert_eq!(
            StoredChecksum::composite(&parts),
            StoredChecksum::Composite {
                digest: expected,
                parts: 2
            }
        );
    }
}
