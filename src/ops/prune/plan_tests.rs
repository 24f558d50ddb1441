//! Table tests of the prune plan: retention, deferral, orphans, trust,
//! completeness and differential chains.

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
        etag: None,
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
    let p = plan(listing, &Learned::default(), &cfg(), now);
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
    assert_eq!(
        plan(listing, &Learned::default(), &no_defer, now).to_delete().count(),
        2
    );
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
    let data = [
        obj("data/c1/20261110T020000Z-aaaaaa/a.backup.zst.age", "STANDARD", 14, now),
        obj("data/c1/20261123T020000Z-bbbbbb/a.backup.zst.age", "STANDARD", 1, now),
    ];
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    let mut learned = Learned::default();
    learned
        .untrusted
        .insert(manifests[2].to_string(), "no signature".to_string());
    learned
        .untrusted
        .insert(manifests[3].to_string(), "no signature".to_string());
    let p = plan(listing, &learned, &cfg(), now);
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
    let p = plan(listing, &Learned::default(), &cfg(), now);
    let deleted: Vec<&BackupPlan> = p.to_delete().collect();
    assert_eq!(deleted.len(), 1);
    assert!(deleted[0].data_keys.is_empty(), "{:?}", deleted[0]);
}

/// `manifests/c1/<id>~c1-1~<chain>.json` and its data object (10 bytes).
fn chained(id: &str, parent: Option<&str>, now: DateTime<Utc>) -> (ManifestKey, ObjectInfo) {
    let chain = parent.map_or("FULL".to_string(), |p| format!("DIFF-{p}"));
    (
        key(&format!("manifests/c1/{id}~c1-1~{chain}.json")),
        obj(&format!("data/c1/{id}/a.backup.zst.age"), "STANDARD", 0, now),
    )
}

fn actions(p: &PrunePlan) -> Vec<(&str, &str)> {
    p.backups.iter().map(|b| (&b.backup_id[..8], b.action)).collect()
}

/// The case: FULL ← DIFF ← DIFF ← DIFF and keep_last = 1.
#[test]
fn a_kept_differential_keeps_its_whole_chain_back_to_the_full_backup() {
    let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let ids = [
        "20261121T020000Z-00000a",
        "20261122T020000Z-00000b",
        "20261123T020000Z-00000c",
        "20261124T020000Z-00000d",
    ];
    let (manifests, data): (Vec<_>, Vec<_>) = ids
        .iter()
        .enumerate()
        .map(|(i, id)| chained(id, i.checked_sub(1).map(|p| ids[p]), now))
        .unzip();
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    let p = plan(listing, &Learned::default(), &cfg(), now);
    assert_eq!(
        actions(&p),
        [
            ("20261124", "keep"),
            ("20261123", "keep"),
            ("20261122", "keep"),
            ("20261121", "keep")
        ]
    );
    assert_eq!(p.backups[3].reasons, [format!("parent of {}", ids[3])]);
    assert_eq!(p.backups[3].needed_by, [ids[3]]);
    assert_eq!(p.backups[0].parent.as_deref(), Some(ids[2]));

    // A new full backup on top: the old chain is no longer needed.
    let (m, d) = chained("20261125T020000Z-00000e", None, now);
    let manifests: Vec<_> = manifests.iter().cloned().chain([m]).collect();
    let data: Vec<_> = data.iter().cloned().chain([d]).collect();
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    let later: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
    let p = plan(listing, &Learned::default(), &cfg(), later);
    assert_eq!(p.kept_count(), 1);
    assert_eq!(p.to_delete().count(), 4);
}

/// A backup whose data is gone (or of the wrong size) is never "the newest":
/// the older, good backup stays, and the broken one is reported, not deleted.
#[test]
fn a_backup_with_missing_or_wrong_sized_data_never_counts() {
    let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let (old, old_data) = chained("20261123T020000Z-00000a", None, now);
    let (new, _) = chained("20261124T020000Z-00000b", None, now);
    let manifests = [old.clone(), new.clone()];
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: std::slice::from_ref(&old_data),
    };
    let p = plan(listing, &Learned::default(), &cfg(), now);
    assert_eq!(actions(&p), [("20261124", "incomplete"), ("20261123", "keep")]);
    assert!(
        p.backups[0].reasons[0].contains("no data objects"),
        "{:?}",
        p.backups[0]
    );
    assert_eq!(p.backups[1].reasons[0], "newest");

    // Listed, but shorter than its manifest says (known once it is read).
    let new_data = obj("data/c1/20261124T020000Z-00000b/a.backup.zst.age", "STANDARD", 0, now);
    let data = [old_data, new_data.clone()];
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    let mut learned = Learned::default();
    learned.facts.insert(
        new.to_string(),
        ManifestFacts {
            parent: None,
            artifacts: vec![(new_data.key.clone(), 11)],
        },
    );
    let p = plan(listing, &learned, &cfg(), now);
    assert_eq!(actions(&p), [("20261124", "incomplete"), ("20261123", "keep")]);
    assert!(
        p.backups[0].reasons[0].contains("is 10 bytes, its manifest says 11"),
        "{:?}",
        p.backups[0]
    );
}

/// A differential whose parent is gone cannot be restored: it does not
/// protect the alias, and neither does anything built on it.
#[test]
fn a_differential_with_a_missing_parent_is_incomplete_and_the_last_restorable_backup_stays() {
    let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let (full, full_data) = chained("20261120T020000Z-00000a", None, now);
    let (orphaned, orphaned_data) = chained("20261123T020000Z-00000c", Some("20261122T020000Z-00000b"), now);
    let (child, child_data) = chained("20261124T020000Z-00000d", Some("20261123T020000Z-00000c"), now);
    let manifests = [full, orphaned, child];
    let data = [full_data, orphaned_data, child_data];
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    let p = plan(listing, &Learned::default(), &cfg(), now);
    assert_eq!(
        actions(&p),
        [
            ("20261124", "incomplete"),
            ("20261123", "incomplete"),
            ("20261120", "keep")
        ]
    );
    assert!(p.backups[1].reasons[0].contains("parent 20261122T020000Z-00000b is missing"));
    assert!(p.backups[0].reasons[0].contains("cannot be restored"));
}

/// Keys written before the chain field: the chain comes from the manifest.
#[test]
fn a_key_without_a_chain_field_learns_its_parent_from_the_manifest() {
    let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let old = key("manifests/c1/20261123T020000Z-00000a~c1-1.json");
    let new = key("manifests/c1/20261124T020000Z-00000b~c1-1.json");
    let data = [
        obj("data/c1/20261123T020000Z-00000a/a.backup.zst.age", "STANDARD", 1, now),
        obj("data/c1/20261124T020000Z-00000b/a.backup.zst.age", "STANDARD", 0, now),
    ];
    let manifests = [old, new.clone()];
    let listing = Listing {
        manifests: &manifests,
        signatures: &[],
        data: &data,
    };
    // Before the newest manifest is read, its chain is unknown.
    let p = plan(listing, &Learned::default(), &cfg(), now);
    assert_eq!(actions(&p), [("20261124", "keep"), ("20261123", "delete")]);
    let mut learned = Learned::default();
    learned.facts.insert(
        new.to_string(),
        ManifestFacts {
            parent: Some("20261123T020000Z-00000a".parse().unwrap()),
            artifacts: vec![(data[1].key.clone(), 10)],
        },
    );
    let p = plan(listing, &learned, &cfg(), now);
    assert_eq!(actions(&p), [("20261124", "keep"), ("20261123", "keep")]);
}
