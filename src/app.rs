//! Dispatch from parsed command line to commands: load config, open the
//! store, run, print results on stdout. Errors go up to `main` unprinted.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::{BackupArgs, Cli, Command, KeyCommand, ListArgs, RestoreArgs};
use crate::config::{self, Config};
use crate::model::{DbName, Label};
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
    }
}

async fn backup(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let mut labels: Vec<Label> = args.labels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?;
    if args.pin && !labels.iter().any(|l| l.as_str() == Label::PINNED) {
        labels.push(Label::PINNED.parse()?);
    }
    labels.sort();
    labels.dedup();
    let req = ArtifactBackupRequest {
        artifacts: args.artifacts.clone(),
        database: args.database.parse()?,
        alias: args.alias.as_deref().map(str::parse::<DbName>).transpose()?,
        labels,
        neo4j: None,
    };
    let store = store_for(&config).await?;
    let manifest = ops::backup_artifacts(store, &config, &req).await?;
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
