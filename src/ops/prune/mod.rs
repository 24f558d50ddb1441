//! `graphvault prune`: apply the retention plan to the bucket.
//!
//! Under the store lease (no backup runs meanwhile): list `manifests/` and
//! `data/` once (no GET per backup), plan (`plan.rs`), then for each backup
//! to delete remove the manifest first (the backup leaves the catalog at
//! once) and then its data objects; then orphaned data past the grace
//! period, and unfinished uploads. With object lock on, backups whose objects
//! are under retention or legal hold are deferred, never attempted; on a
//! versioned bucket every version of each key is removed (a plain DELETE
//! would only add a delete marker). A deletion that fails is reported and
//! the rest goes on. Versioning and object lock must be known (read, or
//! stated in config where the bucket will not say): otherwise prune deletes
//! nothing (`bucket_settings`).
//!
//! Only signed manifests count (`src/signing/`): the plan is made from the
//! listings, then the signatures of the backups it keeps are checked (two
//! GETs each, 16 at a time); a manifest that fails is set aside as
//! `untrusted` (never deleted, never counted) and the plan made again, until
//! every kept backup is trusted.

mod facts;
mod metrics;
mod plan;

use std::sync::Arc;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

pub use facts::{FactsCache, ManifestFacts};
pub use metrics::job_run;
pub use plan::{min_storage_days, plan, BackupPlan, Learned, Listing, Orphan, PrunePlan};

use crate::config::Config;
use crate::lease::{self, Holder};
use crate::model::DATA;
use crate::model::{BackupManifest, ManifestKey};
use crate::retention::tier;
use crate::signing::{ManifestTrust, SigningError, SIGNATURE_SUFFIX};
use crate::store::{ObjectInfo, ObjectStore};

use super::backup_run::LEASE_SCOPE;
use super::bucket_settings;
use super::catalog::{list_with_signatures, read_manifest, BackupFilter, CatalogListing};
use super::known_names::NameKind;
use super::OpsError;

/// What prune was asked to do.
#[derive(Clone, Debug)]
pub struct PruneRequest {
    pub database: Option<crate::model::DbName>,
    pub dry_run: bool,
    pub now: DateTime<Utc>,
    pub host: String,
}

/// What prune did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PruneReport {
    pub plan: PrunePlan,
    pub deleted_backups: usize,
    pub deleted_objects: usize,
    pub deleted_orphans: usize,
    pub aborted_uploads: usize,
    /// Lease generations before this run's own (`locks/`), removed.
    pub removed_lease_generations: usize,
    pub failures: Vec<String>,
    pub dry_run: bool,
    /// Manifests read from the store to plan (the others came from the
    /// local cache, or their backups are deleted).
    pub manifests_read: usize,
    /// Versioning and object lock, as read from the bucket (or as config
    /// states them where the bucket would not say).
    pub features: crate::store::BucketFeatures,
}

impl PruneReport {
    /// `ok` when every delete it attempted succeeded (or a dry run),
    /// `failed` when some failed and none succeeded, else `partial`.
    pub fn outcome(&self) -> crate::json::Outcome {
        use crate::json::Outcome;
        let done = self.deleted_backups + self.deleted_orphans + self.aborted_uploads + self.removed_lease_generations;
        match (self.failures.len(), done) {
            (0, _) => Outcome::Ok,
            (_, 0) => Outcome::Failed,
            _ => Outcome::Partial,
        }
    }
}

/// Deletes `key`, every version of it on a versioned bucket.
async fn delete_one(store: &dyn ObjectStore, key: &str, versioned: bool) -> Result<(), crate::store::StoreError> {
    if versioned {
        store.delete_all_versions(key).await.map(|_| ())
    } else {
        store.delete(key).await
    }
}

async fn delete_all(store: &dyn ObjectStore, keys: &[String], versioned: bool, failures: &mut Vec<String>) -> usize {
    let mut n = 0;
    for key in keys {
        match delete_one(store, key, versioned).await {
            Ok(()) => n += 1,
            Err(e) => failures.push(format!("{key}: {e}")),
        }
    }
    n
}

/// With object lock on, backups whose objects are under retention or legal
/// hold are deferred (S3 would refuse the delete), saying until when. So is a
/// backup one of whose objects' protection could not be read: a delete is
/// never attempted on a guess.
async fn defer_protected(store: &dyn ObjectStore, plan: &mut PrunePlan, now: DateTime<Utc>) {
    for b in plan.backups.iter_mut().filter(|b| b.action == "delete") {
        let keys = std::iter::once(&b.manifest_key)
            .chain(b.signature_key.iter())
            .chain(b.data_keys.iter());
        for key in keys {
            let reason = match store.protection(key).await {
                Ok(p) if p.blocks(now) => format!("{key} is {}", p.describe()),
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(key, error = %e, "cannot read the object's retention and legal hold; its backup is deferred, not deleted");
                    format!("the retention and legal hold of {key} could not be read ({e}); deferred, not deleted")
                }
            };
            b.action = "defer";
            b.reasons.push(reason);
            break;
        }
    }
}

/// The plan whose kept backups are all trusted and fully known: plan, learn
/// the manifests of kept backups not learned yet (from the cache, else one
/// GET of the manifest and one of its signature, 16 at a time), set aside
/// those that fail, plan again until nothing new is kept. Returns the plan
/// and how many manifests were read from the store.
async fn settled_plan(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    listing: Listing<'_>,
    catalog: &CatalogListing,
    cache: &mut FactsCache,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(PrunePlan, usize), OpsError> {
    let signature_of: BTreeMap<&str, &ObjectInfo> = catalog
        .signatures
        .iter()
        .filter_map(|o| Some((o.key.strip_suffix(SIGNATURE_SUFFIX)?, o)))
        .collect();
    let by_key: BTreeMap<String, &ManifestKey> = catalog.keys.iter().map(|k| (k.to_string(), k)).collect();
    let mut learned = Learned::default();
    let mut read = 0;
    loop {
        let p = plan(listing, &learned, &config.retention, now);
        let mut pending = Vec::new();
        let mut from_cache = 0;
        for b in p.backups.iter().filter(|b| b.action == "keep") {
            let key = b.manifest_key.as_str();
            if learned.facts.contains_key(key) || learned.untrusted.contains_key(key) {
                continue;
            }
            match cache.get(key, catalog.objects.get(key), signature_of.get(key).copied()) {
                Some(facts) => {
                    learned.facts.insert(key.to_string(), facts);
                    from_cache += 1;
                }
                None => pending.extend(by_key.get(key).copied()),
            }
        }
        // Settled only when this plan taught nothing new (facts from the
        // cache can change it as much as facts read from the store).
        if pending.is_empty() && from_cache == 0 {
            return Ok((p, read));
        }
        read += pending.len();
        let results: Vec<(String, Result<BackupManifest, OpsError>)> = futures::stream::iter(pending)
            .map(|key| async move { (key.to_string(), read_manifest(store, trust, key).await) })
            .buffer_unordered(16)
            .collect()
            .await;
        for (key, r) in results {
            match r {
                Ok(m) => {
                    let facts = ManifestFacts::of(&m);
                    cache.put(
                        &key,
                        catalog.objects.get(&key),
                        signature_of.get(key.as_str()).copied(),
                        facts.clone(),
                    );
                    learned.facts.insert(key, facts);
                }
                Err(OpsError::Signing(SigningError::Untrusted { reason, .. })) => {
                    tracing::warn!(
                        manifest = key,
                        reason,
                        "manifest not trusted: prune leaves it alone and does not count it as a backup"
                    );
                    learned.untrusted.insert(key, reason);
                }
                Err(OpsError::Manifest(e)) => {
                    tracing::warn!(manifest = key, error = %e, "manifest unreadable: prune leaves it alone and does not count it as a backup");
                    learned.untrusted.insert(key, e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The tier of each kept backup (in plan order): the longest rule that keeps
/// it, raised for a parent until it outlives every kept backup that needs it.
fn kept_tiers(plan: &PrunePlan, config: &Config) -> Vec<&'static str> {
    let own = |b: &BackupPlan| {
        let pinned = b.labels.iter().any(|l| l == "pinned" || l == "pre-deploy");
        tier::tier_of(&b.reasons, pinned)
    };
    let by_id: BTreeMap<&str, &BackupPlan> = plan
        .backups
        .iter()
        .filter(|b| b.action == "keep")
        .map(|b| (b.backup_id.as_str(), b))
        .collect();
    plan.backups
        .iter()
        .filter(|b| b.action == "keep")
        .map(|b| {
            let children: Vec<(&'static str, DateTime<Utc>)> = b
                .needed_by
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
                .map(|c| (own(c), c.time))
                .collect();
            tier::outliving(config.retention.policy_for(&b.alias), own(b), b.time, &children)
        })
        .collect()
}

/// Plans and (unless `dry_run`) carries out a prune.
pub async fn prune(store: Arc<dyn ObjectStore>, config: &Config, req: &PruneRequest) -> Result<PruneReport, OpsError> {
    let store_err = |source| OpsError::Store {
        location: store.location(),
        source,
    };
    let trust = config.signing.trust()?;
    if let Some(db) = &req.database {
        // A mistyped name would otherwise prune nothing and say nothing.
        let filter = BackupFilter {
            database: Some(db.clone()),
        };
        let prefix = format!("{DATA}{db}/");
        let listing = list_with_signatures(store.as_ref(), &filter).await?;
        if listing.keys.is_empty() && store.list(&prefix).await.map_err(store_err)?.is_empty() {
            listing
                .names
                .require(NameKind::AliasOrDatabase, db.as_str(), &store.location())?;
        }
    }
    // Before the lease: a prune that cannot know these deletes nothing, and
    // a dry run refuses the same way.
    let mut features = bucket_settings::features(store.as_ref(), &config.stated_bucket)
        .await
        .map_err(|unread| OpsError::ProtectionUnknown {
            location: store.location(),
            consequence: "prune deleted nothing (deleting safely needs the bucket's versioning and object lock)",
            unread,
        })?;
    let lease = if req.dry_run {
        None
    } else {
        let holder = Holder {
            run_id: hex::encode(rand::random::<[u8; 6]>()),
            host: req.host.clone(),
            pid: std::process::id(),
            command: "prune".into(),
        };
        Some(lease::acquire(store.clone(), LEASE_SCOPE, holder, config.backup.lease).await?)
    };
    let filter = BackupFilter {
        database: req.database.clone(),
    };
    // The two listings are independent: walk them side by side.
    let (catalog, data) = tokio::join!(list_with_signatures(store.as_ref(), &filter), store.list(DATA));
    let catalog = catalog?;
    let (manifests, signatures) = (&catalog.keys, &catalog.signatures);
    let mut data = data.map_err(store_err)?;
    if let Some(db) = &req.database {
        // Only this alias's data (orphans of others are not ours to judge here).
        let aliases: std::collections::BTreeSet<String> = manifests.iter().map(|k| k.alias.to_string()).collect();
        let wanted = |k: &str| {
            aliases.iter().any(|a| k.starts_with(&format!("{DATA}{a}/"))) || k.starts_with(&format!("{DATA}{db}/"))
        };
        data.retain(|o| wanted(&o.key));
    }
    if features.versioning && config.retention.versions_by_lifecycle {
        // Plain deletes; a noncurrent-version expiration rule removes the rest.
        features.versioning = false;
    }
    let listing = Listing {
        manifests,
        signatures,
        data: &data,
    };
    let mut cache = FactsCache::open(config.cache_dir.as_deref(), &store.location(), &trust.fingerprint());
    let (plan, manifests_read) =
        settled_plan(store.as_ref(), &trust, listing, &catalog, &mut cache, config, req.now).await?;
    cache.save(|key| ManifestKey::parse(key).is_some_and(|k| filter.matches(&k)));
    let mut report = PruneReport {
        plan,
        manifests_read,
        dry_run: req.dry_run,
        features,
        ..PruneReport::default()
    };
    for b in report.plan.backups.iter().filter(|b| b.action == "incomplete") {
        tracing::warn!(
            backup_id = b.backup_id,
            alias = b.alias,
            reason = b.reasons.join("; "),
            "backup cannot be restored: prune leaves it alone and does not count it (run verify on it; delete it by hand once understood)"
        );
    }
    if features.object_lock {
        defer_protected(store.as_ref(), &mut report.plan, req.now).await;
    }
    let Some(lease) = lease else { return Ok(report) };

    let doomed: Vec<BackupPlan> = report.plan.to_delete().cloned().collect();
    for b in doomed {
        if lease.lost() {
            report
                .failures
                .push("the lease was lost; stopped before deleting more".into());
            break;
        }
        // The manifest first: from here on the backup no longer exists.
        match delete_one(store.as_ref(), &b.manifest_key, features.versioning).await {
            Ok(()) => report.deleted_backups += 1,
            Err(e) => {
                report.failures.push(format!("{}: {e}", b.manifest_key));
                continue;
            }
        }
        // Then its signature and data (left behind by a crash here, they are
        // orphans the next prune removes).
        let rest: Vec<String> = b.signature_key.iter().chain(b.data_keys.iter()).cloned().collect();
        report.deleted_objects += delete_all(store.as_ref(), &rest, features.versioning, &mut report.failures).await;
        tracing::info!(
            backup_id = b.backup_id,
            alias = b.alias,
            objects = b.data_keys.len(),
            "backup deleted"
        );
    }
    // Raise the tier tag of kept backups to the longest rule that keeps them,
    // and a parent's to one that outlives every kept backup building on it.
    // With object lock, extend retention to the tier's end (never shortened).
    let tiers = kept_tiers(&report.plan, config);
    for (b, t) in report.plan.backups.iter().filter(|b| b.action == "keep").zip(tiers) {
        let tags = [(tier::TIER_TAG.to_string(), t.to_string())];
        let until = tier::retain_until(config.retention.policy_for(&b.alias), t, b.time, req.now);
        let keys = std::iter::once(&b.manifest_key)
            .chain(b.signature_key.iter())
            .chain(b.data_keys.iter());
        for key in keys {
            if let Err(e) = store.put_tags(key, &tags).await {
                tracing::warn!(key, error = %e, "cannot update the retention tier tag");
            }
            if let (Some(mode), true) = (&config.retention.object_lock_mode, features.object_lock) {
                // Unreadable: not extended this time (nothing is deleted on it).
                let current = match store.protection(key).await {
                    Ok(p) => p.retain_until,
                    Err(e) => {
                        tracing::warn!(key, error = %e, "cannot read the object's retention; not extending it");
                        continue;
                    }
                };
                if current.is_none_or(|c| c < until) {
                    if let Err(e) = store.set_retention(key, mode, until).await {
                        tracing::warn!(key, error = %e, "cannot extend object-lock retention");
                    }
                }
            }
        }
    }
    let orphans: Vec<Orphan> = report.plan.orphans.iter().filter(|o| o.delete).cloned().collect();
    for o in orphans {
        let n = delete_all(store.as_ref(), &o.keys, features.versioning, &mut report.failures).await;
        report.deleted_objects += n;
        report.deleted_orphans += 1;
        tracing::warn!(prefix = o.prefix, objects = n, "orphaned data (no manifest) deleted");
    }
    report.aborted_uploads = super::backup_run::abort_abandoned(store.as_ref(), chrono::Duration::zero()).await;
    report.removed_lease_generations = lease.remove_older_generations(features.versioning).await;
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "lease not released; it expires on its own");
    }
    Ok(report)
}

/// The plan as a table, then what was done.
pub fn render(r: &PruneReport) -> String {
    let mut out = String::from("ACTION  BACKUP                   ALIAS / DATABASE                         REASONS\n");
    for b in &r.plan.backups {
        out.push_str(&format!(
            "{:<6}  {}  {:<40} {}\n",
            b.action,
            b.backup_id,
            format!("{} / {}", b.alias, b.database),
            b.reasons.join("; ")
        ));
    }
    for o in &r.plan.orphans {
        out.push_str(&format!(
            "{:<6}  orphan {}  {} object(s), {} bytes{}\n",
            if o.delete { "delete" } else { "keep" },
            o.prefix,
            o.objects,
            o.bytes,
            if o.delete {
                ""
            } else {
                " (younger than the grace period)"
            }
        ));
    }
    let count = |a: &str| r.plan.backups.iter().filter(|b| b.action == a).count();
    out.push_str(&format!(
        "{} kept, {} to delete, {} deferred, {} untrusted (left alone), {} incomplete (left alone, not counted), {} orphan prefix(es)\n",
        count("keep"),
        count("delete"),
        count("defer"),
        count("untrusted"),
        count("incomplete"),
        r.plan.orphans.iter().filter(|o| o.delete).count()
    ));
    if r.dry_run {
        out.push_str("dry run: nothing was deleted\n");
    } else {
        out.push_str(&format!(
            "deleted {} backup(s), {} orphan prefix(es), {} object(s); aborted {} unfinished upload(s)\n",
            r.deleted_backups, r.deleted_orphans, r.deleted_objects, r.aborted_uploads
        ));
        for f in &r.failures {
            out.push_str(&format!("FAILED {f}\n"));
        }
    }
    out
}
