//! The `[backup]` section: where neo4j-admin writes artifacts before they are
//! sealed and uploaded, how much room that needs, and what stays there.

use std::path::PathBuf;

use serde::Deserialize;

use super::{in_range, ConfigError};
use crate::neo4j::BackupType;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackup {
    staging_dir: Option<PathBuf>,
    free_space_factor: Option<f64>,
    min_free_mib: Option<u64>,
    keep_local: Option<u32>,
    #[serde(rename = "type")]
    backup_type: Option<String>,
    progress_interval_secs: Option<u64>,
    abandoned_upload_hours: Option<u64>,
    lease_ttl_secs: Option<u64>,
    lease_clock_skew_secs: Option<u64>,
    lease_max_ttl_secs: Option<u64>,
    max_chain_length: Option<u32>,
}

/// Keys of `[backup]` (for env and `--set` validation).
pub(super) const KEYS: &[&str] = &[
    "staging_dir",
    "free_space_factor",
    "min_free_mib",
    "keep_local",
    "type",
    "progress_interval_secs",
    "abandoned_upload_hours",
    "lease_ttl_secs",
    "lease_clock_skew_secs",
    "lease_max_ttl_secs",
    "max_chain_length",
];

/// Validated `[backup]` settings.
#[derive(Clone, Debug)]
pub struct BackupConfig {
    /// neo4j-admin writes into `<staging_dir>/<database>/`.
    pub staging_dir: PathBuf,
    /// Free space needed = estimated artifact size × this factor.
    pub free_space_factor: f64,
    /// Free space needed at least (also when no size is known yet), bytes.
    pub min_free: u64,
    /// Committed backups whose artifacts stay in staging, per database (the
    /// chain a differential backup needs counts with them).
    pub keep_local: u32,
    /// `--type` when the command line gives none.
    pub backup_type: BackupType,
    /// With `type = "auto"`: at most this many differential backups on top
    /// of a full one; the next is full (retention keeps whole chains).
    pub max_chain_length: u32,
    /// Without a terminal: one progress log line per artifact this often.
    pub progress_every: std::time::Duration,
    /// Unfinished multipart uploads under `data/` older than this are
    /// aborted at the start of a run (0: all of them; the run holds the
    /// store lease, so no other run is uploading).
    pub abandoned_upload_age: chrono::Duration,
    /// The store lease a run holds (renewed every third of the TTL).
    pub lease: crate::lease::LeaseSettings,
}

pub(super) fn from_raw(raw: RawBackup) -> Result<BackupConfig, ConfigError> {
    let factor = raw.free_space_factor.unwrap_or(1.5);
    if !(1.0..=100.0).contains(&factor) {
        return Err(ConfigError::Invalid {
            key: "backup.free_space_factor",
            message: format!("{factor} is outside 1.0..=100.0 (1.5 leaves room for growth since the last backup)"),
        });
    }
    let backup_type = match raw.backup_type.as_deref() {
        None => BackupType::Full,
        Some(t) => t.parse().map_err(|message| ConfigError::Invalid {
            key: "backup.type",
            message,
        })?,
    };
    Ok(BackupConfig {
        staging_dir: raw
            .staging_dir
            .unwrap_or_else(|| PathBuf::from("/var/lib/graphvault/staging")),
        free_space_factor: factor,
        min_free: in_range("backup.min_free_mib", raw.min_free_mib, 1024, 0..=u64::MAX >> 20, "")? << 20,
        keep_local: in_range("backup.keep_local", raw.keep_local, 0, 0..=1000, "")?,
        backup_type,
        max_chain_length: in_range("backup.max_chain_length", raw.max_chain_length, 6, 0..=1000, "")?,
        progress_every: std::time::Duration::from_secs(in_range(
            "backup.progress_interval_secs",
            raw.progress_interval_secs,
            30,
            1..=86400,
            "",
        )?),
        abandoned_upload_age: chrono::Duration::hours(in_range(
            "backup.abandoned_upload_hours",
            raw.abandoned_upload_hours,
            0,
            0..=24 * 365,
            "",
        )? as i64),
        lease: {
            let ttl = in_range("backup.lease_ttl_secs", raw.lease_ttl_secs, 600, 2..=86400, "")?;
            let max_ttl = in_range(
                "backup.lease_max_ttl_secs",
                raw.lease_max_ttl_secs,
                3600,
                2..=7 * 86400,
                "",
            )?;
            if max_ttl < ttl {
                return Err(ConfigError::Invalid {
                    key: "backup.lease_max_ttl_secs",
                    message: format!(
                        "{max_ttl} is less than backup.lease_ttl_secs ({ttl}): raise it to at least the lease TTL of every host using this store"
                    ),
                });
            }
            crate::lease::LeaseSettings {
                max_ttl: std::time::Duration::from_secs(max_ttl),
                ttl: std::time::Duration::from_secs(ttl),
                renew_every: std::time::Duration::from_secs(ttl) / 3,
                clock_skew: std::time::Duration::from_secs(in_range(
                    "backup.lease_clock_skew_secs",
                    raw.lease_clock_skew_secs,
                    60,
                    0..=3600,
                    "",
                )?),
            }
        },
    })
}
