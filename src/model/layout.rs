//! Object key layout inside the store (the store adds its own prefix).
//!
//! ```text
//! manifests/<alias>/<backup-id>~<database>[~<label>+<label>...][~FULL|~DIFF-<parent-id>].json
//! data/<alias>/<backup-id>/<artifact-file>.zst.age
//! ```
//!
//! Manifests live in their own tree so that one `ListObjectsV2` over
//! `manifests/` yields every backup without listing data objects, and the key
//! itself carries alias, database, time (in the id), labels and the backup's
//! place in a differential chain, so `list` and retention planning never need
//! one GET per backup. The chain field is upper case, which no label can be,
//! so the two optional fields never read as each other. Keys written before
//! the chain field existed have none ([`Chain::Unknown`]): a reader learns
//! their chain from the manifest (docs/FORMAT.md, "Key migration").
//! Pure: no I/O.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use super::{BackupId, DbName, Label};

/// Top-level folder of manifests.
pub const MANIFESTS: &str = "manifests/";
/// Top-level folder of sealed data objects.
pub const DATA: &str = "data/";
/// Suffix of a sealed artifact: zstd inside age.
pub const SEALED_SUFFIX: &str = ".zst.age";

/// Where a backup stands in a differential chain, as its key says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    /// A key written before keys carried the chain: read the manifest.
    Unknown,
    /// Restores on its own (a full backup, or artifacts given by hand).
    Full,
    /// A differential backup: restoring it needs this backup's chain first.
    Diff(BackupId),
}

impl Chain {
    /// The chain of a backup whose manifest names `parent` (or none).
    pub fn from_parent(parent: Option<BackupId>) -> Self {
        parent.map_or(Self::Full, Self::Diff)
    }

    /// The parent, when the chain is known; `None` inside for a full backup.
    pub fn parent(&self) -> Option<Option<&BackupId>> {
        match self {
            Self::Unknown => None,
            Self::Full => Some(None),
            Self::Diff(p) => Some(Some(p)),
        }
    }

    fn parse(field: &str) -> Option<Self> {
        match field {
            "FULL" => Some(Self::Full),
            _ => field.strip_prefix("DIFF-")?.parse().ok().map(Self::Diff),
        }
    }
}

/// Everything the manifest key says about a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestKey {
    pub alias: DbName,
    pub backup_id: BackupId,
    pub database: DbName,
    pub labels: Vec<Label>,
    pub chain: Chain,
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
        let mut rest: Vec<&str> = fields.collect();
        let chain = match rest.last().and_then(|f| Chain::parse(f)) {
            Some(c) => {
                rest.pop();
                c
            }
            None => Chain::Unknown,
        };
        let labels = match rest[..] {
            [] => Vec::new(),
            [list] => list.split('+').map(|l| l.parse().ok()).collect::<Option<Vec<_>>>()?,
            _ => return None,
        };
        Some(Self {
            alias: alias.parse().ok()?,
            backup_id,
            database,
            labels,
            chain,
        })
    }

    /// Whether a manifest that says it is `full` may be stored under this
    /// key: equal, except that a key without a chain field (written before
    /// keys had one) matches whatever chain the manifest names.
    pub fn admits(&self, full: &ManifestKey) -> bool {
        let chain_ok = self.chain == Chain::Unknown || self.chain == full.chain;
        chain_ok
            && (&self.alias, &self.backup_id, &self.database, &self.labels)
                == (&full.alias, &full.backup_id, &full.database, &full.labels)
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
        match &self.chain {
            Chain::Unknown => {}
            Chain::Full => f.write_str("~FULL")?,
            Chain::Diff(parent) => write!(f, "~DIFF-{parent}")?,
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

/// Where an artifact named `name` goes inside `dir`: the one place a name
/// (from the command line or from a manifest) becomes a path, so it is
/// checked again here, whatever checked it before.
pub fn artifact_path(dir: &Path, name: &str) -> Result<PathBuf, InvalidArtifactName> {
    check_artifact_name(name)?;
    let path = dir.join(name);
    // A plain name is one normal component; anything else never gets here.
    match Path::new(name).components().collect::<Vec<_>>()[..] {
        [Component::Normal(_)] => Ok(path),
        _ => Err(InvalidArtifactName(name.to_string())),
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
            chain: Chain::Unknown,
        }
    }

    fn diff() -> Chain {
        Chain::Diff("20261123T020000Z-00aa11".parse().unwrap())
    }

    #[test]
    fn manifest_keys_round_trip_with_and_without_labels_and_chain() {
        let base = "manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527";
        for (labels, chain, suffix) in [
            (&[][..], Chain::Unknown, ".json"),
            (&["pinned", "pre-deploy"][..], Chain::Unknown, "~pinned+pre-deploy.json"),
            (&[][..], Chain::Full, "~FULL.json"),
            (&["pinned"][..], Chain::Full, "~pinned~FULL.json"),
            (&[][..], diff(), "~DIFF-20261123T020000Z-00aa11.json"),
            (
                &["pre-deploy"][..],
                diff(),
                "~pre-deploy~DIFF-20261123T020000Z-00aa11.json",
            ),
        ] {
            let mut k = key(labels);
            k.chain = chain;
            let text = format!("{base}{suffix}");
            assert_eq!(k.to_string(), text);
            assert_eq!(ManifestKey::parse(&text), Some(k));
        }
    }

    #[test]
    fn a_key_without_a_chain_field_admits_any_chain_a_key_with_one_only_its_own() {
        let legacy = key(&["pinned"]);
        let mut full = legacy.clone();
        full.chain = Chain::Full;
        let mut child = legacy.clone();
        child.chain = diff();
        assert!(legacy.admits(&full) && legacy.admits(&child));
        assert!(full.admits(&full) && !full.admits(&child) && !child.admits(&full));
        let mut relabelled = full.clone();
        relabelled.labels.clear();
        assert!(!legacy.admits(&relabelled));
    }

    #[test]
    fn stray_keys_are_not_manifests() {
        for stray in [
            "manifests/customer1/notes.txt",
            "manifests/customer1/20261124T020000Z-3fa91c.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~a~b.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~Bad.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~FULL~pinned.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~DIFF-20261124.json",
            "manifests/customer1/20261124T020000Z-3fa91c~db~a~b~FULL.json",
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
        for bad in ["", ".hidden", "a/b", "../x", "a b", "x\n", "..", "/etc/passwd"] {
            assert!(check_artifact_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_artifact_path_stays_inside_its_directory() {
        let dir = Path::new("/restore/here");
        assert_eq!(
            artifact_path(dir, "neo4j.backup").unwrap(),
            Path::new("/restore/here/neo4j.backup")
        );
        for bad in ["../x.backup", "/etc/cron.d/x", "a/../../b", "..", ".", "", "x/"] {
            assert!(artifact_path(dir, bad).is_err(), "{bad:?}");
        }
    }
}
