//! Hosts whose clocks are off: the store lease and the age of unfinished
//! uploads are judged by the store's clock (its `Date` header against its
//! `LastModified`), so a host an hour ahead cannot take a live lease or
//! abort a young upload, and a host an hour behind still takes over a
//! crashed run's lease as soon as the store says it expired.
//!
//! The clocks are faked with libfaketime (Debian's `faketime`), which shifts
//! the wall clock of the real binary (and of the neo4j-admin double it
//! starts); LocalStack, the Bolt double and the test keep the true time.
//! The binary, both doubles, LocalStack.

mod common;

use std::process::Command;

use common::cli::*;
use common::cli_world::{Setup, SMALL};
use common::processes;
use graphvault::store::ObjectStore;
use rustix::process::Signal;

/// `graphvault` with `s`'s config and `args`, its clock shifted by `offset`
/// (libfaketime's syntax: `+1h`, `-1h`).
fn skewed(s: &Setup, offset: &str, args: &[&str]) -> Command {
    let gv = s.command(args);
    let mut cmd = Command::new("faketime");
    cmd.arg("-f").arg(offset).arg(gv.get_program()).args(gv.get_args());
    for (k, v) in gv.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

async fn run_skewed(s: &Setup, offset: &str, args: &[&str]) -> Run {
    let cmd = skewed(s, offset, args);
    tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
}

#[tokio::test]
async fn faketime_shifts_the_binarys_clock() {
    let s = Setup::new(SMALL).await;
    let r = run_skewed(&s, "+1h", &["--log-format", "json", "backup", "--alias", "nobody"]).await;
    let stamp = r
        .stderr
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["timestamp"].as_str()?.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .unwrap_or_else(|| {
            panic!(
                "no timestamped log line (is Debian's faketime installed?): {}",
                r.explain()
            )
        });
    let ahead = stamp - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(55) && ahead < chrono::Duration::minutes(65),
        "logged {stamp}: {}",
        r.explain()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_whose_clock_is_an_hour_off_cannot_take_a_live_lease() {
    let pids = tempfile::tempdir().unwrap();
    let s = Setup::slow(pids.path()).await;
    // A 30-second lease: by a clock an hour ahead it looks long expired.
    let (mut holder, log) = s.start_backup(&["--set", "backup.lease_ttl_secs=30"]);
    let worker = processes::wait_for(pids.path(), "worker", "database backup").await;
    let pid = format!("pid {}", holder.id());
    for offset in ["+1h", "-1h"] {
        for args in [&["backup", "--alias", "customer2"][..], &["prune"]] {
            let r = run_skewed(&s, offset, args).await.code(EXIT_BUSY);
            assert!(r.stderr.contains(&pid), "{offset}: {}", r.explain());
        }
    }
    assert!(holder.try_wait().unwrap().is_none(), "the holder still runs");
    processes::signal(holder.id(), Signal::TERM);
    processes::exit_of(&mut holder).await;
    processes::kill_all(&[worker]);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(!log.contains("lease lost"), "{log}");
    // Released: the host an hour ahead goes ahead now.
    run_skewed(&s, "+1h", &["backup", "--alias", "customer2"]).await.ok();
    assert_eq!(s.committed().await, ["customer2-1800000000"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_an_hour_behind_takes_over_a_crashed_runs_lease_when_the_store_says_it_expired() {
    let short = [
        "--set",
        "backup.lease_ttl_secs=2",
        "--set",
        "backup.lease_clock_skew_secs=0",
    ];
    let pids = tempfile::tempdir().unwrap();
    let s = Setup::slow(pids.path()).await;
    let (mut crashed, _) = s.start_backup(&short);
    let worker = processes::wait_for(pids.path(), "worker", "database backup").await;
    processes::signal(crashed.id(), Signal::KILL);
    processes::exit_of(&mut crashed).await;
    // By its own clock the lease expires in an hour; by the store's, in 2 s.
    let args = [&short[..], &["backup", "--alias", "customer2"]].concat();
    let r = s.run_when_free(|| skewed(&s, "-1h", &args)).await;
    processes::kill_all(&[worker]);
    let r = r.ok();
    assert!(r.stderr.contains("taking over the stale lease"), "{}", r.explain());
    assert_eq!(s.committed().await, ["customer2-1800000000"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_clock_does_not_make_a_young_upload_look_abandoned() {
    let s = Setup::new(SMALL).await;
    // An upload another writer started just now.
    let key = "data/customer9/elsewhere/part.age";
    let id = s.store.create_multipart(key).await.unwrap();
    let pending =
        |ids: Vec<graphvault::store::PendingUpload>| -> Vec<String> { ids.into_iter().map(|p| p.upload_id).collect() };
    // Two hours ahead, sparing uploads younger than one hour: it is young.
    let spare = [
        "--set",
        "backup.abandoned_upload_hours=1",
        "backup",
        "--alias",
        "customer2",
    ];
    run_skewed(&s, "+2h", &spare).await.ok();
    assert_eq!(pending(s.store.list_multipart("data/").await.unwrap()), [id]);
    // Sparing none, the same run does abort it (the cleanup ran above too).
    let none = [
        "--set",
        "backup.abandoned_upload_hours=0",
        "backup",
        "--alias",
        "customer3",
    ];
    run_skewed(&s, "+2h", &none).await.ok();
    assert!(pending(s.store.list_multipart("data/").await.unwrap()).is_empty());
}
