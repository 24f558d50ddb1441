//! The prune plan, from listings alone (no GET per backup): retention per
//! alias, then storage-class awareness (objects younger than their class's
//! minimum billed duration are deferred), then orphans (data prefixes with no
//! manifest, signatures without a manifest). Backups whose manifest is not
//! trusted (`src/signing/`) take no part in retention and are never deleted:
//! a forged manifest can neither crowd out real backups nor be mistaken for
//! one. Pure, so it is table-tested; `mod.rs` carries it out.

use std::collections::{BTreeMap, BTreeSet};

use crate::signing::SIGNATURE_SUFFIX;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::RetentionConfig;
use crate::model::{ManifestKey, DATA};
use crate::retention::select;
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
    pub time: DateTime<Utc>,
    pub labels: Vec<String>,
    /// `keep`, `delete`, `defer` or `untrusted` (not signed by a trusted key:
    /// left alone).
    pub action: &'static str,
    pub reasons: Vec<String>,
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
}

/// `data/<alias>/<backup-id>/` of a data key.
fn backup_prefix(key: &str) -> Option<String> {
    let rest = key.strip_prefix(DATA)?;
    let mut parts = rest.splitn(3, '/');
    let (alias, id) = (parts.next()?, parts.next()?);
    parts.next()?;
    Some(format!("{DATA}{alias}/{id}/"))
}

/// What the bucket listings hold.
#[derive(Clone, Copy, Debug, Default)]
pub struct Listing<'a> {
    pub manifests: &'a [ManifestKey],
    /// Signature objects (`<manifest>.minisig`) under `manifests/`.
    pub signatures: &'a [ObjectInfo],
    pub data: &'a [ObjectInfo],
}

/// Plans a prune at `now`; `untrusted` maps manifest keys whose signature
/// failed to the reason.
pub fn plan(
    listing: Listing<'_>,
    untrusted: &BTreeMap<String, String>,
    cfg: &RetentionConfig,
    now: DateTime<Utc>,
) -> PrunePlan {
    let Listing {
        manifests,
        signatures,
        data,
    } = listing;
    let signed: BTreeSet<&str> = signatures
        .iter()
        .filter_map(|o| o.key.strip_suffix(SIGNATURE_SUFFIX))
        .collect();
    let mut by_prefix: BTreeMap<String, Vec<&ObjectInfo>> = BTreeMap::new();
    for o in data {
        if let Some(p) = backup_prefix(&o.key) {
            by_prefix.entry(p).or_default().push(o);
        }
    }
    let mut by_alias: BTreeMap<String, Vec<ManifestKey>> = BTreeMap::new();
    let mut out = PrunePlan::default();
    let mut with_manifest = BTreeSet::new();
    // Data prefixes a surviving backup uses: never deleted with another one
    // (two manifests can name the same backup id, e.g. a forged copy).
    let mut in_use = BTreeSet::new();
    for m in manifests {
        let key = m.to_string();
        let prefix = format!("{DATA}{}/{}/", m.alias, m.backup_id);
        match untrusted.get(&key) {
            Some(reason) => {
                in_use.insert(prefix.clone());
                with_manifest.insert(prefix);
                out.backups.push(BackupPlan {
                    alias: m.alias.to_string(),
                    backup_id: m.backup_id.to_string(),
                    database: m.database.to_string(),
                    time: m.backup_id.time(),
                    labels: m.labels.iter().map(|l| l.to_string()).collect(),
                    action: "untrusted",
                    reasons: vec![format!("left alone: {reason}")],
                    signature_key: signed
                        .contains(key.as_str())
                        .then(|| format!("{key}{SIGNATURE_SUFFIX}")),
                    manifest_key: key,
                    data_keys: Vec::new(),
                });
            }
            None => by_alias.entry(m.alias.to_string()).or_default().push(m.clone()),
        }
    }
    for (alias, keys) in &by_alias {
        let retention = select(keys, cfg.policy_for(alias), now);
        for d in retention.decisions {
            let k = &d.backup;
            let prefix = format!("{DATA}{}/{}/", k.alias, k.backup_id);
            with_manifest.insert(prefix.clone());
            let objects = by_prefix.get(&prefix).cloned().unwrap_or_default();
            let mut b = BackupPlan {
                alias: k.alias.to_string(),
                backup_id: k.backup_id.to_string(),
                database: k.database.to_string(),
                time: k.backup_id.time(),
                labels: k.labels.iter().map(|l| l.to_string()).collect(),
                action: if d.keep() { "keep" } else { "delete" },
                reasons: d.reasons.clone(),
                manifest_key: k.to_string(),
                signature_key: signed
                    .contains(k.to_string().as_str())
                    .then(|| format!("{k}{SIGNATURE_SUFFIX}")),
                data_keys: objects.iter().map(|o| o.key.clone()).collect(),
            };
            if b.action == "delete" && cfg.defer_min_storage {
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
            if b.action != "delete" {
                in_use.insert(prefix);
            }
            out.backups.push(b);
        }
    }
    for b in out.backups.iter_mut().filter(|b| b.action == "delete") {
        if in_use.contains(&format!("{DATA}{}/{}/", b.alias, b.backup_id)) {
            b.data_keys.clear();
            b.reasons
                .push("its data stays: another manifest of the same backup id is kept".into());
        }
    }
    for (prefix, objects) in by_prefix {
        if with_manifest.contains(&prefix) {
            continue;
        }
        let youngest = objects.iter().filter_map(|o| o.last_modified).max();
        let grace = Duration::from_std(cfg.orphan_grace).unwrap_or(Duration::MAX);
        out.orphans.push(Orphan {
            prefix,
            objects: objects.len(),
            bytes: objects.iter().map(|o| o.size).sum(),
            delete: youngest.is_none_or(|t| now - t > grace),
            keys: objects.iter().map(|o| o.key.clone()).collect(),
        });
    }
    // A signature is written just before its manifest: one without a
    // manifest is from a run that died in between, or from a deleted backup.
    let listed: BTreeSet<String> = manifests.iter().map(|m| m.to_string()).collect();
    for sig in signatures {
        let Some(manifest) = sig.key.strip_suffix(SIGNATURE_SUFFIX) else {
            continue;
        };
        if listed.contains(manifest) {
            continue;
        }
        let grace = Duration::from_std(cfg.orphan_grace).unwrap_or(Duration::MAX);
        out.orphans.push(Orphan {
            prefix: sig.key.clone(),
            objects: 1,
            bytes: sig.size,
            delete: sig.last_modified.is_none_or(|t| now - t > grace),
            keys: vec![sig.key.clone()],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetentionConfig {
        RetentionConfig {
            default: crate::retention::RetentionPolicy {
                keep_last: 1,
                keep_daily: 0,
                keep_weekly: 0,
                keep_monthly: 0,
                keep_yearly: 0,
                keep_within: None,
            },
            per_alias: Default::default(),
            orphan_grace: std::time::Duration::from_secs(24 * 3600),
            defer_min_storage: true,
            object_lock_mode: None,
            versions_by_lifecycle: false,
        }
    }

    fn key(s: &str) -> ManifestKey {
        ManifestKey::parse(s).unwrap()
    }

    fn obj(key: &str, class: &str, age_days: i64, now: DateTime<Utc>) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size: 10,
            last_modified: Some(now - Duration::days(age_days)),
            storage_class: Some(class.into()),
            restore: None,
            checksum: None,
        }
    }

    #[test]
    fn old_backups_go_young_infrequent_access_ones_wait_and_orphans_past_grace_go() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let manifests = [
            key("manifests/c1/20261001T020000Z-aaaaaa~c1-1.json"),
            key("manifests/c1/20261110T020000Z-bbbbbb~c1-1.json"),
            key("manifests/c1/20261124T020000Z-cccccc~c1-1.json"),
        ];
        let data = [
            obj(
                "data/c1/20261001T020000Z-aaaaaa/a.backup.zst.age",
                "STANDARD_IA",
                54,
                now,
            ),
            obj(
                "data/c1/20261110T020000Z-bbbbbb/a.backup.zst.age",
                "STANDARD_IA",
                14,
                now,
            ),
            obj("data/c1/20261124T020000Z-cccccc/a.backup.zst.age", "STANDARD", 0, now),
            obj("data/c1/20261020T020000Z-dddddd/a.backup.zst.age", "STANDARD", 35, now),
            obj("data/c1/20261124T030000Z-eeeeee/a.backup.zst.age", "STANDARD", 0, now),
        ];
        let sigs = [
            obj(
                "manifests/c1/20261124T020000Z-cccccc~c1-1.json.minisig",
                "STANDARD",
                0,
                now,
            ),
            obj(
                "manifests/c1/20261020T020000Z-dddddd~c1-1.json.minisig",
                "STANDARD",
                35,
                now,
            ),
        ];
        let listing = Listing {
            manifests: &manifests,
            signatures: &sigs,
            data: &data,
        };
        let p = plan(listing, &BTreeMap::new(), &cfg(), now);
        let actions: Vec<(&str, &str)> = p.backups.iter().map(|b| (b.backup_id.as_str(), b.action)).collect();
        assert_eq!(
            actions,
            [
                ("20261124T020000Z-cccccc", "keep"),
                ("20261110T020000Z-bbbbbb", "defer"),
                ("20261001T020000Z-aaaaaa", "delete"),
            ]
        );
        let deferred = &p.backups[1];
        assert!(deferred.reasons[0].contains("2026-12-10"), "{:?}", deferred.reasons);
        let orphans: Vec<(&str, bool)> = p.orphans.iter().map(|o| (o.prefix.as_str(), o.delete)).collect();
        assert_eq!(
            orphans,
            [
                ("data/c1/20261020T020000Z-dddddd/", true),
                ("data/c1/20261124T030000Z-eeeeee/", false),
                ("manifests/c1/20261020T020000Z-dddddd~c1-1.json.minisig", true),
            ]
        );
        assert_eq!(
            p.backups[0].signature_key.as_deref(),
            Some("manifests/c1/20261124T020000Z-cccccc~c1-1.json.minisig")
        );
        let mut no_defer = cfg();
        no_defer.defer_min_storage = false;
        assert_eq!(plan(listing, &BTreeMap::new(), &no_defer, now).to_delete().count(), 2);
    }

    /// A forged newer manifest that failed its signature check keeps nothing
    /// out of the window and is left alone; a forged copy of a backup id
    /// that is deleted takes no data with it.
    #[test]
    fn untrusted_manifests_take_no_part_in_retention_and_are_left_alone() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let manifests = [
            key("manifests/c1/20261110T020000Z-aaaaaa~c1-1.json"),
            key("manifests/c1/20261123T020000Z-bbbbbb~c1-1.json"),
            key("manifests/c1/20261124T020000Z-ffffff~c1-1.json"),
            key("manifests/c1/20261124T020000Z-ffffff~c1-1~pinned.json"),
        ];
        let data = [obj(
            "data/c1/20261123T020000Z-bbbbbb/a.backup.zst.age",
            "STANDARD",
            1,
            now,
        )];
        let listing = Listing {
            manifests: &manifests,
            signatures: &[],
            data: &data,
        };
        let mut untrusted = BTreeMap::new();
        untrusted.insert(manifests[2].to_string(), "no signature".to_string());
        untrusted.insert(manifests[3].to_string(), "no signature".to_string());
        let p = plan(listing, &untrusted, &cfg(), now);
        let actions: Vec<(&str, &str)> = p.backups.iter().map(|b| (b.backup_id.as_str(), b.action)).collect();
        assert_eq!(
            actions,
            [
                ("20261124T020000Z-ffffff", "untrusted"),
                ("20261124T020000Z-ffffff", "untrusted"),
                ("20261123T020000Z-bbbbbb", "keep"),
                ("20261110T020000Z-aaaaaa", "delete"),
            ]
        );
        assert!(p.backups[0].reasons[0].contains("no signature"));
        // Same id, one trusted and kept, one forged copy deleted: data stays.
        let twins = [
            key("manifests/c1/20261123T020000Z-bbbbbb~c1-1.json"),
            key("manifests/c1/20261123T020000Z-bbbbbb~c1-1~x.json"),
        ];
        let listing = Listing {
            manifests: &twins,
            signatures: &[],
            data: &data,
        };
        let p = plan(listing, &BTreeMap::new(), &cfg(), now);
        let deleted: Vec<&BackupPlan> = p.to_delete().collect();
        assert_eq!(deleted.len(), 1);
        assert!(deleted[0].data_keys.is_empty(), "{:?}", deleted[0]);
    }
}
