//! `neo4j-admin backup inspect` (5.25+) and `database backup --inspect-path`.
//!
//! Columns and their order come from the Operations Manual page "Inspect the
//! metadata of a backup file"; the JSON field names are the double's own (the
//! manual shows no JSON example). Before 2025.07 metadata needs `--show-metadata`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::artifact::{self, Header};
use crate::cli::{self, flag, value, UsageError};
use crate::config::Config;
use crate::out;
use crate::text;

type Row = (PathBuf, Header);

fn file_uri(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

/// Reads `path` (a file or a directory of artifacts).
fn load(path: &str) -> Result<Vec<Row>, String> {
    let p = Path::new(path);
    if !p.exists() {
        return Err(out::path_missing(path));
    }
    if p.is_dir() {
        return artifact::list(p).map_err(|e| format!("Failed to list backups in {path}: {e}"));
    }
    artifact::read_header(p)
        .map(|h| vec![(p.to_path_buf(), h)])
        .map_err(|_| format!("File '{path}' is not a valid backup artifact."))
}

fn is_empty_backup(h: &Header) -> bool {
    !h.full && h.lowest_tx == 0 && h.highest_tx == 0
}

fn newest_first(rows: &mut [Row]) {
    rows.sort_by(|a, b| (&b.1.time, &b.0).cmp(&(&a.1.time, &a.0)));
}

/// Renders rows as the `|`-separated, right-aligned table neo4j-admin prints.
fn table(headings: &[&str], cells: &[Vec<String>]) -> String {
    let widths: Vec<usize> = headings
        .iter()
        .enumerate()
        .map(|(i, h)| cells.iter().map(|r| r[i].len()).chain([h.len()]).max().unwrap_or(0))
        .collect();
    let line = |row: Vec<&str>| {
        let body: String = row.iter().zip(&widths).map(|(c, w)| format!(" {c:>w$} |")).collect();
        format!("|{body}\n")
    };
    let mut outp = line(headings.to_vec());
    for r in cells {
        outp.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    outp
}

fn metadata_cells(row: &Row, recovered: bool) -> Vec<String> {
    let h = &row.1;
    let mut cells = vec![
        file_uri(&row.0),
        h.database.clone(),
        h.database_id.clone(),
        h.time.clone(),
        h.full.to_string(),
        h.compressed.to_string(),
        h.lowest_tx.to_string(),
        h.highest_tx.to_string(),
    ];
    if recovered {
        cells.push(h.recovered.to_string());
    }
    cells
}

fn json_row(row: &Row, metadata: bool, recovered: bool) -> Value {
    let h = &row.1;
    if !metadata {
        return json!({ "file": file_uri(&row.0) });
    }
    let mut v = json!({
        "file": file_uri(&row.0),
        "database": h.database,
        "databaseId": h.database_id,
        "time": h.time,
        "full": h.full,
        "compressed": h.compressed,
        "lowestTx": h.lowest_tx,
        "highestTx": h.highest_tx,
    });
    if recovered {
        v["recovered"] = json!(h.recovered);
    }
    v
}

pub fn run(cfg: &Config, args: &[String], root_verbose: bool) -> i32 {
    let v = &cfg.version;
    let usage = text::inspect(v);
    let mut opts = cli::COMMON.to_vec();
    opts.extend([
        flag("--empty"),
        flag("--latest-backup"),
        flag("--latest-chain"),
        flag("--show-metadata"),
        value("--database", "<database>"),
        value("--format", "<value>"),
    ]);
    let p = match cli::parse(&opts, args, 1) {
        Ok(p) => p,
        Err(e) => return out::usage_error(&e, &usage),
    };
    if p.help {
        outp!("{usage}");
        return 0;
    }
    let format = match p.choice("--format", &["JSON", "TABULAR"], "TABULAR") {
        Ok(f) => f,
        Err(e) => return out::usage_error(&e, &usage),
    };
    let (latest_backup, latest_chain) = (p.bool("--latest-backup", false), p.bool("--latest-chain", false));
    if latest_backup && latest_chain {
        let e = UsageError("Error: --latest-backup, --latest-chain are mutually exclusive (specify only one)".into());
        return out::usage_error(&e, &usage);
    }
    let Some(path) = p.positionals.first() else {
        return out::usage_error(&UsageError::missing_parameter("<backup-path>"), &usage);
    };
    let verbose = match out::preamble(&p, v, root_verbose) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let all = match load(path) {
        Ok(rows) => rows,
        Err(msg) => return out::failed(&msg, verbose, out::FAIL),
    };
    let mut rows: Vec<Row> = all
        .iter()
        .filter(|(_, h)| p.get("--database").is_none_or(|d| d == h.database))
        .filter(|(_, h)| p.bool("--empty", false) || !is_empty_backup(h))
        .cloned()
        .collect();
    newest_first(&mut rows);
    if latest_backup || latest_chain {
        let mut picked = Vec::new();
        let mut dbs: Vec<String> = rows.iter().map(|(_, h)| h.database.clone()).collect();
        dbs.dedup();
        for db in dbs {
            let Some(last) = rows.iter().find(|(_, h)| h.database == db) else {
                continue;
            };
            if latest_backup {
                picked.push(last.clone());
            } else if let Some(mut chain) = artifact::chain_ending_at(&all, last) {
                chain.reverse();
                picked.extend(chain);
            }
        }
        rows = picked;
    }
    let metadata = v.inspect_metadata_by_default() || p.bool("--show-metadata", false);
    let recovered = v.has_recovered_field();
    if format == "JSON" {
        let arr: Vec<Value> = rows.iter().map(|r| json_row(r, metadata, recovered)).collect();
        outln!("{}", Value::Array(arr));
    } else if metadata {
        let mut headings = vec![
            "FILE",
            "DATABASE",
            "DATABASE ID",
            "TIME (UTC)",
            "FULL",
            "COMPRESSED",
            "LOWEST TX",
            "HIGHEST TX",
        ];
        if recovered {
            headings.push("RECOVERED");
        }
        let cells: Vec<_> = rows.iter().map(|r| metadata_cells(r, recovered)).collect();
        outp!("{}", table(&headings, &cells));
    } else {
        let cells: Vec<_> = rows.iter().map(|r| vec![file_uri(&r.0)]).collect();
        outp!("{}", table(&["FILE"], &cells));
    }
    0
}

/// `database backup --inspect-path=<path>`: the pre-5.25 way to list artifacts.
pub fn inspect_path(_cfg: &Config, path: &str, verbose: bool) -> i32 {
    let mut rows = match load(path) {
        Ok(rows) => rows,
        Err(msg) => return out::failed(&msg, verbose, out::FAIL),
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let headings = [
        "FILE",
        "DATABASE",
        "DATABASE ID",
        "TIME",
        "FULL",
        "COMPRESSED",
        "LOWEST TX",
        "HIGHEST TX",
    ];
    let cells: Vec<_> = rows.iter().map(|r| metadata_cells(r, false)).collect();
    outp!("{}", table(&headings, &cells));
    0
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn tables_are_right_aligned() {
        let t = table(&["FILE", "FULL"], &[vec!["file:///b/x.backup".into(), "true".into()]]);
        assert_eq!(t, "|               FILE | FULL |\n| file:///b/x.backup | true |\n");
    }
}
