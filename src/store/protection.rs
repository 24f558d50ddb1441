//! What protects objects from deletion, as S3 reports it: bucket versioning
//! and object lock, per-object retention and legal hold. Prune reads these
//! so it never attempts a delete S3 would refuse, and removes every version
//! it owns on a versioned bucket (a plain DELETE only adds a delete marker).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Bucket-level settings that change how deletion works.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BucketFeatures {
    /// Versioning is enabled (or suspended with versions kept).
    pub versioning: bool,
    pub object_lock: bool,
}

/// Why an object cannot be deleted yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Protection {
    /// GOVERNANCE or COMPLIANCE.
    pub mode: Option<String>,
    pub retain_until: Option<DateTime<Utc>>,
    pub legal_hold: bool,
}

impl Protection {
    /// Whether a delete at `now` would be refused.
    pub fn blocks(&self, now: DateTime<Utc>) -> bool {
        self.legal_hold || self.retain_until.is_some_and(|t| t > now)
    }

    /// For reports: what holds it and until when.
    pub fn describe(&self) -> String {
        match (self.legal_hold, &self.mode, self.retain_until) {
            (true, _, _) => "under legal hold (deletable once the hold is removed)".into(),
            (false, Some(m), Some(t)) => format!("under {m} retention until {}", t.format("%Y-%m-%d %H:%M UTC")),
            _ => "not protected".into(),
        }
    }
}

/// One bucket lifecycle rule, reduced to what graphvault judges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LifecycleRule {
    pub id: String,
    pub enabled: bool,
    /// The key prefix the rule applies to ("" = the whole bucket).
    pub prefix: String,
    pub expiration_days: Option<i32>,
    /// Tags the rule's filter requires (key, value).
    pub tags: Vec<(String, String)>,
    /// (days, storage class) transitions.
    pub transitions: Vec<(i32, String)>,
    pub abort_incomplete_multipart_days: Option<i32>,
    pub noncurrent_expiration_days: Option<i32>,
}
