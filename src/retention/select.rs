//! Retention selection: a pure function from (backups, policy, now) to a plan
//! in which every backup is kept or deleted, with the reasons.
//!
//! Semantics follow restic's `forget`: backups are grouped by alias and walked
//! newest first; a rule with count N keeps the newest backup of each of the
//! first N distinct periods (day, ISO week, month, year) that *have* backups,
//! so a stretch of failed nights never ages out the last good backups. All
//! periods are in UTC. A backup kept by several rules lists every reason.
//!
//! Time, per alias:
//! - A backup dated after `now` (clock skew) is kept ("dated in the future")
//!   and takes no part in the rules: it is not the newest, consumes no count
//!   or period, and does not move the `keep_within` window. Otherwise one
//!   skewed backup could push real ones out (with `keep_last = 1` it would
//!   take the only slot).
//! - "newest" is the newest backup dated at or before `now`; it is always kept.
//! - `keep_within = W` keeps every backup dated at or before `now` and
//!   strictly after `newest - W` (restic: strictly newer than the cut-off).
//!   A backup exactly at the cut-off is not kept by it; with no backup at or
//!   before `now` it keeps nothing.
//!
//! On top of restic: the newest backup, pinned labels (kept forever) and
//! future-dated backups are kept whatever the policy. This module never does
//! I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};

use super::RetentionPolicy;
use crate::model::{DbName, ManifestKey};

/// What happens to one backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub backup: ManifestKey,
    /// Why it is kept; empty means it is deleted.
    pub reasons: Vec<String>,
}

impl Decision {
    pub fn keep(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// The plan for a set of backups, newest first within each alias.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionPlan {
    pub decisions: Vec<Decision>,
}

impl RetentionPlan {
    pub fn kept(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.keep())
    }

    pub fn deleted(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| !d.keep())
    }
}

type PeriodFn = fn(DateTime<Utc>) -> String;

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn iso_week(t: DateTime<Utc>) -> String {
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

fn month(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

fn year(t: DateTime<Utc>) -> String {
    t.format("%Y").to_string()
}

/// Plans retention for `backups` (any order, any aliases).
pub fn select(backups: &[ManifestKey], policy: &RetentionPolicy, now: DateTime<Utc>) -> RetentionPlan {
    let mut groups: BTreeMap<&DbName, Vec<&ManifestKey>> = BTreeMap::new();
    for b in backups {
        groups.entry(&b.alias).or_default().push(b);
    }
    let mut decisions = Vec::with_capacity(backups.len());
    for (_, mut group) in groups {
        group.sort_by(|a, b| b.backup_id.cmp(&a.backup_id));
        decisions.extend(select_group(&group, policy, now));
    }
    RetentionPlan { decisions }
}

/// `keep_within`'s window, anchored on the newest backup at or before now.
struct Window {
    /// Backups strictly after this are kept; `None` when the window reaches
    /// back past the earliest time chrono can represent, so it keeps all.
    cut_off: Option<DateTime<Utc>>,
    reason: String,
}

impl Window {
    fn new(within: std::time::Duration, newest: DateTime<Utc>) -> Self {
        let cut_off = chrono::Duration::from_std(within)
            .ok()
            .and_then(|w| newest.checked_sub_signed(w));
        Self {
            cut_off,
            reason: format!(
                "within {} of the newest ({})",
                span(within),
                newest.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }

    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.cut_off.is_none_or(|c| t > c)
    }
}

/// A duration in its largest whole unit, for reasons people read ("7d", "4h").
fn span(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => "0s".to_string(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// One alias's backups, newest first.
fn select_group(group: &[&ManifestKey], policy: &RetentionPolicy, now: DateTime<Utc>) -> Vec<Decision> {
    let rules: [(&str, u32, Option<PeriodFn>); 5] = [
        ("last", policy.keep_last, None),
        ("daily", policy.keep_daily, Some(day)),
        ("weekly", policy.keep_weekly, Some(iso_week)),
        ("monthly", policy.keep_monthly, Some(month)),
        ("yearly", policy.keep_yearly, Some(year)),
    ];
    let mut used = [0u32; 5];
    let mut last_period: [Option<String>; 5] = Default::default();
    // Sorted newest first, so the first at or before now is the newest that counts.
    let newest = group.iter().position(|b| b.backup_id.time() <= now);
    let window = policy
        .keep_within
        .zip(newest.map(|i| group[i].backup_id.time()))
        .map(|(within, newest_time)| Window::new(within, newest_time));

    group
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let t = b.backup_id.time();
            let mut reasons = Vec::new();
            if Some(i) == newest {
                reasons.push("newest".to_string());
            }
            for label in b.labels.iter().filter(|l| l.is_pinning()) {
                reasons.push(label.to_string());
            }
            if t > now {
                reasons.push("dated in the future".to_string());
                return Decision {
                    backup: (*b).clone(),
                    reasons,
                };
            }
            if let Some(w) = window.as_ref().filter(|w| w.contains(t)) {
                reasons.push(w.reason.clone());
            }
            for (r, (name, count, period)) in rules.iter().enumerate() {
                if used[r] >= *count {
                    continue;
                }
                let p = period.map(|f| f(t));
                let new_period = match (&p, &last_period[r]) {
                    (None, _) => true,
                    (Some(p), Some(last)) => p != last,
                    (Some(_), None) => true,
                };
                if new_period {
                    used[r] += 1;
                    reasons.push(match &p {
                        Some(p) => format!("{name} #{} ({p})", used[r]),
                        None => format!("{name} #{}", used[r]),
                    });
                    last_period[r] = p;
                }
            }
            Decision {
                backup: (*b).clone(),
                reasons,
            }
        })
        .collect()
}
