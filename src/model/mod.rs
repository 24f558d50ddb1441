//! Pure data model: backup ids, validated names, key layout and the manifest.
//! Nothing in here does I/O, so all of it is tested with plain tables.

mod backup_id;
mod layout;
mod manifest;
mod names;

pub use backup_id::{BackupId, InvalidBackupId};
pub use layout::{
    artifact_path, backup_data_prefix, check_artifact_name, data_key, Chain, InvalidArtifactName, ManifestKey, DATA,
    MANIFESTS, SEALED_SUFFIX,
};
pub use manifest::{
    ArtifactRecord, BackupManifest, CompressionInfo, EncryptionInfo, ManifestError, Neo4jInfo, MANIFEST_FORMAT,
    MANIFEST_VERSION,
};
pub use names::{DbName, Label, NameError};
