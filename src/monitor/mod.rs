//! Monitoring that cannot lie: pure judgements about backups already taken.
//!
//! - [`anomaly`]: is a new backup's size, compression ratio or duration far
//!   from its alias's recent history (median of the last N of its type)?
//! - [`stats`]: per-alias figures for `graphvault stats`.
//!
//! Nothing here does I/O: the ops that read manifests (`src/ops/backup_facts.rs`)
//! hand these functions plain numbers. Nothing here ever deletes or refuses
//! a backup: an anomaly is a warning, the backup may be legitimate.

pub mod anomaly;
pub mod stats;

pub use anomaly::{judge, judge_series, Anomaly, AnomalyKind, AnomalyPolicy, BackupSample, Judgement, SampleKind};
pub use stats::{alias_stats, AliasStats};
