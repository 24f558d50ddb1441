//! A small record of each `verify` run in the bucket
//! (`reports/verify/<time>-<host>.json`: when, where, how deep, and which
//! backups passed), so `doctor` on any host can say when verify last passed.
//! Only ids and outcomes: never a key, a path or data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::ObjectStore;

use super::verify::BackupResult;
use super::OpsError;

/// Where verify records live.
pub const VERIFY_REPORTS: &str = "reports/verify/";
const FORMAT: &str = "graphvault-verify-run";

/// One backup's outcome in a record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifiedBackup {
    pub backup_id: String,
    pub alias: String,
    pub ok: bool,
}

/// One `verify` run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifyRun {
    pub format: String,
    pub version: u32,
    pub finished_at: DateTime<Utc>,
    pub host: String,
    /// `stored`, `plain` or `deep` (the deepest of the run).
    pub depth: String,
    pub backups: Vec<VerifiedBackup>,
}

impl VerifyRun {
    pub fn new(results: &[BackupResult], host: &str, finished_at: DateTime<Utc>) -> Self {
        let depth = ["deep", "plain", "stored"]
            .into_iter()
            .find(|d| results.iter().any(|r| r.depth == *d))
            .unwrap_or("stored");
        Self {
            format: FORMAT.into(),
            version: 1,
            finished_at,
            host: host.to_string(),
            depth: depth.into(),
            backups: results
                .iter()
                .map(|r| VerifiedBackup {
                    backup_id: r.backup_id.clone(),
                    alias: r.alias.clone(),
                    ok: r.ok(),
                })
                .collect(),
        }
    }

    pub fn failed(&self) -> usize {
        self.backups.iter().filter(|b| !b.ok).count()
    }
}

/// Stores the record (create-only); returns its key.
pub async fn store_verify_run(store: &dyn ObjectStore, run: &VerifyRun) -> Result<String, OpsError> {
    let key = format!(
        "{VERIFY_REPORTS}{}-{}-{:06x}.json",
        run.finished_at.format("%Y%m%dT%H%M%SZ"),
        run.host,
        rand::random::<u32>() & 0xFF_FFFF
    );
    super::record::put_new_json(store, &key, run).await?;
    Ok(key)
}
