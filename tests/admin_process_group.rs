//! neo4j-admin is a launcher that forks the process doing the work. Ending
//! graphvault must end both: SIGTERM (systemd stopping the unit, Ctrl-C)
//! stops the whole process group before graphvault exits; after a SIGKILL
//! the launcher dies with graphvault (parent-death signal) and the worker it
//! left is stopped by the next run before that run starts its own.
//! The binary, the Bolt double, the neo4j-admin double (which forks like the
//! real launcher and writes its pids), LocalStack.

mod common;

use common::cli_world::Setup;
use common::processes;
use rustix::process::Signal;

const EXIT_INTERRUPTED: i32 = 3;
/// A killed run cannot release its lease; a short one lets the next run in.
const SHORT_LEASE: [&str; 4] = [
    "--set",
    "backup.lease_ttl_secs=2",
    "--set",
    "backup.lease_clock_skew_secs=0",
];

/// The launcher and worker pids of the running `database backup`.
async fn admin_pids(pids: &std::path::Path) -> (u32, u32) {
    let worker = processes::wait_for(pids, "worker", "database backup").await;
    let launcher = processes::wait_for(pids, "launcher", "database backup").await;
    (launcher, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_graphvault_stops_the_launcher_and_its_worker_first() {
    let pids = tempfile::tempdir().unwrap();
    let s = Setup::slow(pids.path()).await;
    let (mut gv, log) = s.start_backup(&[]);
    let (launcher, worker) = admin_pids(pids.path()).await;
    processes::signal(gv.id(), Signal::TERM);
    let code = processes::exit_of(&mut gv).await;
    let survivors: Vec<u32> = [launcher, worker]
        .into_iter()
        .filter(|p| processes::alive(*p))
        .collect();
    processes::kill_all(&[launcher, worker]);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        survivors.is_empty(),
        "alive after graphvault exited: {survivors:?}\n{log}"
    );
    assert_eq!(code, Some(EXIT_INTERRUPTED), "{log}");
    assert!(log.contains("interrupted"), "{log}");
    assert!(s.committed().await.is_empty(), "nothing was committed");
    // It released its lease: the next run (with the default 10-minute lease) goes ahead.
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, config.replace(":slow:120", ":slow:0")).unwrap();
    s.run(&["backup", "--alias", "customer1"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sigkill_the_launcher_dies_with_graphvault_and_the_next_run_stops_the_worker() {
    let pids = tempfile::tempdir().unwrap();
    let s = Setup::slow(pids.path()).await;
    let (mut gv, _) = s.start_backup(&SHORT_LEASE);
    let (launcher, worker) = admin_pids(pids.path()).await;
    processes::signal(gv.id(), Signal::KILL);
    processes::exit_of(&mut gv).await;
    // The launcher gets graphvault's parent-death signal.
    processes::wait_all_gone(&[launcher], "the launcher after graphvault's SIGKILL").await;
    // Like the real launcher, the double's does not take its worker with it.
    assert!(processes::alive(worker), "the double's worker outlives its launcher");

    // The next run, with a quick neo4j-admin, stops it before starting its own.
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, config.replace(":slow:120", ":slow:0")).unwrap();
    let args = [&SHORT_LEASE[..], &["backup", "--alias", "customer1"]].concat();
    // Busy until the killed run's lease expires (2 s by the store's clock).
    let r = s.run_when_free(|| s.command(&args)).await;
    let left = processes::alive(worker);
    processes::kill_all(&[worker]);
    let r = r.ok();
    assert!(!left, "the worker of the killed run still runs after the next run");
    assert!(
        r.stderr.contains("left running by an earlier graphvault run"),
        "{}",
        r.explain()
    );
    assert_eq!(s.committed().await.len(), 1);
    let records = s.work.path().join("staging/.neo4j-admin-runs");
    let left: Vec<_> = std::fs::read_dir(&records)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "run records left in {}: {left:?}", records.display());
}
