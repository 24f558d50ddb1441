//! `graphvault drill`: prove that backups restore. For each chosen alias, the
//! newest (or a random) backup is restored into a scratch database
//! `drill-<alias>-<unixts>` that no alias points at, the configured checks
//! and the counts recorded at backup time are compared with it (with
//! neither, the alias is "unchecked", never "passed"), every phase is timed, and the scratch database and staging are
//! always removed, after a failure too. Leftover `drill-*` databases of a
//! crashed drill are dropped first. The report goes to the bucket
//! (`reports/drills/`), so drill history survives hosts.

mod report;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use rand::seq::SliceRandom;

pub use report::{
    history, history_body, judge_count, store_report, CheckResult, DrillReport, DrillResult, DrillStatus, REPORTS,
};

use crate::config::Config;
use crate::model::DbName;
use crate::neo4j::{Neo4jAdmin, Neo4jCatalog};
use crate::pipeline::Identities;
use crate::store::ObjectStore;

use super::backup_run::FreeSpace;
use super::catalog::{list_with_signatures, BackupFilter};
use super::chain::Pick;
use super::known_names::NameKind;
use super::progress::ProgressStyle;
use super::restore_db::{restore_db, RestoreContext, RestoreDbRequest};
use super::OpsError;

/// Scratch databases are named with this prefix; nothing else may use it.
pub const SCRATCH_PREFIX: &str = "drill-";

/// Which aliases and backups to drill.
#[derive(Clone, Debug, Default)]
pub struct DrillRequest {
    /// Empty: every alias with backups (or `sample` of them).
    pub aliases: Vec<String>,
    pub sample: Option<usize>,
    /// A random backup of the alias instead of the newest.
    pub random_backup: bool,
}

/// The parts a drill works with.
pub struct DrillContext<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub config: &'a Config,
    pub identities: Arc<Identities>,
    pub catalog: &'a dyn Neo4jCatalog,
    pub admin: &'a dyn Neo4jAdmin,
    pub free_space: &'a dyn FreeSpace,
    pub host: String,
}

/// Drops `drill-*` databases left by an earlier, crashed drill.
async fn drop_leftovers(catalog: &dyn Neo4jCatalog) -> Result<Vec<String>, OpsError> {
    let mut dropped = Vec::new();
    for db in catalog.databases().await? {
        if db.name.starts_with(SCRATCH_PREFIX) {
            catalog.drop_database(&db.name.parse()?, true).await?;
            tracing::warn!(
                database = db.name,
                "dropped a scratch database left by an earlier drill"
            );
            dropped.push(db.name);
        }
    }
    Ok(dropped)
}

/// One alias: restore, check, clean up.
async fn drill_one(ctx: &DrillContext<'_>, alias: &str, pick: Pick) -> DrillResult {
    let started = Instant::now();
    // Alias names may hold `_`, database names may not (Neo4j naming rules).
    // A random tail: two drills of one alias in the same second (or from two
    // hosts) never restore into the same name.
    let scratch = format!(
        "{SCRATCH_PREFIX}{}-{}-{:04x}",
        alias.replace('_', "-"),
        Utc::now().timestamp(),
        rand::random::<u16>()
    );
    let mut r = DrillResult {
        alias: alias.to_string(),
        scratch: scratch.clone(),
        ..DrillResult::default()
    };
    let outcome = async {
        let req = RestoreDbRequest {
            database: alias.parse()?,
            pick,
            target: Some(scratch.parse()?),
            switch_alias: false,
            overwrite_destination: false,
            wait_for_archive: None,
        };
        let rctx = RestoreContext {
            store: ctx.store.clone(),
            config: ctx.config,
            identities: ctx.identities.clone(),
            catalog: ctx.catalog,
            admin: ctx.admin,
            free_space: ctx.free_space,
            progress: ProgressStyle::Off,
            host: ctx.host.clone(),
        };
        let restored = restore_db(&rctx, &req).await?;
        r.backup_id = restored.backup_id.clone();
        r.source_database = restored.source_database.clone();
        r.bytes = restored.bytes;
        r.phases = restored.phases.clone();
        let t = Instant::now();
        let db: DbName = scratch.parse()?;
        for check in ctx.config.drill.checks_for(alias) {
            let got = ctx.catalog.check_query(&db, &check.query).await;
            r.checks.push(CheckResult::judge(check, got));
        }
        // Counts recorded at backup time, when there are any.
        let key = super::catalog::find_backup(ctx.store.as_ref(), &restored.backup_id).await?;
        let manifest = super::catalog::read_manifest(ctx.store.as_ref(), &ctx.config.signing.trust()?, &key).await?;
        let tolerance = ctx.config.drill.count_tolerance_percent;
        if let Some(info) = manifest.neo4j {
            for (what, recorded, q) in [
                ("node", info.node_count, crate::neo4j::NODE_COUNT_QUERY),
                (
                    "relationship",
                    info.relationship_count,
                    crate::neo4j::RELATIONSHIP_COUNT_QUERY,
                ),
            ] {
                if let Some(recorded) = recorded {
                    let got = ctx.catalog.check_query(&db, q).await;
                    r.checks.push(judge_count(what, recorded, got, tolerance));
                }
            }
        }
        r.phases.push(super::restore_db::Phase {
            name: "checks".into(),
            seconds: (t.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        });
        Ok::<(), OpsError>(())
    }
    .await;
    if let Err(e) = outcome {
        r.error = Some(e.to_string());
    }
    let status = DrillStatus::judge(r.error.as_deref(), &r.checks);
    if r.error.is_none() {
        r.error = match status {
            DrillStatus::Failed => Some(failed_checks(&r.checks)),
            DrillStatus::Unchecked => Some(UNCHECKED.to_string()),
            DrillStatus::Passed => None,
        };
    }
    r.status = Some(status);
    r.passed = status == DrillStatus::Passed;
    r.recovery_seconds = r.phases.iter().filter(|p| p.name != "checks").map(|p| p.seconds).sum();
    // Always: the scratch database and any staging copy go.
    match scratch.parse::<DbName>() {
        Ok(db) => {
            if let Err(e) = ctx.catalog.drop_database(&db, true).await {
                tracing::error!(database = scratch, error = %e, "cannot drop the scratch database; the next drill retries");
            }
        }
        Err(e) => tracing::error!(error = %e, "invalid scratch name"),
    }
    if let Ok(entries) = std::fs::read_dir(&ctx.config.backup.staging_dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("restore-") && name.ends_with(&scratch) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    r.seconds = started.elapsed().as_secs_f64();
    let why = r.error.as_deref().unwrap_or_default();
    match status {
        DrillStatus::Passed => tracing::info!(alias, seconds = r.seconds, "drill passed"),
        DrillStatus::Unchecked => {
            tracing::warn!(alias, reason = why, "drill UNCHECKED: restored, but nothing checked it")
        }
        DrillStatus::Failed => tracing::error!(alias, error = why, "drill FAILED"),
    }
    r
}

/// Why a drill with nothing to check is not "passed".
pub const UNCHECKED: &str = "restored and online, but nothing checked the data: no [[drill.check]] applies to this alias and the backup recorded no node or relationship counts; add a [[drill.check]] (docs/CONFIGURATION.md) or see the backup's count warning";

/// The failed checks, as the drill's error text.
fn failed_checks(checks: &[CheckResult]) -> String {
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("`{}`: {}", c.query, c.detail))
        .collect();
    format!(
        "{} of {} check(s) failed: {}",
        failed.len(),
        checks.len(),
        failed.join("; ")
    )
}

/// Runs a drill over the chosen aliases; `Err` only when nothing could start.
pub async fn drill(ctx: &DrillContext<'_>, req: &DrillRequest) -> Result<DrillReport, OpsError> {
    let started_at = Utc::now();
    let listing = list_with_signatures(ctx.store.as_ref(), &BackupFilter::default()).await?;
    for alias in &req.aliases {
        listing.names.require(NameKind::Alias, alias, &ctx.store.location())?;
    }
    let dropped = drop_leftovers(ctx.catalog).await?;
    let (keys, signed) = (&listing.keys, listing.signed_keys());
    // A random backup is drawn among the signed ones (an unsigned manifest
    // is not trusted; the latest skips it too).
    let allow_unsigned = ctx.config.signing.allow_unsigned;
    let mut aliases: Vec<String> = if req.aliases.is_empty() {
        let mut all: Vec<String> = keys.iter().map(|k| k.alias.to_string()).collect();
        all.dedup();
        all.sort();
        all.dedup();
        all
    } else {
        req.aliases.clone()
    };
    if let Some(n) = req.sample {
        aliases.shuffle(&mut rand::thread_rng());
        aliases.truncate(n);
        aliases.sort();
    }
    let mut results = Vec::new();
    for alias in &aliases {
        let mine: Vec<_> = keys
            .iter()
            .filter(|k| k.alias.as_str() == alias && (allow_unsigned || signed.contains(k.to_string().as_str())))
            .collect();
        let pick = match (req.random_backup, mine.choose(&mut rand::thread_rng())) {
            (true, Some(k)) => Pick::Id(k.backup_id.to_string()),
            _ => Pick::Latest,
        };
        // Ctrl-C (or SIGTERM from systemd) stops the drill, but only after
        // the current alias has cleaned up: its scratch database is dropped.
        let one = drill_one(ctx, alias, pick);
        tokio::pin!(one);
        tokio::select! {
            r = &mut one => results.push(r),
            _ = crate::ops::interrupt::interrupted() => {
                tracing::warn!(alias, "interrupted: stopping neo4j-admin, dropping the scratch database before stopping");
                crate::ops::interrupt::stop_admins(ctx.config.neo4j.admin.stop_grace).await;
                let scratch_prefix = format!("{SCRATCH_PREFIX}{alias}-");
                for db in ctx.catalog.databases().await.unwrap_or_default() {
                    if db.name.starts_with(&scratch_prefix) {
                        if let Ok(name) = db.name.parse() {
                            let _ = ctx.catalog.drop_database(&name, true).await;
                        }
                    }
                }
                if let Ok(entries) = std::fs::read_dir(&ctx.config.backup.staging_dir) {
                    for e in entries.flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.starts_with("restore-") && name.contains(&scratch_prefix) {
                            let _ = std::fs::remove_dir_all(e.path());
                        }
                    }
                }
                return Err(OpsError::Interrupted { what: format!("drill of {alias}") });
            }
        }
    }
    Ok(DrillReport {
        started_at,
        finished_at: Utc::now(),
        host: ctx.host.clone(),
        leftovers_dropped: dropped,
        results,
    })
}
