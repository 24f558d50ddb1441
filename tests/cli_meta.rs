//! Packaging-facing behaviour of the binary: `--version` carries the git
//! revision, shell completions and man pages are generated from the same
//! clap definitions (every page with EXIT STATUS, ENVIRONMENT, FILES and
//! EXAMPLES, every argument with help text), and the exit codes in `--help`
//! and src/exit.rs agree with docs/EXIT_CODES.md.

mod common;

use std::process::Command;

use common::cli::*;

fn graphvault_run(args: &[&str]) -> Run {
    let mut cmd = graphvault();
    cmd.args(args);
    run(cmd)
}

#[test]
fn version_names_the_git_revision_when_built_from_git() {
    let out = graphvault_run(&["--version"]).ok();
    let line = out.stdout.trim();
    assert!(
        line.starts_with(&format!("graphvault {}", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(rev) = head {
        assert!(line.ends_with(&format!("(git {rev})")), "{line} should name git {rev}");
    }
}

#[test]
fn completions_for_every_shell_mention_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = graphvault_run(&["completions", shell]).ok();
        for word in ["backup", "restore", "prune", "drill", "switch-alias"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    graphvault_run(&["completions", "tcsh"]).code(EXIT_USAGE);
}

#[test]
fn bash_completion_is_valid_bash() {
    let out = graphvault_run(&["completions", "bash"]).ok();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("graphvault.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let status = Command::new("bash").arg("-n").arg(&script).status().unwrap();
    assert!(status.success(), "bash -n rejected the completion script");
}

#[test]
fn man_pages_cover_every_command_with_exit_status_environment_files_and_examples() {
    let page = graphvault_run(&["man"]).ok().stdout;
    assert!(page.starts_with(".ie") || page.contains(".TH graphvault 1"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    graphvault_run(&["man", "--out-dir", out_dir.to_str().unwrap()]).ok();
    for name in [
        "graphvault.1",
        "graphvault-backup.1",
        "graphvault-restore.1",
        "graphvault-prune.1",
        "graphvault-verify.1",
        "graphvault-drill.1",
        "graphvault-drill-history.1",
        "graphvault-alias-switch.1",
        "graphvault-alias-rollback.1",
        "graphvault-doctor.1",
    ] {
        assert!(out_dir.join(name).exists(), "{name} was not written");
    }
    let pages = common::cli::entries(&out_dir);
    assert!(pages.len() >= 20, "{pages:?}");
    for name in pages {
        let text = std::fs::read_to_string(out_dir.join(&name)).unwrap();
        assert!(text.contains(".TH"), "{name} is not a man page");
        for section in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
            assert!(text.contains(&format!(".SH \"{section}\"")), "{name} lacks {section}");
        }
        let status = text.split(".SH \"EXIT STATUS\"").nth(1).unwrap_or_default();
        for code in 0..=16 {
            assert!(
                status.contains(&format!("\\fB{code}\\fR")),
                "{name}: EXIT STATUS lacks {code}"
            );
        }
        for var in ["GRAPHVAULT_CONFIG", "AWS_ACCESS_KEY_ID", "NO_COLOR"] {
            assert!(text.contains(var), "{name}: ENVIRONMENT lacks {var}");
        }
        let examples = text.split(".SH \"EXAMPLES\"").nth(1).unwrap_or_default();
        assert!(examples.contains("\\fBgraphvault"), "{name}: no example command");
    }
    // The same text ends `--help`: one source.
    let help = graphvault_run(&["list", "--help"]).ok().stdout;
    assert!(
        help.contains("Examples:\n  graphvault list --database customer1"),
        "{help}"
    );
}

/// Every code in `--help`'s summary is in docs/EXIT_CODES.md's table with
/// the same number, and the summary names all of them.
#[test]
fn help_exit_code_summary_matches_the_documented_table() {
    let help = graphvault_run(&["--help"]).ok().stdout;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EXIT_CODES.md")).unwrap();
    let documented: Vec<u32> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split('|').next()?.trim().parse().ok())
        .collect();
    assert_eq!(documented, (0..=17).collect::<Vec<_>>(), "docs/EXIT_CODES.md table");
    let summary = help
        .split("Exit codes:")
        .nth(1)
        .expect("--help has an exit code summary");
    for code in documented {
        assert!(
            summary.contains(&format!(" {code} ")),
            "--help's exit code summary lacks {code}: {summary}"
        );
    }
}

/// docs/EXIT_CODES.md's table and the code's table (`Exit::ALL`) hold the
/// same codes under the same names, in both directions.
#[test]
fn every_documented_exit_code_is_the_one_the_code_returns() {
    use graphvault::exit::Exit;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EXIT_CODES.md")).unwrap();
    let table = doc
        .split("## Table")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("docs/EXIT_CODES.md has a Table section");
    let documented: Vec<(u8, String)> = table
        .lines()
        .filter_map(|l| l.strip_prefix('|'))
        .filter_map(|l| {
            let mut cells = l.split('|').map(str::trim);
            let code = cells.next()?.parse().ok()?;
            Some((code, cells.next()?.trim_matches('`').to_string()))
        })
        .collect();
    let coded: Vec<(u8, String)> = Exit::ALL.iter().map(|e| (*e as u8, e.name())).collect();
    for row in &documented {
        assert!(
            coded.contains(row),
            "docs/EXIT_CODES.md documents {row:?}, src/exit.rs has no such code"
        );
    }
    for row in &coded {
        assert!(
            documented.contains(row),
            "src/exit.rs returns {row:?}, docs/EXIT_CODES.md's table lacks it"
        );
    }
    assert_eq!(documented.len(), coded.len(), "each code once: {documented:?}");
}

/// Every command, positional argument and option in the clap tree says
/// what it is in `--help` (clap's own `--help`/`--version` aside).
#[test]
fn every_argument_and_command_has_help_text() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
            missing.push(format!("command `{path}`"));
        }
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("`{path}` argument {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut cmd = graphvault::cli::Cli::command();
    cmd.build();
    let mut missing = Vec::new();
    walk(&cmd, "graphvault", &mut missing);
    assert!(missing.is_empty(), "no help text for:\n  {}", missing.join("\n  "));
}

/// The README's full example config is valid as shipped (every section).
#[test]
fn the_example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/graphvault.example.toml");
    let config = graphvault::config::load(Some((path, true)), Vec::<(String, String)>::new(), &[])
        .unwrap_or_else(|e| panic!("docs/graphvault.example.toml: {e}"));
    assert_eq!(config.retention.default.keep_daily, 7);
    assert_eq!(config.drill.checks.len(), 1);
}

/// The complete config shown in the README's "Configure" section loads.
#[test]
fn the_readme_config_loads() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Configure")
        .nth(1)
        .expect("README has a Configure section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("graphvault.toml");
    std::fs::write(&path, block).unwrap();
    let config = graphvault::config::load(Some((path, true)), Vec::<(String, String)>::new(), &[])
        .unwrap_or_else(|e| panic!("README config: {e}"));
    assert_eq!(config.retention.per_alias["customer1"].keep_monthly, 36);
}
