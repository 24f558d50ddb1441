//! neo4j-admin's process group: how it is started and how it is ended.
//!
//! `neo4j-admin` is a launcher: a JVM that forks a second JVM for every admin
//! command and waits for it, without passing signals on (Neo4j's
//! `AdminProcess`). Killing only the launcher leaves the worker running and
//! writing plaintext into staging. So graphvault starts the launcher as the
//! leader of a new process group (the worker inherits it) and always ends
//! the whole group: SIGTERM, then SIGKILL after a grace period, then it
//! checks in `/proc` that no member runs.
//!
//! The launcher also gets a parent-death signal (SIGKILL), so it dies with
//! graphvault even when graphvault is SIGKILLed. The real worker has none
//! and survives that; `run_record` finds and stops it at the next start.
//!
//! Never signal a group whose leader was reaped: its number could belong to
//! another process by then. Every group here is ended before its leader is
//! reaped, and a group is only signalled while registered.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::procfs::{self, ProcStat};

/// How often `/proc` is read while waiting for a group to empty.
const POLL: Duration = Duration::from_millis(50);
/// How long SIGKILLed processes may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Groups started by this process whose leader is not reaped yet.
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes the child of `cmd` the leader of a new process group and gives it
/// a parent-death signal (SIGKILL).
pub fn isolate(cmd: &mut tokio::process::Command) {
    let parent = rustix::process::getpid();
    cmd.process_group(0);
    // SAFETY: the closure runs in the forked child before exec. It makes two
    // system calls (prctl, getppid), both async-signal-safe, and allocates
    // nothing, so it is sound in a child forked from a multi-threaded process.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // graphvault died between fork and prctl: the signal was missed.
            if rustix::process::getppid() != Some(parent) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// A process group graphvault started; ends it with SIGKILL when dropped
/// (a cancelled run) unless it was ended and released first.
#[derive(Debug)]
pub struct Group {
    pub pgid: i32,
    /// The leader's start time, in clock ticks since boot.
    pub leader_start: u64,
    released: bool,
}

impl Group {
    /// Registers the group led by the just-spawned, not yet reaped `leader`.
    /// `None` when `/proc` does not show it (the group is then killed).
    pub fn register(leader: u32) -> Option<Self> {
        let pgid = leader as i32;
        live().insert(pgid);
        let mut group = Self {
            pgid,
            leader_start: 0,
            released: false,
        };
        group.leader_start = procfs::stat(pgid)?.start_ticks;
        Some(group)
    }

    /// Running members (the leader until it exits, its workers).
    #[cfg(test)]
    pub fn members(&self) -> Vec<ProcStat> {
        procfs::members(&procfs::all(), self.pgid, self.leader_start)
    }

    /// Ends every member (SIGTERM, `grace`, SIGKILL); `Err` names the pids
    /// still running after that.
    pub async fn end(&self, grace: Duration) -> Result<Vec<i32>, Vec<i32>> {
        end_group(self.pgid, self.leader_start, grace).await
    }

    /// The group is empty (ended, or it ended by itself): forget it. Call
    /// before reaping the leader.
    pub fn release(mut self) {
        self.released = true;
        live().remove(&self.pgid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.released {
            // A cancelled run: no time for a grace period here.
            signal_group(self.pgid, Signal::KILL);
            live().remove(&self.pgid);
        }
    }
}

fn signal_group(pgid: i32, signal: Signal) {
    if let Some(pid) = Pid::from_raw(pgid) {
        if let Err(e) = rustix::process::kill_process_group(pid, signal) {
            if e != rustix::io::Errno::SRCH {
                tracing::warn!(pgid, signal = ?signal, error = %e, "cannot signal neo4j-admin's process group");
            }
        }
    }
}

async fn wait_empty(pgid: i32, since: u64, within: Duration) -> Vec<ProcStat> {
    let deadline = Instant::now() + within;
    loop {
        let left = procfs::members(&procfs::all(), pgid, since);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn pids(procs: &[ProcStat]) -> Vec<i32> {
    procs.iter().map(|p| p.pid).collect()
}

/// Ends the running members of group `pgid` that started at or after
/// `since`: SIGTERM, up to `grace` for them to exit, then SIGKILL. Returns
/// the pids that were running; `Err` with those still running after SIGKILL.
/// Only for a group whose leader is not reaped, or verified by start time.
pub async fn end_group(pgid: i32, since: u64, grace: Duration) -> Result<Vec<i32>, Vec<i32>> {
    let running = procfs::members(&procfs::all(), pgid, since);
    if running.is_empty() {
        return Ok(Vec::new());
    }
    signal_group(pgid, Signal::TERM);
    let left = wait_empty(pgid, since, grace).await;
    if !left.is_empty() {
        tracing::warn!(pgid, pids = ?pids(&left), grace_secs = grace.as_secs(), "neo4j-admin did not stop on SIGTERM; sending SIGKILL");
        signal_group(pgid, Signal::KILL);
        let left = wait_empty(pgid, since, KILL_WAIT).await;
        if !left.is_empty() {
            return Err(pids(&left));
        }
    }
    Ok(pids(&running))
}

/// Ends every neo4j-admin group this process has running (on SIGTERM or
/// Ctrl-C, before graphvault stops). Returns the pids that still run.
pub async fn end_all(grace: Duration) -> Vec<i32> {
    let groups: Vec<i32> = live().iter().copied().collect();
    let mut survivors = Vec::new();
    for pgid in groups {
        let since = procfs::stat(pgid).map(|s| s.start_ticks).unwrap_or(0);
        match end_group(pgid, since, grace).await {
            Ok(ended) if !ended.is_empty() => {
                tracing::warn!(pgid, pids = ?ended, "stopped neo4j-admin (its whole process group)");
            }
            Ok(_) => {}
            Err(left) => survivors.extend(left),
        }
    }
    survivors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_group_and_its_workers_end_on_sigterm_and_a_dropped_group_is_killed() {
        for drop_it in [false, true] {
            let mut cmd = tokio::process::Command::new("sh");
            // The shell forks a worker in its group, as neo4j-admin does.
            cmd.args(["-c", "sleep 300 & wait"]).kill_on_drop(true);
            isolate(&mut cmd);
            let mut child = cmd.spawn().unwrap();
            let group = Group::register(child.id().unwrap()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while group.members().len() < 2 {
                assert!(Instant::now() < deadline, "the worker never started");
                tokio::time::sleep(POLL).await;
            }
            let (pgid, since) = (group.pgid, group.leader_start);
            if drop_it {
                drop(group);
                assert!(
                    wait_empty(pgid, since, KILL_WAIT).await.is_empty(),
                    "dropped group killed"
                );
            } else {
                let ended = group.end(Duration::from_secs(30)).await.unwrap();
                assert_eq!(ended.len(), 2, "{ended:?}");
                assert!(group.members().is_empty());
                group.release();
            }
            assert!(!live().contains(&pgid));
            child.wait().await.unwrap();
        }
    }
}
