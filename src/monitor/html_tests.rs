//! Tests of the HTML report: self-contained, escaped, anomalies marked.

use super::*;
use chrono::TimeZone;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap()
}

fn backup(day: u32, stored: u64, anomalies: &[&str]) -> BackupPoint {
    BackupPoint {
        at: at(day),
        plain: stored * 2,
        stored,
        seconds: 42.0,
        full: day % 7 == 1,
        anomalies: anomalies.iter().map(|s| s.to_string()).collect(),
    }
}

fn sample() -> Vec<AliasReport> {
    vec![
        AliasReport {
            alias: "customer1".into(),
            backups: vec![
                backup(1, 2 << 30, &[]),
                backup(2, 2 << 30, &[]),
                backup(3, 4096, &["size_shrank", "stored_shrank"]),
            ],
            drills: vec![DrillPoint {
                at: at(2),
                recovery_seconds: 95.0,
                passed: true,
            }],
        },
        AliasReport {
            alias: "a<b>&\"c'".into(),
            backups: vec![],
            drills: vec![],
        },
    ]
}

#[test]
fn the_page_fetches_nothing_and_runs_nothing() {
    let page = render("graphvault report", at(4), &sample());
    let lower = page.to_ascii_lowercase();
    for banned in [
        "<script",
        "http://",
        "https://",
        "@import",
        "url(",
        "<link",
        "<img",
        "src=",
        "@font-face",
    ] {
        assert!(!lower.contains(banned), "{banned} in the page");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
}

#[test]
fn anomalies_and_failed_drills_are_marked_and_named() {
    let mut aliases = sample();
    aliases[0].drills.push(DrillPoint {
        at: at(3),
        recovery_seconds: 0.0,
        passed: false,
    });
    let page = render("r", at(4), &aliases);
    // The shrunken backup: a ring on the size chart, none on the duration
    // chart (its duration was normal).
    assert_eq!(page.matches("size_shrank, stored_shrank</title>").count(), 1, "{page}");
    assert_eq!(
        page.matches("class=\"anomaly\"").count(),
        2,
        "a size and a failed drill"
    );
    assert!(page.contains("drill failed</title>"));
    assert!(page.contains("<span class=\"bad\">failed</span> 2026-11-03"));
    assert!(
        page.contains("<td class=\"bad\">1</td>"),
        "anomaly count in the summary"
    );
    assert!(page.contains("4.0 KiB"), "the newest stored size in the summary");
}

#[test]
fn names_are_escaped_everywhere() {
    let page = render("<title>", at(4), &sample());
    assert!(!page.contains("a<b>"), "raw alias name in the page");
    assert!(page.contains("a&lt;b&gt;&amp;&quot;c&#39;"));
    assert!(page.contains("<h1>&lt;title&gt;</h1>"));
    assert!(
        page.contains("no data"),
        "an alias without backups still gets its charts"
    );
}

#[test]
fn one_point_and_units_render() {
    let single = vec![AliasReport {
        alias: "x".into(),
        backups: vec![backup(1, 1000, &[])],
        drills: vec![],
    }];
    let page = render("r", at(4), &single);
    assert!(page.contains("<circle cx=\"259.0\""), "a lone point is centred: {page}");
    assert_eq!(bytes(0.0), "0 B");
    assert_eq!(bytes(1536.0), "1.5 KiB");
    assert_eq!(bytes(300.0 * 1024.0 * 1024.0), "300 MiB");
    assert_eq!(duration(30.0), "30.0 s");
    assert_eq!(duration(0.25), "250 ms");
    assert_eq!(duration(0.0), "0.0 s");
    assert_eq!(duration(90.0), "1.5 min");
    assert_eq!(duration(7200.0), "2.0 h");
}
