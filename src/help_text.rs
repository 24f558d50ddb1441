//! What `--help` and the man pages say beyond the clap definitions: the
//! exit codes (from `Exit`), the environment, the files, and examples of
//! every command. One source for both, so they cannot drift: `command()` is
//! the clap command with these texts attached, and `man_page` renders a page
//! with EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES sections from them.

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::exit::Exit;

/// Variables graphvault reads, with what they do.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "GRAPHVAULT_CONFIG",
        "The config file when --config is not given (default /etc/graphvault/graphvault.toml).",
    ),
    (
        "GRAPHVAULT_<SECTION>_<KEY>",
        "Overrides one config key, e.g. GRAPHVAULT_STORAGE_URL; --set wins over it. Any other GRAPHVAULT_ variable is an error.",
    ),
    (
        "GRAPHVAULT_NEO4J_PASSWORD",
        "The Bolt password, instead of [neo4j] password_file (never on the command line).",
    ),
    (
        "GRAPHVAULT_LOG",
        "A tracing filter for the logs, e.g. graphvault=debug; wins over -v and -q.",
    ),
    (
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE",
        "S3 credentials, read by the standard AWS chain (or the instance or task role); never from the config file.",
    ),
    ("AWS_REGION", "The S3 region when storage.region is not set (default us-east-1)."),
    (
        "NO_COLOR",
        "When set and not empty, no colour in logs, help or errors (https://no-color.org).",
    ),
];

/// Files graphvault reads or writes, with what they are.
pub const FILES: &[(&str, &str)] = &[
    (
        "/etc/graphvault/graphvault.toml",
        "The config (or --config, $GRAPHVAULT_CONFIG); docs/CONFIGURATION.md lists every key.",
    ),
    (
        "/etc/graphvault/identity.txt",
        "The age identity (encryption.identity_file, mode 0600): restore hosts only.",
    ),
    (
        "/etc/graphvault/signing.key",
        "The manifest signing key (signing.key_file, mode 0600): backup hosts only.",
    ),
    (
        "<staging_dir>/.graphvault.lock",
        "This host's staging lock; staging (backup.staging_dir) holds artifacts while they are sealed.",
    ),
];

const DOCUMENTATION: &str =
    "Documentation: README.md, docs/CONFIGURATION.md, docs/EXIT_CODES.md, docs/FORMAT.md, docs/FAILURES.md.";

/// Examples by page name (`graphvault`, `graphvault-alias-switch`, …): the
/// command line and what it does. A group's page shows its commands'.
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "graphvault",
        &[
            ("graphvault doctor", "Check this host and the bucket; each problem comes with its fix."),
            ("graphvault -q backup", "The nightly backup of every aliased database; silent unless something failed."),
            ("graphvault restore --database customer1 --switch-alias", "Restore the newest backup and point the alias at it."),
        ],
    ),
    (
        "graphvault-key-generate",
        &[("graphvault key generate --output /etc/graphvault/identity.txt", "A new age identity for a restore host; prints its recipient (age1…).")],
    ),
    (
        "graphvault-key-generate-signing",
        &[("graphvault key generate-signing --output /etc/graphvault/signing.key", "A signing key for a backup host; prints the key for [signing] trusted_keys.")],
    ),
    (
        "graphvault-backup",
        &[
            ("graphvault -q backup --metrics-file /var/lib/node_exporter/textfile/graphvault.prom", "The nightly run (cron, systemd): every aliased database, metrics for node_exporter."),
            ("graphvault backup --alias customer1 --label pre-deploy", "One alias, kept forever by retention."),
            ("graphvault backup --database customer1-1800000000 --artifact customer1-1800000000-2026-11-24T02-00-00.backup", "Seal and upload an artifact neo4j-admin already made."),
        ],
    ),
    (
        "graphvault-list",
        &[
            ("graphvault list --database customer1", "The backups of an alias (or database), oldest first."),
            ("graphvault list --label pre-deploy --since 2026-11-01 --json", "Pre-deploy backups since November 1st, as JSON."),
        ],
    ),
    (
        "graphvault-stats",
        &[("graphvault stats", "Per alias: backups, sizes, growth, oldest and newest, chain length.")],
    ),
    (
        "graphvault-report",
        &[(
            "graphvault report --html /var/www/graphvault.html",
            "One self-contained page: sizes, durations and drill recovery times per alias, anomalies ringed.",
        )],
    ),
    (
        "graphvault-restore",
        &[
            ("graphvault restore --database customer1 --switch-alias", "The newest trusted backup into customer1-<unixts>, then switch the alias."),
            ("graphvault restore --database customer1 --at '2026-11-24 01:00:00'", "The newest backup taken at or before a time (UTC)."),
            ("graphvault restore --backup 20261124T020000Z-3fa91c --to-dir /srv/restore", "Only download and verify the artifacts (no Neo4j)."),
        ],
    ),
    (
        "graphvault-prune",
        &[
            ("graphvault prune --dry-run", "Print what the retention policy would delete, delete nothing."),
            ("graphvault -q prune", "The daily prune: silent unless something failed."),
        ],
    ),
    (
        "graphvault-lifecycle-suggest",
        &[("graphvault lifecycle suggest --json > rules.json", "S3 lifecycle rules implementing the retention policy.")],
    ),
    (
        "graphvault-drill",
        &[
            ("graphvault -q drill --report /var/lib/graphvault/drill-report", "The monthly drill of every alias, report in drill-report.md and .json."),
            ("graphvault drill --database customer1 --backup random", "Drill one alias with a randomly chosen backup."),
        ],
    ),
    (
        "graphvault-drill-history",
        &[("graphvault drill history", "Past drills from the bucket, newest last.")],
    ),
    (
        "graphvault-doctor",
        &[
            ("graphvault doctor", "Audit storage, permissions, lifecycle rules, keys, staging, Neo4j, backup ages."),
            ("graphvault doctor --no-neo4j --json", "The same on a restore-only host, as JSON."),
        ],
    ),
    (
        "graphvault-verify",
        &[
            ("graphvault -q verify --latest", "Stored checksums of each alias's newest backup (decrypted too with an identity)."),
            ("graphvault verify --all --deep --identity /etc/graphvault/identity.txt", "Every backup, decrypted and checked by neo4j-admin."),
        ],
    ),
    (
        "graphvault-alias-list",
        &[("graphvault alias list", "Aliases and the databases they point at.")],
    ),
    (
        "graphvault-alias-get-target",
        &[("graphvault alias get-target customer1", "The database customer1 points at.")],
    ),
    (
        "graphvault-alias-switch",
        &[("graphvault alias switch customer1 customer1-1790000000", "Pre-deploy backup of the current target, then switch.")],
    ),
    (
        "graphvault-alias-rollback",
        &[("graphvault alias rollback customer1", "Point customer1 back at its target before the last switch.")],
    ),
    (
        "graphvault-alias-drop-database",
        &[("graphvault alias drop-database customer1-1767741527", "Drop an old database no alias points at (asks first).")],
    ),
    (
        "graphvault-completions",
        &[("graphvault completions bash > /etc/bash_completion.d/graphvault", "Bash completion (or zsh, fish, elvish, powershell).")],
    ),
    (
        "graphvault-man",
        &[("graphvault man --out-dir /usr/local/share/man/man1", "Every man page (graphvault.1, graphvault-backup.1, …).")],
    ),
];

/// The examples of page `name`; for a group, those of its commands.
pub fn examples(name: &str) -> Vec<(&'static str, &'static str)> {
    if let Some((_, own)) = EXAMPLES.iter().find(|(n, _)| *n == name) {
        return own.to_vec();
    }
    let group = format!("{name}-");
    EXAMPLES
        .iter()
        .filter(|(n, _)| n.starts_with(&group))
        .flat_map(|(_, e)| e.iter().copied())
        .collect()
}

/// The one-line summary of the exit codes (`--help`).
pub fn exit_summary() -> String {
    let codes: Vec<String> = Exit::ALL
        .iter()
        .map(|e| format!("{} {}", *e as u8, e.meaning()))
        .collect();
    format!("Exit codes: {}.", codes.join(", "))
}

/// What follows the options in `graphvault NAME --help`.
fn long_help_tail(name: &str) -> String {
    let mut out = String::new();
    if name == "graphvault" {
        out.push_str(&exit_summary());
        out.push_str("\n\nEnvironment:\n");
        for (var, what) in ENVIRONMENT {
            out.push_str(&format!("  {var}\n      {what}\n"));
        }
        out.push_str("\nFiles:\n");
        for (path, what) in FILES {
            out.push_str(&format!("  {path}\n      {what}\n"));
        }
        out.push('\n');
    }
    out.push_str("Examples:\n");
    for (line, what) in examples(name) {
        out.push_str(&format!("  {line}\n      {what}\n"));
    }
    out.push('\n');
    out.push_str(DOCUMENTATION);
    out
}

/// The clap command with exit codes, environment, files and examples at the
/// end of every `--help`.
pub fn command() -> clap::Command {
    fn attach(cmd: clap::Command, name: &str) -> clap::Command {
        let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        let mut cmd = cmd.after_long_help(long_help_tail(name));
        for sub in subs {
            let page = format!("{name}-{sub}");
            cmd = cmd.mut_subcommand(&sub, |c| attach(c, &page));
        }
        cmd
    }
    attach(Cli::command(), "graphvault")
}

/// Parses the process's arguments with `command()` (exits with clap's
/// message and code 2 on bad usage, 0 for --help and --version).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Text for a roff line: backslashes and a leading `.` or `'` escaped.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// `.SH` with tagged paragraphs: each term in bold, its text below.
fn roff_section(title: &str, items: &[(String, &str)]) -> String {
    let mut out = format!(".SH \"{title}\"\n");
    for (term, text) in items {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff_text(term), roff_text(text)));
    }
    out
}

/// The man page of `cmd` (built), named `name` (`graphvault-backup`): clap's
/// NAME, SYNOPSIS, DESCRIPTION, OPTIONS and SUBCOMMANDS, then EXIT STATUS,
/// ENVIRONMENT, FILES and EXAMPLES from this module, then VERSION.
pub fn man_page(cmd: &clap::Command, name: &str) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    let exits: Vec<(String, &str)> = Exit::ALL
        .iter()
        .map(|e| ((*e as u8).to_string(), e.meaning()))
        .collect();
    let mut text = roff_section("EXIT STATUS", &exits);
    text.push_str(".PP\n");
    text.push_str(&roff_text("docs/EXIT_CODES.md has each code's causes and what to do."));
    text.push('\n');
    let owned = |items: &[(&str, &'static str)]| -> Vec<(String, &'static str)> {
        items.iter().map(|(a, b)| (a.to_string(), *b)).collect()
    };
    text.push_str(&roff_section("ENVIRONMENT", &owned(ENVIRONMENT)));
    text.push_str(&roff_section("FILES", &owned(FILES)));
    text.push_str(&roff_section("EXAMPLES", &owned(&examples(name))));
    text.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", roff_text(DOCUMENTATION)));
    out.extend_from_slice(text.as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// Every page: `(file name, page)` for the command and each subcommand.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: &clap::Command, name: &str, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        out.push((format!("{name}.1"), man_page(cmd, name)?));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &format!("{name}-{}", sub.get_name()), out)?;
        }
        Ok(())
    }
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, "graphvault", &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_examples_that_run_it() {
        let pages = man_pages().unwrap();
        for (file, _) in &pages {
            let name = file.trim_end_matches(".1");
            let shown = examples(name);
            assert!(!shown.is_empty(), "{name} has no examples");
            let words = name.replace('-', " ");
            let verb = words.trim_start_matches("graphvault").trim();
            for (line, _) in shown {
                assert!(line.starts_with("graphvault "), "{line}");
                let first = verb.split(' ').next().unwrap_or_default();
                assert!(line.contains(first), "{name}: example `{line}` does not run it");
            }
        }
    }

    #[test]
    fn roff_escapes_what_roff_would_read_as_requests() {
        assert_eq!(roff_text(".hidden"), "\\&.hidden");
        assert_eq!(roff_text("a\\b --x"), "a\\eb \\-\\-x");
    }

    #[test]
    fn the_exit_summary_lists_every_code() {
        let summary = exit_summary();
        for e in Exit::ALL {
            assert!(summary.contains(&format!(" {} {}", e as u8, e.meaning())), "{summary}");
        }
    }
}
