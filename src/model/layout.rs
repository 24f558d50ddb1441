//! Object key layout inside the store (the store adds its own prefix).
//!
//! ```text
//! manifests/<alias>/<backup-id>~<database>[~<label>+<label>...].json
//! data/<alias>/<backup-id>/<artifact-file>.zst.age
//! ```
//!
//! Manifests live in their own tree so that one `ListObjectsV2` over
//! `manifests/` yields every backup without listing data objects, and the key
//! itself carries alias, database, time (in the id) and labels, so `list` and
//! retention planning never need one GET per backup. Pure: no I/O.

use std::fmt;

use super::{BackupId, DbName, Label};

/// Top-level folder of manifests.
pub const MANIFESTS: &str = "manifests/";
/// Top-level folder of sealed data objects.
pub const DATA: &str = "data/";
/// Suffix of a sealed artifact: zstd inside age.
pub const SEALED_SUFFIX: &str = ".zst.age";

/// Everything the manifest key says about a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestKey {
    pub alias: DbName,
    pub backup_id: BackupId,
    pub database: DbName,
    pub labels: Vec<Label>,
}

impl ManifestKey {
    /// Parses a key relative to the store root; `None` for anything that is
    /// not a manifest key (stray objects are ignored, not fatal).
    pub fn parse(key: &str) -> Option<Self> {
        let rest = key.strip_prefix(MANIFESTS)?;
        let (alias, file) = rest.split_once('/')?;
        let stem = file.strip_suffix(".json")?;
        let mut fields = stem.split('~');
        let backup_id = fields.next()?.parse().ok()?;
        let database = fields.next()?.parse().ok()?;
        let labels = match fields.next() {
            None => Vec::new(),
            Some(list) => list.split('+').map(|l| l.parse().ok()).collect::<Option<Vec<_>>>()?,
        };
        if fields.next().is_some() {
            return None;
        }
        Some(Self {
            alias: alias.parse().ok()?,
            backup_id,
            database,
            labels,
        })
    }

    /// Prefix under which all manifests of one alias live.
    pub fn alias_prefix(alias: &DbName) -> String {
        format!("{MANIFESTS}{alias}/")
    }
}

impl fmt::Display for ManifestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MANIFESTS}{}/{}~{}", self.alias, self.backup_id, self.database)?;
        if !self.labels.is_empty() {
            let labels: Vec<&str> = self.labels.iter().map(Label::as_str).collect();
            write!(f, "~{}", labels.join("+"))?;
        }
        f.write_str(".json")
    }
}

/// Why an artifact file name can't be stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("artifact file name '{0}' is not usable: use ASCII letters, digits, '.', '-', '_' (no leading dot, at most 200 characters)")]
pub struct InvalidArtifactName(pub String);

/// Checks that an artifact's file name is a plain, safe file name.
pub fn check_artifact_name(name: &str) -> Result<(), InvalidArtifactName> {
    let ok = (1..=200).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(InvalidArtifactName(name.to_string()))
    }
}

/// Key of one sealed artifact of a backup.
pub fn data_key(alias: &DbName, id: &BackupId, artifact_name: &str) -> String {
    format!("{DATA}{alias}/{id}/{artifact_name}{SEALED_SUFFIX}")
}

/// Prefix holding all data objects of one backup.
pub fn backup_data_prefix(alias: &DbName, id: &BackupId) -> String {
    format!("{DATA}{alias}/{id}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(labels: &[&str]) -> ManifestKey {
        ManifestKey {
            alias: "customer1".parse().unwrap(),
            backup_id: "20261124T020000Z-3fa91c".parse().unwrap(),
            database: "customer1-1767741527".parse().unwrap(),
            labels: labels.iter().map(|l| l.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn manifest_keys_round_trip_with_and_without_labels() {
        for (labels, text) in [
            (
                &[][..],
                "manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527.json",
            ),
            (
                &["pinned", "pre-deploy"][..],
                "manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527~pinned+pre-deploy.json",
            ),
        ] {
            let k = key(labels);
            assert_eq!(k.to_string(), text);
            assert_eq!(ManifestKey::parse(text), Some(k));
        }
    }

    #[test]
    fn stray_keys_are_not_manifests() {
        for stray in [
            "manifests/customer1/notes.txt",
            "manifests/customer1/20261124T020000Z-3fa91c.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~a~b.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~Bad.json",
            "data/customer1/20261124T020000Z-3fa91c/x.backup.zst.age",
            "manifests/20261124T020000Z-3fa91c~db.json",
        ] {
            assert_eq!(ManifestKey::parse(stray), None, "{stray}");
        }
    }

    #[test]
    fn data_keys_group_by_alias_then_backup() {
        let k = key(&[]);
        assert_eq!(
            data_key(
                &k.alias,
                &k.backup_id,
                "customer1-1767741527-2026-11-24T02-00-00.backup"
            ),
            "data/customer1/20261124T020000Z-3fa91c/customer1-1767741527-2026-11-24T02-00-00.backup.zst.age"
        );
    }

    #[test]
    fn artifact_names_must_be_plain_file_names() {
        assert!(check_artifact_name("neo4j-2026-11-24T02-00-00.backup").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "a b", "x\n"] {
            assert!(check_artifact_name(bad).is_err(), "{bad:?}");
        }
    }
}
