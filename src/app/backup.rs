//! `graphvault backup` (Neo4j-driven, or `--artifact`).

use crate::cli::{BackupArgs, Cli};
use crate::config::{Config, ConfigError};
use crate::model::{DbName, Label};
use crate::neo4j::cypher_names::{alias_name, database_name};
use crate::neo4j::{BackupType, ProcessAdmin};
use crate::ops::backup_run::{BackupRunRequest, RunContext, RunOutcome, StatvfsFreeSpace};
use crate::ops::{self, ArtifactBackupRequest, OpsError};

use super::{catalog_for, hostname, load_config, print, print_report, progress_style, store_for};

fn labels_of(args: &BackupArgs) -> anyhow::Result<Vec<Label>> {
    let mut labels: Vec<Label> = args.labels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?;
    if args.pin && !labels.iter().any(|l| l.as_str() == Label::PINNED) {
        labels.push(Label::PINNED.parse()?);
    }
    labels.sort();
    labels.dedup();
    Ok(labels)
}

pub(super) async fn backup(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
    if args.artifacts.is_empty() {
        backup_run(cli, args).await
    } else {
        backup_artifacts(cli, args).await
    }
}

/// `backup --artifact …`: seal existing artifact files.
async fn backup_artifacts(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let [database] = &args.databases[..] else {
        anyhow::bail!(ConfigError::Invalid {
            key: "--database",
            message: "--artifact needs exactly one --database: the database the artifacts are backups of".into(),
        });
    };
    if args.aliases.len() > 1 || args.backup_type.is_some() {
        anyhow::bail!(ConfigError::Invalid {
            key: "--alias/--type",
            message: "with --artifact, give at most one --alias and no --type (neo4j-admin does not run)".into(),
        });
    }
    let req = ArtifactBackupRequest {
        artifacts: args.artifacts.clone(),
        database: database.parse()?,
        alias: args.aliases.first().map(|a| a.parse::<DbName>()).transpose()?,
        labels: labels_of(args)?,
        neo4j: None,
        progress: progress_style(cli, &config),
        lease_lost: None,
    };
    // Bad input fails before anything, the lease included, is written.
    ops::check_artifacts(&req.artifacts)?;
    crate::pipeline::Recipients::parse(&config.recipients)?;
    let store = store_for(&config).await?;
    let holder = crate::lease::Holder {
        run_id: hex::encode(rand::random::<[u8; 6]>()),
        host: hostname(),
        pid: std::process::id(),
        command: "backup --artifact".into(),
    };
    let scope = ops::backup_run::LEASE_SCOPE;
    let lease = crate::lease::acquire(store.clone(), scope, holder, config.backup.lease).await?;
    let req = ArtifactBackupRequest {
        lease_lost: Some(lease.lost_flag()),
        ..req
    };
    let result = ops::backup_artifacts(store, &config, &req).await;
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "lease not released; it expires on its own");
    }
    let manifest = result?;
    if args.json {
        let body = serde_json::json!({
            "outcome": crate::json::Outcome::Ok,
            "backup_id": manifest.backup_id,
            "manifest_key": manifest.key().to_string(),
            "manifest": manifest,
        });
        print(&crate::json::document(
            crate::json::JsonDocument::BackupArtifact,
            &body,
        )?)
    } else {
        let (size, stored) = manifest.totals();
        print(&format!(
            "backup {} of {} committed: {} artifact(s), {} bytes stored as {} bytes\n",
            manifest.backup_id,
            manifest.database,
            manifest.artifacts.len(),
            size,
            stored
        ))
    }
}

/// A pinned `pre-deploy` backup of `database` before a cutover; its id.
pub(super) async fn pre_deploy_backup(
    cli: &Cli,
    config: &Config,
    store: std::sync::Arc<dyn crate::store::ObjectStore>,
    catalog: &dyn crate::neo4j::Neo4jCatalog,
    database: &str,
) -> anyhow::Result<String> {
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = RunContext {
        store,
        config,
        catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: hostname(),
        progress: progress_style(cli, config),
    };
    let req = BackupRunRequest {
        databases: vec![database.to_string()],
        labels: vec![Label::PRE_DEPLOY.parse()?],
        ..BackupRunRequest::default()
    };
    tracing::info!(database, "pre-deploy backup before the cutover");
    let not_switched = || {
        format!("the pre-deploy backup of {database} failed, so the alias was not switched (pass --no-backup to switch anyway)")
    };
    let report = ops::backup_run::backup_run(&ctx, &req)
        .await
        .map_err(|e| anyhow::Error::new(e).context(not_switched()))?;
    if let Some(r) = report.results.into_iter().next() {
        return match r.outcome {
            ops::backup_run::DbOutcome::Ok { backup_id, .. } => Ok(backup_id),
            ops::backup_run::DbOutcome::Failed { error } => Err(anyhow::Error::new(error).context(not_switched())),
        };
    }
    anyhow::bail!("the pre-deploy backup of {database} did not run")
}

/// `backup` driven by Neo4j: every aliased database (or those named).
async fn backup_run(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    for name in &args.databases {
        database_name(name)?;
    }
    for name in &args.aliases {
        alias_name(name)?;
    }
    let backup_type = args
        .backup_type
        .as_deref()
        .map(|t| {
            t.parse::<BackupType>()
                .map_err(|message| ConfigError::Invalid { key: "--type", message })
        })
        .transpose()?;
    let req = BackupRunRequest {
        databases: args.databases.clone(),
        aliases: args.aliases.clone(),
        backup_type,
        labels: labels_of(args)?,
    };
    let every_alias = req.databases.is_empty() && req.aliases.is_empty();
    let report = match run_backups(cli, &config, &req).await {
        Ok(report) => report,
        Err(e) => {
            // The metrics say the run failed, and keep every alias's last
            // success for the alerts.
            if let Some(path) = &args.metrics_file {
                let end = ops::backup_run::metrics::RunEnd::Error;
                if let Err(m) = ops::backup_run::metrics::write(path, &end, chrono::Utc::now().timestamp()) {
                    tracing::error!(error = %m, "metrics not written");
                }
            }
            // Nothing was backed up (discovery or a run-wide check failed).
            if crate::notify::wanted(&config.notify, false) {
                let payload = crate::notify::Notification::not_started("backup", hostname(), format!("{e:#}"));
                if let Err(n) = crate::notify::send(&config.notify, &payload.body()).await {
                    tracing::error!(error = %n, "webhook notification not delivered");
                }
            }
            return Err(e);
        }
    };
    if args.json {
        print(&crate::json::text(&report.to_json()))?;
    } else {
        print_report(cli, matches!(report.outcome(), RunOutcome::Ok), &report.table())?;
    }
    let metrics = match &args.metrics_file {
        Some(path) => {
            let end = ops::backup_run::metrics::RunEnd::Report {
                report: &report,
                every_alias,
            };
            ops::backup_run::metrics::write(path, &end, chrono::Utc::now().timestamp())
                .map_err(|e| OpsError::local_io("cannot write the metrics file", path, e))
        }
        None => Ok(()),
    };
    notify_backup(&config, &report).await;
    let total = report.results.len();
    let outcome = match report.outcome() {
        RunOutcome::Ok => return Ok(metrics?),
        RunOutcome::Anomalous => OpsError::Anomalous {
            anomalous: report.anomalous(),
            total,
        },
        RunOutcome::Partial => OpsError::SomeFailed {
            failed: report.failures().count(),
            total,
        },
        RunOutcome::AllFailed => OpsError::AllFailed { total },
    };
    // The backups' failure decides the exit code; a metrics problem is logged.
    if let Err(e) = metrics {
        tracing::error!(error = %e, "metrics not written");
    }
    Err(outcome.into())
}

/// Opens the store and Neo4j, then backs up what `req` selects.
async fn run_backups(cli: &Cli, config: &Config, req: &BackupRunRequest) -> anyhow::Result<ops::backup_run::RunReport> {
    let store = store_for(config).await?;
    let catalog = catalog_for(config)?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = RunContext {
        store,
        config,
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: hostname(),
        progress: progress_style(cli, config),
    };
    Ok(ops::backup_run::backup_run(&ctx, req).await?)
}

/// Tells the webhook, if configured and wanted for this outcome.
async fn notify_backup(config: &Config, report: &ops::backup_run::RunReport) {
    // An anomaly is announced like a failure: someone should look.
    let success = report.outcome() == RunOutcome::Ok;
    if !crate::notify::wanted(&config.notify, success) {
        return;
    }
    let payload = crate::notify::Notification::new("backup", report.outcome().word(), hostname(), report.to_json());
    if let Err(e) = crate::notify::send(&config.notify, &payload.body()).await {
        tracing::error!(error = %e, "webhook notification not delivered");
    }
}
