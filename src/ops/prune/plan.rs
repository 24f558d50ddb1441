//! The prune plan, from listings alone plus what the manifests of kept
//! backups say (read once, or taken from the local cache, `facts.rs`):
//!
//! 1. Backups whose manifest is not trusted (`src/signing/`) take no part
//!    and are never deleted: a forged manifest can neither crowd out real
//!    backups nor be mistaken for one.
//! 2. Backups that cannot be restored (a data object missing or of the
//!    wrong size, or a parent in their differential chain missing or itself
//!    unrestorable; `retention::chain`) are `incomplete`: never counted,
//!    never "the newest", never deleted by retention, and reported.
//! 3. Retention per alias over the restorable backups, then every parent a
//!    kept backup's chain needs is kept too ("parent of …").
//! 4. Storage-class awareness (objects younger than their class's minimum
//!    billed duration are deferred), then orphans (data prefixes with no
//!    manifest, signatures without a manifest).
//!
//! Pure, so it is table-tested; `mod.rs` carries it out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::facts::ManifestFacts;
use crate::config::RetentionConfig;
use crate::model::{backup_data_prefix, ManifestKey, DATA};
use crate::ops::catalog::signed_manifests;
use crate::retention::chain::{needed_by, restorability, ChainNode};
use crate::retention::select;
use crate::signing::SIGNATURE_SUFFIX;
use crate::store::ObjectInfo;

/// Days a storage class bills for at least (deleting earlier is billed anyway).
pub fn min_storage_days(class: &str) -> Option<i64> {
    match class {
        "STANDARD_IA" | "ONEZONE_IA" => Some(30),
        "GLACIER_IR" | "GLACIER" => Some(90),
        "DEEP_ARCHIVE" => Some(180),
        _ => None,
    }
}

/// One backup in the plan.
#[derive(Clone, Debug, Serialize)]
pub struct BackupPlan {
    pub alias: String,
    pub backup_id: String,
    pub database: String,
    #[serde(serialize_with = "crate::json::timestamp::serialize")]
    pub time: DateTime<Utc>,
    pub labels: Vec<String>,
    /// The backup this differential one builds on (absent for a full
    /// backup, or while not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// `keep`, `delete`, `defer`, `untrusted` (not signed by a trusted key)
    /// or `incomplete` (cannot be restored); the last two are left alone.
    pub action: &'static str,
    pub reasons: Vec<String>,
    /// Kept backups whose differential chain needs this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed_by: Vec<String>,
    /// The manifest key and the data objects to delete (for `delete`).
    #[serde(skip)]
    pub manifest_key: String,
    /// Its signature object, when the listing has one.
    #[serde(skip)]
    pub signature_key: Option<String>,
    #[serde(skip)]
    pub data_keys: Vec<String>,
}

/// Data without a manifest.
#[derive(Clone, Debug, Serialize)]
pub struct Orphan {
    pub prefix: String,
    pub objects: usize,
    pub bytes: u64,
    /// False while younger than the grace period (a backup may be uploading).
    pub delete: bool,
    #[serde(skip)]
    pub keys: Vec<String>,
}

/// What prune will do.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PrunePlan {
    pub backups: Vec<BackupPlan>,
    pub orphans: Vec<Orphan>,
}

impl PrunePlan {
    pub fn to_delete(&self) -> impl Iterator<Item = &BackupPlan> {
        self.backups.iter().filter(|b| b.action == "delete")
    }

    pub fn kept_count(&self) -> usize {
        self.backups.iter().filter(|b| b.action == "keep").count()
    }
}

/// `data/<alias>/<backup-id>/` of a data key.
fn backup_prefix(key: &str) -> Option<String> {
    let rest = key.strip_prefix(DATA)?;
    let mut parts = rest.splitn(3, '/');
    let (alias, id) = (parts.next()?, parts.next()?);
    parts.next()?;
    Some(format!("{DATA}{alias}/{id}/"))
}

fn data_prefix(k: &ManifestKey) -> String {
    backup_data_prefix(&k.alias, &k.backup_id)
}

/// A backup whose manifest is trusted, with what the plan looks up by.
struct Candidate<'a> {
    key: &'a ManifestKey,
    /// The manifest key as text.
    text: String,
    /// `data/<alias>/<backup-id>/`.
    prefix: String,
    facts: Option<&'a ManifestFacts>,
}

/// What the bucket listings hold.
#[derive(Clone, Copy, Debug, Default)]
pub struct Listing<'a> {
    pub manifests: &'a [ManifestKey],
    /// Signature objects (`<manifest>.minisig`) under `manifests/`.
    pub signatures: &'a [ObjectInfo],
    pub data: &'a [ObjectInfo],
}

/// What reading manifests taught so far, by manifest key.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    /// Manifests whose signature failed, with the reason.
    pub untrusted: BTreeMap<String, String>,
    /// Manifests read (or found in the cache) and trusted.
    pub facts: BTreeMap<String, ManifestFacts>,
}

/// Why a backup's own data is not complete, judged from the listing (see
/// [`ManifestFacts::missing_data`]); before the manifest is read, the prefix
/// must not be empty.
fn own_fault(prefix: &str, objects: &[&ObjectInfo], facts: Option<&ManifestFacts>) -> Option<String> {
    match facts {
        None => objects.is_empty().then(|| format!("no data objects under {prefix}")),
        Some(facts) => facts.missing_data(objects),
    }
}

fn new_plan(
    k: &ManifestKey,
    key: String,
    signed: &BTreeSet<&str>,
    action: &'static str,
    reasons: Vec<String>,
) -> BackupPlan {
    BackupPlan {
        alias: k.alias.to_string(),
        backup_id: k.backup_id.to_string(),
        database: k.database.to_string(),
        time: k.backup_id.time(),
        labels: k.labels.iter().map(|l| l.to_string()).collect(),
        parent: None,
        action,
        reasons,
        needed_by: Vec::new(),
        signature_key: signed
            .contains(key.as_str())
            .then(|| format!("{key}{SIGNATURE_SUFFIX}")),
        manifest_key: key,
        data_keys: Vec::new(),
    }
}

/// Plans a prune at `now` from the listings and what was learned from the
/// manifests read so far.
pub fn plan(listing: Listing<'_>, learned: &Learned, cfg: &RetentionConfig, now: DateTime<Utc>) -> PrunePlan {
    let Listing {
        manifests,
        signatures,
        data,
    } = listing;
    let signed = signed_manifests(signatures);
    let mut by_prefix: BTreeMap<String, Vec<&ObjectInfo>> = BTreeMap::new();
    for o in data {
        if let Some(p) = backup_prefix(&o.key) {
            by_prefix.entry(p).or_default().push(o);
        }
    }
    let mut out = PrunePlan::default();
    // Data prefixes a surviving backup uses: never deleted with another one
    // (two manifests can name the same backup id, e.g. a forged copy).
    let mut in_use = BTreeSet::new();
    let mut trusted: Vec<Candidate> = Vec::new();
    for m in manifests {
        let text = m.to_string();
        match learned.untrusted.get(&text) {
            Some(reason) => {
                in_use.insert(data_prefix(m));
                let reasons = vec![format!("left alone: {reason}")];
                out.backups.push(new_plan(m, text, &signed, "untrusted", reasons));
            }
            None => trusted.push(Candidate {
                key: m,
                facts: learned.facts.get(&text),
                prefix: data_prefix(m),
                text,
            }),
        }
    }
    let no_objects = Vec::new();
    let objects_of = |c: &Candidate| by_prefix.get(&c.prefix).unwrap_or(&no_objects);
    let nodes: Vec<ChainNode> = trusted
        .iter()
        .map(|c| ChainNode {
            id: &c.key.backup_id,
            parent: c.key.chain.parent().or_else(|| c.facts.map(|f| f.parent.as_ref())),
            own_fault: own_fault(&c.prefix, objects_of(c), c.facts),
        })
        .collect();
    let why_not = restorability(&nodes);
    let restorable: Vec<bool> = why_not.iter().map(Result::is_ok).collect();

    // Retention per alias, over the restorable backups only.
    let mut kept_reasons: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut needed: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut by_alias: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in trusted.iter().enumerate() {
        if restorable[i] {
            by_alias.entry(c.key.alias.as_str()).or_default().push(i);
        }
    }
    let index: BTreeMap<&str, usize> = trusted.iter().enumerate().map(|(i, c)| (c.text.as_str(), i)).collect();
    for (alias, members) in &by_alias {
        let keys: Vec<ManifestKey> = members.iter().map(|&i| trusted[i].key.clone()).collect();
        for d in select(&keys, cfg.policy_for(alias), now).decisions {
            if let Some(&i) = index.get(d.backup.to_string().as_str()) {
                kept_reasons.insert(i, d.reasons);
            }
        }
    }
    let kept: Vec<bool> = (0..trusted.len())
        .map(|i| kept_reasons.get(&i).is_some_and(|r| !r.is_empty()))
        .collect();
    for (i, children) in needed_by(&nodes, &kept, &restorable).into_iter().enumerate() {
        if !children.is_empty() {
            let ids: Vec<String> = children.iter().map(|c| c.to_string()).collect();
            kept_reasons
                .entry(i)
                .or_default()
                .push(format!("parent of {}", ids.join(", ")));
            needed.insert(i, ids);
        }
    }

    for (i, c) in trusted.iter().enumerate() {
        let objects = objects_of(c);
        let text = c.text.clone();
        let mut b = match (&why_not[i], kept_reasons.remove(&i).unwrap_or_default()) {
            (Err(why), _) => {
                let reasons = vec![format!("left alone, not counted: {why}")];
                new_plan(c.key, text, &signed, "incomplete", reasons)
            }
            (Ok(()), reasons) if reasons.is_empty() => new_plan(c.key, text, &signed, "delete", reasons),
            (Ok(()), reasons) => new_plan(c.key, text, &signed, "keep", reasons),
        };
        b.parent = nodes[i].parent.flatten().map(|p| p.to_string());
        b.needed_by = needed.remove(&i).unwrap_or_default();
        b.data_keys = objects.iter().map(|o| o.key.clone()).collect();
        if b.action == "delete" && cfg.defer_min_storage {
            defer_min_storage(&mut b, objects, now);
        }
        if b.action != "delete" {
            in_use.insert(c.prefix.clone());
        }
        out.backups.push(b);
    }
    // Newest first within each alias, aliases in order (the report's order).
    out.backups
        .sort_by(|a, b| (&a.alias, &b.backup_id, &b.labels).cmp(&(&b.alias, &a.backup_id, &a.labels)));
    for b in out.backups.iter_mut().filter(|b| b.action == "delete") {
        if in_use.contains(&format!("{DATA}{}/{}/", b.alias, b.backup_id)) {
            b.data_keys.clear();
            b.reasons
                .push("its data stays: another manifest of the same backup id is kept".into());
        }
    }
    let with_manifest: BTreeSet<String> = manifests.iter().map(data_prefix).collect();
    orphans(&mut out, by_prefix, &with_manifest, manifests, signatures, cfg, now);
    out
}

/// Defers a deletion the storage class would bill anyway.
fn defer_min_storage(b: &mut BackupPlan, objects: &[&ObjectInfo], now: DateTime<Utc>) {
    let until = objects
        .iter()
        .filter_map(|o| {
            let days = min_storage_days(o.storage_class.as_deref()?)?;
            let end = o.last_modified? + Duration::days(days);
            (end > now).then(|| (end, o.storage_class.clone().unwrap_or_default()))
        })
        .max();
    if let Some((end, class)) = until {
        b.action = "defer";
        b.reasons.push(format!(
            "{class} bills at least {} days: deletable from {}",
            min_storage_days(&class).unwrap_or_default(),
            end.format("%Y-%m-%d")
        ));
    }
}

/// Data prefixes without a manifest, and signatures without a manifest (a
/// signature is written just before its manifest: one alone is from a run
/// that died in between, or from a deleted backup).
fn orphans(
    out: &mut PrunePlan,
    by_prefix: BTreeMap<String, Vec<&ObjectInfo>>,
    with_manifest: &BTreeSet<String>,
    manifests: &[ManifestKey],
    signatures: &[ObjectInfo],
    cfg: &RetentionConfig,
    now: DateTime<Utc>,
) {
    let grace = Duration::from_std(cfg.orphan_grace).unwrap_or(Duration::MAX);
    for (prefix, objects) in by_prefix {
        if with_manifest.contains(&prefix) {
            continue;
        }
        let youngest = objects.iter().filter_map(|o| o.last_modified).max();
        out.orphans.push(Orphan {
            prefix,
            objects: objects.len(),
            bytes: objects.iter().map(|o| o.size).sum(),
            delete: youngest.is_none_or(|t| now - t > grace),
            keys: objects.iter().map(|o| o.key.clone()).collect(),
        });
    }
    let listed: BTreeSet<String> = manifests.iter().map(|m| m.to_string()).collect();
    for sig in signatures {
        let Some(manifest) = sig.key.strip_suffix(SIGNATURE_SUFFIX) else {
            continue;
        };
        if listed.contains(manifest) {
            continue;
        }
        out.orphans.push(Orphan {
            prefix: sig.key.clone(),
            objects: 1,
            bytes: sig.size,
            delete: sig.last_modified.is_none_or(|t| now - t > grace),
            keys: vec![sig.key.clone()],
        });
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
