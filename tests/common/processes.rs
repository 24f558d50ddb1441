//! Watching the neo4j-admin double's processes from tests: its launcher and
//! worker write `<role>-<pid>` files into `NEO4J_ADMIN_DOUBLE_PID_DIR`; tests
//! wait for those files (events, with a generous bound as failure guard) and
//! read `/proc` to see whether a process still lives.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// Failure guard for waiting on process events on a loaded machine.
pub const BOUND: Duration = Duration::from_secs(90);

/// The pids of `role` (`launcher` or `worker`) whose file's arguments contain `containing`.
pub fn pids(dir: &Path, role: &str, containing: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid: u32 = name.strip_prefix(&format!("{role}-"))?.parse().ok()?;
            let args = std::fs::read_to_string(e.path()).ok()?;
            args.contains(containing).then_some(pid)
        })
        .collect()
}

/// Waits until a `role` process whose arguments contain `containing` has
/// written its pid file; returns its pid.
pub async fn wait_for(dir: &Path, role: &str, containing: &str) -> u32 {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(pid) = pids(dir, role, containing).first() {
            return *pid;
        }
        assert!(
            Instant::now() < deadline,
            "no {role} running `{containing}` wrote its pid into {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Whether `pid` is a live process (a zombie is dead: it only waits to be reaped).
pub fn alive(pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = text
        .rfind(')')
        .and_then(|i| text[i + 1..].split_whitespace().next())
        .unwrap_or("X");
    !matches!(state, "Z" | "X")
}

/// Waits (bounded) until none of `pids` lives; names the survivors otherwise.
pub async fn wait_all_gone(pids: &[u32], what: &str) {
    let deadline = Instant::now() + BOUND;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still running: {left:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: Signal) {
    let pid = Pid::from_raw(pid as i32).expect("a pid");
    rustix::process::kill_process(pid, signal).expect("signal sent");
}

/// Kills whatever of `pids` still runs the neo4j-admin double, so a failed
/// test leaves no process behind (a pid reused by another process is spared).
pub fn kill_all(pids: &[u32]) {
    let is_double = |p: u32| {
        std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("neo4j-admin"))
    };
    for p in pids.iter().copied().filter(|p| alive(*p) && is_double(*p)) {
        let _ = rustix::process::kill_process(Pid::from_raw(p as i32).expect("a pid"), Signal::KILL);
    }
}

/// Waits (bounded) for `child` to exit; its exit code (`None`: killed).
pub async fn exit_of(child: &mut std::process::Child) -> Option<i32> {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(Instant::now() < deadline, "graphvault did not exit");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the repository lease of `store` is free as the next run
/// would judge it: released, or expired by the store's own clock (with the
/// test's skew of 0). A killed run's lease is free once its TTL has passed
/// by the store's clock; no fixed sleep can know when that is on a loaded
/// machine. `BOUND` only guards against a hang.
pub async fn until_lease_free(store: &dyn graphvault::store::ObjectStore) {
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        let view = graphvault::lease::inspect(store, "repository").await.unwrap();
        let free = match view {
            None => true,
            Some(v) => {
                let now = store.clock().await.unwrap();
                v.record
                    .is_free(now, v.stored_at, chrono::Duration::zero(), chrono::Duration::hours(1))
            }
        };
        if free {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lease is still held after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
