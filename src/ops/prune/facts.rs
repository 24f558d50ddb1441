//! What prune needs from a manifest beyond its key (its parent and the
//! stored size of each data object), and a local cache of it so that a
//! steady-state prune reads no manifest at all.
//!
//! A cache entry is used only while everything it was derived from is
//! unchanged: the manifest and its signature as the listing shows them
//! (ETag, size, last-modified; S3 sets the last two itself, so a rewritten
//! object never matches an old entry) and the set of trusted keys (a key
//! removed from `[signing] trusted_keys` invalidates every entry). Only
//! manifests that passed the signature check this run or an earlier one are
//! ever written to it. The file is mode 0600 in a 0700 directory and is
//! ignored, with a warning, when anyone but its owner could have written it:
//! whoever can write the cache can make prune trust a manifest. A missing,
//! unreadable or foreign cache only costs GETs, never a wrong decision.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{BackupId, BackupManifest};
use crate::store::ObjectInfo;

/// What a trusted manifest says that its key does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFacts {
    pub parent: Option<BackupId>,
    /// (object key, stored size) of every data object.
    pub artifacts: Vec<(String, u64)>,
}

impl ManifestFacts {
    pub fn of(m: &BackupManifest) -> Self {
        Self {
            parent: m.parent(),
            artifacts: m.artifacts.iter().map(|a| (a.key.clone(), a.stored_size)).collect(),
        }
    }

    /// Why the backup's own data is not complete, judged from a listing of
    /// its data prefix: every object the manifest names must be listed at
    /// the size the manifest records.
    pub fn missing_data(&self, listed: &[&ObjectInfo]) -> Option<String> {
        self.artifacts
            .iter()
            .find_map(|(key, size)| match listed.iter().find(|o| &o.key == key) {
                None => Some(format!("data object {key} is missing")),
                Some(o) if o.size != *size => Some(format!(
                    "data object {key} is {} bytes, its manifest says {size}",
                    o.size
                )),
                Some(_) => None,
            })
    }
}

/// Only objects with an ETag can be cached (the ETag is what a rewrite of
/// the same size in the same millisecond would still change).
fn cacheable(manifest: Option<&ObjectInfo>) -> bool {
    manifest.is_some_and(|m| m.etag.is_some())
}

/// How the listing showed an object: any rewrite changes it.
fn stamp(o: Option<&ObjectInfo>) -> String {
    match o {
        None => "-".into(),
        Some(o) => format!(
            "{}|{}|{}",
            o.etag.as_deref().unwrap_or("?"),
            o.size,
            o.last_modified.map(|t| t.timestamp_millis()).unwrap_or_default()
        ),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    manifest: String,
    signature: String,
    facts: ManifestFacts,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// Fingerprint of the trust settings the entries were checked under.
    trust: String,
    entries: BTreeMap<String, Entry>,
}

const VERSION: u32 = 1;

/// The cache of one store, in memory; `save` writes it back.
#[derive(Debug)]
pub struct FactsCache {
    path: Option<PathBuf>,
    trust: String,
    entries: BTreeMap<String, Entry>,
    /// Entries looked up or added this run (the others are dropped on save:
    /// their manifest is gone).
    used: BTreeMap<String, Entry>,
}

impl FactsCache {
    /// The cache for `location` under `dir` (none: an empty cache that is
    /// never saved), checked under `trust` (a fingerprint of the trusted keys).
    pub fn open(dir: Option<&Path>, location: &str, trust: &str) -> Self {
        let path = dir.map(|d| {
            d.join(format!(
                "prune-facts-{}.json",
                &hex::encode(Sha256::digest(location))[..16]
            ))
        });
        let entries = path.as_deref().map(|p| load(p, trust)).unwrap_or_default();
        Self {
            path,
            trust: trust.to_string(),
            entries,
            used: BTreeMap::new(),
        }
    }

    /// The facts of `key`, if cached for exactly this manifest and signature.
    pub fn get(
        &mut self,
        key: &str,
        manifest: Option<&ObjectInfo>,
        signature: Option<&ObjectInfo>,
    ) -> Option<ManifestFacts> {
        let e = self.entries.get(key)?;
        if e.manifest != stamp(manifest) || e.signature != stamp(signature) || !cacheable(manifest) {
            return None;
        }
        self.used.insert(key.to_string(), e.clone());
        Some(e.facts.clone())
    }

    /// Records the facts of a manifest that passed its check.
    pub fn put(
        &mut self,
        key: &str,
        manifest: Option<&ObjectInfo>,
        signature: Option<&ObjectInfo>,
        facts: ManifestFacts,
    ) {
        if !cacheable(manifest) {
            return;
        }
        self.used.insert(
            key.to_string(),
            Entry {
                manifest: stamp(manifest),
                signature: stamp(signature),
                facts,
            },
        );
    }

    /// Writes the entries used this run, and the old ones outside the
    /// scope of this run (`in_scope`: a prune of one alias keeps the
    /// others'), atomically with mode 0600. Best effort: a cache that cannot
    /// be written costs GETs next time.
    pub fn save(self, in_scope: impl Fn(&str) -> bool) {
        let Some(path) = self.path else { return };
        let mut entries = self.used;
        for (k, e) in self.entries {
            if !in_scope(&k) {
                entries.entry(k).or_insert(e);
            }
        }
        let file = CacheFile {
            version: VERSION,
            trust: self.trust,
            entries,
        };
        if let Err(e) = write(&path, &file) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the prune cache; the next prune reads the manifests again");
        }
    }
}

fn load(path: &Path, trust: &str) -> BTreeMap<String, Entry> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return BTreeMap::new(),
    };
    let dir_ok = path
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .is_some_and(|d| d.mode() & 0o022 == 0 && d.uid() == meta.uid());
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.mode() & 0o022 != 0 || meta.uid() != me || !dir_ok {
        tracing::warn!(path = %path.display(), "ignoring the prune cache: someone other than its owner could have written it");
        return BTreeMap::new();
    }
    let parsed: Result<CacheFile, String> = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
    match parsed {
        Ok(f) if f.version == VERSION && f.trust == trust => f.entries,
        Ok(_) => BTreeMap::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable prune cache");
            BTreeMap::new()
        }
    }
}

fn write(path: &Path, file: &CacheFile) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&serde_json::to_vec(file).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(etag: &str, size: u64) -> ObjectInfo {
        ObjectInfo {
            key: "k".into(),
            size,
            last_modified: Some("2026-11-24T02:00:00Z".parse().unwrap()),
            storage_class: None,
            restore: None,
            checksum: None,
            etag: Some(etag.into()),
        }
    }

    fn facts() -> ManifestFacts {
        ManifestFacts {
            parent: None,
            artifacts: vec![("data/a/x".into(), 10)],
        }
    }

    #[test]
    fn an_entry_is_used_only_for_the_same_manifest_signature_and_trust() {
        let dir = tempfile::tempdir().unwrap();
        let (m, s) = (obj("\"m1\"", 100), obj("\"s1\"", 20));
        let mut c = FactsCache::open(Some(dir.path()), "s3://b/p", "trust-a");
        c.put("key", Some(&m), Some(&s), facts());
        c.save(|_| true);

        let mut c = FactsCache::open(Some(dir.path()), "s3://b/p", "trust-a");
        assert_eq!(c.get("key", Some(&m), Some(&s)), Some(facts()));
        assert_eq!(
            c.get("key", Some(&obj("\"m2\"", 100)), Some(&s)),
            None,
            "manifest rewritten"
        );
        assert_eq!(
            c.get("key", Some(&m), Some(&obj("\"s2\"", 20))),
            None,
            "signature replaced"
        );
        assert_eq!(c.get("key", Some(&m), None), None, "signature gone");
        assert_eq!(c.get("other", Some(&m), Some(&s)), None);
        let mut other_trust = FactsCache::open(Some(dir.path()), "s3://b/p", "trust-b");
        assert_eq!(other_trust.get("key", Some(&m), Some(&s)), None, "trusted keys changed");
        let mut other_store = FactsCache::open(Some(dir.path()), "s3://b/q", "trust-a");
        assert_eq!(other_store.get("key", Some(&m), Some(&s)), None);
    }

    #[test]
    fn a_cache_others_could_write_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (m, s) = (obj("\"m1\"", 100), obj("\"s1\"", 20));
        let mut c = FactsCache::open(Some(dir.path()), "loc", "t");
        c.put("key", Some(&m), Some(&s), facts());
        c.save(|_| true);
        let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let mut c = FactsCache::open(Some(dir.path()), "loc", "t");
        assert_eq!(c.get("key", Some(&m), Some(&s)), None);
    }
}
