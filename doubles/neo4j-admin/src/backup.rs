//! `neo4j-admin database backup`: one artifact per database, real-looking log lines.
//!
//! Log wording is copied from Neo4j 5 output (`BackupOutputMonitor`); exit codes
//! follow the Operations Manual: 0 when every database was backed up, 1 when one
//! or several failed (the others are still backed up).

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::artifact::{self, Header};
use crate::cli::{self, boolean, flag, repeated, value, Opt, UsageError};
use crate::config::Config;
use crate::fail::{self, Mode};
use crate::out::{self, info};
use crate::text;
use crate::timefmt::{neo4j_duration, Utc};

const DIFF_NEEDS_FULL: &str =
    "Differential backups require that a full backup of the same database exists in the folder defined in --to-path.";
/// The double's own wording (mode `nodiff`); the real reason text is not published.
const NO_DIFF_FROM_SERVER: &str = "The remote server can no longer provide the transactions the latest backup in \
    --to-path ends with (injected by neo4j-admin-double: nodiff).";

fn options(cfg: &Config) -> Vec<Opt> {
    let mut opts = cli::COMMON.to_vec();
    opts.extend([
        boolean("--compress"),
        boolean("--keep-failed"),
        boolean("--parallel-recovery"),
        value("--include-metadata", "none|all|users|roles"),
        value("--inspect-path", "<path>"),
        value("--pagecache", "<size>"),
        value("--to-path", "<path>"),
        value("--type", "<type>"),
        repeated("--from", "<host:port>[,<host:port>...]"),
        flag("--prefer-diff-as-parent"),
    ]);
    if cfg.version.has_backup_temp_path() {
        opts.push(value("--temp-path", "<path>"));
    }
    opts
}

/// `*` and `?` globbing, as database name patterns use.
pub fn glob(pattern: &str, name: &str) -> bool {
    fn rec(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], n) || (!n.is_empty() && rec(p, &n[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &n[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), name.as_bytes())
}

/// What one backup run was asked to do.
struct Request<'a> {
    cfg: &'a Config,
    to: &'a Path,
    kind: String,
    servers: Vec<String>,
    compress: bool,
    metadata: String,
}

pub fn run(cfg: &Config, args: &[String], root_verbose: bool) -> i32 {
    let usage = text::backup(&cfg.version);
    let p = match cli::parse(&options(cfg), args, usize::MAX) {
        Ok(p) => p,
        Err(e) => return out::usage_error(&e, &usage),
    };
    if p.help {
        outp!("{usage}");
        return 0;
    }
    let kind = p.choice("--type", &["FULL", "DIFF", "AUTO"], "AUTO");
    let metadata = p.choice("--include-metadata", &["none", "all", "users", "roles"], "all");
    let (kind, metadata) = match (kind, metadata) {
        (Ok(k), Ok(m)) => (k, m),
        (Err(e), _) | (_, Err(e)) => return out::usage_error(&e, &usage),
    };
    let verbose = match out::preamble(&p, &cfg.version, root_verbose) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if let Some(path) = p.get("--inspect-path") {
        return crate::inspect::inspect_path(cfg, path, verbose);
    }
    let Some(to) = p.get("--to-path") else {
        return out::usage_error(&UsageError::missing_option("--to-path", "<path>"), &usage);
    };
    let names: Vec<String> = if p.positionals.is_empty() {
        vec!["neo4j".to_string()]
    } else {
        p.positionals.clone()
    };
    if let Some(db) = names.iter().find(|db| cfg.fail.has(db, &Mode::Usage)) {
        let e = UsageError(format!(
            "Invalid value for positional parameter at index 0..* (<database>...): '{db}' is not a valid database name"
        ));
        return out::usage_error(&e, &usage);
    }
    if ["s3://", "gs://", "azb://"].iter().any(|s| to.starts_with(s)) {
        return out::failed(
            &format!("neo4j-admin-double: cloud --to-path '{to}' is not supported by the test double"),
            verbose,
            out::SOFTWARE,
        );
    }
    let to_dir = Path::new(to);
    if !to_dir.exists() {
        return out::failed(&out::path_missing(to), verbose, out::FAIL);
    }
    if !to_dir.is_dir() {
        return out::failed(&format!("Path '{to}' is not a directory."), verbose, out::FAIL);
    }
    let servers: Vec<String> = p
        .all("--from")
        .iter()
        .flat_map(|f| f.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let req = Request {
        cfg,
        to: to_dir,
        kind,
        servers: if servers.is_empty() {
            vec!["localhost:6362".into()]
        } else {
            servers
        },
        compress: p.bool("--compress", true),
        metadata,
    };
    let mut failures = Vec::new();
    let mut databases: Vec<String> = Vec::new();
    for name in &names {
        if name.contains(['*', '?']) {
            let matched: Vec<_> = cfg.server_databases.iter().filter(|d| glob(name, d)).cloned().collect();
            if matched.is_empty() {
                failures.push(format!("Pattern '{name}' did not match any database"));
            }
            databases.extend(matched);
        } else {
            databases.push(name.clone());
        }
    }
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for db in databases {
        if seen.contains(&db) {
            continue;
        }
        match backup_one(&req, &db) {
            Ok(mut p) => problems.append(&mut p),
            Err(reason) => {
                out::log(
                    "ERROR",
                    out::BACKUP_LOGGER,
                    &format!("Backup of database '{db}' failed. Reason: {reason}"),
                );
                failures.push(format!("Backup of database '{db}' failed: {reason}"));
            }
        }
        seen.push(db);
    }
    // The manual: servers that do not respond do not stop the backup, "but the
    // exit code of the command is non-zero, to alert the user".
    match (failures.is_empty(), problems.is_empty()) {
        (true, true) => 0,
        (true, false) => out::failed(
            &format!("Execution of backup completed with problems.\n{}", problems.join("\n")),
            verbose,
            out::FAIL,
        ),
        _ => out::failed(
            &format!(
                "Execution of backup failed.\n{}",
                [failures, problems].concat().join("\n")
            ),
            verbose,
            out::FAIL,
        ),
    }
}

/// The first `--from` server that responds, in order; the ones that did not,
/// as problem lines. `Err` when none responds.
fn pick_server(req: &Request, db: &str) -> Result<(String, Vec<String>), String> {
    let mut problems = Vec::new();
    for server in &req.servers {
        if req.cfg.fail.has(db, &Mode::Unreachable(server.clone())) {
            let problem = format!(
                "Unable to connect to server {server} for backup of database '{db}': Connection refused \
                 (injected by neo4j-admin-double)"
            );
            out::log("ERROR", out::BACKUP_LOGGER, &problem);
            problems.push(problem);
            continue;
        }
        return Ok((server.clone(), problems));
    }
    Err(format!(
        "Could not back up database '{db}' from any of the servers [{}]: none could be contacted.",
        req.servers.join(", ")
    ))
}

/// Whether the backup is full: FULL always; DIFF only on a chain the server
/// can extend; AUTO tries a differential and falls back to a full backup,
/// logging the fall-back as Neo4j 5.26 does.
fn decide_full(req: &Request, db: &str, has_chain: bool) -> Result<bool, String> {
    let no_diff = req.cfg.fail.has(db, &Mode::NoDiff);
    let reason = if !has_chain {
        DIFF_NEEDS_FULL
    } else if no_diff {
        NO_DIFF_FROM_SERVER
    } else {
        ""
    };
    match req.kind.as_str() {
        "FULL" => Ok(true),
        "DIFF" if !reason.is_empty() => {
            info(&format!("Start differential backup of database '{db}'."));
            Err(reason.to_string())
        }
        "DIFF" => Ok(false),
        _ if reason.is_empty() => Ok(false),
        _ => {
            info(&format!("Start differential backup of database '{db}'."));
            info(&format!(
                "Differential backup of database '{db}' failed. Reason: {reason}"
            ));
            info(&format!("Falling back to full backup of database '{db}'."));
            Ok(true)
        }
    }
}

/// A name not yet taken in `dir` (the real tool names artifacts to the second).
fn fresh_name(dir: &Path, db: &str) -> (Utc, String) {
    loop {
        let now = Utc::now();
        let name = artifact::file_name(db, &now.file_stamp());
        if !dir.join(&name).exists() {
            return (now, name);
        }
        thread::sleep(Duration::from_millis(u64::from(1000 - now.millis.min(999))));
    }
}

/// Backs up `db`; returns the problems met on the way (servers that did not respond).
fn backup_one(req: &Request, db: &str) -> Result<Vec<String>, String> {
    let cfg = req.cfg;
    info(&format!(
        "Starting backup of database '{db}' from servers: [{}]",
        req.servers.join(", ")
    ));
    info(&format!("Start backup of database '{db}'."));
    if cfg.fail.has(db, &Mode::Exit3) {
        eprintln!("Database '{db}' is not running. (injected by neo4j-admin-double: exit3)");
        std::process::exit(3);
    }
    if cfg.fail.has(db, &Mode::NotRunning) {
        return Err(format!(
            "Database '{db}' does not exist or is not running on any of the servers [{}].",
            req.servers.join(", ")
        ));
    }
    let (server, problems) = pick_server(req, db)?;
    info(&format!("Using remote server {server} for backup of database '{db}'."));
    let existing: Vec<_> = artifact::list(req.to)
        .map_err(|e| format!("cannot list {}: {e}", req.to.display()))?
        .into_iter()
        .filter(|(_, h)| h.database == db)
        .collect();
    let has_chain = artifact::latest_chain(&existing, db).is_some();
    let full = decide_full(req, db, has_chain)?;
    let label = if full { "full" } else { "differential" };
    info(&format!("Start {label} backup of database '{db}'."));
    if cfg.fail.has(db, &Mode::Crash) {
        fail::crash("backup", db);
    }
    if cfg.fail.has(db, &Mode::Exit1) {
        return Err(format!(
            "Unable to complete {label} backup of database '{db}' from server {server}: Connection reset by peer \
             (injected by neo4j-admin-double)"
        ));
    }
    thread::sleep(cfg.fail.delay(db));
    let prev_max = existing.iter().map(|(_, h)| h.highest_tx).max().unwrap_or(0);
    let new_txs = 1 + artifact::fnv1a(db) % 20;
    let (lowest_tx, highest_tx) = if full {
        (1, prev_max + new_txs)
    } else {
        (prev_max + 1, prev_max + new_txs)
    };
    let started = Instant::now();
    if full {
        info(&format!("Start receiving store files for database '{db}'."));
        info(&format!(
            "Finished receiving store files for database '{db}', took {}.",
            neo4j_duration(started.elapsed())
        ));
        info(&format!(
            "Finished full backup of database '{db}'. Downloaded from tx -1 to tx {highest_tx}."
        ));
    } else {
        info(&format!("Finished differential backup of database '{db}'."));
    }
    let (time, name) = fresh_name(req.to, db);
    let header = Header {
        database: db.to_string(),
        database_id: artifact::database_id(db),
        full,
        time: time.iso_seconds(),
        lowest_tx,
        highest_tx,
        compressed: req.compress,
        recovered: cfg.version.has_recovered_field(),
        include_metadata: req.metadata.clone(),
        body_size: cfg.body_size,
        compressibility: cfg.compressibility,
        neo4j_version: cfg.version.text.clone(),
    };
    let path = req.to.join(&name);
    let creating = Instant::now();
    let half = Some(cfg.body_size / 2);
    if cfg.fail.has(db, &Mode::Die) {
        let _ = artifact::write(&path, &header, half);
        fail::die();
    }
    if cfg.fail.has(db, &Mode::Partial) {
        artifact::write(&path, &header, half).map_err(|e| format!("{}: {e}", path.display()))?;
        return Err(format!(
            "Failed to write backup artifact '{name}' for database '{db}': No space left on device \
             (injected by neo4j-admin-double)"
        ));
    }
    artifact::write(&path, &header, None).map_err(|e| format!("{}: {e}", path.display()))?;
    info(&format!(
        "Finished artifact creation '{name}' for database '{db}', took {}.",
        neo4j_duration(creating.elapsed())
    ));
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_like_database_patterns() {
        assert!(glob("n*", "neo4j") && glob("*", "system") && glob("cust?", "cust1"));
        assert!(!glob("n*", "system") && !glob("cust?", "cust10"));
    }
}
