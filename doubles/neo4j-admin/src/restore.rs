//! `neo4j-admin database restore`: turns the double's artifacts into a store directory.
//!
//! `--from-path` takes an artifact, a folder or a comma-separated list (one artifact
//! per database); a differential artifact is restored with the chain ending at it,
//! found in its folder. The result is `<data>/databases/<db>/` holding the header of
//! the last artifact (`header.json`) and a marker (`restored.marker`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::artifact::{self, Header};
use crate::cli::{self, boolean, value, Opt, UsageError};
use crate::config::Config;
use crate::fail::{self, Mode};
use crate::out;
use crate::text;
use crate::timefmt::{is_restore_until_date, Utc};

const LOGGER: &str = "c.n.b.r.RestoreDatabaseCommand";

type Row = (PathBuf, Header);

fn options(cfg: &Config) -> Vec<Opt> {
    let mut opts = cli::COMMON.to_vec();
    opts.extend([
        value("--from-path", "<path>[,<path>...]"),
        boolean("--overwrite-destination"),
        value("--restore-until", "<recovery-criteria>"),
        value("--temp-path", "<path>"),
        value("--to-path-data", "<path>"),
        value("--to-path-txn", "<path>"),
    ]);
    if cfg.version.has_restore_source_database() {
        opts.push(value("--source-database", "source-database-name"));
    }
    opts
}

/// One database to restore and the chain to restore it from.
struct Job {
    database: String,
    chain: Vec<Row>,
}

fn jobs(paths: &[&str], database: Option<&str>, source: Option<&str>) -> Result<Vec<Job>, String> {
    let mut jobs = Vec::new();
    for path in paths {
        let p = Path::new(path);
        if !p.exists() {
            return Err(out::path_missing(path));
        }
        if p.is_dir() {
            let pool = artifact::list(p).map_err(|e| format!("Failed to list backups in {path}: {e}"))?;
            let mut dbs: Vec<String> = pool.iter().map(|(_, h)| h.database.clone()).collect();
            dbs.sort();
            dbs.dedup();
            dbs.retain(|d| source.is_none_or(|s| s == d));
            if dbs.is_empty() {
                return Err(format!("No backup artifacts found in '{path}'."));
            }
            for db in dbs {
                let chain = artifact::latest_chain(&pool, &db)
                    .ok_or_else(|| format!("No complete backup chain for database '{db}' found in '{path}'."))?;
                jobs.push(Job { database: db, chain });
            }
            continue;
        }
        let header = artifact::read_header(p).map_err(|_| format!("File '{path}' is not a valid backup artifact."))?;
        let last = (p.to_path_buf(), header);
        let chain = if last.1.full {
            vec![last.clone()]
        } else {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let pool = artifact::list(dir).map_err(|e| format!("Failed to list backups in {}: {e}", dir.display()))?;
            artifact::chain_ending_at(&pool, &last)
                .ok_or_else(|| format!("Unable to find a full backup chain ending at '{path}'."))?
        };
        jobs.push(Job {
            database: database.unwrap_or(&last.1.database).to_string(),
            chain,
        });
    }
    Ok(jobs)
}

/// The last transaction a chain restores to under `--restore-until` (exclusive).
fn last_tx(chain: &[Row], until: Option<&str>) -> u64 {
    let highest = chain.last().map_or(0, |(_, h)| h.highest_tx);
    match until {
        None => highest,
        Some(u) => match u.parse::<u64>() {
            Ok(tx) => highest.min(tx.saturating_sub(1)),
            Err(_) => {
                let limit = u.replace(' ', "T");
                chain
                    .iter()
                    .filter(|(_, h)| h.time < limit)
                    .map(|(_, h)| h.highest_tx)
                    .max()
                    .unwrap_or(0)
            }
        },
    }
}

pub fn run(cfg: &Config, args: &[String], root_verbose: bool) -> i32 {
    let usage = text::restore(&cfg.version);
    let p = match cli::parse(&options(cfg), args, 1) {
        Ok(p) => p,
        Err(e) => return out::usage_error(&e, &usage),
    };
    if p.help {
        outp!("{usage}");
        return 0;
    }
    let Some(from) = p.get("--from-path") else {
        return out::usage_error(&UsageError::missing_option("--from-path", "<path>[,<path>...]"), &usage);
    };
    let until = p.get("--restore-until");
    if let Some(u) = until.filter(|u| u.parse::<u64>().is_err() && !is_restore_until_date(u)) {
        let e = UsageError(format!(
            "Invalid value for option '--restore-until': '{u}' is neither a transaction id nor a date \
             'YYYY-MM-DD HH:MM:SS'"
        ));
        return out::usage_error(&e, &usage);
    }
    let paths: Vec<&str> = from.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let database = p.positionals.first().map(String::as_str);
    if database.is_some() && (paths.len() != 1 || Path::new(paths[0]).is_dir()) {
        let e = UsageError(
            "The <database> parameter can only be used when --from-path points to a single backup artifact.".into(),
        );
        return out::usage_error(&e, &usage);
    }
    let verbose = match out::preamble(&p, &cfg.version, root_verbose) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let jobs = match jobs(&paths, database, p.get("--source-database")) {
        Ok(j) => j,
        Err(msg) => return out::failed(&msg, verbose, out::FAIL),
    };
    let data = p
        .get("--to-path-data")
        .map_or_else(|| cfg.data_dir.join("databases"), PathBuf::from);
    let txn = p
        .get("--to-path-txn")
        .map_or_else(|| cfg.data_dir.join("transactions"), PathBuf::from);
    let overwrite = p.bool("--overwrite-destination", false);
    let mut failures = Vec::new();
    for job in &jobs {
        if let Err(msg) = restore_one(cfg, job, &data, &txn, overwrite, until) {
            failures.push(msg);
        }
    }
    if failures.is_empty() {
        0
    } else {
        out::failed(&failures.join("\n"), verbose, out::FAIL)
    }
}

fn restore_one(
    cfg: &Config,
    job: &Job,
    data: &Path,
    txn: &Path,
    overwrite: bool,
    until: Option<&str>,
) -> Result<(), String> {
    let db = job.database.as_str();
    let files: Vec<String> = job.chain.iter().map(|(p, _)| p.display().to_string()).collect();
    out::log(
        "INFO",
        LOGGER,
        &format!("Restoring database '{db}' from [{}].", files.join(", ")),
    );
    if cfg.fail.has(db, &Mode::Crash) {
        fail::crash("restore", db);
    }
    let dest = data.join(db);
    let txn_dest = txn.join(db);
    if dest.exists() && !overwrite {
        return Err(format!(
            "Database with name [{db}] already exists at {}",
            dest.display()
        ));
    }
    if cfg.fail.has(db, &Mode::RestoreFail) {
        return Err(format!(
            "Failed to restore database '{db}': Unable to apply transactions of the backup chain (injected by \
             neo4j-admin-double)"
        ));
    }
    let io = |e: std::io::Error, p: &Path| format!("Failed to restore database '{db}': {}: {e}", p.display());
    for dir in [&dest, &txn_dest] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| io(e, dir))?;
        }
        fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    }
    let last = &job.chain[job.chain.len() - 1].1;
    let header_path = dest.join("header.json");
    fs::write(&header_path, format!("{}\n", last.to_json())).map_err(|e| io(e, &header_path))?;
    let marker = json!({
        "database": db,
        "restoredFrom": files,
        "chain": job.chain.iter().map(|(_, h)| h.to_json()).collect::<Vec<Value>>(),
        "lastTx": last_tx(&job.chain, until),
        "restoreUntil": until,
        "overwritten": overwrite,
        "time": Utc::now().rfc3339(),
    });
    let marker_path = dest.join("restored.marker");
    fs::write(&marker_path, format!("{marker:#}\n")).map_err(|e| io(e, &marker_path))?;
    let txlog = txn_dest.join("neostore.transaction.db.0");
    fs::write(&txlog, b"").map_err(|e| io(e, &txlog))?;
    if job.chain[0].1.include_metadata != "none" {
        let tools = dest.join("tools");
        fs::create_dir_all(&tools).map_err(|e| io(e, &tools))?;
        let script = tools.join("metadata_script.cypher");
        fs::write(
            &script,
            format!("// neo4j-admin-double: metadata of '{db}' would be here\n"),
        )
        .map_err(|e| io(e, &script))?;
    }
    out::log(
        "INFO",
        LOGGER,
        &format!(
            "Restore of database '{db}' completed, last transaction id {}.",
            last_tx(&job.chain, until)
        ),
    );
    Ok(())
}
