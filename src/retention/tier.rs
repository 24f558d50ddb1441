//! Retention tiers as object tags, and the S3 lifecycle configuration that
//! expires each tier server-side (`graphvault lifecycle suggest`), for
//! operators who want backup hosts to have no delete permission at all.
//!
//! Every object of a backup is tagged `graphvault-tier=<tier>`: `daily` when
//! written (or `pinned` for pinned and pre-deploy backups), then raised by
//! `prune` to the longest rule that keeps it (`weekly`, `monthly`,
//! `yearly`). The lifecycle rules expire each tier a little after the policy
//! stops keeping it. Trade-off: S3 does not know "the newest backup of an
//! alias", so if backups stop for longer than the daily tier lives, the last
//! daily backups expire too; `doctor` flags old backups long before that.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::RetentionPolicy;

pub const TIER_TAG: &str = "graphvault-tier";

/// The longest-lived reason a backup is kept for.
pub fn tier_of(reasons: &[String], pinned: bool) -> &'static str {
    let has = |p: &str| reasons.iter().any(|r| r.starts_with(p));
    if pinned {
        "pinned"
    } else if has("yearly") {
        "yearly"
    } else if has("monthly") {
        "monthly"
    } else if has("weekly") {
        "weekly"
    } else {
        "daily"
    }
}

/// The tier a `graphvault-tier` tag value names; `daily` (the shortest) for
/// no tag or an unknown value, so a needed raise is never skipped.
pub fn from_tag(value: Option<&str>) -> &'static str {
    match value {
        Some("pinned") => "pinned",
        Some("yearly") => "yearly",
        Some("monthly") => "monthly",
        Some("weekly") => "weekly",
        _ => "daily",
    }
}

/// Days after which each tier may expire (None: never).
pub fn tier_days(policy: &RetentionPolicy) -> Vec<(&'static str, u32)> {
    let within = policy.keep_within.map_or(0, |d| (d.as_secs() / 86_400) as u32);
    let daily = policy.keep_daily.max(policy.keep_last).max(within) + 2;
    let mut out = vec![("daily", daily)];
    if policy.keep_weekly > 0 {
        out.push(("weekly", 7 * policy.keep_weekly + 7));
    }
    if policy.keep_monthly > 0 {
        out.push(("monthly", 31 * policy.keep_monthly + 31));
    }
    if policy.keep_yearly > 0 {
        out.push(("yearly", 366 * policy.keep_yearly + 31));
    }
    out
}

/// How long object lock should hold a backup of `tier` taken at `time`:
/// until its tier expires (pinned: as long as the longest tier, counted from
/// `now`, and extended by every prune).
pub fn retain_until(
    policy: &RetentionPolicy,
    tier: &str,
    time: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    let days = tier_days(policy);
    let longest = days.iter().map(|(_, d)| *d).max().unwrap_or(1);
    match days.iter().find(|(t, _)| *t == tier) {
        Some((_, d)) => time + chrono::Duration::days(*d as i64),
        None => now + chrono::Duration::days(longest as i64),
    }
}

/// When a lifecycle rule would expire an object of `tier` written at
/// `time` (`None`: never).
pub fn expires(policy: &RetentionPolicy, tier: &str, time: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let days = tier_days(policy).into_iter().find(|(t, _)| *t == tier)?.1;
    Some(time + chrono::Duration::days(days as i64))
}

/// The tier a parent in a differential chain needs so that no lifecycle
/// rule expires it before a kept backup that builds on it: the first tier,
/// no shorter than its own, that lives at least as long as every one of
/// `children` (tier, time taken); `pinned` when no expiring tier does.
pub fn outliving(
    policy: &RetentionPolicy,
    own: &'static str,
    time: DateTime<Utc>,
    children: &[(&'static str, DateTime<Utc>)],
) -> &'static str {
    let own_end = expires(policy, own, time);
    let candidates = tier_days(policy).into_iter().map(|(t, _)| t).chain(["pinned"]);
    for t in candidates {
        let end = expires(policy, t, time);
        let lasts = |other: Option<DateTime<Utc>>| match (end, other) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(e), Some(o)) => e >= o,
        };
        if lasts(own_end) && children.iter().all(|(ct, ctime)| lasts(expires(policy, ct, *ctime))) {
            return t;
        }
    }
    "pinned"
}

/// An S3 `LifecycleConfiguration` (the JSON `aws s3api
/// put-bucket-lifecycle-configuration --lifecycle-configuration` takes).
pub fn suggest(policy: &RetentionPolicy, prefix: &str, versioned: bool) -> Value {
    let root = if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.trim_end_matches('/'))
    };
    let mut rules = Vec::new();
    for (tier, days) in tier_days(policy) {
        rules.push(json!({
            "ID": format!("graphvault-expire-{tier}"),
            "Status": "Enabled",
            "Filter": { "And": { "Prefix": root, "Tags": [ { "Key": TIER_TAG, "Value": tier } ] } },
            "Expiration": { "Days": days }
        }));
    }
    rules.push(json!({
        "ID": "graphvault-abort-incomplete-uploads",
        "Status": "Enabled",
        "Filter": { "Prefix": root },
        "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
    }));
    rules.push(json!({
        "ID": "graphvault-expire-old-lease-generations",
        "Status": "Enabled",
        "Filter": { "Prefix": format!("{root}locks/repository/") },
        "Expiration": { "Days": 30 }
    }));
    if versioned {
        rules.push(json!({
            "ID": "graphvault-expire-noncurrent-versions",
            "Status": "Enabled",
            "Filter": { "Prefix": root },
            "NoncurrentVersionExpiration": { "NoncurrentDays": 1 }
        }));
    }
    json!({ "Rules": rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_is_the_longest_reason() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(tier_of(&r(&["newest", "daily #1 (2026-11-24)"]), false), "daily");
        assert_eq!(tier_of(&r(&["daily #3 (x)", "weekly #1 (x)"]), false), "weekly");
        assert_eq!(
            tier_of(&r(&["monthly #2 (2026-10)", "weekly #4 (x)"]), false),
            "monthly"
        );
        assert_eq!(tier_of(&r(&["yearly #1 (2025)"]), false), "yearly");
        assert_eq!(tier_of(&r(&["daily #1 (x)"]), true), "pinned");
    }

    #[test]
    fn a_tag_names_its_tier_and_anything_else_reads_as_the_shortest() {
        for t in ["daily", "weekly", "monthly", "yearly", "pinned"] {
            assert_eq!(from_tag(Some(t)), t);
        }
        assert_eq!(from_tag(None), "daily");
        assert_eq!(from_tag(Some("forever")), "daily");
    }

    #[test]
    fn a_parent_gets_the_first_tier_that_outlives_every_kept_child() {
        let p = RetentionPolicy::default(); // daily 9, weekly 35, monthly 403 days
        let t = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
        let full = t("2026-11-01T02:00:00Z");
        // A daily child 3 days younger outlives a daily parent: weekly.
        assert_eq!(
            outliving(&p, "daily", full, &[("daily", t("2026-11-04T02:00:00Z"))]),
            "weekly"
        );
        // The same day: daily suffices.
        assert_eq!(outliving(&p, "daily", full, &[("daily", full)]), "daily");
        // Never lower than its own tier.
        assert_eq!(outliving(&p, "monthly", full, &[("daily", full)]), "monthly");
        // A monthly child a month younger needs more than monthly: pinned
        // (this policy has no yearly tier); a pinned child: pinned.
        assert_eq!(
            outliving(&p, "daily", full, &[("monthly", t("2026-12-01T02:00:00Z"))]),
            "pinned"
        );
        assert_eq!(outliving(&p, "daily", full, &[("pinned", full)]), "pinned");
        // Whatever the result, the parent expires no earlier than any child.
        for (ct, ctime) in [("daily", "2026-11-20T00:00:00Z"), ("weekly", "2026-11-02T00:00:00Z")] {
            let tier = outliving(&p, "daily", full, &[(ct, t(ctime))]);
            assert!(expires(&p, tier, full).is_none_or(|e| expires(&p, ct, t(ctime)).is_some_and(|c| e >= c)));
        }
    }

    #[test]
    fn the_suggestion_expires_each_tier_after_the_policy_and_never_pinned() {
        let v = suggest(&RetentionPolicy::default(), "neo4j/prod", true);
        let rules = v["Rules"].as_array().unwrap();
        let days = |tier: &str| {
            rules
                .iter()
                .find(|r| r["ID"] == format!("graphvault-expire-{tier}"))
                .map(|r| r["Expiration"]["Days"].as_u64().unwrap())
        };
        assert_eq!(days("daily"), Some(9));
        assert_eq!(days("weekly"), Some(35));
        assert_eq!(days("monthly"), Some(403));
        assert_eq!(days("yearly"), None);
        assert_eq!(days("pinned"), None);
        assert!(rules
            .iter()
            .any(|r| r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1));
        assert!(rules
            .iter()
            .any(|r| r["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1));
        assert_eq!(rules[0]["Filter"]["And"]["Prefix"], "neo4j/prod/");
    }
}
