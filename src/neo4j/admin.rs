//! Running neo4j-admin: the `Neo4jAdmin` trait and its process implementation.
//!
//! The process runs under tokio with a timeout (killed when it expires or when
//! the future is dropped), its stdout/stderr lines go to tracing as they
//! arrive, and exit codes map to typed errors carrying the tool's last stderr
//! lines. Secrets in graphvault's environment (AWS keys, Bolt password) are
//! removed from the child's environment; none is ever put on its command line.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::admin_cmd::{
    backup_args, check_args, finished_artifact, inspect_args, is_artifact_of, parse_version, restore_args,
    started_backup_kind, AdminSettings, AdminVersion, BackupRequest, RestoreRequest,
};
use crate::model::DbName;

/// stderr lines kept for errors: the first ones (picocli puts the message
/// before the usage text) and the last ones (Java puts the cause last).
const HEAD_LINES: usize = 4;
const TAIL_LINES: usize = 16;
/// Variables never passed on to neo4j-admin.
const SCRUBBED_ENV: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GRAPHVAULT_NEO4J_PASSWORD",
    "NEO4J_PASSWORD",
];

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
    #[error("neo4j-admin {command} was killed by a signal{}", tail(.stderr))]
    Killed { command: String, stderr: Vec<String> },
    #[error("neo4j-admin {command} did not finish within {secs} s and was stopped; raise [neo4j] admin_timeout_secs if the database is that large")]
    Timeout { command: String, secs: u64 },
    #[error("neo4j-admin backup of '{database}' reported success but left no artifact in {dir}")]
    NoArtifact { database: String, dir: PathBuf },
    #[error("neo4j-admin {command} printed output that is not the expected JSON: {detail}")]
    BadOutput { command: String, detail: String },
    #[error("`backup inspect` needs neo4j-admin 5.25 or newer; this is {version}")]
    InspectUnavailable { version: String },
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join(" | "))
    }
}

/// What a finished neo4j-admin process left.
#[derive(Debug, Default)]
struct Finished {
    code: Option<i32>,
    stdout: Vec<String>,
    stderr_tail: Vec<String>,
    artifacts: Vec<(String, String)>,
}

/// What a successful `database backup` produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupOutput {
    /// The new artifacts, in the order the tool finished them.
    pub artifacts: Vec<PathBuf>,
    /// `FULL` or `DIFF` as the tool announced it (AUTO decides at run time).
    pub kind: Option<&'static str>,
}

/// The operations graphvault needs from neo4j-admin.
#[async_trait]
pub trait Neo4jAdmin: Send + Sync {
    /// The version, refusing 4.x/3.x.
    async fn version(&self) -> Result<AdminVersion, AdminError>;
    /// Runs a backup; returns the artifacts it produced, in order.
    async fn backup(&self, req: &BackupRequest) -> Result<BackupOutput, AdminError>;
    async fn restore(&self, req: &RestoreRequest) -> Result<(), AdminError>;
    /// `backup inspect --format=JSON` (5.25+).
    async fn inspect(&self, path: &Path) -> Result<serde_json::Value, AdminError>;
    /// `database check` of the latest chain of `database` among the
    /// artifacts in the directory `dir`; a report of inconsistencies is
    /// written into `reports`.
    async fn check(&self, dir: &Path, database: &DbName, reports: &Path) -> Result<(), AdminError>;
}

/// neo4j-admin run as a child process.
#[derive(Clone, Debug)]
pub struct ProcessAdmin {
    settings: AdminSettings,
}

impl ProcessAdmin {
    pub fn new(settings: AdminSettings) -> Self {
        Self { settings }
    }

    pub fn settings(&self) -> &AdminSettings {
        &self.settings
    }

    async fn run(&self, args: Vec<String>) -> Result<Finished, AdminError> {
        let command = args.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        let path = self.settings.binary.clone();
        let mut cmd = Command::new(&path);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(self.settings.env.iter().map(|(k, v)| (k, v)));
        tracing::info!(binary = %path.display(), args = ?args, "running neo4j-admin");
        let mut child = cmd.spawn().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                AdminError::NotFound { path: path.clone() }
            } else {
                AdminError::Spawn {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(AdminError::Spawn {
                path,
                source: std::io::Error::other("no pipes to the child"),
            });
        };
        let reading = async {
            let mut done = Finished::default();
            let (mut head, mut tail, mut omitted) = (Vec::new(), VecDeque::new(), 0usize);
            let (mut out, mut err) = (BufReader::new(out).lines(), BufReader::new(err).lines());
            let (mut out_open, mut err_open) = (true, true);
            while out_open || err_open {
                tokio::select! {
                    line = out.next_line(), if out_open => match line {
                        Ok(Some(l)) => {
                            // Its progress chatter is detail; its warnings are not.
                            if l.contains(" ERROR ") || l.contains(" WARN ") {
                                tracing::warn!(target: "graphvault::neo4j_admin", "{l}");
                            } else {
                                tracing::debug!(target: "graphvault::neo4j_admin", "{l}");
                            }
                            if let Some(a) = finished_artifact(&l) {
                                done.artifacts.push(a);
                            }
                            done.stdout.push(l);
                        }
                        _ => out_open = false,
                    },
                    line = err.next_line(), if err_open => match line {
                        Ok(Some(l)) => {
                            tracing::warn!(target: "graphvault::neo4j_admin", "{l}");
                            if let Some(a) = finished_artifact(&l) {
                                done.artifacts.push(a);
                            }
                            if head.len() < HEAD_LINES {
                                head.push(l);
                            } else {
                                tail.push_back(l);
                                if tail.len() > TAIL_LINES {
                                    tail.pop_front();
                                    omitted += 1;
                                }
                            }
                        }
                        _ => err_open = false,
                    },
                }
            }
            if omitted > 0 {
                head.push(format!("… ({omitted} lines omitted)"));
            }
            head.extend(tail);
            done.stderr_tail = head;
            done
        };
        let secs = self.settings.timeout.as_secs();
        let waited = tokio::time::timeout(self.settings.timeout, async {
            let done = reading.await;
            let status = child.wait().await;
            (done, status)
        })
        .await;
        let (mut done, status) = match waited {
            Ok(v) => v,
            Err(_) => {
                // kill_on_drop stops the child when `child` goes out of scope.
                return Err(AdminError::Timeout { command, secs });
            }
        };
        let status = status.map_err(|source| AdminError::Spawn { path, source })?;
        done.code = status.code();
        let stderr = done.stderr_tail.clone();
        match done.code {
            Some(0) => Ok(done),
            Some(1) => Err(AdminError::Failed { command, stderr }),
            Some(3) => Err(AdminError::NotRunning { command, stderr }),
            Some(code @ (2 | 64)) => Err(AdminError::Usage { command, code, stderr }),
            Some(70) => Err(AdminError::Crashed { command, stderr }),
            Some(code) => Err(AdminError::Unexpected { command, code, stderr }),
            None => Err(AdminError::Killed { command, stderr }),
        }
    }
}

/// Artifacts of `database` in `dir` modified since `since` (fallback when
/// the output named none).
fn scan_artifacts(dir: &Path, database: &str, since: std::time::SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| is_artifact_of(database, &e.file_name().to_string_lossy()))
        .filter(|e| e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t >= since))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[async_trait]
impl Neo4jAdmin for ProcessAdmin {
    async fn version(&self) -> Result<AdminVersion, AdminError> {
        let done = self.run(vec!["--version".into()]).await?;
        let output = done.stdout.join("\n");
        let path = self.settings.binary.clone();
        let v = parse_version(&output).ok_or(AdminError::UnknownVersion {
            path: path.clone(),
            output: output.clone(),
        })?;
        if !v.is_supported() {
            return Err(AdminError::UnsupportedVersion { path, version: v.text });
        }
        Ok(v)
    }

    async fn backup(&self, req: &BackupRequest) -> Result<BackupOutput, AdminError> {
        // A little slack: file systems keep coarse modification times.
        let since = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
        let done = self.run(backup_args(&self.settings, req)).await?;
        let db = req.database.as_str();
        let mut artifacts: Vec<PathBuf> = done
            .artifacts
            .iter()
            .filter(|(_, d)| d == db)
            .map(|(file, _)| req.to_path.join(Path::new(file).file_name().unwrap_or_default()))
            .filter(|p| p.is_file())
            .collect();
        if artifacts.is_empty() {
            artifacts = scan_artifacts(&req.to_path, db, since);
        }
        if artifacts.is_empty() {
            return Err(AdminError::NoArtifact {
                database: db.to_string(),
                dir: req.to_path.clone(),
            });
        }
        let kind = done
            .stdout
            .iter()
            .filter_map(|l| started_backup_kind(l))
            .find(|(_, d)| d == db)
            .map(|(k, _)| k);
        Ok(BackupOutput { artifacts, kind })
    }

    async fn restore(&self, req: &RestoreRequest) -> Result<(), AdminError> {
        self.run(restore_args(&self.settings, req)).await.map(|_| ())
    }

    async fn inspect(&self, path: &Path) -> Result<serde_json::Value, AdminError> {
        let v = self.version().await?;
        if !v.has_inspect() {
            return Err(AdminError::InspectUnavailable { version: v.text });
        }
        let done = self.run(inspect_args(path, &v)).await?;
        let text = done.stdout.join("\n");
        let start = text.find(['{', '[']).unwrap_or(0);
        serde_json::from_str(&text[start..]).map_err(|e| AdminError::BadOutput {
            command: "backup inspect".into(),
            detail: e.to_string(),
        })
    }

    async fn check(&self, dir: &Path, database: &DbName, reports: &Path) -> Result<(), AdminError> {
        self.run(check_args(dir, database, reports)).await.map(|_| ())
    }
}
