//! The launcher/worker split: admin commands run in a forked worker, in the
//! launcher's process group; killing the launcher leaves the worker running,
//! as Neo4j's `AdminProcess` (no shutdown hook, no signal forwarding) does.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{artifacts, Scratch, SMALL};

/// Generous bound for events on a loaded machine; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(60);

fn spawn(cwd: &Path, pids: &Path, args: &[&str], fail: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neo4j-admin"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("NEO4J_ADMIN_DOUBLE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("NEO4J_ADMIN_DOUBLE_SIZE", SMALL)
        .env("NEO4J_ADMIN_DOUBLE_PID_DIR", pids)
        .env("NEO4J_ADMIN_DOUBLE_FAIL", fail)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn().expect("run neo4j-admin double")
}

/// Waits (bounded) until `<dir>/<role>-<pid>` exists; returns the pid.
fn wait_for_pid(dir: &Path, role: &str) -> u32 {
    let deadline = Instant::now() + BOUND;
    loop {
        let found = std::fs::read_dir(dir).unwrap().flatten().find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&format!("{role}-"))?.parse().ok()
        });
        if let Some(pid) = found {
            return pid;
        }
        assert!(Instant::now() < deadline, "no {role} pid file in {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(state, ppid, pgrp)` from `/proc/<pid>/stat`, or `None` once it is gone.
fn proc_stat(pid: u32) -> Option<(char, u32, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    Some((state, f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

fn alive(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _, _)| state != 'Z')
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

fn pid_dir(s: &Scratch) -> PathBuf {
    s.dir("pids")
}

/// A backup of `a` into `b` whose worker sleeps `secs` before writing.
fn slow_backup(s: &Scratch, pids: &Path, secs: u32) -> Child {
    s.dir("b");
    let fail = format!("a:slow:{secs}");
    spawn(s.path(), pids, &["database", "backup", "--to-path=b", "a"], &fail)
}

#[test]
fn an_admin_command_runs_in_a_worker_of_the_launchers_process_group() {
    let s = Scratch::new();
    let pids = pid_dir(&s);
    let mut launcher = slow_backup(&s, &pids, 30);
    let worker = wait_for_pid(&pids, "worker");
    let (_, ppid, pgrp) = proc_stat(worker).expect("the worker runs");
    assert_eq!(ppid, launcher.id(), "the launcher forked the worker");
    assert_eq!(pgrp, proc_stat(launcher.id()).unwrap().2, "same process group");
    assert_eq!(wait_for_pid(&pids, "launcher"), launcher.id());
    // Killing both ends the backup; nothing was written.
    kill("-KILL", worker);
    let status = launcher.wait().unwrap();
    assert_eq!(status.code(), Some(137), "128 + SIGKILL, as Java reports it");
    assert!(artifacts(&s.path().join("b")).is_empty());
}

#[test]
fn the_launcher_answers_version_and_help_itself() {
    let s = Scratch::new();
    let pids = pid_dir(&s);
    for args in [&["--version"][..], &["database", "backup", "--help"]] {
        let status = spawn(s.path(), &pids, args, "").wait().unwrap();
        assert!(status.success(), "{args:?}");
    }
    assert_eq!(
        std::fs::read_dir(&pids).unwrap().count(),
        0,
        "no worker, no launcher file"
    );
}

#[cfg(unix)]
#[test]
fn a_killed_launcher_leaves_its_worker_running_to_the_end() {
    for signal in ["-TERM", "-KILL"] {
        let s = Scratch::new();
        let pids = pid_dir(&s);
        let mut launcher = slow_backup(&s, &pids, 60);
        let worker = wait_for_pid(&pids, "worker");
        kill(signal, launcher.id());
        launcher.wait().unwrap();
        let (_, ppid, _) = proc_stat(worker).expect("the worker runs");
        assert!(alive(worker), "{signal}: the worker must outlive its launcher");
        assert_ne!(ppid, launcher.id(), "{signal}: the orphan was reparented");
        kill("-KILL", worker);
        wait_until("the worker is gone", || !alive(worker));
    }
}
