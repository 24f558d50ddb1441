//! `graphvault doctor`: audits a host and its bucket and explains each
//! finding with a severity and a fix. Checks: the store answers; versioning
//! and object lock (one that cannot be read is an error, never "off");
//! whether these credentials can delete while nothing locks the objects;
//! lifecycle rules against the retention policy; an age identity
//! lying on a backup host; staging free space; neo4j-admin and Bolt; the age
//! of the newest backup of every alias. Any error makes the exit code 14.

mod bucket;
mod judge;

use std::sync::Arc;

use chrono::{Duration, Utc};

pub use bucket::{judge_bucket, judge_delete};
pub use judge::{finding, judge_backup_age, judge_lifecycle, Finding, Severity};

use crate::config::Config;
use crate::neo4j::{Neo4jAdmin, Neo4jCatalog};
use crate::ops::bucket_settings::{Known, Setting};
use crate::store::ObjectStore;

use super::backup_run::{Bytes, FreeSpace};
use super::catalog::{list_backups, BackupFilter};

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

async fn storage_findings(ctx: &DoctorContext<'_>, out: &mut Vec<Finding>) -> Option<Vec<crate::model::ManifestKey>> {
    let keys = match list_backups(ctx.store.as_ref(), &BackupFilter::default()).await {
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
        format!("{} answers; {} backup(s)", ctx.store.location(), keys.len()),
        None,
    ));
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
    if let Some(id) = &ctx.config.identity_file {
        if id.exists() && !ctx.config.recipients.is_empty() {
            out.push(finding(
                "keys",
                Severity::Warning,
                format!(
                    "an age identity ({}) lies on a host that also encrypts backups",
                    id.display()
                ),
                Some("keep identities on restore hosts only: the backup host needs just the recipients"),
            ));
        }
    }
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
    }
    out
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
