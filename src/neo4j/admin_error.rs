//! The errors of running neo4j-admin: one per exit code it documents, plus
//! what graphvault itself could not read or stop. Each carries the tool's
//! first and last stderr lines where there are any.

use std::path::PathBuf;

use super::run_record::RecordError;

/// A neo4j-admin failure, by exit code, with the tool's last stderr lines.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("neo4j-admin not found at {path}: install Neo4j Enterprise's neo4j-admin on this host, or set [neo4j] admin_path")]
    NotFound { path: PathBuf },
    #[error("cannot run {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is neo4j-admin {version}: graphvault needs Neo4j 5.x or 2025.x (`neo4j-admin database backup` syntax); 4.x and 3.x are not supported")]
    UnsupportedVersion { path: PathBuf, version: String },
    #[error("cannot read a version from `{path} --version`: {output:?}")]
    UnknownVersion { path: PathBuf, output: String },
    #[error("neo4j-admin {command} failed (exit 1){}", tail(.stderr))]
    Failed { command: String, stderr: Vec<String> },
    /// Exit 3, documented for neo4j-admin in general. `database backup`
    /// itself reports a database that is not running with exit 1 (`Failed`).
    #[error("neo4j-admin {command}: the database is not running or not available (exit 3){}", tail(.stderr))]
    NotRunning { command: String, stderr: Vec<String> },
    /// Exit 64 (a command's options) or 2 (unknown category or command, which
    /// is also what a 4.x neo4j-admin says to 5.x syntax).
    #[error("neo4j-admin rejected the command line of {command} (exit {code}){}; check [neo4j] admin_extra_args and that admin_path is neo4j-admin 5.x or 2025.x", tail(.stderr))]
    Usage {
        command: String,
        code: i32,
        stderr: Vec<String>,
    },
    #[error("neo4j-admin {command} crashed (exit 70){}", tail(.stderr))]
    Crashed { command: String, stderr: Vec<String> },
    #[error("neo4j-admin {command} exited with unexpected code {code}{}", tail(.stderr))]
    Unexpected {
        command: String,
        code: i32,
        stderr: Vec<String>,
    },
    /// Ended by a signal: seen directly, or through the launcher, which
    /// exits with 128 + the signal number (Java's exit value of its child).
    #[error("neo4j-admin {command} was killed by signal {signal}{}", tail(.stderr))]
    Killed {
        command: String,
        signal: i32,
        stderr: Vec<String>,
    },
    #[error("neo4j-admin {command} did not finish within {secs} s and was stopped; raise [neo4j] admin_timeout_secs if the database is that large")]
    Timeout { command: String, secs: u64 },
    #[error("neo4j-admin backup of '{database}' reported success but left no artifact in {dir}")]
    NoArtifact { database: String, dir: PathBuf },
    #[error("neo4j-admin {command} printed output that is not the expected JSON: {detail}")]
    BadOutput { command: String, detail: String },
    #[error("`backup inspect` needs neo4j-admin 5.25 or newer; this is {version}")]
    InspectUnavailable { version: String },
    #[error("cannot tell whether neo4j-admin's backup of '{database}' ({artifact}) is full or differential: {detail}. A differential is recorded only with its parent, so this backup was not stored; run it with `--type full`, or make `neo4j-admin backup inspect` (5.25+) / `database backup --inspect-path` work on this host")]
    UnknownBackupType {
        database: String,
        artifact: PathBuf,
        detail: String,
    },
    #[error("neo4j-admin backup of '{database}' exited 1 and its artifact {artifact} could not be read back ({detail}), so it is not trusted{}", tail(.stderr))]
    UnverifiedArtifact {
        database: String,
        artifact: PathBuf,
        detail: String,
        stderr: Vec<String>,
    },
    #[error("cannot read /proc/{pid}/stat of the neo4j-admin just started; graphvault needs Linux /proc to stop neo4j-admin's whole process group, so it was killed")]
    ProcUnreadable { pid: u32 },
    #[error("neo4j-admin {command}: processes of its group did not stop on SIGTERM and SIGKILL (pids {pids:?}); stop them by hand (`kill -KILL <pid>`) before the next run")]
    Unstoppable { command: String, pids: Vec<i32> },
    #[error(transparent)]
    Record(#[from] RecordError),
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join(" | "))
    }
}
