//! Dispatch from parsed command line to commands: load config, open the
//! store, run, print results on stdout. Errors go up to `main` unprinted.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::{AliasCommand, BackupArgs, Cli, Command, KeyCommand, ListArgs, LogFormat, RestoreArgs};
use crate::config::{self, Config, ConfigError};
use crate::model::{DbName, Label};
use crate::neo4j::cypher_names::{alias_name, database_name};
use crate::neo4j::{BackupType, BoltCatalog, Neo4jCatalog, ProcessAdmin};
use crate::ops::backup_run::{BackupRunRequest, RunContext, RunOutcome, StatvfsFreeSpace};
use crate::ops::progress::ProgressStyle;
use crate::ops::OpsError;
use crate::ops::{self, ArtifactBackupRequest, BackupFilter, ListFormat};
use crate::pipeline::{Identities, KeyError};
use crate::store::{open_store, ObjectStore};

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let file = config::resolve_path(cli.config.as_deref(), std::env::var("GRAPHVAULT_CONFIG").ok());
    Ok(config::load(file, std::env::vars(), &cli.sets)?)
}

async fn store_for(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    Ok(open_store(&config.storage).await?)
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Key(KeyCommand::Generate { output }) => {
            let recipient = ops::generate_key(output)?;
            tracing::info!(path = %output.display(), "identity written (mode 0600); keep it off backup hosts");
            print(&format!("{recipient}\n"))
        }
        Command::Backup(args) => backup(&cli, args).await,
        Command::List(args) => list(&cli, args).await,
        Command::Restore(args) => restore(&cli, args).await,
        Command::Alias(cmd) => alias(&cli, cmd).await,
    }
}

fn catalog_for(config: &Config) -> anyhow::Result<BoltCatalog> {
    Ok(BoltCatalog::connect(config.neo4j.bolt()?)?)
}

/// Asks on a terminal for the database name to be typed back; anything else,
/// or no terminal, is "not confirmed".
fn confirm(what: &str, name: &str) -> Result<(), OpsError> {
    use std::io::{BufRead, IsTerminal};
    let not_confirmed = || OpsError::NotConfirmed { what: what.to_string() };
    if !std::io::stdin().is_terminal() {
        return Err(not_confirmed());
    }
    eprint!("{what}: type the database name ({name}) to confirm: ");
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() || answer.trim() != name {
        return Err(not_confirmed());
    }
    Ok(())
}

async fn alias(cli: &Cli, cmd: &AliasCommand) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let catalog = catalog_for(&config)?;
    let catalog: &dyn Neo4jCatalog = &catalog;
    match cmd {
        AliasCommand::List { json } => {
            let aliases = ops::alias_list(catalog).await?;
            if *json {
                print(&format!("{}\n", serde_json::to_string_pretty(&aliases)?))
            } else {
                let mut out = String::new();
                let width = aliases.iter().map(|a| a.name.len()).max().unwrap_or(5).max(5);
                out.push_str(&format!("{:<width$}  DATABASE\n", "ALIAS"));
                for a in &aliases {
                    out.push_str(&format!("{:<width$}  {}\n", a.name, a.database));
                }
                print(&out)
            }
        }
        AliasCommand::GetTarget { alias } => {
            let info = ops::alias_target(catalog, &alias_name(alias)?).await?;
            print(&format!("{}\n", info.database))
        }
        AliasCommand::Switch { alias, target } => {
            let switch = ops::alias_switch(catalog, &alias_name(alias)?, &database_name(target)?).await?;
            let rollback = match &switch.previous {
                Some(prev) => format!("to roll back: graphvault alias switch {} {prev}", switch.alias),
                None => "the alias is new: there is nothing to roll back to".to_string(),
            };
            print(&format!(
                "alias {} now points at {} (was: {})\n{rollback}\n",
                switch.alias,
                switch.target,
                switch.previous.as_deref().unwrap_or("none")
            ))
        }
        AliasCommand::DropDatabase {
            name,
            force,
            yes,
            destroy_data,
        } => {
            let db = database_name(name)?;
            let ask = |aliases: &[String]| {
                if *yes {
                    return Ok(());
                }
                let also = if aliases.is_empty() {
                    String::new()
                } else {
                    format!(" and alias(es) {}", aliases.join(", "))
                };
                confirm(&format!("drop database {db}{also}"), db.as_str())
            };
            let dropped = ops::drop_database(catalog, &db, *force, *destroy_data, ask).await?;
            let mut out = String::new();
            for alias in dropped {
                out.push_str(&format!("alias {alias} dropped (it pointed at {db})\n"));
            }
            out.push_str(&format!("database {db} dropped\n"));
            print(&out)
        }
    }
}

fn labels_of(args: &BackupArgs) -> anyhow::Result<Vec<Label>> {
    let mut labels: Vec<Label> = args.labels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?;
    if args.pin && !labels.iter().any(|l| l.as_str() == Label::PINNED) {
        labels.push(Label::PINNED.parse()?);
    }
    labels.sort();
    labels.dedup();
    Ok(labels)
}

async fn backup(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
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
        print(&String::from_utf8_lossy(&manifest.to_json()))
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
    let store = store_for(&config).await?;
    let catalog = catalog_for(&config)?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = RunContext {
        store,
        config: &config,
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: hostname(),
        progress: progress_style(cli, &config),
    };
    let report = match ops::backup_run::backup_run(&ctx, &req).await {
        Ok(report) => report,
        Err(e) => {
            // Nothing was backed up (discovery or a run-wide check failed).
            if crate::notify::wanted(&config.notify, false) {
                let payload = serde_json::json!({
                    "event": "backup", "outcome": "error", "error": e.to_string(),
                    "host": hostname(), "finished_at": chrono::Utc::now().to_rfc3339(),
                    "graphvault_version": env!("CARGO_PKG_VERSION"), "databases": [],
                });
                if let Err(n) = crate::notify::send(&config.notify, &payload).await {
                    tracing::error!(error = %n, "webhook notification not delivered");
                }
            }
            return Err(e.into());
        }
    };
    if args.json {
        print(&format!("{}\n", serde_json::to_string_pretty(&report.to_json())?))?;
    } else {
        print(&report.table())?;
    }
    let metrics = match &args.metrics_file {
        Some(path) => ops::backup_run::metrics::write(path, &report, chrono::Utc::now().timestamp())
            .map_err(|e| OpsError::local_io("cannot write the metrics file", path, e)),
        None => Ok(()),
    };
    notify_backup(&config, &report).await;
    let total = report.results.len();
    let outcome = match report.outcome() {
        RunOutcome::Ok => return Ok(metrics?),
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

/// Tells the webhook, if configured and wanted for this outcome.
async fn notify_backup(config: &Config, report: &ops::backup_run::RunReport) {
    let success = report.outcome() == RunOutcome::Ok;
    if !crate::notify::wanted(&config.notify, success) {
        return;
    }
    let mut payload = report.to_json();
    payload["event"] = "backup".into();
    payload["host"] = hostname().into();
    payload["finished_at"] = chrono::Utc::now().to_rfc3339().into();
    payload["graphvault_version"] = env!("CARGO_PKG_VERSION").into();
    if let Err(e) = crate::notify::send(&config.notify, &payload).await {
        tracing::error!(error = %e, "webhook notification not delivered");
    }
}

fn progress_style(cli: &Cli, config: &Config) -> ProgressStyle {
    ProgressStyle::detect(
        cli.log_format == LogFormat::Json,
        cli.quiet,
        config.backup.progress_every,
    )
}

/// This host's name, for the store's write probe and logs.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)))
        .unwrap_or_else(|| "unknown-host".into())
}

async fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let filter = BackupFilter {
        database: args.database.as_deref().map(str::parse).transpose()?,
    };
    let store = store_for(&config).await?;
    let keys = ops::list_backups(store.as_ref(), &filter).await?;
    let format = if args.json { ListFormat::Json } else { ListFormat::Table };
    print(&ops::render_list(&keys, format))
}

async fn restore(cli: &Cli, args: &RestoreArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let identity_file = args
        .identity
        .clone()
        .or(config.identity_file.clone())
        .ok_or(KeyError::NoIdentity)?;
    let identities = Arc::new(Identities::from_file(&identity_file)?);
    let store = store_for(&config).await?;
    let written = ops::restore_to_dir(store, identities, &args.backup, &args.to_dir).await?;
    let mut out = String::new();
    for path in written {
        out.push_str(&format!("{}\n", path.display()));
    }
    print(&out)
}
