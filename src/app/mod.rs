//! Dispatch from parsed command line to commands: load config, open the
//! store, run, print results on stdout. Errors go up to `main` unprinted.
//! One file per command family; shared helpers here.

mod alias;
mod backup;
mod drill;
mod meta;
mod read;

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::{Cli, Command, KeyCommand};
use crate::config::{self, Config};
use crate::neo4j::BoltCatalog;
use crate::ops;
use crate::store::{open_store, ObjectStore};

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let file = config::resolve_path(cli.config.as_deref(), std::env::var("GRAPHVAULT_CONFIG").ok());
    let mut sets = cli.sets.clone();
    if cli.allow_unsigned {
        sets.push("signing.allow_unsigned=true".into());
    }
    let config = config::load(file, std::env::vars(), &sets)?;
    if config.signing.allow_unsigned {
        tracing::warn!("unsigned manifests are allowed (--allow-unsigned or signing.allow_unsigned): a manifest forged by anyone with write access to the bucket would be accepted");
    }
    Ok(config)
}

async fn store_for(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    Ok(open_store(&config.storage).await?)
}

/// The store one level above `storage.url` and the URL's last segment, for
/// telling a mistyped prefix from a new repository (`ops::repository`).
async fn parent_store_for(config: &Config) -> Option<(Arc<dyn ObjectStore>, String)> {
    let (url, name) = config.storage.url.parent()?;
    let settings = crate::store::StoreSettings {
        url,
        ..config.storage.clone()
    };
    match open_store(&settings).await {
        Ok(store) => Some((store, name)),
        Err(e) => {
            tracing::debug!(error = %e, "cannot open the store above storage.url");
            None
        }
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}

/// The table a batch command (backup, prune, verify, drill) prints at the
/// end: left out with `-q` when the run was clean, so cron, which mails any
/// output, mails only failures. `--json` output is always printed.
fn print_report(cli: &Cli, clean: bool, text: &str) -> anyhow::Result<()> {
    if cli.quiet && clean {
        return Ok(());
    }
    print(text)
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Key(KeyCommand::Generate { output }) => {
            let recipient = ops::generate_key(output)?;
            tracing::info!(path = %output.display(), "identity written (mode 0600); keep it off backup hosts");
            print(&format!("{recipient}\n"))
        }
        Command::Key(KeyCommand::GenerateSigning { output }) => {
            let public = crate::signing::generate_signing_key(output)?;
            tracing::info!(path = %output.display(), "signing key written (mode 0600) with its public key in {}.pub; put the printed key in [signing] trusted_keys on every host that restores, verifies or prunes", output.display());
            print(&format!("{public}\n"))
        }
        Command::Backup(args) => backup::backup(&cli, args).await,
        Command::List(args) => read::list(&cli, args).await,
        Command::Stats(args) => read::stats(&cli, args).await,
        Command::Report(args) => read::report(&cli, args).await,
        Command::Restore(args) => read::restore(&cli, args).await,
        Command::Verify(args) => read::verify(&cli, args).await,
        Command::Prune(args) => read::prune(&cli, args).await,
        Command::Doctor(args) => read::doctor(&cli, args).await,
        Command::Drill(args) => drill::drill(&cli, args).await,
        Command::Lifecycle(crate::cli::LifecycleCommand::Suggest { json }) => {
            read::lifecycle_suggest(&cli, *json).await
        }
        Command::Alias(cmd) => alias::alias(&cli, cmd).await,
        Command::Completions { shell } => meta::completions(*shell),
        Command::Man { out_dir } => meta::man(out_dir.as_deref()),
    }
}

fn catalog_for(config: &Config) -> anyhow::Result<BoltCatalog> {
    Ok(BoltCatalog::connect(config.neo4j.bolt()?)?)
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

/// A bar on a terminal, log lines under cron or with JSON logs, none with -q.
pub(crate) fn progress_style(cli: &Cli, config: &Config) -> crate::ops::progress::ProgressStyle {
    crate::ops::progress::ProgressStyle::detect(
        cli.log_format == crate::cli::LogFormat::Json,
        cli.quiet,
        config.backup.progress_every,
    )
}
