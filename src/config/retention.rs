//! The `[retention]` section: the default policy, per-alias overrides in
//! `[retention.alias.<name>]`, and how prune treats orphans and storage
//! classes with a minimum billed duration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{in_range, ConfigError};
use crate::retention::RetentionPolicy;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    keep_last: Option<u32>,
    keep_daily: Option<u32>,
    keep_weekly: Option<u32>,
    keep_monthly: Option<u32>,
    keep_yearly: Option<u32>,
    keep_within_days: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    keep_last: Option<u32>,
    keep_daily: Option<u32>,
    keep_weekly: Option<u32>,
    keep_monthly: Option<u32>,
    keep_yearly: Option<u32>,
    keep_within_days: Option<u64>,
    orphan_grace_hours: Option<u64>,
    defer_min_storage: Option<bool>,
    object_lock_mode: Option<String>,
    noncurrent_versions: Option<String>,
    assume_versioning: Option<bool>,
    assume_object_lock: Option<bool>,
    #[serde(default)]
    alias: BTreeMap<String, RawPolicy>,
}

/// Keys of `[retention]` (for env and `--set`; per-alias tables are file-only).
pub(super) const KEYS: &[&str] = &[
    "keep_last",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
    "keep_within_days",
    "orphan_grace_hours",
    "defer_min_storage",
    "object_lock_mode",
    "noncurrent_versions",
    "assume_versioning",
    "assume_object_lock",
];

/// Validated retention settings.
#[derive(Clone, Debug)]
pub struct RetentionConfig {
    pub default: RetentionPolicy,
    /// Per-alias policies (unset keys fall back to the default's).
    pub per_alias: BTreeMap<String, RetentionPolicy>,
    /// Data without a manifest is removed once older than this.
    pub orphan_grace: Duration,
    /// Defer deleting objects younger than their storage class's minimum
    /// billed duration (deleting them earlier is billed anyway).
    pub defer_min_storage: bool,
    /// With object lock: the mode new backups are retained in until their
    /// tier's end (prune extends it on promotion). None: not set.
    pub object_lock_mode: Option<String>,
    /// On a versioned bucket: prune deletes every version itself (`delete`,
    /// the default) or leaves old versions to a noncurrent-version
    /// expiration rule (`lifecycle`, which `doctor` checks exists).
    pub versions_by_lifecycle: bool,
}

/// The bucket's versioning and object lock as the operator states them
/// (`[retention] assume_versioning`, `assume_object_lock`), used only where
/// the bucket will not say (no s3:GetBucketVersioning or
/// s3:GetBucketObjectLockConfiguration, a 501). `None`: unstated, and prune
/// then refuses to delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatedBucket {
    pub versioning: Option<bool>,
    pub object_lock: Option<bool>,
}

pub(super) fn stated_bucket(raw: &RawRetention) -> StatedBucket {
    StatedBucket {
        versioning: raw.assume_versioning,
        object_lock: raw.assume_object_lock,
    }
}

impl RetentionConfig {
    pub fn policy_for(&self, alias: &str) -> &RetentionPolicy {
        self.per_alias.get(alias).unwrap_or(&self.default)
    }
}

fn apply(base: &RetentionPolicy, raw: &RawPolicy) -> Result<RetentionPolicy, ConfigError> {
    let count = |key: &'static str, v: Option<u32>, d: u32| in_range(key, v, d, 0..=100_000, "");
    let p = RetentionPolicy {
        keep_last: count("retention.keep_last", raw.keep_last, base.keep_last)?,
        keep_daily: count("retention.keep_daily", raw.keep_daily, base.keep_daily)?,
        keep_weekly: count("retention.keep_weekly", raw.keep_weekly, base.keep_weekly)?,
        keep_monthly: count("retention.keep_monthly", raw.keep_monthly, base.keep_monthly)?,
        keep_yearly: count("retention.keep_yearly", raw.keep_yearly, base.keep_yearly)?,
        keep_within: match raw.keep_within_days {
            Some(d) => Some(Duration::from_secs(
                in_range("retention.keep_within_days", Some(d), 0, 0..=36_500, "")? * 86_400,
            )),
            None => base.keep_within,
        },
    };
    let keeps_something =
        p.keep_last + p.keep_daily + p.keep_weekly + p.keep_monthly + p.keep_yearly > 0 || p.keep_within.is_some();
    if !keeps_something {
        return Err(ConfigError::Invalid {
            key: "retention",
            message: "the policy keeps nothing but the newest backup of each alias; set at least one keep_* value"
                .into(),
        });
    }
    Ok(p)
}

pub(super) fn from_raw(raw: RawRetention) -> Result<RetentionConfig, ConfigError> {
    let top = RawPolicy {
        keep_last: raw.keep_last,
        keep_daily: raw.keep_daily,
        keep_weekly: raw.keep_weekly,
        keep_monthly: raw.keep_monthly,
        keep_yearly: raw.keep_yearly,
        keep_within_days: raw.keep_within_days,
    };
    let default = apply(&RetentionPolicy::default(), &top)?;
    let mut per_alias = BTreeMap::new();
    for (alias, p) in &raw.alias {
        per_alias.insert(alias.clone(), apply(&default, p)?);
    }
    Ok(RetentionConfig {
        default,
        per_alias,
        orphan_grace: Duration::from_secs(
            in_range(
                "retention.orphan_grace_hours",
                raw.orphan_grace_hours,
                24,
                1..=24 * 365,
                "",
            )? * 3600,
        ),
        defer_min_storage: raw.defer_min_storage.unwrap_or(true),
        versions_by_lifecycle: match raw.noncurrent_versions.as_deref() {
            None | Some("delete") => false,
            Some("lifecycle") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "retention.noncurrent_versions",
                    message: format!("'{other}' is not \"delete\" or \"lifecycle\""),
                })
            }
        },
        object_lock_mode: match raw.object_lock_mode.as_deref().map(str::to_ascii_uppercase) {
            None => None,
            Some(m) if m == "GOVERNANCE" || m == "COMPLIANCE" => Some(m),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "retention.object_lock_mode",
                    message: format!("'{other}' is not GOVERNANCE or COMPLIANCE"),
                })
            }
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn per_alias_policies_inherit_the_default_and_nothing_at_all_is_refused() {
        let text = "[storage]\nurl = \"s3://b-1\"\n[retention]\nkeep_daily = 14\n\
                    [retention.alias.customer1]\nkeep_monthly = 24\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let c = crate::config::load(Some((path.clone(), true)), Vec::new(), &[]).unwrap();
        assert_eq!(c.retention.default.keep_daily, 14);
        let p = c.retention.policy_for("customer1");
        assert_eq!((p.keep_daily, p.keep_monthly, p.keep_weekly), (14, 24, 4));
        assert_eq!(c.retention.policy_for("customer2").keep_monthly, 12);
        std::fs::write(&path, "[storage]\nurl = \"s3://b-1\"\n[retention]\nkeep_dayly = 3\n").unwrap();
        assert!(crate::config::load(Some((path.clone(), true)), Vec::new(), &[]).is_err());
        let none = "[storage]\nurl = \"s3://b-1\"\n[retention]\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n";
        std::fs::write(&path, none).unwrap();
        let e = crate::config::load(Some((path, true)), Vec::new(), &[]).unwrap_err();
        assert!(e.to_string().contains("keeps nothing"), "{e}");
    }

    #[test]
    fn bucket_settings_are_unstated_unless_the_file_env_or_set_states_them() {
        let load = |env: &[(&str, &str)], sets: &[&str]| {
            let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            crate::config::load(None, env, &sets).map(|c| (c.stated_bucket.versioning, c.stated_bucket.object_lock))
        };
        let url = "storage.url=s3://b-1";
        assert_eq!(load(&[], &[url]).unwrap(), (None, None));
        assert_eq!(
            load(&[], &[url, "retention.assume_versioning=true"]).unwrap(),
            (Some(true), None)
        );
        assert_eq!(
            load(&[("GRAPHVAULT_RETENTION_ASSUME_OBJECT_LOCK", "false")], &[url]).unwrap(),
            (None, Some(false))
        );
        let e = load(&[], &[url, "retention.assume_versioning=maybe"]).unwrap_err();
        assert!(e.to_string().contains("assume_versioning"), "{e}");
    }
}
