//! What the manifests say about backups' sizes and times, read for
//! monitoring (`list`, `stats`, `doctor`, and the history a new backup is
//! compared with): one GET per manifest, several at a time.
//!
//! Only manifests with a signature object listed next to them are read
//! (unless unsigned ones are allowed), and their signature is not checked:
//! a forged manifest can at most make or hide an anomaly warning, never
//! restore, delete or keep anything. A manifest that cannot be read is
//! left out with a warning; it never stops the command.

use futures::stream::{self, StreamExt};

use crate::model::{BackupManifest, Chain, DbName, ManifestKey};
use crate::monitor::{BackupSample, SampleKind};
use crate::store::ObjectStore;

use super::catalog::{read_manifest_unverified, CatalogListing};

/// Manifests read at a time.
const CONCURRENT_GETS: usize = 16;

/// What is measured of the backup a manifest describes.
pub fn sample_of(m: &BackupManifest) -> BackupSample {
    let (plain, stored) = m.totals();
    BackupSample {
        kind: if m.parent().is_some() {
            SampleKind::Diff
        } else {
            SampleKind::Full
        },
        plain,
        stored,
        seconds: (m.finished_at - m.started_at).num_milliseconds().max(0) as f64 / 1000.0,
    }
}

/// The type a key's chain field says (`Other`: a key written before it had one).
pub fn kind_of_key(k: &ManifestKey) -> SampleKind {
    match k.chain {
        Chain::Full => SampleKind::Full,
        Chain::Diff(_) => SampleKind::Diff,
        Chain::Unknown => SampleKind::Other,
    }
}

/// Reads the manifests of `keys` (any number), in order; `None` for one
/// that could not be read.
pub async fn read_samples(store: &dyn ObjectStore, keys: &[ManifestKey]) -> Vec<Option<BackupManifest>> {
    stream::iter(keys)
        .map(|k| async move {
            match read_manifest_unverified(store, k).await {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::warn!(manifest = %k, error = %e, "manifest not read: its size is not shown or compared");
                    None
                }
            }
        })
        .buffered(CONCURRENT_GETS)
        .collect()
        .await
}

/// The keys whose manifests monitoring may read: signed ones (any, when
/// unsigned manifests are allowed).
pub fn readable_keys(listing: &CatalogListing, allow_unsigned: bool) -> Vec<ManifestKey> {
    let signed = listing.signed_keys();
    listing
        .keys
        .iter()
        .filter(|k| allow_unsigned || signed.contains(k.to_string().as_str()))
        .cloned()
        .collect()
}

/// The history a new backup of `alias` of type `kind` is compared with:
/// the last `n` earlier backups of that type (oldest first), read from
/// at most `2n` manifests (legacy keys do not say their type).
pub async fn history_of(
    store: &dyn ObjectStore,
    earlier: &[ManifestKey],
    alias: &DbName,
    kind: SampleKind,
    n: usize,
) -> Vec<BackupSample> {
    let candidates: Vec<ManifestKey> = earlier
        .iter()
        .rev()
        .filter(|k| &k.alias == alias && (kind_of_key(k) == kind || kind_of_key(k) == SampleKind::Other))
        .take(2 * n)
        .cloned()
        .collect();
    let mut samples: Vec<BackupSample> = read_samples(store, &candidates)
        .await
        .iter()
        .flatten()
        .map(sample_of)
        .filter(|s| s.kind == kind)
        .take(n)
        .collect();
    samples.reverse();
    samples
}
