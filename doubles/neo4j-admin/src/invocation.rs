//! The invocation log: with `NEO4J_ADMIN_DOUBLE_LOG=<file>`, one JSON line per run.
//!
//! Only the arguments (without the program path), the working directory and the
//! time are written; environment values never are.

use std::fs::OpenOptions;
use std::io::Write;

use serde_json::json;

use crate::config::ENV_LOG;
use crate::timefmt::Utc;

/// Appends `{"argv": [...], "cwd": "...", "time": "..."}` in a single write.
pub fn append(args: &[String]) {
    let Some(path) = std::env::var_os(ENV_LOG).filter(|p| !p.is_empty()) else {
        return;
    };
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut line = json!({ "argv": args, "cwd": cwd, "time": Utc::now().rfc3339() }).to_string();
    line.push('\n');
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        errln!(
            "neo4j-admin-double: cannot append to {ENV_LOG} file {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}
