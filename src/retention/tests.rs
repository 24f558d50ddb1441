//! Table tests for the edge cases and property tests for the invariants.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::{select, RetentionPolicy};
use crate::model::{BackupId, ManifestKey};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn backup(alias: &str, time: DateTime<Utc>, labels: &[&str], n: u32) -> ManifestKey {
    let id = format!("{}-{n:06x}", time.format("%Y%m%dT%H%M%SZ"));
    ManifestKey {
        alias: alias.parse().unwrap(),
        backup_id: id.parse::<BackupId>().unwrap(),
        database: format!("{alias}-1767741527").parse().unwrap(),
        labels: labels.iter().map(|l| l.parse().unwrap()).collect(),
        chain: crate::model::Chain::Full,
    }
}

fn policy(daily: u32, weekly: u32, monthly: u32) -> RetentionPolicy {
    RetentionPolicy {
        keep_daily: daily,
        keep_weekly: weekly,
        keep_monthly: monthly,
        ..RetentionPolicy::default()
    }
}

fn none() -> RetentionPolicy {
    policy(0, 0, 0)
}

/// Times of the kept backups, and their reasons, newest first.
fn kept(backups: &[ManifestKey], p: &RetentionPolicy, now: &str) -> Vec<(String, Vec<String>)> {
    select(backups, p, at(now))
        .kept()
        .map(|d| (d.backup.backup_id.time().to_rfc3339(), d.reasons.clone()))
        .collect()
}

fn times(list: &[(String, Vec<String>)]) -> Vec<&str> {
    list.iter().map(|(t, _)| &t[..10]).collect()
}

#[test]
fn a_gap_of_failed_nights_does_not_age_out_the_last_good_backups() {
    let b: Vec<_> = ["2026-11-01", "2026-11-02", "2026-11-03"]
        .iter()
        .enumerate()
        .map(|(i, d)| backup("c1", at(&format!("{d}T02:00:00Z")), &[], i as u32))
        .collect();
    let k = kept(&b, &policy(3, 0, 0), "2026-11-20T00:00:00Z");
    assert_eq!(times(&k), ["2026-11-03", "2026-11-02", "2026-11-01"]);
    assert_eq!(k[2].1, ["daily #3 (2026-11-01)"]);
}

#[test]
fn several_backups_a_day_keep_only_the_newest_of_that_day() {
    let b = vec![
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-24T14:00:00Z"), &[], 2),
        backup("c1", at("2026-11-24T20:00:00Z"), &[], 3),
        backup("c1", at("2026-11-23T02:00:00Z"), &[], 4),
    ];
    let plan = select(&b, &policy(2, 0, 0), at("2026-11-25T00:00:00Z"));
    let kept: Vec<String> = plan.kept().map(|d| d.backup.backup_id.to_string()).collect();
    assert_eq!(kept, ["20261124T200000Z-000003", "20261123T020000Z-000004"]);
    assert_eq!(plan.deleted().count(), 2);
}

#[test]
fn month_and_iso_week_boundaries_are_utc_calendar_boundaries() {
    let b = vec![
        backup("c1", at("2026-01-31T23:59:59Z"), &[], 1),
        backup("c1", at("2026-02-01T00:00:00Z"), &[], 2),
    ];
    let k = kept(&b, &policy(0, 0, 2), "2026-03-01T00:00:00Z");
    assert_eq!(k[0].1, ["newest", "monthly #1 (2026-02)"]);
    assert_eq!(k[1].1, ["monthly #2 (2026-01)"]);

    // 2026-12-31 (Thursday) and 2027-01-01 (Friday) are both in ISO week 2026-W53.
    let b = vec![
        backup("c1", at("2026-12-31T02:00:00Z"), &[], 1),
        backup("c1", at("2027-01-01T02:00:00Z"), &[], 2),
    ];
    let plan = select(&b, &policy(0, 1, 0), at("2027-01-02T00:00:00Z"));
    let k: Vec<_> = plan.kept().collect();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].reasons, ["newest", "weekly #1 (2026-W53)"]);
}

#[test]
fn a_leap_day_is_a_day_of_its_own() {
    let b = vec![
        backup("c1", at("2028-02-28T02:00:00Z"), &[], 1),
        backup("c1", at("2028-02-29T02:00:00Z"), &[], 2),
        backup("c1", at("2028-03-01T02:00:00Z"), &[], 3),
    ];
    let k = kept(&b, &policy(3, 0, 0), "2028-03-02T00:00:00Z");
    assert_eq!(times(&k), ["2028-03-01", "2028-02-29", "2028-02-28"]);
}

#[test]
fn pinned_and_pre_deploy_backups_are_kept_forever() {
    let b = vec![
        backup("c1", at("2020-05-05T10:00:00Z"), &["pre-deploy"], 1),
        backup("c1", at("2021-05-05T10:00:00Z"), &["pinned"], 2),
        backup("c1", at("2022-05-05T10:00:00Z"), &["nightly"], 3),
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 4),
    ];
    let k = kept(&b, &none(), "2026-11-25T00:00:00Z");
    assert_eq!(times(&k), ["2026-11-24", "2021-05-05", "2020-05-05"]);
    assert_eq!(k[1].1, ["pinned"]);
    assert_eq!(k[2].1, ["pre-deploy"]);
}

#[test]
fn the_newest_backup_of_every_alias_is_kept_even_by_an_empty_policy() {
    let b = vec![
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-23T02:00:00Z"), &[], 2),
        backup("c2", at("2025-01-01T02:00:00Z"), &[], 3),
    ];
    let plan = select(&b, &none(), at("2026-11-25T00:00:00Z"));
    let kept: Vec<&str> = plan.kept().map(|d| d.backup.alias.as_str()).collect();
    assert_eq!(kept, ["c1", "c2"]);
}

#[test]
fn keep_last_and_keep_within_count_from_the_newest_backup() {
    let b: Vec<_> = (0..10)
        .map(|i| backup("c1", at("2026-11-24T02:00:00Z") - Duration::hours(i), &[], i as u32))
        .collect();
    let p = RetentionPolicy {
        keep_last: 2,
        keep_within: Some(std::time::Duration::from_secs(4 * 3600)),
        ..none()
    };
    // "within" is measured from the newest backup, not from now (restic), and
    // keeps only what is strictly newer than the cut-off: 0-3 h, not 4 h.
    let plan = select(&b, &p, at("2027-01-01T00:00:00Z"));
    assert_eq!(plan.kept().count(), 4);
    assert_eq!(
        plan.decisions[1].reasons,
        ["within 4h of the newest (2026-11-24T02:00:00Z)", "last #2"]
    );
}

#[test]
fn a_backup_dated_after_now_is_kept() {
    let b = vec![
        backup("c1", at("2026-11-30T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-29T02:00:00Z"), &[], 2),
    ];
    let k = kept(&b, &none(), "2026-11-24T00:00:00Z");
    assert_eq!(k.len(), 2);
    assert_eq!(k[1].1, ["dated in the future"]);
}

fn within(secs: u64) -> RetentionPolicy {
    RetentionPolicy {
        keep_within: Some(std::time::Duration::from_secs(secs)),
        ..none()
    }
}

const DAY: u64 = 86_400;

#[test]
fn keep_within_does_not_keep_a_backup_exactly_at_the_cut_off() {
    let b = vec![
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-17T02:00:00Z"), &[], 2),
    ];
    let plan = select(&b, &within(7 * DAY), at("2026-11-25T00:00:00Z"));
    let deleted: Vec<String> = plan.deleted().map(|d| d.backup.backup_id.to_string()).collect();
    assert_eq!(deleted, ["20261117T020000Z-000002"]);
}

#[test]
fn keep_within_keeps_a_backup_one_second_newer_than_the_cut_off() {
    let b = vec![
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-17T02:00:01Z"), &[], 2),
    ];
    let k = kept(&b, &within(7 * DAY), "2026-11-25T00:00:00Z");
    assert_eq!(k.len(), 2);
    assert_eq!(k[1].1, ["within 7d of the newest (2026-11-24T02:00:00Z)"]);
}

#[test]
fn a_future_dated_backup_does_not_push_the_real_newest_out_of_keep_last() {
    let b = vec![
        backup("c1", at("2026-11-30T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 2),
        backup("c1", at("2026-11-23T02:00:00Z"), &[], 3),
    ];
    let p = RetentionPolicy { keep_last: 1, ..none() };
    let k = kept(&b, &p, "2026-11-25T00:00:00Z");
    assert_eq!(times(&k), ["2026-11-30", "2026-11-24"]);
    assert_eq!(k[0].1, ["dated in the future"]);
    assert_eq!(k[1].1, ["newest", "last #1"]);
}

#[test]
fn keep_within_is_measured_from_the_newest_backup_at_or_before_now_not_from_a_future_one() {
    let b = vec![
        backup("c1", at("2026-12-10T02:00:00Z"), &[], 1),
        backup("c1", at("2026-11-24T02:00:00Z"), &[], 2),
        backup("c1", at("2026-11-20T02:00:00Z"), &[], 3),
        backup("c1", at("2026-11-17T02:00:00Z"), &[], 4),
        backup("c1", at("2026-11-10T02:00:00Z"), &[], 5),
    ];
    let k = kept(&b, &within(7 * DAY), "2026-11-25T00:00:00Z");
    assert_eq!(times(&k), ["2026-12-10", "2026-11-24", "2026-11-20"]);
    assert_eq!(k[0].1, ["dated in the future"]);
    assert_eq!(k[1].1, ["newest", "within 7d of the newest (2026-11-24T02:00:00Z)"]);
    assert_eq!(k[2].1, ["within 7d of the newest (2026-11-24T02:00:00Z)"]);
}

#[test]
fn when_every_backup_is_dated_in_the_future_all_are_kept_and_no_rule_applies() {
    let b = vec![
        backup("c1", at("2026-12-02T02:00:00Z"), &[], 1),
        backup("c1", at("2026-12-01T02:00:00Z"), &["pinned"], 2),
        backup("c1", at("2026-11-30T02:00:00Z"), &[], 3),
    ];
    let p = RetentionPolicy {
        keep_last: 1,
        keep_within: Some(std::time::Duration::from_secs(DAY)),
        ..policy(7, 4, 12)
    };
    let k = kept(&b, &p, "2026-11-25T00:00:00Z");
    let reasons: Vec<Vec<String>> = k.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        reasons,
        [
            vec!["dated in the future"],
            vec!["pinned", "dated in the future"],
            vec!["dated in the future"]
        ]
    );
}

#[test]
fn the_default_policy_over_two_years_of_nightly_backups_keeps_a_gfs_ladder() {
    let end = at("2026-11-24T02:00:00Z");
    let b: Vec<_> = (0..730)
        .map(|d| backup("c1", end - Duration::days(d), &[], d as u32))
        .collect();
    let plan = select(&b, &RetentionPolicy::default(), end);
    let k: Vec<_> = plan.kept().collect();
    // 7 daily (Nov 18-24); weekly #1 and #2 fall on days kept as daily, #3 and #4 are
    // Sundays Nov 15 and Nov 8; monthly #1 is today, #2-#12 the last days of the 11
    // months before.
    let days: BTreeSet<String> = k
        .iter()
        .map(|d| d.backup.backup_id.time().format("%Y-%m-%d").to_string())
        .collect();
    for expected in [
        "2026-11-24",
        "2026-11-18",
        "2026-11-15",
        "2026-11-08",
        "2026-10-31",
        "2025-12-31",
    ] {
        assert!(days.contains(expected), "{expected} missing from {days:?}");
    }
    assert!(!days.contains("2025-11-30"), "13th month is not kept");
    assert_eq!(k.len(), 7 + 2 + 11, "{days:?}");
}

/// Backups of up to three aliases over about two years, some dated after
/// [`now()`]. Times are drawn from a nightly grid, an hourly grid or any
/// second, so whole-day and whole-hour `keep_within` windows often land
/// exactly on a backup.
fn arb_backups() -> impl Strategy<Value = Vec<ManifestKey>> {
    let nightly = (0i64..740).prop_map(|d| d * DAY as i64 + 2 * 3600);
    let hourly = (0i64..740 * 24).prop_map(|h| h * 3600);
    let any_second = 0i64..740 * DAY as i64;
    let secs = prop_oneof![nightly, hourly, any_second];
    let labels = prop::sample::subsequence(vec!["pinned", "pre-deploy", "nightly"], 0..=2);
    let labelled = prop::bool::weighted(0.15);
    let one = (0u8..3, secs, labels, labelled);
    prop::collection::vec(one, 0..60).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (alias, secs, labels, labelled))| {
                let labels: &[&str] = if labelled { &labels } else { &[] };
                backup(&format!("c{alias}"), base() + Duration::seconds(secs), labels, i as u32)
            })
            .collect()
    })
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

/// Mostly near the end of the history (a few backups in the future), now and
/// then anywhere in it (many in the future, sometimes all of an alias).
fn arb_now() -> impl Strategy<Value = DateTime<Utc>> {
    let days = prop_oneof![4 => 715i64..735, 1 => 0i64..740];
    (days, 0i64..DAY as i64).prop_map(|(d, s)| base() + Duration::days(d) + Duration::seconds(s))
}

fn arb_within() -> impl Strategy<Value = Option<std::time::Duration>> {
    let days = (0u64..60).prop_map(|d| std::time::Duration::from_secs(d * DAY));
    let secs = (0u64..60 * DAY).prop_map(std::time::Duration::from_secs);
    prop_oneof![2 => Just(None), 2 => days.prop_map(Some), 1 => secs.prop_map(Some)]
}

fn arb_policy() -> impl Strategy<Value = RetentionPolicy> {
    (0u32..5, 0u32..8, 0u32..5, 0u32..13, 0u32..3, arb_within()).prop_map(|(last, d, w, m, y, within)| {
        RetentionPolicy {
            keep_last: last,
            keep_daily: d,
            keep_weekly: w,
            keep_monthly: m,
            keep_yearly: y,
            keep_within: within,
        }
    })
}

fn kept_ids(b: &[ManifestKey], p: &RetentionPolicy, now: DateTime<Utc>) -> BTreeSet<String> {
    select(b, p, now).kept().map(|d| d.backup.to_string()).collect()
}

/// The semantics of docs/RETENTION.md written as directly as possible, one
/// set per rule, to check `select` (which walks the history once) against.
fn reference_kept(b: &[ManifestKey], p: &RetentionPolicy, now: DateTime<Utc>) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    let aliases: BTreeSet<_> = b.iter().map(|k| &k.alias).collect();
    for alias in aliases {
        let mine: Vec<&ManifestKey> = b.iter().filter(|k| &k.alias == alias).collect();
        for k in &mine {
            if k.backup_id.time() > now || k.labels.iter().any(|l| l.is_pinning()) {
                kept.insert(k.to_string());
            }
        }
        let mut past: Vec<&ManifestKey> = mine.into_iter().filter(|k| k.backup_id.time() <= now).collect();
        past.sort_by(|x, y| y.backup_id.cmp(&x.backup_id));
        let Some(newest) = past.first() else { continue };
        kept.insert(newest.to_string());
        if let Some(w) = p.keep_within {
            let cut_off = newest.backup_id.time() - Duration::from_std(w).unwrap();
            kept.extend(
                past.iter()
                    .filter(|k| k.backup_id.time() > cut_off)
                    .map(|k| k.to_string()),
            );
        }
        kept.extend(past.iter().take(p.keep_last as usize).map(|k| k.to_string()));
        type Key = fn(DateTime<Utc>) -> (i32, u32);
        let periods: [(u32, Key); 4] = [
            (p.keep_daily, |t| (t.year(), t.ordinal())),
            (p.keep_weekly, |t| (t.iso_week().year(), t.iso_week().week())),
            (p.keep_monthly, |t| (t.year(), t.month())),
            (p.keep_yearly, |t| (t.year(), 0)),
        ];
        for (count, key) in periods {
            let mut newest_of: BTreeMap<(i32, u32), &ManifestKey> = BTreeMap::new();
            for k in &past {
                let slot = newest_of.entry(key(k.backup_id.time())).or_insert(k);
                if k.backup_id > slot.backup_id {
                    *slot = k;
                }
            }
            kept.extend(newest_of.values().rev().take(count as usize).map(|k| k.to_string()));
        }
    }
    kept
}

proptest! {
    #[test]
    fn select_keeps_exactly_what_the_reference_model_keeps(
        b in arb_backups(), p in arb_policy(), now in arb_now()
    ) {
        prop_assert_eq!(kept_ids(&b, &p, now), reference_kept(&b, &p, now));
    }

    /// Random windows seldom end exactly on a backup, so this one is made to:
    /// its cut-off is a chosen backup's time, or one second either side.
    #[test]
    fn a_window_ending_on_a_backup_keeps_exactly_what_the_reference_model_keeps(
        b in arb_backups(),
        p in arb_policy(),
        now in arb_now(),
        pick in any::<prop::sample::Index>(),
        nudge in -1i64..=1,
    ) {
        let present: Vec<&ManifestKey> = b.iter().filter(|k| k.backup_id.time() <= now).collect();
        prop_assume!(!present.is_empty());
        let edge = pick.get(&present);
        let newest = present
            .iter()
            .filter(|k| k.alias == edge.alias)
            .map(|k| k.backup_id.time())
            .max()
            .unwrap();
        let span = newest - edge.backup_id.time() + Duration::seconds(nudge);
        let p = RetentionPolicy { keep_within: span.to_std().ok(), ..p };
        prop_assert_eq!(kept_ids(&b, &p, now), reference_kept(&b, &p, now));
    }

    #[test]
    fn newest_at_or_before_now_pinned_and_future_dated_are_always_kept(
        b in arb_backups(), p in arb_policy(), now in arb_now()
    ) {
        let plan = select(&b, &p, now);
        prop_assert_eq!(plan.decisions.len(), b.len());
        for d in plan.deleted() {
            prop_assert!(!d.backup.labels.iter().any(|l| l.is_pinning()));
            prop_assert!(d.backup.backup_id.time() <= now, "deleted a future-dated backup");
            let newer_exists = b.iter().any(|o| {
                o.alias == d.backup.alias && o.backup_id > d.backup.backup_id && o.backup_id.time() <= now
            });
            prop_assert!(newer_exists, "deleted the newest of {}", d.backup.alias);
        }
    }

    #[test]
    fn future_dated_backups_change_nothing_for_the_others(
        b in arb_backups(), p in arb_policy(), now in arb_now()
    ) {
        let present: Vec<ManifestKey> = b.iter().filter(|k| k.backup_id.time() <= now).cloned().collect();
        let with_future: BTreeSet<String> = select(&b, &p, now)
            .decisions
            .into_iter()
            .filter(|d| d.backup.backup_id.time() <= now)
            .filter(|d| d.keep())
            .map(|d| d.backup.to_string())
            .collect();
        prop_assert_eq!(with_future, kept_ids(&present, &p, now));
    }

    #[test]
    fn applying_a_plan_and_planning_again_deletes_nothing_more(
        b in arb_backups(), p in arb_policy(), now in arb_now()
    ) {
        let survivors: Vec<ManifestKey> = select(&b, &p, now).kept().map(|d| d.backup.clone()).collect();
        let again = select(&survivors, &p, now);
        prop_assert_eq!(again.deleted().count(), 0);
    }

    #[test]
    fn larger_counts_never_keep_fewer(
        b in arb_backups(), p in arb_policy(), now in arb_now(), bump in 0usize..6
    ) {
        let mut bigger = p.clone();
        match bump {
            0 => bigger.keep_last += 1,
            1 => bigger.keep_daily += 1,
            2 => bigger.keep_weekly += 1,
            3 => bigger.keep_monthly += 1,
            4 => bigger.keep_yearly += 1,
            _ => {
                let w = p.keep_within.unwrap_or_default();
                bigger.keep_within = Some(w + std::time::Duration::from_secs(3600));
            }
        }
        let small = kept_ids(&b, &p, now);
        let large = kept_ids(&b, &bigger, now);
        prop_assert!(small.is_subset(&large));
    }
}
