//! Command-line definitions (clap) and nothing else: raw flags, validated
//! later into a `Config` by `config.rs`. The text after the options in
//! `--help` and the man pages (exit codes, environment, files, examples) is
//! attached by `help_text.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Backup agent for Neo4j: neo4j-admin backups, sealed with zstd + age, on S3.
#[derive(Debug, Parser)]
#[command(
    name = "graphvault",
    version = crate::VERSION,
    about,
    propagate_version = true
)]
pub struct Cli {
    /// Config file (TOML). Default: $GRAPHVAULT_CONFIG, else /etc/graphvault/graphvault.toml if present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Override one config key, e.g. --set storage.url=s3://bucket/prefix (repeatable; wins over env and file).
    #[arg(long = "set", global = true, value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,

    /// Accept manifests without a signature from a trusted key (and write
    /// unsigned ones): an escape hatch, logged as a warning. Same as
    /// --set signing.allow_unsigned=true.
    #[arg(long, global = true)]
    pub allow_unsigned: bool,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// More log detail (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only warnings and errors on stderr; backup, prune, verify and drill
    /// also print their report only when something failed (or with
    /// --json), so cron mails only failures.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage age keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Back up every aliased database (neo4j-admin → zstd → age → store,
    /// manifest last), or the ones named; or seal existing artifacts.
    Backup(BackupArgs),
    /// List backups with their type, size, stored size, ratio, labels and
    /// anomalies (reads the manifests it shows).
    List(ListArgs),
    /// Per-alias figures: backups, total size and stored, growth, oldest and
    /// newest, chain length, the newest backup's anomaly.
    Stats(StatsArgs),
    /// A self-contained HTML page (no script, no external file): per alias,
    /// backup sizes over time with anomalies marked, backup durations and
    /// drill recovery times.
    Report(ReportArgs),
    /// Restore a backup into a new Neo4j database (verified before
    /// neo4j-admin sees it), optionally switching the alias; or only into a
    /// directory with --to-dir.
    Restore(RestoreArgs),
    /// Delete backups the retention policy no longer keeps (manifest first,
    /// then data), orphaned data and unfinished uploads. Prints the plan.
    /// Deletes nothing (exit 15) when it cannot read the bucket's versioning
    /// or object lock and `[retention] assume_*` does not state them.
    Prune(PruneArgs),
    /// Bucket lifecycle rules that implement the retention policy.
    #[command(subcommand)]
    Lifecycle(LifecycleCommand),
    /// Restore drills: restore backups into scratch databases, check them,
    /// measure the recovery time, clean up; or list past drills.
    Drill(DrillArgs),
    /// Audit this host and the bucket: storage, permissions, lifecycle rules
    /// against the retention policy, keys, staging, Neo4j, backup ages.
    Doctor(DoctorArgs),
    /// Check that backups are intact: stored checksums, and with an identity
    /// the decrypted artifacts, and with --deep neo4j-admin's own checks.
    Verify(VerifyArgs),
    /// Inspect and switch Neo4j database aliases (blue/green cutover).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Print a shell completion script, e.g.
    /// `graphvault completions bash > /etc/bash_completion.d/graphvault`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages: graphvault.1 on stdout, or one page per command
    /// (graphvault.1, graphvault-backup.1, …) into --out-dir.
    Man {
        /// Directory to write every page into, e.g. /usr/local/share/man/man1.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// List aliases and their target databases.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the database an alias points at.
    GetTarget {
        /// The alias, e.g. customer1.
        alias: String,
    },
    /// Point ALIAS at TARGET (which must exist and be online). First takes a
    /// pinned pre-deploy backup of the current target, and records the
    /// switch in the bucket so any host can roll it back.
    Switch {
        /// The alias to switch, e.g. customer1.
        alias: String,
        /// The database it is to point at, e.g. customer1-1790000000.
        target: String,
        /// Skip the pre-deploy backup of the current target.
        #[arg(long)]
        no_backup: bool,
    },
    /// Point ALIAS back at the target it had before its last recorded switch.
    Rollback {
        /// The alias to switch back, e.g. customer1.
        alias: String,
    },
    /// Drop a database that no alias points at.
    DropDatabase {
        /// The database to drop, e.g. customer1-1767741527.
        name: String,
        /// Drop even while aliases point at it.
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
        /// DROP … DESTROY DATA (no dump is kept).
        #[arg(long)]
        destroy_data: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// Print an S3 lifecycle configuration that expires backups by their
    /// retention tier tag (for backup hosts without delete permission).
    /// Reads the bucket's versioning (noncurrent-version rule); if it cannot,
    /// it prints nothing and exits 15, unless
    /// `--set retention.assume_versioning=true|false` states it.
    Suggest {
        /// Only the JSON (for `aws s3api put-bucket-lifecycle-configuration`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write a new age identity (mode 0600) and print its public recipient.
    Generate {
        /// Where to write the identity; refuses to overwrite.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Write a new minisign signing key for a backup host (mode 0600, plus
    /// FILE.pub) and print its public key for [signing] trusted_keys.
    GenerateSigning {
        /// Where to write the secret key; refuses to overwrite.
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Back up only this database (repeatable). Without --database/--alias,
    /// every database an alias points at is backed up.
    #[arg(long = "database", value_name = "NAME")]
    pub databases: Vec<String>,
    /// Back up only the database this alias points at (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// neo4j-admin --type: full, diff or auto (default: [backup] type, full).
    #[arg(long = "type", value_name = "TYPE")]
    pub backup_type: Option<String>,
    /// Seal and upload existing neo4j-admin artifacts instead of running
    /// neo4j-admin (`<db>-YYYY-MM-DDTHH-MM-SS.backup`; repeatable; needs
    /// exactly one --database).
    #[arg(long = "artifact", value_name = "PATH")]
    pub artifacts: Vec<PathBuf>,
    /// Label the backup (repeatable), e.g. pre-deploy: retention keeps it forever.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Shorthand for --label pinned: retention keeps the backup forever.
    #[arg(long)]
    pub pin: bool,
    /// Print the result as JSON on stdout (the manifest with --artifact,
    /// else the run report).
    #[arg(long)]
    pub json: bool,
    /// Write Prometheus textfile-collector metrics of the run here
    /// (replaced atomically), e.g. /var/lib/node_exporter/graphvault.prom.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DrillArgs {
    #[command(subcommand)]
    pub history: Option<DrillCommand>,
    /// Drill this alias (repeatable; default: every alias with backups).
    #[arg(long = "database", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// Every alias with backups (the default).
    #[arg(long, conflicts_with_all = ["aliases", "sample"])]
    pub all: bool,
    /// Only N aliases, chosen at random.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Which backup: the newest, or a random one (old backups must restore too).
    #[arg(long = "backup", value_name = "latest|random", default_value = "latest")]
    pub backup: String,
    /// Also write the report here: FILE.md and FILE.json.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the report as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Write Prometheus textfile metrics of the drill here.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Past drills (from the bucket): when, which aliases, pass/fail, recovery times.
    History {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The newest backup of an alias older than this many hours is an error.
    #[arg(long, value_name = "HOURS", default_value_t = 26)]
    pub max_age_hours: u32,
    /// Skip the neo4j-admin and Bolt checks (a restore-only host).
    #[arg(long)]
    pub no_neo4j: bool,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Print the plan only; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only backups of this alias (or database).
    #[arg(long)]
    pub database: Option<String>,
    /// Plan as if it were this time (UTC), e.g. for tests or to preview.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write Prometheus textfile metrics of the prune here (replaced
    /// atomically), e.g. /var/lib/node_exporter/graphvault-prune.prom.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify this backup.
    #[arg(long = "backup", value_name = "ID", conflicts_with_all = ["latest", "all"])]
    pub backup: Option<String>,
    /// The newest backup of each alias (the default).
    #[arg(long, conflicts_with = "all")]
    pub latest: bool,
    /// Every backup.
    #[arg(long)]
    pub all: bool,
    /// Only backups of this alias or database.
    #[arg(long)]
    pub database: Option<String>,
    /// age identity file: also decrypt and check the artifacts (overrides
    /// encryption.identity_file; without any, only stored checksums).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Also restore into a scratch folder in staging and run neo4j-admin
    /// `backup inspect` and `database check` on it (needs an identity).
    #[arg(long)]
    pub deep: bool,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write Prometheus textfile metrics of the verify run here (replaced
    /// atomically), e.g. /var/lib/node_exporter/graphvault-verify.prom.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only backups of this alias or database.
    #[arg(long)]
    pub database: Option<String>,
    /// Only backups grouped under this alias.
    #[arg(long)]
    pub alias: Option<String>,
    /// Only backups with this label (repeatable: all of them).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Only backups taken at or after TIME (UTC; `2026-11-24T02:00:00Z`,
    /// `2026-11-24 02:00:00` or `2026-11-24`, which means its start).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only backups taken at or before TIME (a bare date means its end).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Read no manifest: one listing, no GET, no type, size, ratio or
    /// anomaly columns (for very large catalogs).
    #[arg(long)]
    pub no_sizes: bool,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only this alias (or database).
    #[arg(long)]
    pub database: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the page here (replaced whole), e.g. /var/www/graphvault.html.
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// Only this alias (or database).
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The alias (or database) whose backup to restore.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Restore this backup (see `graphvault list`).
    #[arg(long = "backup", value_name = "ID", conflicts_with_all = ["latest", "at"])]
    pub backup: Option<String>,
    /// The newest backup of --database (the default).
    #[arg(long, conflicts_with = "at")]
    pub latest: bool,
    /// The newest backup taken at or before TIME (UTC; `2026-11-24T02:00:00Z`
    /// or `2026-11-24 02:00:00`).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Restore into this database (default: `<alias>-<unixts>`, the
    /// blue/green convention).
    #[arg(long = "as", value_name = "NAME")]
    pub target: Option<String>,
    /// Point the alias at the restored database once it is online (the old
    /// target is kept for rollback).
    #[arg(long)]
    pub switch_alias: bool,
    /// Allow restoring over an existing database (it is stopped and replaced).
    #[arg(long)]
    pub overwrite_destination: bool,
    /// Only download and verify the artifacts into this directory (no Neo4j).
    #[arg(long, value_name = "DIR")]
    pub to_dir: Option<PathBuf>,
    /// When objects are in GLACIER / DEEP_ARCHIVE: request their restore and
    /// wait until they are readable (default: request it and exit 13).
    #[arg(long)]
    pub wait_for_archive: bool,
    /// Longest wait with --wait-for-archive, in seconds (default 48 h).
    #[arg(long, value_name = "SECS", default_value_t = 172_800)]
    pub archive_timeout: u64,
    /// age identity file (overrides encryption.identity_file).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}
