//! `graphvault doctor`: audits a host and its bucket and explains each
//! finding with a severity and a fix. Checks: the store answers; versioning
//! and object lock (one that cannot be read is an error, never "off");
//! whether these credentials can delete while nothing locks the objects;
//! lifecycle rules against the retention policy; the store lease (one that
//! claims to outlive `lease_max_ttl_secs` is an error, with the command that
//! removes it); manifests without a signature; an age identity lying on a
//! backup host; the keys (recipients parse, the signing key is readable and
//! its public half trusted, the identity loads and, on a restore host, opens
//! the newest backup of every alias whose manifest `trusted_keys` verifies:
//! `keys.rs`); when verify and drill last passed (`proven.rs`); staging free
//! space; neo4j-admin and Bolt; the age of the newest signed backup of every
//! alias, and whether its size or time is an anomaly (a warning). Any error
//! makes the exit code 14.

mod anomaly;
mod bucket;
mod judge;
mod keys;
mod lease;
mod proven;

use std::sync::Arc;

use chrono::{Duration, Utc};

pub use anomaly::judge_newest;
pub use bucket::{judge_bucket, judge_delete};
pub use judge::{finding, judge_backup_age, judge_lifecycle, Finding, Severity};
pub use keys::{judge_keys, judge_newest_backups, KeyFacts, NewestCheck};
pub use lease::{judge_lease, remove_command};
pub use proven::{judge_proof, Proof, RunSummary};

use crate::config::Config;
use crate::model::ManifestKey;
use crate::neo4j::{Neo4jAdmin, Neo4jCatalog};
use crate::ops::bucket_settings::{Known, Setting};
use crate::store::ObjectStore;

use super::annotated::annotate;
use super::backup_run::LEASE_SCOPE;
use super::backup_run::{Bytes, FreeSpace};
use super::catalog::CatalogListing;
use super::catalog::{list_with_signatures, BackupFilter};

/// What doctor can look at (Neo4j parts are optional: a restore-only host).
pub struct DoctorContext<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub config: &'a Config,
    pub catalog: Option<&'a dyn Neo4jCatalog>,
    pub admin: Option<&'a dyn Neo4jAdmin>,
    pub free_space: &'a dyn FreeSpace,
    /// Newest backups older than this are errors.
    pub max_backup_age: Duration,
}

/// The backups whose age counts: those with a signature (an unsigned
/// manifest, possibly forged, must not make stale backups look fresh),
/// and a warning naming the unsigned ones.
fn signed_backups(ctx: &DoctorContext<'_>, listing: CatalogListing, out: &mut Vec<Finding>) -> Vec<ManifestKey> {
    let signed: Vec<bool> = {
        let with_signature = listing.signed_keys();
        listing
            .keys
            .iter()
            .map(|k| with_signature.contains(k.to_string().as_str()))
            .collect()
    };
    let unsigned: Vec<&ManifestKey> = listing
        .keys
        .iter()
        .zip(&signed)
        .filter(|(_, s)| !**s)
        .map(|(k, _)| k)
        .collect();
    if let Some(first) = unsigned.first() {
        let accepted = ctx.config.signing.allow_unsigned;
        out.push(finding(
            "signatures",
            Severity::Warning,
            format!(
                "{} manifest(s) have no signature (first: {first}): {}",
                unsigned.len(),
                if accepted {
                    "accepted only because signing.allow_unsigned is set"
                } else {
                    "not trusted, and not counted as backups"
                }
            ),
            Some("find out who wrote them (anyone who can write to the bucket can); `graphvault list` marks them UNSIGNED"),
        ));
    }
    let accepted = ctx.config.signing.allow_unsigned;
    listing
        .keys
        .into_iter()
        .zip(signed)
        .filter_map(|(k, signed)| (signed || accepted).then_some(k))
        .collect()
}

async fn lease_finding(ctx: &DoctorContext<'_>) -> Finding {
    // Judged as `acquire` judges it: by the store's clock, read first.
    let now = match ctx.store.clock().await {
        Ok(now) => now,
        Err(e) => {
            return finding(
                "lease",
                Severity::Warning,
                format!("cannot read the store's clock, so the lease cannot be judged: {e}"),
                None,
            )
        }
    };
    let read = crate::lease::inspect(ctx.store.as_ref(), LEASE_SCOPE).await;
    judge_lease(
        read.as_ref().map(Option::as_ref),
        &ctx.config.backup.lease,
        now,
        |key| remove_command(&ctx.config.storage, key),
    )
}

async fn storage_findings(ctx: &DoctorContext<'_>, out: &mut Vec<Finding>) -> Option<Vec<ManifestKey>> {
    let listing = match list_with_signatures(ctx.store.as_ref(), &BackupFilter::default()).await {
        Ok(k) => k,
        Err(e) => {
            out.push(finding(
                "storage",
                Severity::Error,
                format!("cannot list {}: {e}", ctx.store.location()),
                Some("check storage.url, the endpoint, the credentials and the network"),
            ));
            return None;
        }
    };
    out.push(finding(
        "storage",
        Severity::Ok,
        format!("{} answers; {} backup(s)", ctx.store.location(), listing.keys.len()),
        None,
    ));
    let keys = signed_backups(ctx, listing, out);
    out.push(lease_finding(ctx).await);
    let versioning = Known::read(ctx.store.as_ref(), Setting::Versioning, &ctx.config.stated_bucket).await;
    let object_lock = Known::read(ctx.store.as_ref(), Setting::ObjectLock, &ctx.config.stated_bucket).await;
    out.push(judge_bucket(&versioning, &object_lock));
    // A DELETE of a key that does not exist changes nothing and says whether
    // these credentials may delete.
    let probe = ctx.store.delete("probe/delete-permission-check").await;
    out.push(judge_delete(probe, object_lock.value()));
    match ctx.store.lifecycle_rules().await {
        Ok(rules) => {
            if versioning.value() == Some(true) && ctx.config.retention.versions_by_lifecycle {
                let expires = rules
                    .iter()
                    .any(|r| r.enabled && r.noncurrent_expiration_days.is_some());
                out.push(if expires {
                    finding("versions", Severity::Ok, "a noncurrent-version expiration rule removes old versions", None)
                } else {
                    finding(
                        "versions",
                        Severity::Error,
                        "noncurrent_versions = \"lifecycle\" but no rule expires noncurrent versions: pruned backups stay (and are billed) as old versions",
                        Some("add a NoncurrentVersionExpiration rule (`graphvault lifecycle suggest` has one) or set noncurrent_versions = \"delete\""),
                    )
                });
            }
            out.extend(judge_lifecycle(
                &rules,
                &ctx.store.bucket_prefix(),
                &ctx.config.retention,
            ))
        }
        Err(e) => out.push(finding(
            "lifecycle",
            Severity::Warning,
            format!("cannot read lifecycle rules: {e}"),
            None,
        )),
    }
    Some(keys)
}

fn host_findings(ctx: &DoctorContext<'_>, out: &mut Vec<Finding>) {
    let staging = &ctx.config.backup.staging_dir;
    let probe = staging.ancestors().find(|p| p.exists()).unwrap_or(staging);
    match ctx.free_space.available(probe) {
        Ok(free) if free < ctx.config.backup.min_free => out.push(finding(
            "staging",
            Severity::Error,
            format!(
                "{} has {} free, less than min_free_mib {}",
                probe.display(),
                Bytes(free),
                Bytes(ctx.config.backup.min_free)
            ),
            Some("free space there or point [backup] staging_dir at a larger disk"),
        )),
        Ok(free) => out.push(finding(
            "staging",
            Severity::Ok,
            format!("{} has {} free", probe.display(), Bytes(free)),
            None,
        )),
        Err(e) => out.push(finding(
            "staging",
            Severity::Error,
            format!("{}: {e}", probe.display()),
            None,
        )),
    }
}

/// Runs every check.
pub async fn doctor(ctx: &DoctorContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let keys = storage_findings(ctx, &mut out).await;
    let (facts, identities) = keys::read_keys(ctx.config);
    out.extend(keys::judge_keys(&facts));
    if let (Some(identities), Some(keys)) = (&identities, &keys) {
        out.extend(keys::check_newest_backups(ctx.store.as_ref(), ctx.config, identities, keys).await);
    }
    if keys.is_some() {
        out.extend(proven::findings(ctx.store.as_ref(), Utc::now()).await);
    }
    host_findings(ctx, &mut out);
    if let Some(admin) = ctx.admin {
        match admin.version().await {
            Ok(v) => out.push(finding(
                "neo4j-admin",
                Severity::Ok,
                format!("neo4j-admin {}", v.text),
                None,
            )),
            Err(e) => out.push(finding("neo4j-admin", Severity::Error, e.to_string(), None)),
        }
    }
    let mut expected = Vec::new();
    if let Some(catalog) = ctx.catalog {
        match catalog.aliases().await {
            Ok(a) => {
                out.push(finding(
                    "bolt",
                    Severity::Ok,
                    format!("Neo4j answers; {} alias(es)", a.len()),
                    None,
                ));
                expected = a
                    .into_iter()
                    .filter(|a| a.location == "local")
                    .map(|a| a.name)
                    .collect();
            }
            Err(e) => out.push(finding("bolt", Severity::Error, e.to_string(), None)),
        }
    }
    if let Some(keys) = keys {
        out.extend(judge_backup_age(&keys, &expected, Utc::now(), ctx.max_backup_age));
        out.extend(anomaly_findings(ctx, keys).await);
    }
    out
}

/// The newest backup of each alias against its history (the keys are the
/// trusted ones already).
async fn anomaly_findings(ctx: &DoctorContext<'_>, keys: Vec<ManifestKey>) -> Vec<Finding> {
    let mut newest: std::collections::BTreeMap<String, crate::model::BackupId> = Default::default();
    for k in &keys {
        newest.insert(k.alias.to_string(), k.backup_id.clone());
    }
    let listing = CatalogListing {
        keys,
        ..CatalogListing::default()
    };
    let shown = |k: &ManifestKey| newest.get(k.alias.as_str()) == Some(&k.backup_id);
    let annotated = annotate(ctx.store.as_ref(), &listing, shown, &ctx.config.monitor, true).await;
    judge_newest(&annotated)
}

/// One line per finding, worst first.
pub fn render(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut out = String::new();
    for f in sorted {
        let tag = match f.severity {
            Severity::Ok => "ok     ",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR  ",
        };
        out.push_str(&format!("{tag}  {:<12} {}\n", f.check, f.message));
        if let (Some(fix), true) = (&f.fix, f.severity != Severity::Ok) {
            out.push_str(&format!("         {:<12} fix: {fix}\n", ""));
        }
    }
    out
}
