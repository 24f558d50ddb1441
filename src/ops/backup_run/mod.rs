//! `graphvault backup` driven by Neo4j: find the aliased databases over Bolt,
//! check, run neo4j-admin into staging, seal and upload each artifact, commit
//! the manifest, then tidy staging. One database failing never stops the
//! others; the report says what happened to each.
//!
//! Order per database (docs/DESIGN.md, "The backup run"): set aside staging
//! leftovers → free-space check → neo4j-admin → sealed upload of every
//! artifact (verified) → manifest (create-only) → `committed.json` → remove
//! uploaded artifacts beyond `keep_local` and the leftovers.

mod abandoned;
pub mod metrics;
mod preflight;
mod report;
mod staging;
mod targets;

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;

pub use abandoned::abort_abandoned;
pub use preflight::{
    check_space, check_store_writable, needed_space, Bytes, FreeSpace, NoSpace, PreflightError, StatvfsFreeSpace,
};
pub use report::{DbOutcome, DbResult, RunOutcome, RunReport};
pub use staging::{LocalBackup, Staging, StagingError};
pub use targets::{select, Selection, Target};

use crate::config::Config;
use crate::lease::{self, Holder, Lease, LocalLock};
use crate::model::{BackupManifest, DbName, Label, ManifestKey, Neo4jInfo};
use crate::neo4j::topology::backup_sources;
use crate::neo4j::{BackupKind, BackupRequest, BackupType, DatabaseInfo, Neo4jAdmin, Neo4jCatalog};
use crate::pipeline::Recipients;
use crate::store::ObjectStore;

use super::backup_facts::{history_of, readable_keys, sample_of};
use super::interrupt::until_interrupted;
use super::progress::ProgressStyle;
use super::{
    backup_artifacts, list_with_signatures, read_manifest_unverified, ArtifactBackupRequest, BackupFilter, OpsError,
};
use crate::monitor::{judge, Judgement};

/// What the operator asked for.
#[derive(Clone, Debug, Default)]
pub struct BackupRunRequest {
    pub databases: Vec<String>,
    pub aliases: Vec<String>,
    pub backup_type: Option<BackupType>,
    pub labels: Vec<Label>,
}

/// The parts a run works with (traits, so tests can substitute them).
pub struct RunContext<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub config: &'a Config,
    pub catalog: &'a dyn Neo4jCatalog,
    pub admin: &'a dyn Neo4jAdmin,
    pub free_space: &'a dyn FreeSpace,
    /// Names this host in the store's write probe.
    pub host: String,
    pub progress: ProgressStyle,
}

/// Run-wide checks; any failure stops the run before neo4j-admin runs.
async fn preflight_run(ctx: &RunContext<'_>) -> Result<String, OpsError> {
    Recipients::parse(&ctx.config.recipients)?;
    ctx.config.signing.signer()?;
    let version = ctx.admin.version().await?;
    check_store_writable(ctx.store.as_ref(), &ctx.host).await?;
    Ok(version.text)
}

/// Backs up the selected databases; `Err` only when nothing could start.
pub async fn backup_run(ctx: &RunContext<'_>, req: &BackupRunRequest) -> Result<RunReport, OpsError> {
    let aliases = ctx.catalog.aliases().await?;
    let databases = ctx.catalog.databases().await?;
    let sel = select(&aliases, &databases, &req.databases, &req.aliases);
    if !sel.unmatched.is_empty() {
        return Err(OpsError::NothingToBackUp {
            what: sel.unmatched.join(", "),
        });
    }
    for db in &sel.unaliased {
        tracing::info!(database = %db, "skipped: no alias points at it (name it with --database to back it up)");
    }
    for a in &sel.skipped_aliases {
        tracing::info!(alias = %a.name, reason = %a.reason, "skipped alias");
    }
    for a in &sel.dangling {
        tracing::warn!(alias = %a.name, database = %a.database, "alias points at a database the server does not list");
    }
    let admin_version = preflight_run(ctx).await?;
    // One run per staging directory and per store prefix at a time.
    let run_id = hex::encode(rand::random::<[u8; 6]>());
    let _local = LocalLock::acquire(&ctx.config.backup.staging_dir, &run_id)?;
    let holder = Holder {
        run_id,
        host: ctx.host.clone(),
        pid: std::process::id(),
        command: "backup".into(),
    };
    let lease = lease::acquire(ctx.store.clone(), LEASE_SCOPE, holder, ctx.config.backup.lease).await?;
    // Ctrl-C or SIGTERM: neo4j-admin's whole group is stopped, the lease released.
    let grace = ctx.config.neo4j.admin.stop_grace;
    let work = run_targets(ctx, req, &sel, &databases, &admin_version, &lease);
    let report = until_interrupted("backup", grace, work).await;
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "lease not released; it expires on its own");
    }
    report
}

/// The lease scope: the whole store prefix (backup and prune share it).
pub const LEASE_SCOPE: &str = "repository";

async fn run_targets(
    ctx: &RunContext<'_>,
    req: &BackupRunRequest,
    sel: &Selection,
    databases: &[crate::neo4j::DatabaseInfo],
    admin_version: &str,
    lease: &Lease,
) -> Result<RunReport, OpsError> {
    abandoned::abort_abandoned(ctx.store.as_ref(), ctx.config.backup.abandoned_upload_age).await;
    let listing = list_with_signatures(ctx.store.as_ref(), &BackupFilter::default()).await?;
    // The history new backups are compared with: signed manifests only.
    let history = readable_keys(&listing, ctx.config.signing.allow_unsigned);
    let existing = listing.keys;

    let mut report = RunReport {
        results: Vec::new(),
        unaliased: sel.unaliased.clone(),
        skipped_aliases: sel
            .skipped_aliases
            .iter()
            .map(|a| format!("{}: {}", a.name, a.reason))
            .collect(),
    };
    for target in &sel.targets {
        let started = Instant::now();
        let span = tracing::info_span!("database", alias = %target.alias, database = %target.database);
        let info = databases.iter().find(|d| d.name == target.database);
        let status = info.map(|d| d.current_status.clone()).unwrap_or_default();
        let work = async {
            if lease.lost() {
                return Err(OpsError::LeaseLost {
                    location: ctx.store.location(),
                });
            }
            // An online backup needs a running database: say so before neo4j-admin does.
            if status != "online" {
                return Err(OpsError::DatabaseNotOnline {
                    name: target.database.clone(),
                    status: status.clone(),
                });
            }
            back_up_one(ctx, req, target, &existing, info, admin_version, lease).await
        };
        let outcome = match work.instrument(span.clone()).await {
            Ok((manifest, mut warnings)) => {
                let judgement = judge_new(ctx, &history, &manifest).instrument(span).await;
                warnings.extend(judgement.anomalies().iter().map(ToString::to_string));
                let (size, stored) = manifest.totals();
                DbOutcome::Ok {
                    backup_id: manifest.backup_id.to_string(),
                    backup_type: manifest.neo4j.and_then(|n| n.backup_type),
                    size,
                    stored,
                    warnings,
                    anomalies: judgement.anomalies().to_vec(),
                }
            }
            Err(error) => {
                tracing::error!(alias = %target.alias, database = %target.database, error = %error,
                    "backup of this database failed; continuing with the others");
                DbOutcome::Failed { error }
            }
        };
        report.results.push(DbResult {
            alias: target.alias.clone(),
            database: target.database.clone(),
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(report)
}

/// The new backup against the history of its alias (src/monitor/anomaly.rs).
/// An anomaly is only reported: the backup stays, it may be legitimate.
async fn judge_new(ctx: &RunContext<'_>, history: &[ManifestKey], manifest: &BackupManifest) -> Judgement {
    let policy = &ctx.config.monitor;
    let sample = sample_of(manifest);
    let earlier = history_of(
        ctx.store.as_ref(),
        history,
        &manifest.alias,
        sample.kind,
        policy.history,
    )
    .await;
    let judgement = judge(&earlier, &sample, policy);
    match &judgement {
        Judgement::Anomalous(a) => {
            for anomaly in a {
                tracing::warn!(kind = anomaly.kind.as_str(), "{anomaly}; the backup is kept");
            }
        }
        other => tracing::info!(judgement = %other.describe(), "size and time compared with earlier backups"),
    }
    judgement
}

/// Node and relationship counts of `database` for a later drill to compare,
/// and a warning for each that could not be taken (the backup is good all
/// the same, but a drill of it then has no counts to check).
async fn counts(catalog: &dyn Neo4jCatalog, database: &DbName) -> (Option<i64>, Option<i64>, Vec<String>) {
    let mut out = [None, None];
    let mut warnings = Vec::new();
    for ((slot, q), what) in out
        .iter_mut()
        .zip([crate::neo4j::NODE_COUNT_QUERY, crate::neo4j::RELATIONSHIP_COUNT_QUERY])
        .zip(["node", "relationship"])
    {
        let why = match catalog.check_query(database, q).await {
            Ok(r) if r.first.is_some() => {
                *slot = r.first;
                continue;
            }
            Ok(r) => format!("`{q}` returned no integer ({} row(s))", r.rows),
            Err(e) => format!("`{q}` failed: {e}"),
        };
        tracing::warn!(query = q, reason = %why, "count not recorded");
        warnings.push(count_warning(what, &why));
    }
    (out[0], out[1], warnings)
}

/// The backup-summary warning for a count that could not be taken.
fn count_warning(what: &str, why: &str) -> String {
    format!("{what} count not recorded ({why}): a drill of this backup cannot compare its {what} count")
}

/// The newest committed backup of `database` in the listing, if any.
fn latest_of<'k>(existing: &'k [ManifestKey], database: &str) -> Option<&'k ManifestKey> {
    existing.iter().rev().find(|k| k.database.as_str() == database)
}

async fn back_up_one(
    ctx: &RunContext<'_>,
    req: &BackupRunRequest,
    target: &Target,
    existing: &[ManifestKey],
    info: Option<&DatabaseInfo>,
    admin_version: &str,
    lease: &Lease,
) -> Result<(BackupManifest, Vec<String>), OpsError> {
    let cfg = &ctx.config.backup;
    let store_size = info.and_then(|d| d.store_size);
    // On a cluster without configured `backup_from`: the database's online
    // copies, secondaries first (docs/DESIGN.md, "Clusters").
    let from = match (ctx.config.neo4j.admin.from.is_empty(), info) {
        (true, Some(db)) => backup_sources(db, ctx.config.neo4j.backup_port),
        _ => Vec::new(),
    };
    if !from.is_empty() {
        tracing::info!(from = %from.join(","), "cluster: backing up from these servers, in this order");
    }
    let database: DbName = target.database.parse()?;
    let staging = Staging::open(&cfg.staging_dir, &target.database)?;
    staging.set_aside_leftovers()?;

    let last_size = match latest_of(existing, &target.database) {
        Some(key) => Some(read_manifest_unverified(ctx.store.as_ref(), key).await?.totals().0),
        None => None,
    };
    let needed = preflight::needed_space(last_size, store_size, cfg.free_space_factor, cfg.min_free);
    // Leftovers count as room: short of it, they go (they are no backup).
    let short = ctx
        .free_space
        .available(staging.dir())
        .is_ok_and(|free| free < needed.0);
    if short && staging.leftover_bytes() > 0 {
        let freed = staging.clear_leftovers()?;
        tracing::warn!(
            bytes = freed,
            "staging is short of room for this backup: removed the leftovers of an earlier run"
        );
    }
    preflight::check_space(ctx.free_space, staging.dir(), &target.database, needed.clone())?;
    preflight::check_writable(staging.dir(), ctx.free_space)?;

    let mut backup_type = req.backup_type.unwrap_or(cfg.backup_type);
    // Bound chains: retention keeps a kept backup's whole chain, so an
    // endless run of differentials would make it keep everything.
    let diffs = staging::diffs_on_top(&staging.local_backups()?);
    if backup_type == BackupType::Auto && diffs >= cfg.max_chain_length as usize {
        tracing::info!(
            differentials = diffs,
            max_chain_length = cfg.max_chain_length,
            "the differential chain is at backup.max_chain_length: taking a full backup"
        );
        backup_type = BackupType::Full;
    }
    let output = ctx
        .admin
        .backup(&BackupRequest {
            database: database.clone(),
            to_path: staging.dir().to_path_buf(),
            backup_type,
            compress: None,
            include_metadata: None,
            from,
        })
        .await?;
    // Counts for a later drill to compare (cheap: Neo4j's count store).
    let (node_count, relationship_count, not_counted) = counts(ctx.catalog, &database).await;
    let mut warnings = output.warnings.clone();
    warnings.extend(not_counted);
    // A differential backup builds on the newest backup kept in staging;
    // without one it could not be restored, so it is not stored.
    let parent = match output.kind {
        BackupKind::Full => None,
        BackupKind::Diff => Some(
            staging
                .local_backups()?
                .last()
                .map(|b| b.backup_id.clone())
                .ok_or_else(|| OpsError::DiffWithoutParent {
                    database: target.database.clone(),
                    artifact: output.artifacts.last().cloned().unwrap_or_default(),
                })?,
        ),
    };
    let kind = Some(output.kind.as_str().to_string());
    let manifest = backup_artifacts(
        ctx.store.clone(),
        ctx.config,
        &ArtifactBackupRequest {
            artifacts: output.artifacts.clone(),
            database,
            alias: Some(target.alias.parse()?),
            labels: req.labels.clone(),
            neo4j: Some(Neo4jInfo {
                admin_version: Some(admin_version.to_string()),
                backup_type: kind.clone(),
                parent: parent.clone(),
                node_count,
                relationship_count,
            }),
            progress: ctx.progress,
            lease_lost: Some(lease.lost_flag()),
        },
    )
    .await?;
    // Committed: the staging copies may go now (their upload was verified).
    // The backup is safe whatever happens here, so a failure only warns.
    let local = LocalBackup {
        backup_id: manifest.backup_id.to_string(),
        artifacts: manifest.artifacts.iter().map(|a| a.name.clone()).collect(),
        backup_type: kind,
        parent,
    };
    match staging.commit(local, cfg.keep_local) {
        Ok(removed) => tracing::info!(removed = ?removed, keep_local = cfg.keep_local, "staging tidied"),
        Err(e) => tracing::warn!(error = %e, "backup committed, but staging could not be tidied; the next run retries"),
    }
    Ok((manifest, warnings))
}
