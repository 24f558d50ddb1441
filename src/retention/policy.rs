//! The retention policy: how many backups each rule keeps.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// GFS counts plus `keep_last` and `keep_within` (restic semantics, see
/// docs/RETENTION.md). Backups labelled `pinned` or `pre-deploy` are kept
/// regardless of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// The N newest backups.
    pub keep_last: u32,
    /// The newest backup of each of the last N days that have backups.
    pub keep_daily: u32,
    /// The newest backup of each of the last N ISO weeks that have backups.
    pub keep_weekly: u32,
    /// The newest backup of each of the last N months that have backups.
    pub keep_monthly: u32,
    /// The newest backup of each of the last N years that have backups.
    pub keep_yearly: u32,
    /// Every backup strictly newer than the newest backup dated at or before
    /// now, minus this long.
    #[serde(with = "secs_opt", skip_serializing_if = "Option::is_none")]
    pub keep_within: Option<Duration>,
}

impl Default for RetentionPolicy {
    /// 7 daily, 4 weekly, 12 monthly: the operators' runbook.
    fn default() -> Self {
        Self {
            keep_last: 0,
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
            keep_yearly: 0,
            keep_within: None,
        }
    }
}

mod secs_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_u64(d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
