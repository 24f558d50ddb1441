//! Table tests for the edge cases and property tests for the invariants.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
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
    // "within" is measured from the newest backup, not from now (restic).
    let plan = select(&b, &p, at("2027-01-01T00:00:00Z"));
    assert_eq!(plan.kept().count(), 5);
    assert_eq!(plan.decisions[1].reasons, ["within 14400s of the newest", "last #2"]);
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

fn arb_backups() -> impl Strategy<Value = Vec<ManifestKey>> {
    let one = (0u8..3, 0i64..(3 * 365 * 24), prop::bool::weighted(0.1));
    prop::collection::vec(one, 0..60).prop_map(|v| {
        let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        v.into_iter()
            .enumerate()
            .map(|(i, (alias, hours, pinned))| {
                let labels: &[&str] = if pinned { &["pinned"] } else { &[] };
                backup(&format!("c{alias}"), base + Duration::hours(hours), labels, i as u32)
            })
            .collect()
    })
}

fn arb_policy() -> impl Strategy<Value = RetentionPolicy> {
    (0u32..5, 0u32..8, 0u32..5, 0u32..13, 0u32..3).prop_map(|(last, d, w, m, y)| RetentionPolicy {
        keep_last: last,
        keep_daily: d,
        keep_weekly: w,
        keep_monthly: m,
        keep_yearly: y,
        keep_within: None,
    })
}

fn kept_ids(b: &[ManifestKey], p: &RetentionPolicy) -> BTreeSet<String> {
    let now = at("2030-01-01T00:00:00Z");
    select(b, p, now).kept().map(|d| d.backup.to_string()).collect()
}

proptest! {
    #[test]
    fn newest_per_alias_and_pinned_are_always_kept(b in arb_backups(), p in arb_policy()) {
        let plan = select(&b, &p, at("2030-01-01T00:00:00Z"));
        prop_assert_eq!(plan.decisions.len(), b.len());
        for d in plan.deleted() {
            prop_assert!(!d.backup.labels.iter().any(|l| l.is_pinning()));
            let newer_exists = b.iter().any(|o| o.alias == d.backup.alias && o.backup_id > d.backup.backup_id);
            prop_assert!(newer_exists, "deleted the newest of {}", d.backup.alias);
        }
    }

    #[test]
    fn applying_a_plan_and_planning_again_deletes_nothing_more(b in arb_backups(), p in arb_policy()) {
        let now = at("2030-01-01T00:00:00Z");
        let survivors: Vec<ManifestKey> = select(&b, &p, now).kept().map(|d| d.backup.clone()).collect();
        let again = select(&survivors, &p, now);
        prop_assert_eq!(again.deleted().count(), 0);
    }

    #[test]
    fn larger_counts_never_keep_fewer(b in arb_backups(), p in arb_policy(), bump in 0usize..5) {
        let mut bigger = p.clone();
        match bump {
            0 => bigger.keep_last += 1,
            1 => bigger.keep_daily += 1,
            2 => bigger.keep_weekly += 1,
            3 => bigger.keep_monthly += 1,
            _ => bigger.keep_yearly += 1,
        }
        let small = kept_ids(&b, &p);
        let large = kept_ids(&b, &bigger);
        prop_assert!(small.is_subset(&large));
    }
}
