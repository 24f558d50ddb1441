//! `neo4j-admin database check`: a consistency check of the most recent backup chain
//! in `--from-path` (a directory, as in the real tool) or of a restored database.
//!
//! Exit codes follow `org.neo4j.consistency.CheckCommand` (Neo4j 5): nothing to
//! check is "Failed to prepare for consistency check: ..." with 70 (SOFTWARE);
//! inconsistencies are 1 (FAIL) with a report file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::artifact;
use crate::cli::{self, boolean, flag, value, Opt, UsageError};
use crate::config::Config;
use crate::fail::{self, Mode};
use crate::out;
use crate::text;
use crate::timefmt::Utc;

fn options() -> Vec<Opt> {
    let mut opts = cli::COMMON.to_vec();
    opts.extend([
        flag("--force"),
        boolean("--check-counts"),
        boolean("--check-graph"),
        boolean("--check-indexes"),
        boolean("--check-property-owners"),
        value("--max-off-heap-memory", "<size>"),
        value("--report-path", "<path>"),
        value("--threads", "<number of threads>"),
        value("--from-path-data", "<path>"),
        value("--from-path-txn", "<path>"),
        value("--from-path", "<path>"),
        value("--temp-path", "<path>"),
    ]);
    opts
}

/// Neo4j's byte formatting: `160.0KiB`, `618.5MiB`.
fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1}{}", units[u])
}

fn abs(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

fn progress(store: u64) {
    outln!("Running consistency check with max off-heap:618.6MiB");
    outln!("  Store size:{}", bytes(store));
    outln!("  Allocated page cache:{}", bytes(store));
    outln!("  Off-heap memory for caching:618.5MiB");
    for phase in [
        "ID Generator consistency check",
        "Index structure consistency check",
        "Consistency check",
    ] {
        outln!("{phase}");
        for pct in (10..=100).step_by(10) {
            outln!("{} {pct:>3}%", ".".repeat(20));
        }
    }
}

pub fn run(cfg: &Config, args: &[String], root_verbose: bool) -> i32 {
    let usage = text::check();
    let p = match cli::parse(&options(), args, 1) {
        Ok(p) => p,
        Err(e) => return out::usage_error(&e, &usage),
    };
    if p.help {
        outp!("{usage}");
        return 0;
    }
    let Some(db) = p.positionals.first().map(String::as_str) else {
        return out::usage_error(&UsageError::missing_parameter("<database>"), &usage);
    };
    if p.get("--from-path").is_some() && (p.get("--from-path-data").is_some() || p.get("--from-path-txn").is_some()) {
        let e = UsageError(
            "Error: [--from-path-data=<path> --from-path-txn=<path>] and [--from-path=<path> [--temp-path=<path>]] \
             are mutually exclusive (specify only one)"
                .into(),
        );
        return out::usage_error(&e, &usage);
    }
    let verbose = match out::preamble(&p, &cfg.version, root_verbose) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let not_found = |source: String| {
        out::failed(
            &format!(
                "Failed to prepare for consistency check: Could not find a valid backup, database, or dump named \
                 '{db}' to check at {source}"
            ),
            verbose,
            out::SOFTWARE,
        )
    };
    let store = match p.get("--from-path") {
        Some(from) => {
            let dir = Path::new(from);
            let pool = if dir.is_dir() {
                artifact::list(dir).unwrap_or_default()
            } else {
                Vec::new()
            };
            match artifact::latest_chain(&pool, db) {
                Some(chain) => {
                    if verbose {
                        for (path, h) in &chain {
                            outln!("Selected {} artifact {}", h.kind(), path.display());
                        }
                    }
                    chain.iter().map(|(_, h)| h.body_size).sum::<u64>()
                }
                None => return not_found(format!("path: '{}'", abs(dir))),
            }
        }
        None => {
            let data = p
                .get("--from-path-data")
                .map_or_else(|| cfg.data_dir.join("databases"), PathBuf::from);
            let txn = p
                .get("--from-path-txn")
                .map_or_else(|| cfg.data_dir.join("transactions"), PathBuf::from);
            match fs::read_to_string(data.join(db).join("header.json")) {
                Ok(h) => serde_json::from_str::<serde_json::Value>(&h)
                    .ok()
                    .and_then(|v| v.get("bodySize").and_then(serde_json::Value::as_u64))
                    .unwrap_or(0),
                Err(_) => {
                    return not_found(format!(
                        "databases path: '{}', transaction log path: '{}'",
                        abs(&data),
                        abs(&txn)
                    ))
                }
            }
        }
    };
    if cfg.fail.has(db, &Mode::Crash) {
        fail::crash("check", db);
    }
    progress(store);
    if cfg.fail.has(db, &Mode::Inconsistent) {
        let dir = PathBuf::from(p.get("--report-path").unwrap_or("."));
        let report = if dir.extension().is_some_and(|e| e == "report") {
            dir
        } else {
            let t = Utc::now();
            let stamp = format!(
                "{:04}-{:02}-{:02}.{:02}.{:02}.{:02}",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            );
            dir.join(format!("inconsistencies-{stamp}.report"))
        };
        let _ = fs::write(
            &report,
            format!("ERROR: injected inconsistency in database '{db}' (neo4j-admin-double)\n"),
        );
        return out::failed(
            &format!("Inconsistencies found. See '{}' for details.", abs(&report)),
            verbose,
            out::FAIL,
        );
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_sizes_like_neo4j() {
        assert_eq!(super::bytes(163_840), "160.0KiB");
        assert_eq!(super::bytes(1024 * 1024), "1.0MiB");
        assert_eq!(super::bytes(12), "12.0B");
    }
}
