//! `BackupManifest` v1: the JSON document that makes a backup exist.
//!
//! A manifest is written last, after every data object it lists was uploaded
//! and verified; the schema is documented in `docs/FORMAT.md`. Parsing refuses
//! unknown versions instead of guessing, and refuses a manifest whose
//! artifact names or keys are not exactly what a backup writes (a plain file
//! name, `data/<alias>/<backup-id>/<name>.zst.age`): names read from the
//! bucket become file paths on restore, so they pass the same check as names
//! given on the command line. Pure: no I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{check_artifact_name, data_key, BackupId, Chain, DbName, Label, ManifestKey};

/// Value of the `format` field: tells a reader what this JSON is.
pub const MANIFEST_FORMAT: &str = "graphvault-manifest";
/// The schema version this build writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// One backup of one database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    pub format: String,
    pub version: u32,
    pub backup_id: BackupId,
    /// The alias the backup is grouped under (equal to `database` when the
    /// database had no alias).
    pub alias: DbName,
    /// The concrete database that was backed up, e.g. `customer1-1767741527`.
    pub database: DbName,
    pub labels: Vec<Label>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub graphvault_version: String,
    pub compression: CompressionInfo,
    pub encryption: EncryptionInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neo4j: Option<Neo4jInfo>,
    pub artifacts: Vec<ArtifactRecord>,
}

/// How artifacts were compressed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionInfo {
    /// Always `zstd` in v1.
    pub algorithm: String,
    /// Level asked for; each artifact records the level actually used.
    pub level: i32,
}

/// Who can open the backup. Public recipients only, never identities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionInfo {
    /// Always `age` in v1.
    pub scheme: String,
    pub recipients: Vec<String>,
}

/// What neo4j-admin said about the backup, when it ran under graphvault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neo4jInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_version: Option<String>,
    /// `FULL` or `DIFF`, as neo4j-admin announced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_type: Option<String>,
    /// For a `DIFF` backup: the backup id whose artifacts it builds on
    /// (restore needs that backup's chain too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Nodes and relationships counted over Bolt right after the backup
    /// (best effort; a restore drill compares them with the restored copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_count: Option<i64>,
}

/// One artifact file and the object that holds it sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRecord {
    /// File name neo4j-admin gave the artifact; restore recreates it.
    pub name: String,
    /// Object key relative to the store root.
    pub key: String,
    /// Plaintext size and sha256 (hex) of the artifact file.
    pub size: u64,
    pub sha256: String,
    /// Size and sha256 (hex) of the stored object (the age file).
    pub stored_size: u64,
    pub stored_sha256: String,
    /// zstd level actually used (lower when the input looked incompressible).
    pub compression_level: i32,
    /// Multipart layout used for the upload (1 part = single PUT).
    pub parts: u32,
    pub part_size: u64,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {key} is not valid JSON for schema v{MANIFEST_VERSION}: {source}")]
    Parse {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("manifest {key} has format '{format}' version {version}; this graphvault reads '{MANIFEST_FORMAT}' version {MANIFEST_VERSION}: upgrade graphvault")]
    Unsupported { key: String, format: String, version: u32 },
    #[error("manifest {key} does not match its key: {what}")]
    KeyMismatch { key: String, what: String },
    #[error("manifest {key} is refused: its artifact name {name:?} is not a plain file name (ASCII letters, digits, '.', '-', '_'; no leading dot; at most 200 characters), so a restore could write outside its directory. It was forged or damaged by someone who can write to the bucket (or holds the signing key): nothing was downloaded or written; restore another backup and find out who wrote this one")]
    UnsafeArtifactName { key: String, name: String },
    #[error("manifest {key} is refused: {what}. It was forged or damaged: nothing was downloaded or written; restore another backup and find out who wrote this one")]
    BadArtifact { key: String, what: String },
}

impl BackupManifest {
    /// The key this manifest is written under (with its chain field; one
    /// written before keys had that field is read from a key without it).
    pub fn key(&self) -> ManifestKey {
        ManifestKey {
            alias: self.alias.clone(),
            backup_id: self.backup_id.clone(),
            database: self.database.clone(),
            labels: self.labels.clone(),
            chain: Chain::from_parent(self.parent()),
        }
    }

    /// The backup a differential one builds on (none for a full backup;
    /// `from_json` refuses a manifest whose parent is not a backup id).
    pub fn parent(&self) -> Option<BackupId> {
        self.neo4j.as_ref()?.parent.as_ref()?.parse().ok()
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_else(|e| unreachable!("manifest serializes: {e}"));
        out.push(b'\n');
        out
    }

    /// Parses a manifest read from `key` and checks it agrees with the key.
    pub fn from_json(key: &str, bytes: &[u8]) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Header {
            format: String,
            version: u32,
        }
        let parse = |source| ManifestError::Parse {
            key: key.to_string(),
            source,
        };
        let header: Header = serde_json::from_slice(bytes).map_err(parse)?;
        if header.format != MANIFEST_FORMAT || header.version != MANIFEST_VERSION {
            return Err(ManifestError::Unsupported {
                key: key.to_string(),
                format: header.format,
                version: header.version,
            });
        }
        let manifest: Self = serde_json::from_slice(bytes).map_err(parse)?;
        if let Some(parent) = manifest.neo4j.as_ref().and_then(|n| n.parent.as_ref()) {
            if let Err(e) = parent.parse::<BackupId>() {
                return Err(ManifestError::KeyMismatch {
                    key: key.to_string(),
                    what: format!("its parent: {e}"),
                });
            }
        }
        if let Some(parsed) = ManifestKey::parse(key) {
            if !parsed.admits(&manifest.key()) {
                return Err(ManifestError::KeyMismatch {
                    key: key.to_string(),
                    what: format!("content says {}", manifest.key()),
                });
            }
        }
        manifest.check_artifacts(key)?;
        Ok(manifest)
    }

    /// Every artifact has a plain file name, given once, stored where a
    /// backup stores it: what restore relies on before it turns names into
    /// paths.
    fn check_artifacts(&self, key: &str) -> Result<(), ManifestError> {
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.artifacts {
            if check_artifact_name(&a.name).is_err() {
                return Err(ManifestError::UnsafeArtifactName {
                    key: key.to_string(),
                    name: a.name.clone(),
                });
            }
            let bad = |what: String| ManifestError::BadArtifact {
                key: key.to_string(),
                what,
            };
            if !seen.insert(a.name.as_str()) {
                return Err(bad(format!("it names the artifact {} twice", a.name)));
            }
            let expected = data_key(&self.alias, &self.backup_id, &a.name);
            if a.key != expected {
                return Err(bad(format!(
                    "its artifact {} is stored under {:?}, not {expected} where a backup stores it",
                    a.name, a.key
                )));
            }
        }
        Ok(())
    }

    /// A manifest for `key` naming these (object key, stored size) data
    /// objects and nothing real: benchmarks and tests fabricate catalogs of
    /// thousands of backups with it. Never written by a backup.
    pub fn placeholder(key: &ManifestKey, objects: &[(String, u64)]) -> Self {
        let time = key.backup_id.time();
        Self {
            format: MANIFEST_FORMAT.into(),
            version: MANIFEST_VERSION,
            backup_id: key.backup_id.clone(),
            alias: key.alias.clone(),
            database: key.database.clone(),
            labels: key.labels.clone(),
            started_at: time,
            finished_at: time,
            graphvault_version: crate::VERSION.into(),
            compression: CompressionInfo {
                algorithm: "zstd".into(),
                level: 3,
            },
            encryption: EncryptionInfo {
                scheme: "age".into(),
                recipients: Vec::new(),
            },
            neo4j: match &key.chain {
                Chain::Diff(parent) => Some(Neo4jInfo {
                    backup_type: Some("DIFF".into()),
                    parent: Some(parent.to_string()),
                    ..Neo4jInfo::default()
                }),
                _ => None,
            },
            artifacts: objects
                .iter()
                .map(|(k, size)| ArtifactRecord {
                    name: k
                        .rsplit('/')
                        .next()
                        .unwrap_or(k)
                        .trim_end_matches(super::SEALED_SUFFIX)
                        .into(),
                    key: k.clone(),
                    size: *size,
                    sha256: "0".repeat(64),
                    stored_size: *size,
                    stored_sha256: "0".repeat(64),
                    compression_level: 3,
                    parts: 1,
                    part_size: *size,
                })
                .collect(),
        }
    }

    /// Total plaintext and stored bytes over all artifacts.
    pub fn totals(&self) -> (u64, u64) {
        self.artifacts
            .iter()
            .fold((0, 0), |(a, s), r| (a + r.size, s + r.stored_size))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> BackupManifest {
        let id: BackupId = "20261124T020000Z-3fa91c".parse().unwrap();
        BackupManifest {
            format: MANIFEST_FORMAT.into(),
            version: MANIFEST_VERSION,
            backup_id: id.clone(),
            alias: "customer1".parse().unwrap(),
            database: "customer1-1767741527".parse().unwrap(),
            labels: vec!["pre-deploy".parse().unwrap()],
            started_at: id.time(),
            finished_at: id.time(),
            graphvault_version: "0.1.0".into(),
            compression: CompressionInfo {
                algorithm: "zstd".into(),
                level: 3,
            },
            encryption: EncryptionInfo {
                scheme: "age".into(),
                recipients: vec!["age1xyz".into()],
            },
            neo4j: None,
            artifacts: vec![ArtifactRecord {
                name: "customer1-1767741527-2026-11-24T02-00-00.backup".into(),
                key: "data/customer1/20261124T020000Z-3fa91c/customer1-1767741527-2026-11-24T02-00-00.backup.zst.age"
                    .into(),
                size: 10,
                sha256: "00".repeat(32),
                stored_size: 200,
                stored_sha256: "11".repeat(32),
                compression_level: 3,
                parts: 1,
                part_size: 16 << 20,
            }],
        }
    }

    #[test]
    fn manifest_round_trips_through_json_under_its_own_key() {
        let m = sample();
        let key = m.key().to_string();
        assert_eq!(BackupManifest::from_json(&key, &m.to_json()).unwrap(), m);
    }

    #[test]
    fn a_future_version_is_refused_with_an_upgrade_hint() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["version"] = 2.into();
        let err = BackupManifest::from_json("k", v.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("upgrade graphvault"), "{err}");
    }

    #[test]
    fn artifact_names_that_are_not_plain_file_names_are_refused() {
        for bad in [
            "../escaped.backup",
            "../../etc/cron.d/x",
            "/etc/passwd",
            "a/b.backup",
            ".hidden",
            "..",
            "",
            "x\n",
            "C:\\x",
        ] {
            let mut m = sample();
            m.artifacts[0].name = bad.into();
            m.artifacts[0].key = format!("data/customer1/20261124T020000Z-3fa91c/{bad}.zst.age");
            let err = BackupManifest::from_json(&m.key().to_string(), &m.to_json()).unwrap_err();
            assert!(
                matches!(err, ManifestError::UnsafeArtifactName { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn artifacts_stored_elsewhere_or_named_twice_are_refused() {
        let mut elsewhere = sample();
        elsewhere.artifacts[0].key = "data/customer2/20261124T020000Z-3fa91c/x.backup.zst.age".into();
        let mut twice = sample();
        twice.artifacts.push(twice.artifacts[0].clone());
        for (m, says) in [(elsewhere, "is stored under"), (twice, "twice")] {
            let err = BackupManifest::from_json(&m.key().to_string(), &m.to_json()).unwrap_err();
            assert!(matches!(err, ManifestError::BadArtifact { .. }), "{err}");
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn a_manifest_moved_under_another_key_is_refused() {
        let m = sample();
        let other = "manifests/customer2/20261124T020000Z-3fa91c~customer1-1767741527~pre-deploy.json";
        assert!(matches!(
            BackupManifest::from_json(other, &m.to_json()),
            Err(ManifestError::KeyMismatch { .. })
        ));
    }
}
