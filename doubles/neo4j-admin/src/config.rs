//! The double's knobs, read from `NEO4J_ADMIN_DOUBLE_*` environment variables.
//!
//! Nothing here is a real neo4j-admin setting; see docs/TESTING.md for the list.

use std::env;
use std::path::PathBuf;

use crate::fail::FailPlan;

pub const ENV_VERSION: &str = "NEO4J_ADMIN_DOUBLE_VERSION";
pub const ENV_SIZE: &str = "NEO4J_ADMIN_DOUBLE_SIZE";
pub const ENV_COMPRESSIBILITY: &str = "NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY";
pub const ENV_FAIL: &str = "NEO4J_ADMIN_DOUBLE_FAIL";
pub const ENV_LOG: &str = "NEO4J_ADMIN_DOUBLE_LOG";
pub const ENV_DATA: &str = "NEO4J_ADMIN_DOUBLE_DATA";
pub const ENV_DATABASES: &str = "NEO4J_ADMIN_DOUBLE_DATABASES";
/// Directory where the launcher and the worker write `<role>-<pid>` files.
pub const ENV_PID_DIR: &str = "NEO4J_ADMIN_DOUBLE_PID_DIR";

const DEFAULT_VERSION: &str = "5.26.0";
const DEFAULT_SIZE: u64 = 1024 * 1024;
const DEFAULT_COMPRESSIBILITY: f64 = 0.5;

/// The neo4j-admin version the double pretends to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub text: String,
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Self {
            text: text.trim().to_string(),
            major,
            minor,
        })
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// 5.x and calendar-versioned 2025.x+: the `neo4j-admin <category> <command>` syntax.
    pub fn is_modern(&self) -> bool {
        self.major >= 5
    }

    /// The `backup` category (`neo4j-admin backup inspect`) exists from 5.25.
    pub fn has_backup_category(&self) -> bool {
        self.at_least(5, 25)
    }

    /// `backup inspect` shows metadata without `--show-metadata` from 2025.07.
    pub fn inspect_metadata_by_default(&self) -> bool {
        self.at_least(2025, 7)
    }

    /// The RECOVERED column of `backup inspect` exists from 2025.06.
    pub fn has_recovered_field(&self) -> bool {
        self.at_least(2025, 6)
    }

    /// `--temp-path` of `database backup` exists from 5.24.
    pub fn has_backup_temp_path(&self) -> bool {
        self.at_least(5, 24)
    }

    /// `--source-database` of `database restore` exists from 2025.02.
    pub fn has_restore_source_database(&self) -> bool {
        self.at_least(2025, 2)
    }
}

/// Everything the environment configures.
#[derive(Clone, Debug)]
pub struct Config {
    pub version: Version,
    pub body_size: u64,
    pub compressibility: f64,
    pub fail: FailPlan,
    pub data_dir: PathBuf,
    /// Databases "on the server", for `*`/`?` patterns.
    pub server_databases: Vec<String>,
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the environment; an unusable value is the double's own misconfiguration.
    pub fn from_env() -> Result<Self, String> {
        let version_text = var(ENV_VERSION).unwrap_or_else(|| DEFAULT_VERSION.to_string());
        let version = Version::parse(&version_text)
            .ok_or_else(|| format!("{ENV_VERSION}={version_text:?} is not a version like 5.26.0 or 2025.10.1"))?;
        let body_size = match var(ENV_SIZE) {
            None => DEFAULT_SIZE,
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{ENV_SIZE}={s:?} is not a plain number of bytes"))?,
        };
        let compressibility = match var(ENV_COMPRESSIBILITY) {
            None => DEFAULT_COMPRESSIBILITY,
            Some(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|c| (0.0..=1.0).contains(c))
                .ok_or_else(|| format!("{ENV_COMPRESSIBILITY}={s:?} is not a number from 0.0 to 1.0"))?,
        };
        let fail = FailPlan::parse(&var(ENV_FAIL).unwrap_or_default()).map_err(|e| format!("{ENV_FAIL}: {e}"))?;
        let data_dir = var(ENV_DATA)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let server_databases = var(ENV_DATABASES)
            .unwrap_or_else(|| "neo4j,system".to_string())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Self {
            version,
            body_size,
            compressibility,
            fail,
            data_dir,
            server_databases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_gate_features() {
        let v = |s| Version::parse(s).unwrap();
        assert!(!v("4.4.30").is_modern());
        assert!(v("5.1.0").is_modern() && !v("5.1.0").has_backup_category());
        assert!(v("5.25.1").has_backup_category() && !v("5.26.0").inspect_metadata_by_default());
        assert!(v("2025.07.0").inspect_metadata_by_default() && v("2025.10.1").has_recovered_field());
        assert!(!v("2025.05.0").has_recovered_field());
        assert_eq!(Version::parse("five"), None);
    }
}
