//! Running neo4j-admin: the `Neo4jAdmin` trait and its process implementation.
//!
//! Each invocation is a supervised process group (`admin_process.rs`): its
//! output goes to tracing as it arrives, it is stopped whole at the timeout
//! or when the run is cancelled, and exit codes map to typed errors
//! (`admin_error.rs`) carrying the tool's stderr lines. A backup's outcome is
//! read from what it produced (`backup_outcome.rs`), not from its exit code
//! or one log line alone.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use super::admin_cmd::{
    backup_args, check_args, inspect_args, inspect_table_args, is_artifact_of, parse_version, restore_args,
    AdminSettings, AdminVersion, BackupRequest, RestoreRequest,
};
pub use super::admin_error::AdminError;
use super::admin_process::{run_process, Finished};
use super::backup_outcome::{self as outcome, BackupKind};
use crate::model::DbName;

/// What a successful `database backup` produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupOutput {
    /// The new artifacts, in the order the tool finished them.
    pub artifacts: Vec<PathBuf>,
    /// Full or differential: the artifact's header, else the tool's last decision.
    pub kind: BackupKind,
    /// Problems of a backup that still succeeded (exit 1 with the artifact made).
    pub warnings: Vec<String>,
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
    /// `--version`, asked once.
    version: Arc<OnceLock<AdminVersion>>,
}

impl ProcessAdmin {
    pub fn new(settings: AdminSettings) -> Self {
        Self {
            settings,
            version: Arc::default(),
        }
    }

    pub fn settings(&self) -> &AdminSettings {
        &self.settings
    }

    /// Runs neo4j-admin; an exit code other than 0 is an error.
    async fn run(&self, args: Vec<String>) -> Result<Finished, AdminError> {
        checked(run_process(&self.settings, args).await?)
    }

    /// The kind `artifact`'s own header states (its `FULL` column), read with
    /// `backup inspect` (5.25+) or `database backup --inspect-path` (5.x).
    async fn artifact_kind(&self, artifact: &Path) -> Result<BackupKind, String> {
        let version = self.version().await.map_err(|e| e.to_string())?;
        let done = self
            .run(inspect_table_args(artifact, &version))
            .await
            .map_err(|e| e.to_string())?;
        let name = artifact.file_name().unwrap_or_default().to_string_lossy();
        let full = outcome::artifact_full(&done.stdout.join("\n"), &name)?;
        Ok(if full { BackupKind::Full } else { BackupKind::Diff })
    }

    /// The warning for exit 1 with `artifact` made: the `--from` servers the
    /// tool's problem lines name, and what it said.
    fn exit1_warning(&self, done: &Finished, artifact: &Path) -> String {
        let problems: Vec<&str> = done
            .stdout
            .iter()
            .map(String::as_str)
            .filter(|l| outcome::is_problem_line(l))
            .chain(done.stderr.iter().map(String::as_str))
            .collect();
        let named = outcome::servers_named(problems.iter().copied(), &self.settings.from);
        let said: Vec<String> = done
            .stderr_tail
            .iter()
            .filter(|l| !l.starts_with("Run with '--verbose'"))
            .cloned()
            .collect();
        let name = artifact.file_name().unwrap_or_default().to_string_lossy();
        outcome::exit1_warning(&name, &named, &self.settings.from, &said)
    }
}

/// Maps the exit code of a finished process to its typed error.
fn checked(done: Finished) -> Result<Finished, AdminError> {
    let command = done.command.clone();
    let stderr = done.stderr_tail.clone();
    match done.code {
        Some(0) => Ok(done),
        Some(1) => Err(AdminError::Failed { command, stderr }),
        Some(3) => Err(AdminError::NotRunning { command, stderr }),
        Some(code @ (2 | 64)) => Err(AdminError::Usage { command, code, stderr }),
        Some(70) => Err(AdminError::Crashed { command, stderr }),
        Some(code @ 129..=192) => Err(AdminError::Killed {
            command,
            signal: code - 128,
            stderr,
        }),
        Some(code) => Err(AdminError::Unexpected { command, code, stderr }),
        None => Err(AdminError::Killed {
            command,
            signal: 0,
            stderr,
        }),
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
        if let Some(v) = self.version.get() {
            return Ok(v.clone());
        }
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
        Ok(self.version.get_or_init(|| v).clone())
    }

    async fn backup(&self, req: &BackupRequest) -> Result<BackupOutput, AdminError> {
        // A little slack: file systems keep coarse modification times.
        let since = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
        let done = run_process(&self.settings, backup_args(&self.settings, req)).await?;
        let db = req.database.as_str();
        let no_artifact = || AdminError::NoArtifact {
            database: db.to_string(),
            dir: req.to_path.clone(),
        };
        // Only what the tool announced as finished, and only if it is there.
        let announced: Vec<PathBuf> = done
            .artifacts
            .iter()
            .filter(|(_, d)| d == db)
            .map(|(file, _)| req.to_path.join(Path::new(file).file_name().unwrap_or_default()))
            .filter(|p| p.is_file())
            .collect();
        let artifacts = match done.code {
            Some(0) if announced.is_empty() => scan_artifacts(&req.to_path, db, since),
            // Exit 1 is also "succeeded but encountered problems such as some
            // servers being uncontactable": what it announced decides.
            Some(0 | 1) => announced,
            _ => return checked(done).and_then(|_| Err(no_artifact())),
        };
        let Some(newest) = artifacts.last().cloned() else {
            return checked(done).and_then(|_| Err(no_artifact()));
        };
        let read_back = self.artifact_kind(&newest).await;
        let mut warnings = Vec::new();
        if done.code == Some(1) {
            if let Err(detail) = &read_back {
                return Err(AdminError::UnverifiedArtifact {
                    database: db.to_string(),
                    artifact: newest,
                    detail: detail.clone(),
                    stderr: done.stderr_tail,
                });
            }
            let warning = self.exit1_warning(&done, &newest);
            tracing::warn!(database = db, "{warning}");
            warnings.push(warning);
        }
        let logged = outcome::logged_kind(done.lines(), db);
        let header = match read_back {
            Ok(kind) => Some(kind),
            Err(detail) => {
                tracing::warn!(artifact = %newest.display(), detail, "cannot read the artifact's header; its kind comes from neo4j-admin's log");
                None
            }
        };
        if let (Some(h), Some(l)) = (header, logged) {
            if h != l {
                tracing::warn!(artifact = %newest.display(), header = h.as_str(), log = l.as_str(),
                    "neo4j-admin's log and the artifact's header disagree; the header is recorded");
            }
        }
        let kind =
            outcome::decide_kind(req.backup_type, logged, header).map_err(|detail| AdminError::UnknownBackupType {
                database: db.to_string(),
                artifact: newest.clone(),
                detail,
            })?;
        Ok(BackupOutput {
            artifacts,
            kind,
            warnings,
        })
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
