//! Monitoring that cannot lie: pure judgements about backups already taken.
//!
//! - [`anomaly`]: is a new backup's size, compression ratio or duration far
//!   from its alias's recent history (median of the last N of its type)?
//! - [`stats`]: per-alias figures for `graphvault stats`.
//! - [`textfile`]: Prometheus textfile-collector files (the one module here
//!   that writes: a file replaced atomically), with values an alert needs
//!   carried over from the previous file.
//! - [`run_metrics`]: the gauges of verify, prune and drill runs.
//!
//! The judgements do no I/O: the ops that read manifests (`src/ops/backup_facts.rs`)
//! hand these functions plain numbers. Nothing here ever deletes or refuses
//! a backup: an anomaly is a warning, the backup may be legitimate.

pub mod anomaly;
pub mod html;
pub mod run_metrics;
pub mod stats;
pub mod textfile;

pub use anomaly::{judge, judge_series, Anomaly, AnomalyKind, AnomalyPolicy, BackupSample, Judgement, SampleKind};
pub use stats::{alias_stats, AliasStats};
