//! `graphvault restore --database ALIAS`: disaster recovery into Neo4j from
//! the bucket alone.
//!
//! Order (docs/DESIGN.md, "Restore into Neo4j"): pick the backup and resolve
//! its chain → refuse an existing target unless told to overwrite → check
//! staging space → download and verify every artifact of the chain (nothing
//! reaches neo4j-admin before all checksums matched) → `neo4j-admin database
//! restore` → `CREATE DATABASE … WAIT` (or START for an overwritten one; on
//! a cluster seeded from this host's server, `cluster_seed.rs`) and wait
//! until online → optionally switch the alias, recorded in the bucket like
//! every switch (`cutover.rs`), so `alias rollback` undoes it from any host.
//! Each phase is timed: the total is the recovery time an incident takes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;
use crate::model::DbName;
use crate::neo4j::cypher_names::database_name;
use crate::neo4j::{Neo4jAdmin, Neo4jCatalog, RestoreRequest};
use crate::pipeline::Identities;
use crate::store::ObjectStore;

use super::alias::AliasSwitch;
use super::archive::ensure_readable;
use super::backup_run::{check_space, needed_space, FreeSpace};
use super::chain::{pick_backup, resolve_chain, Pick};
use super::cluster_seed::plan_seeding;
use super::restore_to_dir::{archive_poll, download_verified};
use super::OpsError;

/// What the operator asked for.
#[derive(Clone, Debug)]
pub struct RestoreDbRequest {
    /// Alias or database whose backup to restore.
    pub database: DbName,
    pub pick: Pick,
    /// Target database; default `<alias>-<unixts>`.
    pub target: Option<DbName>,
    pub switch_alias: bool,
    pub overwrite_destination: bool,
    /// How long to wait for archived objects to be restored (None: request
    /// the restore and stop with exit 13).
    pub wait_for_archive: Option<Duration>,
}

/// The parts a restore works with.
pub struct RestoreContext<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub config: &'a Config,
    pub identities: Arc<Identities>,
    pub catalog: &'a dyn Neo4jCatalog,
    pub admin: &'a dyn Neo4jAdmin,
    pub free_space: &'a dyn FreeSpace,
    pub progress: super::progress::ProgressStyle,
    /// Names this host in the alias switch record.
    pub host: String,
}

/// Seconds spent in one phase (also read back from stored drill reports).
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Phase {
    pub name: std::borrow::Cow<'static, str>,
    pub seconds: f64,
}

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreOutcome {
    pub backup_id: String,
    pub alias: String,
    pub source_database: String,
    pub target: String,
    /// Backups in the chain (1 for a full backup).
    pub chain: usize,
    pub bytes: u64,
    pub phases: Vec<Phase>,
    pub total_seconds: f64,
    /// The alias, pointed at the restored database (`--switch-alias`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched: Option<AliasSwitch>,
}

fn timed(phases: &mut Vec<Phase>, name: &'static str, started: Instant) {
    phases.push(Phase {
        name: name.into(),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
}

/// Restores a backup into a new (or, explicitly, an existing) database.
pub async fn restore_db(ctx: &RestoreContext<'_>, req: &RestoreDbRequest) -> Result<RestoreOutcome, OpsError> {
    let begin = Instant::now();
    let mut phases = Vec::new();
    let trust = ctx.config.signing.trust()?;
    let key = pick_backup(ctx.store.as_ref(), &trust, Some(&req.database), &req.pick).await?;
    let chain = resolve_chain(ctx.store.as_ref(), &trust, &key).await?;
    let target = match &req.target {
        Some(t) => t.clone(),
        // The blue/green name must pass Neo4j's database rules, which are
        // narrower than the alias's (an alias may contain `_`).
        None => database_name(&format!("{}-{}", key.alias, chrono::Utc::now().timestamp())).map_err(|mut e| {
            e.why = "the alias does not make a valid database name; choose one with --as NAME";
            e
        })?,
    };
    let seeding = plan_seeding(
        ctx.catalog,
        ctx.admin,
        ctx.config,
        &key.alias,
        &target,
        req.overwrite_destination,
    )
    .await?;
    let exists = ctx.catalog.database(&target).await?.is_some();
    if exists && !req.overwrite_destination {
        return Err(OpsError::TargetExists {
            name: target.to_string(),
        });
    }
    let bytes: u64 = chain.iter().map(|m| m.totals().0).sum();
    let cfg = &ctx.config.backup;
    let dir: PathBuf = cfg.staging_dir.join(format!("restore-{}-{}", key.backup_id, target));
    std::fs::create_dir_all(&dir).map_err(|e| OpsError::local_io("cannot create staging directory", &dir, e))?;
    let needed = needed_space(Some(bytes), None, cfg.free_space_factor, cfg.min_free);
    check_space(ctx.free_space, &dir, target.as_str(), needed)?;
    tracing::info!(backup_id = %key.backup_id, chain = chain.len(), target = %target, "restoring");

    let t = Instant::now();
    let wait = req.wait_for_archive;
    ensure_readable(ctx.store.as_ref(), &chain, wait, archive_poll(wait)).await?;
    let written = download_verified(ctx.store.clone(), ctx.identities.clone(), &chain, &dir, ctx.progress).await?;
    timed(&mut phases, "download_verify", t);
    let newest = written.last().cloned().ok_or_else(|| OpsError::BrokenChain {
        backup: key.backup_id.to_string(),
        detail: "it lists no artifacts".into(),
    })?;

    let t = Instant::now();
    if exists {
        tracing::warn!(database = %target, "stopping the existing database to restore over it (--overwrite-destination)");
        ctx.catalog.stop_database(&target).await?;
    }
    let restored = ctx
        .admin
        .restore(&RestoreRequest {
            database: target.clone(),
            from_path: newest,
            overwrite_destination: req.overwrite_destination,
            restore_until: None,
        })
        .await;
    if let Err(e) = restored {
        tracing::error!(dir = %dir.display(), "neo4j-admin restore failed; the verified artifacts are kept there for another try");
        return Err(e.into());
    }
    timed(&mut phases, "neo4j_admin_restore", t);

    let t = Instant::now();
    let online = ctx.config.neo4j.online_timeout;
    if exists {
        ctx.catalog.start_database(&target, online).await?;
    } else {
        ctx.catalog.create_database(&target, seeding.as_ref(), online).await?;
    }
    timed(&mut phases, "online", t);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the restored artifacts from staging");
    }

    let switched = if req.switch_alias {
        let t = Instant::now();
        let s = super::cutover::switch_and_record(
            ctx.store.as_ref(),
            ctx.catalog,
            &key.alias,
            &target,
            "restore",
            &ctx.host,
            None,
        )
        .await?;
        timed(&mut phases, "switch_alias", t);
        Some(s)
    } else {
        None
    };
    let total = begin.elapsed();
    tracing::info!(target = %target, seconds = total.as_secs_f64(), "restore complete: database online");
    Ok(RestoreOutcome {
        backup_id: key.backup_id.to_string(),
        alias: key.alias.to_string(),
        source_database: key.database.to_string(),
        target: target.to_string(),
        chain: chain.len(),
        bytes,
        phases,
        total_seconds: round(total),
        switched,
    })
}

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The summary an operator reads at 3 AM.
pub fn render(o: &RestoreOutcome) -> String {
    let mut out = format!(
        "restored backup {} of {} ({}) into {}: {} backup(s) in the chain, {} bytes\n",
        o.backup_id, o.alias, o.source_database, o.target, o.chain, o.bytes
    );
    for p in &o.phases {
        out.push_str(&format!("  {:<20} {:>8.1} s\n", p.name, p.seconds));
    }
    out.push_str(&format!(
        "  {:<20} {:>8.1} s  (recovery time)\n",
        "total", o.total_seconds
    ));
    match &o.switched {
        Some(s) => {
            out.push_str(&format!(
                "alias {} now points at {} (was: {})\n",
                s.alias,
                s.target,
                s.previous.as_deref().unwrap_or("none")
            ));
            // `alias rollback` takes no backup, so it also works on a
            // restore host without neo4j-admin backup access or recipients.
            if let Some(prev) = &s.previous {
                out.push_str(&format!(
                    "to roll back: graphvault alias rollback {}   (back to {prev}, which is kept)\n",
                    s.alias
                ));
            }
        }
        None => out.push_str(&format!(
            "the alias was not switched; to switch: graphvault alias switch {} {}\n",
            o.alias, o.target
        )),
    }
    out
}
