//! Commands about graphvault itself, which need no config: shell
//! completions and man pages, both generated from the clap definitions so
//! they never drift from `--help`.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;

use super::print;

/// `graphvault completions SHELL`: the script on stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "graphvault", &mut out);
    print(&String::from_utf8_lossy(&out))
}

/// `graphvault man [--out-dir DIR]`: graphvault.1 on stdout, or every page
/// (one per command and subcommand) into DIR.
pub(super) fn man(out_dir: Option<&Path>) -> anyhow::Result<()> {
    let command = Cli::command();
    match out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .context("cannot render the man page")?;
            print(&String::from_utf8_lossy(&out))
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}: check the path and permissions", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "man pages written");
            Ok(())
        }
    }
}
