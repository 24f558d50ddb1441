//! The catalog annotated with what the manifests say: type, size, stored
//! size, ratio and, for each backup shown, the anomaly judgement against the
//! earlier backups of its alias (src/monitor/anomaly.rs). Used by `list`,
//! `stats` and `doctor`.
//!
//! It costs one GET per manifest it needs: the backups shown plus, per
//! alias, up to 2 × `[monitor] history` earlier ones (the history of the
//! oldest one shown). Unsigned manifests are shown, marked, but never serve
//! as history (unless unsigned manifests are allowed): a forged one must not
//! make a shrunken backup look normal.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{BackupManifest, ManifestKey};
use crate::monitor::{judge, AnomalyPolicy, BackupSample, Judgement};
use crate::store::ObjectStore;

use super::backup_facts::{read_samples, sample_of};
use super::catalog::CatalogListing;

/// One backup with what its manifest says.
#[derive(Clone, Debug)]
pub struct AnnotatedBackup {
    pub key: ManifestKey,
    /// A signature object is listed next to the manifest.
    pub signed: bool,
    /// `None`: the manifest could not be read.
    pub sample: Option<BackupSample>,
    /// The backup it builds on (a differential).
    pub parent: Option<String>,
    /// `None` for an unsigned or unread backup (never judged).
    pub judgement: Option<Judgement>,
}

/// Which of `keys` (oldest first) must be read to show and judge the ones
/// `shown` marks: per alias, from 2 × `history` before its first shown
/// backup up to its last one.
pub fn needed(keys: &[ManifestKey], shown: &[bool], history: usize) -> Vec<bool> {
    let mut by_alias: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_alias.entry(k.alias.as_str()).or_default().push(i);
    }
    let mut out = vec![false; keys.len()];
    for indices in by_alias.values() {
        let positions: Vec<usize> = (0..indices.len()).filter(|&p| shown[indices[p]]).collect();
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            continue;
        };
        for &i in &indices[first.saturating_sub(2 * history)..=last] {
            out[i] = true;
        }
    }
    out
}

/// The backups of `listing` that `show` selects, with nothing read (`list --no-sizes`).
pub fn unread(listing: &CatalogListing, show: impl Fn(&ManifestKey) -> bool) -> Vec<AnnotatedBackup> {
    let signed: BTreeSet<&str> = listing.signed_keys();
    listing
        .keys
        .iter()
        .filter(|k| show(k))
        .map(|k| AnnotatedBackup {
            key: k.clone(),
            signed: signed.contains(k.to_string().as_str()),
            sample: None,
            parent: None,
            judgement: None,
        })
        .collect()
}

/// The backups of `listing` that `show` selects, annotated, oldest first.
pub async fn annotate(
    store: &dyn ObjectStore,
    listing: &CatalogListing,
    show: impl Fn(&ManifestKey) -> bool,
    policy: &AnomalyPolicy,
    allow_unsigned: bool,
) -> Vec<AnnotatedBackup> {
    let signed: BTreeSet<&str> = listing.signed_keys();
    let shown: Vec<bool> = listing.keys.iter().map(&show).collect();
    let need = needed(&listing.keys, &shown, policy.history);
    let to_read: Vec<ManifestKey> = listing
        .keys
        .iter()
        .zip(&need)
        .filter(|(_, n)| **n)
        .map(|(k, _)| k.clone())
        .collect();
    let manifests = read_samples(store, &to_read).await;
    let rows: Vec<(&ManifestKey, bool, Option<&BackupManifest>)> = listing
        .keys
        .iter()
        .zip(&shown)
        .zip(&need)
        .filter(|(_, n)| **n)
        .map(|((k, s), _)| (k, *s))
        .zip(&manifests)
        .map(|((k, s), m)| (k, s, m.as_ref()))
        .collect();
    // Judged in the order the backups were taken: keys only tell the second.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rows[i].2.map(|m| m.started_at), i));
    let mut history: BTreeMap<&str, Vec<BackupSample>> = BTreeMap::new();
    let mut judgements: Vec<Option<Judgement>> = vec![None; rows.len()];
    for i in order {
        let (key, _, manifest) = rows[i];
        let trusted = allow_unsigned || signed.contains(key.to_string().as_str());
        let (Some(m), true) = (manifest, trusted) else {
            continue;
        };
        let sample = sample_of(m);
        let earlier = history.entry(key.alias.as_str()).or_default();
        judgements[i] = Some(judge(earlier, &sample, policy));
        earlier.push(sample);
    }
    rows.iter()
        .zip(judgements)
        .filter(|((_, is_shown, _), _)| *is_shown)
        .map(|((key, _, manifest), judgement)| AnnotatedBackup {
            key: (*key).clone(),
            signed: signed.contains(key.to_string().as_str()),
            sample: manifest.map(sample_of),
            parent: manifest.and_then(|m| m.parent()).map(|p| p.to_string()),
            judgement,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alias: &str, n: u32) -> ManifestKey {
        ManifestKey::parse(&format!(
            "manifests/{alias}/20261124T{n:02}0000Z-3fa91c~{alias}-1~FULL.json"
        ))
        .unwrap()
    }

    #[test]
    fn only_the_shown_backups_and_the_history_of_the_oldest_shown_are_read() {
        // a: 8 backups, the last two shown; b: 3, none shown; c: 2, the first shown.
        let mut keys: Vec<ManifestKey> = (0..8).map(|n| key("a", n)).collect();
        keys.extend((0..3).map(|n| key("b", n)));
        keys.extend((0..2).map(|n| key("c", n)));
        let mut shown = vec![false; keys.len()];
        shown[6] = true;
        shown[7] = true;
        shown[11] = true;
        let need = needed(&keys, &shown, 2);
        let read: Vec<usize> = (0..keys.len()).filter(|&i| need[i]).collect();
        assert_eq!(read, vec![2, 3, 4, 5, 6, 7, 11]);
    }
}
