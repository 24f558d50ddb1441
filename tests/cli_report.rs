//! `graphvault report --html`: a page made from real backups (one of them
//! shrunken, an anomaly) and a drill, checked to fetch and run nothing, then
//! rendered by headless Chromium (Debian's package) to a screenshot.
//!
//! `GV_REPORT_SCREENSHOT=/tmp/report.png cargo test --test cli_report` keeps
//! the screenshot to look at. (The README's picture, docs/images/report.png,
//! is of a made-up 60-night history: `examples/report_sample.rs`.)

mod common;

use std::path::Path;
use std::process::Command;

use common::cli::*;
use common::cli_world::Setup;

async fn with_size(s: &Setup, size: &str, args: &[&str]) -> Run {
    let mut cmd = s.command(args);
    cmd.env("NEO4J_ADMIN_DOUBLE_SIZE", size);
    tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Renders `page` with headless Chromium into `png`.
fn screenshot(page: &Path, png: &Path, profile: &Path) {
    let out = Command::new("timeout")
        .arg("300")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,1500",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium (Debian package chromium; scripts/setup.sh installs it)");
    assert!(
        out.status.success() && png.is_file(),
        "chromium: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_is_self_contained_and_renders_in_chromium() {
    let s = Setup::new("").await;
    let data = s.work.path().join("data");
    s.set_admin_env(&format!("NEO4J_ADMIN_DOUBLE_DATA = \"{}\"", data.display()));
    // Counts recorded at backup time: the drill checks them.
    s.answer_counts(1000, 5000);
    for size in ["300000", "310000", "305000", "320000"] {
        let r = with_size(&s, size, &["backup"]).await;
        assert_eq!(r.code, EXIT_OK, "{}", r.explain());
    }
    let r = with_size(&s, "4000", &["backup", "--alias", "customer1"]).await;
    assert_eq!(r.code, 16, "a shrunken backup is an anomaly: {}", r.explain());
    let identity = format!("encryption.identity_file={}", s.key.identity_path.display());
    s.run(&["--set", &identity, "drill"]).await.ok();

    let page = s.work.path().join("report.html");
    let r = s.run(&["report", "--html", page.to_str().unwrap()]).await.ok();
    assert!(r.stdout.contains("report written to"), "{}", r.explain());
    let html = std::fs::read_to_string(&page).unwrap();
    let lower = html.to_ascii_lowercase();
    for banned in ["<script", "http://", "https://", "<link", "<img", "url("] {
        assert!(!lower.contains(banned), "{banned} in the page");
    }
    for alias in ["customer1", "customer2", "customer3"] {
        assert!(html.contains(&format!("<h2 id=\"{alias}\">")), "{alias} has no section");
    }
    assert!(html.contains("class=\"anomaly\""), "the shrunken backup is marked");
    assert!(html.contains("size_shrank"), "and its kind named");
    assert_eq!(
        html.matches("aria-label=\"Drill recovery time\"").count(),
        3,
        "one drill chart per alias"
    );

    let png = s.work.path().join("report.png");
    screenshot(&page, &png, &s.work.path().join("chromium-profile"));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&bytes), (1280, 1500));
    assert!(
        bytes.len() > 20_000,
        "a blank page compresses far below this: {} bytes",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("GV_REPORT_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
