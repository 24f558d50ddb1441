//! The fidelity suite: the official Neo4j Python driver (a client nobody
//! here wrote, pinned in `fidelity/requirements.txt`) runs
//! `fidelity/catalog_shapes.py` against the double and checks the shapes
//! the Neo4j manuals document. A missing venv fails the test with the
//! command that creates it; it is never skipped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bolt_double::BoltDouble;

fn fidelity_dir() -> PathBuf {
    // Cargo sets it when it runs the test too; the compile-time value can be
    // stale when a target dir is reused by a checkout elsewhere.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    PathBuf::from(crate_dir).join("fidelity")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_driver_finds_the_documented_catalog_shapes() {
    let dir = fidelity_dir();
    let python = dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "the Neo4j Python driver venv is missing ({}): create it with `doubles/bolt/fidelity/venv.sh` \
         (scripts/test.sh runs it)",
        python.display()
    );
    let server = BoltDouble::builder()
        .user("neo4j")
        .password("fidelity-secret")
        .online_delay(Duration::from_millis(50))
        .start()
        .await
        .expect("double starts");
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(dir.join("catalog_shapes.py"))
        .env("GV_BOLT_URI", server.uri())
        .env("GV_BOLT_USER", "neo4j")
        .env("GV_BOLT_PASSWORD", "fidelity-secret")
        .stdin(Stdio::null());
    // The double serves on this runtime while the script runs.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the Python driver found differences from Neo4j:\n{}\n{stderr}",
        stdout
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(stdout.contains("all checks passed"), "{stdout}\n{stderr}");
    server.shutdown().await;
}
