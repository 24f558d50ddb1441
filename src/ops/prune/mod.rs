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

mod plan;

use std::sync::Arc;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

pub use plan::{min_storage_days, plan, BackupPlan, Listing, Orphan, PrunePlan};

use crate::config::Config;
use crate::lease::{self, Holder};
use crate::model::DATA;
use crate::signing::{ManifestTrust, SigningError};
use crate::store::ObjectStore;

use super::backup_run::LEASE_SCOPE;
use super::bucket_settings;
use super::catalog::{check_signature, list_backups, list_with_signatures, BackupFilter};
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
    pub failures: Vec<String>,
    pub dry_run: bool,
    /// Versioning and object lock, as read from the bucket (or as config
    /// states them where the bucket would not say).
    pub features: crate::store::BucketFeatures,
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

/// The plan whose kept backups all carry a trusted signature: plan, check
/// the kept ones not checked yet, set aside those that fail, plan again.
async fn trusted_plan(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    listing: Listing<'_>,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<PrunePlan, OpsError> {
    let mut untrusted = BTreeMap::new();
    if trust.allows_unsigned() {
        return Ok(plan(listing, &untrusted, &config.retention, now));
    }
    let mut checked = BTreeSet::new();
    loop {
        let p = plan(listing, &untrusted, &config.retention, now);
        let pending: Vec<String> = p
            .backups
            .iter()
            .filter(|b| b.action != "untrusted" && b.action != "delete" && !checked.contains(&b.manifest_key))
            .map(|b| b.manifest_key.clone())
            .collect();
        if pending.is_empty() {
            return Ok(p);
        }
        let results: Vec<(String, Result<_, OpsError>)> = futures::stream::iter(pending)
            .map(|key| async move {
                let r = check_signature(store, trust, &key).await;
                (key, r)
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for (key, r) in results {
            match r {
                Ok(_) => {}
                Err(OpsError::Signing(SigningError::Untrusted { reason, .. })) => {
                    tracing::warn!(
                        manifest = key,
                        reason,
                        "manifest not trusted: prune leaves it alone and does not count it as a backup"
                    );
                    untrusted.insert(key.clone(), reason);
                }
                Err(e) => return Err(e),
            }
            checked.insert(key);
        }
    }
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
        let none = list_backups(store.as_ref(), &filter).await?.is_empty()
            && store.list(&prefix).await.map_err(store_err)?.is_empty();
        if none {
            return Err(OpsError::BackupNotFound {
                what: format!("of '{db}'"),
                location: store.location(),
            });
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
    let (manifests, signatures) = list_with_signatures(store.as_ref(), &filter).await?;
    let mut data = store.list(DATA).await.map_err(store_err)?;
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
        manifests: &manifests,
        signatures: &signatures,
        data: &data,
    };
    let mut report = PruneReport {
        plan: trusted_plan(store.as_ref(), &trust, listing, config, req.now).await?,
        dry_run: req.dry_run,
        features,
        ..PruneReport::default()
    };
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
    // Raise the tier tag of kept backups to the longest rule that keeps them.
    // With object lock, extend retention to the tier's end (never shortened).
    for b in report.plan.backups.iter().filter(|b| b.action == "keep") {
        use crate::retention::tier;
        let pinned = b.labels.iter().any(|l| l == "pinned" || l == "pre-deploy");
        let t = tier::tier_of(&b.reasons, pinned);
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
    report.aborted_uploads = super::backup_run::abort_abandoned(store.as_ref(), req.now).await;
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
        "{} kept, {} to delete, {} deferred, {} untrusted (left alone), {} orphan prefix(es)\n",
        count("keep"),
        count("delete"),
        count("defer"),
        count("untrusted"),
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
