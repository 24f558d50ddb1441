//! The `[neo4j]` section: how to reach neo4j-admin and the Bolt endpoint.
//!
//! The Bolt password comes from `password_file`, the `GRAPHVAULT_NEO4J_PASSWORD`
//! environment variable, or the config file itself, and never from the
//! command line: `--set neo4j.password=…` is refused.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::neo4j::{AdminSettings, BoltSettings, Password};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNeo4j {
    bolt_uri: Option<String>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    connect_timeout_secs: Option<u64>,
    query_timeout_secs: Option<u64>,
    online_timeout_secs: Option<u64>,
    admin_path: Option<PathBuf>,
    #[serde(default)]
    admin_extra_args: Vec<String>,
    #[serde(default)]
    backup_from: Vec<String>,
    backup_port: Option<u16>,
    cluster_server: Option<String>,
    pagecache: Option<String>,
    temp_path: Option<PathBuf>,
    admin_timeout_secs: Option<u64>,
    admin_stop_grace_secs: Option<u64>,
    #[serde(default)]
    admin_env: std::collections::BTreeMap<String, String>,
}

/// Keys of `[neo4j]` (for env and `--set` validation).
pub(super) const KEYS: &[&str] = &[
    "bolt_uri",
    "user",
    "password",
    "password_file",
    "connect_timeout_secs",
    "query_timeout_secs",
    "online_timeout_secs",
    "admin_path",
    "admin_extra_args",
    "backup_from",
    "backup_port",
    "cluster_server",
    "pagecache",
    "temp_path",
    "admin_timeout_secs",
    "admin_stop_grace_secs",
    "admin_env",
];

/// Validated `[neo4j]` settings. The password is resolved only when a command
/// needs Bolt, so backup-only hosts without Bolt access work.
#[derive(Clone, Debug)]
pub struct Neo4jConfig {
    pub admin: AdminSettings,
    pub bolt_uri: String,
    pub user: String,
    password: Option<Password>,
    password_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
    /// How long a created database may take to come online.
    pub online_timeout: Duration,
    /// The backup port of cluster servers, used to derive `--from` from
    /// `SHOW DATABASES` when `backup_from` is empty.
    pub backup_port: u16,
    /// On a cluster: the id, name or Bolt address of the server on this
    /// host (restores seed from it). Default: the address in `bolt_uri`.
    pub cluster_server: Option<String>,
}

impl Neo4jConfig {
    pub(super) fn from_raw(raw: RawNeo4j) -> Result<Self, ConfigError> {
        for from in &raw.backup_from {
            let ok = from
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(ConfigError::Invalid {
                    key: "neo4j.backup_from",
                    message: format!("'{from}' is not host:port (the backup port is usually 6362)"),
                });
            }
        }
        let bolt_uri = raw.bolt_uri.unwrap_or_else(|| "bolt://127.0.0.1:7687".into());
        let schemes = [
            "bolt://",
            "bolt+s://",
            "bolt+ssc://",
            "neo4j://",
            "neo4j+s://",
            "neo4j+ssc://",
        ];
        if !schemes.iter().any(|s| bolt_uri.starts_with(s)) {
            return Err(ConfigError::Invalid {
                key: "neo4j.bolt_uri",
                message: format!("'{bolt_uri}' must start with bolt://, bolt+s://, neo4j:// or neo4j+s://"),
            });
        }
        Ok(Self {
            admin: AdminSettings {
                binary: raw.admin_path.unwrap_or_else(|| PathBuf::from("neo4j-admin")),
                extra_args: raw.admin_extra_args,
                from: raw.backup_from,
                pagecache: raw.pagecache,
                temp_path: raw.temp_path,
                timeout: Duration::from_secs(raw.admin_timeout_secs.unwrap_or(6 * 3600).max(1)),
                env: raw.admin_env.into_iter().collect(),
                // Set to the staging directory once `[backup]` is read.
                run_dir: None,
                stop_grace: Duration::from_secs(super::in_range(
                    "neo4j.admin_stop_grace_secs",
                    raw.admin_stop_grace_secs,
                    10,
                    0..=3600,
                    "",
                )?),
            },
            bolt_uri,
            user: raw.user.unwrap_or_else(|| "neo4j".into()),
            password: raw.password.map(Password::new),
            password_file: raw.password_file,
            connect_timeout: Duration::from_secs(raw.connect_timeout_secs.unwrap_or(10).max(1)),
            query_timeout: Duration::from_secs(raw.query_timeout_secs.unwrap_or(60).max(1)),
            online_timeout: Duration::from_secs(raw.online_timeout_secs.unwrap_or(300).max(1)),
            backup_port: raw.backup_port.unwrap_or(6362),
            cluster_server: raw.cluster_server.filter(|s| !s.trim().is_empty()),
        })
    }

    /// Bolt settings with the password resolved (file first, then config/env).
    pub fn bolt(&self) -> Result<BoltSettings, ConfigError> {
        let password = match &self.password_file {
            Some(path) => Password::new(read_password_file(path)?),
            None => self.password.clone().ok_or(ConfigError::Missing {
                key: "neo4j.password",
                hint: "set [neo4j] password_file (a file readable only by graphvault's user) or the GRAPHVAULT_NEO4J_PASSWORD environment variable",
            })?,
        };
        Ok(BoltSettings {
            uri: self.bolt_uri.clone(),
            user: self.user.clone(),
            password,
            connect_timeout: self.connect_timeout,
            query_timeout: self.query_timeout,
        })
    }
}

fn read_password_file(path: &std::path::Path) -> Result<String, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        key: "neo4j.password_file",
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o004 != 0 {
        return Err(invalid(format!(
            "{} is readable by everyone: run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(invalid(format!("{} is empty", path.display())));
    }
    Ok(password)
}
