//! Commands about graphvault itself, which need no config: shell
//! completions and man pages, both generated from the clap definitions and
//! `help_text.rs` so they never drift from `--help`.

use std::path::Path;

use anyhow::Context;

use crate::help_text;

use super::print;

/// `graphvault completions SHELL`: the script on stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut help_text::command(), "graphvault", &mut out);
    print(&String::from_utf8_lossy(&out))
}

/// `graphvault man [--out-dir DIR]`: graphvault.1 on stdout, or every page
/// (one per command and subcommand) into DIR.
pub(super) fn man(out_dir: Option<&Path>) -> anyhow::Result<()> {
    let pages = help_text::man_pages().context("cannot render the man pages")?;
    match out_dir {
        None => {
            let (_, main) = pages.first().context("no man page rendered")?;
            print(&String::from_utf8_lossy(main))
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}: check the path and permissions", dir.display()))?;
            for (file, page) in &pages {
                let path = dir.join(file);
                std::fs::write(&path, page)
                    .with_context(|| format!("cannot write {}: check the path and permissions", path.display()))?;
            }
            tracing::info!(dir = %dir.display(), pages = pages.len(), "man pages written");
            Ok(())
        }
    }
}
