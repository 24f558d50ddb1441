//! The pure half of `doctor`: judging the bucket's lifecycle rules against
//! the retention policy, and the age of the newest backups.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::RetentionConfig;
use crate::model::ManifestKey;
use crate::retention::RetentionPolicy;
use crate::store::LifecycleRule;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Warning,
    Error,
}

/// One finding: what was checked, how it looks, and what to do.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub check: String,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

pub fn finding(check: &str, severity: Severity, message: impl Into<String>, fix: Option<&str>) -> Finding {
    Finding {
        check: check.to_string(),
        severity,
        message: message.into(),
        fix: fix.map(String::from),
    }
}

/// Days a policy may keep a backup (pinned ones: forever).
fn horizon_days(p: &RetentionPolicy) -> i64 {
    let within = p.keep_within.map_or(0, |d| d.as_secs() as i64 / 86_400);
    [
        p.keep_daily as i64,
        7 * p.keep_weekly as i64,
        31 * p.keep_monthly as i64,
        366 * p.keep_yearly as i64,
        within,
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// Whether a rule for `rule_prefix` touches backups (manifests or data)
/// under `store_prefix`; a rule for `locks/` alone does not.
fn applies(rule_prefix: &str, store_prefix: &str) -> bool {
    let root = if store_prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", store_prefix.trim_end_matches('/'))
    };
    [crate::model::MANIFESTS, crate::model::DATA].iter().any(|sub| {
        let ours = format!("{root}{sub}");
        ours.starts_with(rule_prefix) || rule_prefix.starts_with(&ours)
    })
}

/// Lifecycle rules against the policy.
pub fn judge_lifecycle(rules: &[LifecycleRule], store_prefix: &str, cfg: &RetentionConfig) -> Vec<Finding> {
    let horizon = std::iter::once(&cfg.default)
        .chain(cfg.per_alias.values())
        .map(horizon_days)
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let ours: Vec<&LifecycleRule> = rules
        .iter()
        .filter(|r| r.enabled && applies(&r.prefix, store_prefix))
        .collect();
    let tier_days = crate::retention::tier::tier_days(&cfg.default);
    for r in &ours {
        let tier = r
            .tags
            .iter()
            .find(|(k, _)| k == crate::retention::tier::TIER_TAG)
            .map(|(_, v)| v.as_str());
        if let (Some(tier), Some(days)) = (tier, r.expiration_days) {
            // One of graphvault's own tier rules (`lifecycle suggest`).
            let wanted = tier_days.iter().find(|(t, _)| *t == tier).map(|(_, d)| *d as i32);
            match wanted {
                Some(w) if days >= w => {}
                _ => out.push(finding(
                    "lifecycle",
                    Severity::Error,
                    format!(
                        "rule '{}' expires {tier}-tier backups after {days} days; the policy needs {}",
                        r.id,
                        wanted.map_or("them kept forever".to_string(), |w| format!("at least {w} days"))
                    ),
                    Some("replace the rules with the output of `graphvault lifecycle suggest`"),
                )),
            }
        } else if let Some(days) = r.expiration_days {
            let (severity, why) = if (days as i64) < horizon {
                (
                    Severity::Error,
                    format!("before the retention policy would (it keeps backups up to about {horizon} days)"),
                )
            } else {
                (
                    Severity::Warning,
                    "including pinned and pre-deploy backups, which graphvault keeps forever".to_string(),
                )
            };
            out.push(finding(
                "lifecycle",
                severity,
                format!(
                    "rule '{}' expires objects under '{}' after {days} days, {why}",
                    r.id, r.prefix
                ),
                Some("limit the rule to what graphvault prunes itself (or remove it); `prune` applies the policy"),
            ));
        }
        for (days, class) in &r.transitions {
            if matches!(class.as_str(), "GLACIER" | "DEEP_ARCHIVE") {
                out.push(finding(
                    "lifecycle",
                    Severity::Warning,
                    format!("rule '{}' moves objects to {class} after {days} days: restoring them takes hours first", r.id),
                    Some("keep recent backups in an instant class (STANDARD, STANDARD_IA, GLACIER_IR); `restore --wait-for-archive` handles archived ones"),
                ));
            }
        }
    }
    if !ours.iter().any(|r| r.abort_incomplete_multipart_days.is_some()) {
        out.push(finding(
            "lifecycle",
            Severity::Warning,
            "no rule aborts incomplete multipart uploads under this prefix",
            Some("add AbortIncompleteMultipartUpload after 1-7 days (graphvault also aborts its own at the next run)"),
        ));
    }
    if out.is_empty() {
        out.push(finding(
            "lifecycle",
            Severity::Ok,
            "lifecycle rules agree with the retention policy",
            None,
        ));
    }
    out
}

/// The newest backup of each alias against `max_age`; `expected` aliases
/// (from Neo4j) without any backup are errors too.
pub fn judge_backup_age(
    keys: &[ManifestKey],
    expected: &[String],
    now: DateTime<Utc>,
    max_age: Duration,
) -> Vec<Finding> {
    let mut newest: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for k in keys {
        let t = k.backup_id.time();
        let e = newest.entry(k.alias.to_string()).or_insert(t);
        if t > *e {
            *e = t;
        }
    }
    let mut out = Vec::new();
    for alias in expected {
        if !newest.contains_key(alias) {
            out.push(finding(
                "backup age",
                Severity::Error,
                format!("alias '{alias}' has no backup at all"),
                Some("run `graphvault backup` and check its timer or cron"),
            ));
        }
    }
    for (alias, t) in newest {
        let age = now - t;
        let hours = age.num_minutes() as f64 / 60.0;
        if age > max_age {
            out.push(finding(
                "backup age",
                Severity::Error,
                format!("newest backup of '{alias}' is {hours:.1} h old ({t})"),
                Some("check the backup timer or cron and the last run's log"),
            ));
        } else {
            out.push(finding(
                "backup age",
                Severity::Ok,
                format!("newest backup of '{alias}' is {hours:.1} h old"),
                None,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, exp: Option<i32>, transition: Option<(i32, &str)>, abort: Option<i32>) -> LifecycleRule {
        LifecycleRule {
            id: format!("r-{prefix}"),
            enabled: true,
            prefix: prefix.into(),
            expiration_days: exp,
            tags: vec![],
            transitions: transition.map(|(d, c)| vec![(d, c.to_string())]).unwrap_or_default(),
            abort_incomplete_multipart_days: abort,
            noncurrent_expiration_days: None,
        }
    }

    fn cfg() -> RetentionConfig {
        RetentionConfig {
            default: RetentionPolicy::default(),
            per_alias: Default::default(),
            orphan_grace: std::time::Duration::from_secs(3600),
            defer_min_storage: true,
            object_lock_mode: None,
            versions_by_lifecycle: false,
        }
    }

    #[test]
    fn lifecycle_rules_are_judged_against_the_policy() {
        let worst = |rules: &[LifecycleRule]| {
            judge_lifecycle(rules, "neo4j/prod", &cfg())
                .into_iter()
                .map(|f| f.severity)
                .max()
                .unwrap()
        };
        // 12 monthly ≈ 372 days: expiring after 90 is an error.
        assert_eq!(worst(&[rule("", Some(90), None, Some(1))]), Severity::Error);
        assert_eq!(worst(&[rule("neo4j/", Some(90), None, Some(1))]), Severity::Error);
        assert_eq!(
            worst(&[rule("other/", Some(90), None, Some(1))]),
            Severity::Warning,
            "not ours; no abort rule"
        );
        assert_eq!(
            worst(&[rule("neo4j/prod/", Some(400), None, Some(1))]),
            Severity::Warning,
            "pinned expire"
        );
        assert_eq!(
            worst(&[rule("", None, Some((30, "DEEP_ARCHIVE")), Some(1))]),
            Severity::Warning
        );
        assert_eq!(
            worst(&[rule("", None, Some((30, "STANDARD_IA")), Some(1))]),
            Severity::Ok
        );
        assert_eq!(worst(&[]), Severity::Warning, "no abort-incomplete-multipart rule");
        let tiered = |tier: &str, days| LifecycleRule {
            tags: vec![(crate::retention::tier::TIER_TAG.to_string(), tier.to_string())],
            ..rule("neo4j/prod/", Some(days), None, Some(1))
        };
        assert_eq!(worst(&[tiered("daily", 9), tiered("monthly", 403)]), Severity::Ok);
        assert_eq!(worst(&[tiered("monthly", 90)]), Severity::Error);
        assert_eq!(worst(&[tiered("pinned", 900)]), Severity::Error);
        let locks = rule("neo4j/prod/locks/repository/", Some(30), None, None);
        assert_eq!(
            worst(&[locks, rule("", None, None, Some(1))]),
            Severity::Ok,
            "lease generations may expire"
        );
    }

    #[test]
    fn stale_and_missing_backups_are_errors() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let keys = [
            ManifestKey::parse("manifests/c1/20261124T020000Z-aaaaaa~c1-1.json").unwrap(),
            ManifestKey::parse("manifests/c2/20261122T020000Z-bbbbbb~c2-1.json").unwrap(),
        ];
        let f = judge_backup_age(&keys, &["c1".into(), "c3".into()], now, Duration::hours(26));
        let errors: Vec<&str> = f
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|m| m.contains("'c3' has no backup")));
        assert!(errors.iter().any(|m| m.contains("'c2'") && m.contains("58.0 h")));
    }
}
