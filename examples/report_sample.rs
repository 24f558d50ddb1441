//! Renders `graphvault report --html`'s page for a made-up 60-night history
//! of three aliases (a full backup every 7th night, steady growth, one
//! backup that shrank, a drill on the first Sunday of each month, one of
//! them failed), for the picture in the README: the real runs the test
//! suite makes are seconds apart and draw no lines worth looking at.
//!
//! `cargo run --example report_sample -- OUT.html`, then
//! `chromium --headless --no-sandbox --hide-scrollbars --window-size=1280,1200 --screenshot=docs/images/report.png file://$PWD/OUT.html`.

use chrono::{Duration, TimeZone, Utc};
use graphvault::monitor::html::{render, AliasReport, BackupPoint, DrillPoint};

fn main() {
    let out = std::env::args().nth(1).expect("usage: report_sample OUT.html");
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 2, 0, 0).unwrap();
    let aliases: Vec<AliasReport> = [
        ("customer1", 2.0e9, 1.0),
        ("customer2", 6.0e8, 0.4),
        ("customer3", 1.2e9, 0.8),
    ]
    .into_iter()
    .map(|(alias, base, speed)| {
        let backups = (0..60)
            .map(|night| {
                let full = night % 7 == 0;
                let growth = 1.0 + f64::from(night) * 0.004;
                let wobble = 1.0 + 0.02 * f64::from((night * 7919) % 11) / 11.0;
                let shrank = alias == "customer1" && night == 52;
                let plain = if shrank {
                    4096.0
                } else if full {
                    base * growth * wobble
                } else {
                    base * 0.08 * wobble
                };
                BackupPoint {
                    at: start + Duration::days(night.into()) + Duration::minutes(((night * 37) % 20).into()),
                    plain: plain as u64,
                    stored: (plain / 2.6) as u64,
                    seconds: plain / (60.0e6 * speed),
                    full,
                    anomalies: if shrank {
                        vec!["size_shrank".into(), "stored_shrank".into()]
                    } else {
                        vec![]
                    },
                }
            })
            .collect();
        let drills = [4_i64, 32]
            .into_iter()
            .map(|day| DrillPoint {
                at: start + Duration::days(day) + Duration::hours(2),
                recovery_seconds: base / (25.0e6 * speed),
                passed: !(alias == "customer2" && day == 32),
            })
            .collect();
        AliasReport {
            alias: alias.into(),
            backups,
            drills,
        }
    })
    .collect();
    let page = render(
        "graphvault report — s3://acme-neo4j-backups/prod",
        start + Duration::days(60),
        &aliases,
    );
    std::fs::write(&out, page).expect("write the page");
}
