//! `graphvault backup` (Neo4j-driven) end to end: the binary, the Bolt double
//! in this test, the neo4j-admin double as neo4j-admin, LocalStack S3. Exit
//! codes, the JSON report, the metrics file, JSON logs, and a kill -9 in the
//! middle of an upload followed by a clean run.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cli::*;
use common::cli_world::{Setup, SMALL};
use graphvault::store::ObjectStore;
use serde_json::Value;

const EXIT_PARTIAL: i32 = 3;
const EXIT_ALL_FAILED: i32 = 11;
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_run_reports_json_writes_metrics_and_logs_json() {
    let s = Setup::new(SMALL).await;
    let metrics = s.work.path().join("graphvault.prom");
    let r = s
        .run(&[
            "--log-format",
            "json",
            "backup",
            "--json",
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--label",
            "pre-deploy",
        ])
        .await
        .ok();
    let report: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.explain()));
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["databases"].as_array().unwrap().len(), 3);
    for line in r.stderr.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("graphvault_backup_success{alias=\"customer2\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("graphvault_backup_run_databases{result=\"ok\"} 3"),
        "{text}"
    );
    assert_eq!(s.committed().await.len(), 3);
    assert!(!r.stderr.contains(AWS_SECRET), "no secret in logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn some_failed_exits_3_and_all_failed_exits_11_with_a_summary() {
    let s = Setup::new(&format!(
        "{SMALL}, NEO4J_ADMIN_DOUBLE_FAIL = \"customer2-1800000000:exit1\""
    ))
    .await;
    let r = s.run(&["backup"]).await.code(EXIT_PARTIAL);
    assert!(r.stdout.contains("2 of 3 database(s) backed up"), "{}", r.explain());
    assert!(r.stdout.contains("customer2-1800000000: "), "{}", r.explain());
    let r = s.run(&["backup", "--alias", "customer2"]).await.code(EXIT_ALL_FAILED);
    assert!(r.stderr.contains("every database backup (1) failed"), "{}", r.explain());
    s.run(&["backup", "--alias", "customer9"]).await.code(EXIT_NOT_FOUND);
    s.server.set_stall(true);
    let r = s
        .run(&["--set", "neo4j.query_timeout_secs=1", "backup"])
        .await
        .code(EXIT_NEO4J_UNAVAILABLE);
    assert!(r.stderr.contains("did not finish within"), "{}", r.explain());
}

/// The scheduled lines run `-q` (infra/cron, infra/systemd): cron mails any
/// output, so a clean run prints nothing at all, and a failing one its
/// summary and its errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_run_prints_nothing_when_clean_and_its_summary_when_not() {
    let s = Setup::new(&format!(
        "{SMALL}, NEO4J_ADMIN_DOUBLE_FAIL = \"customer2-1800000000:exit1\""
    ))
    .await;
    // Counts recorded at backup time, or their absence would be a warning.
    s.answer_counts(10, 20);
    for args in [
        &["-q", "backup", "--alias", "customer1"][..],
        &["-q", "verify", "--latest"],
        &["-q", "prune"],
    ] {
        let r = s.run(args).await.ok();
        assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""), "{}", r.explain());
    }
    let r = s.run(&["-q", "backup"]).await.code(EXIT_PARTIAL);
    assert!(r.stdout.contains("2 of 3 database(s) backed up"), "{}", r.explain());
    assert!(r.stderr.contains("graphvault: error:"), "{}", r.explain());
    assert!(!r.stderr.contains(" INFO "), "{}", r.explain());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_while_another_holds_the_lease_exits_busy_and_writes_nothing() {
    use graphvault::lease::{acquire, Holder, LeaseSettings};
    let s = Setup::new(SMALL).await;
    let store: std::sync::Arc<dyn ObjectStore> = std::sync::Arc::new(s.store.clone());
    let holder = Holder {
        run_id: "nightly-1".into(),
        host: "backup-7".into(),
        pid: 999,
        command: "backup".into(),
    };
    let lease = acquire(store, "repository", holder, LeaseSettings::default())
        .await
        .unwrap();
    let r = s.run(&["backup"]).await.code(EXIT_BUSY);
    assert!(
        r.stderr.contains("backup-7") && r.stderr.contains("pid 999"),
        "{}",
        r.explain()
    );
    assert!(s.committed().await.is_empty());
    lease.release().await.unwrap();
    s.run(&["backup"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_upload_leaves_no_backup_and_the_next_run_is_clean() {
    // A 128 MiB incompressible artifact in 5 MiB parts, one at a time.
    let s = Setup::new("NEO4J_ADMIN_DOUBLE_SIZE = \"134217728\", NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY = \"0\"").await;
    let mut child = s
        .command(&[
            "--log-format",
            "json",
            "--set",
            "backup.lease_ttl_secs=2",
            "--set",
            "backup.lease_clock_skew_secs=0",
            "backup",
            "--alias",
            "customer1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let started = Instant::now();
    // Wait for the upload to start (its log line), then for the store to show
    // its multipart upload in flight, and only then kill: no guess at timing.
    let (uploading, seen, stderr) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push(line.clone());
            let uploading = serde_json::from_str::<Value>(&line)
                .ok()
                .is_some_and(|v| v["message"] == "sealing and uploading");
            if uploading {
                return (true, seen, Some(lines));
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no upload started");
        }
        (false, seen, None)
    })
    .await
    .unwrap();
    assert!(
        uploading,
        "the run ended before an upload started:\n{}",
        seen.join("\n")
    );
    // Keep draining stderr so the child never blocks on a full pipe.
    let drain = std::thread::spawn(move || stderr.into_iter().flatten().for_each(drop));
    let mut in_flight = false;
    while started.elapsed() < Duration::from_secs(120) {
        if !s.store.list_multipart("data/").await.unwrap().is_empty() {
            in_flight = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await; // poll interval, not a guess
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _ = drain.join();
    assert!(in_flight, "no multipart upload was seen in flight before the run ended");
    assert!(s.committed().await.is_empty(), "a killed run leaves no manifest");
    let pending = s.store.list_multipart("data/").await.unwrap();
    assert_eq!(pending.len(), 1, "killed mid-upload: one unfinished multipart upload");
    let staging = s.work.path().join("staging/customer1-1800000000");
    let left = std::fs::read_dir(&staging).unwrap().count();
    assert!(left >= 1, "the artifact is not deleted before its upload is verified");

    // The killed run's lease is still held until it expires (2 s here).
    s.run(&["backup", "--alias", "customer1"]).await.code(EXIT_BUSY);
    let r = s
        .run_when_free(|| {
            s.command(&[
                "--set",
                "backup.lease_clock_skew_secs=0",
                "backup",
                "--alias",
                "customer1",
            ])
        })
        .await
        .ok();
    assert!(r.stderr.contains("taking over the stale lease"), "{}", r.explain());
    assert_eq!(s.committed().await, ["customer1-1800000000"]);
    assert!(!staging.join(".leftover").exists(), "leftovers go after the commit");
    let pending = s.store.list_multipart("data/").await.unwrap();
    assert!(
        pending.is_empty(),
        "the next run aborted the killed run's upload: {pending:?}"
    );
}
