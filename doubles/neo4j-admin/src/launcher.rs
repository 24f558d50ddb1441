//! The launcher/worker split of the real `neo4j-admin`.
//!
//! In Neo4j 5, `neo4j-admin` starts a JVM running `Neo4jAdminCommand`: it parses
//! the command line, answers `--version`, help and no-argument usage itself, and
//! runs every admin command (`database backup`, `restore`, `check`, `backup
//! inspect`, ...) in a second JVM it forks (`Bootloader.Admin.admin()` →
//! `ProcessManager.run` with `AdminProcess`: inherited stdin/stdout/stderr, no
//! shutdown hook, no signal handler). The launcher waits for the child and exits
//! with the child's exit value, which Java reports as `128 + signal` for a
//! child killed by a signal. When the launcher itself is killed, the child keeps
//! running: nothing forwards the signal.
//!
//! The double does the same: the launcher re-executes its own binary with
//! `NEO4J_ADMIN_DOUBLE_FORKED=1` and waits. The worker (that process) does the
//! writing. Neither ever sets a parent-death signal, as the real JVMs do not.

use std::path::Path;
use std::process::Command;

use crate::config::{Config, ENV_PID_DIR};

/// Set in the worker's environment by the launcher.
pub const ENV_FORKED: &str = "NEO4J_ADMIN_DOUBLE_FORKED";

/// Whether this process is the forked worker.
pub fn is_worker() -> bool {
    std::env::var_os(ENV_FORKED).is_some_and(|v| v == "1")
}

/// Whether the real launcher forks a worker for `args`: an admin command of a
/// 5.x+ `neo4j-admin` that is not a help request. (The real launcher also
/// parses the command's options before forking and reports their errors
/// itself; the double's worker reports them, with the same text and code.)
pub fn forks(cfg: &Config, args: &[String]) -> bool {
    if !cfg.version.is_modern() {
        return false;
    }
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .skip_while(|a| *a == "--verbose" || *a == "--expand-commands")
        .collect();
    if words.iter().any(|w| *w == "-h" || *w == "--help") {
        return false;
    }
    match words.as_slice() {
        ["database", "backup" | "restore" | "check", ..] => true,
        ["backup", "inspect", ..] => cfg.version.has_backup_category(),
        _ => false,
    }
}

/// Runs the worker with the same arguments and returns the launcher's exit
/// code: the worker's, or `128 + signal` when a signal ended it (Java's
/// `Process.exitValue()` on Unix).
pub fn fork_and_wait(args: &[String]) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            errln!("neo4j-admin-double: cannot find its own binary to fork the admin command: {e}");
            return 70;
        }
    };
    match Command::new(exe).args(args).env(ENV_FORKED, "1").status() {
        Ok(status) => exit_value(status.code(), signal_of(&status)),
        Err(e) => {
            errln!("Unexpected error while starting. Aborting. IOException : {e}");
            1
        }
    }
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// Java's exit value of a child: its code, or `0x80 + signal`.
fn exit_value(code: Option<i32>, signal: Option<i32>) -> i32 {
    match (code, signal) {
        (Some(c), _) => c,
        (None, Some(s)) => 0x80 + s,
        (None, None) => 1,
    }
}

/// With `NEO4J_ADMIN_DOUBLE_PID_DIR`, writes `<dir>/<role>-<pid>` holding the
/// arguments, so tests can find (and watch) each process. Written under a
/// temporary name and renamed, so a reader never sees half a file.
pub fn record_pid(role: &str, args: &[String]) {
    let Some(dir) = std::env::var_os(ENV_PID_DIR).filter(|d| !d.is_empty()) else {
        return;
    };
    let dir = Path::new(&dir);
    let pid = std::process::id();
    let tmp = dir.join(format!(".{role}-{pid}.tmp"));
    let done = std::fs::write(&tmp, format!("{}\n", args.join(" ")))
        .and_then(|()| std::fs::rename(&tmp, dir.join(format!("{role}-{pid}"))));
    if let Err(e) = done {
        errln!(
            "neo4j-admin-double: cannot write the {role} pid file in {ENV_PID_DIR} {}: {e}",
            dir.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(version: &str) -> Config {
        let mut c = Config::from_env().unwrap();
        c.version = crate::config::Version::parse(version).unwrap();
        c
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn admin_commands_fork_and_the_launcher_answers_the_rest() {
        let c = cfg("5.26.0");
        for (line, forked) in [
            ("database backup --to-path=x db", true),
            ("--verbose database restore --from-path=x db", true),
            ("database check db", true),
            ("backup inspect x", true),
            ("database backup --help", false),
            ("--version", false),
            ("version", false),
            ("help database backup", false),
            ("database", false),
            ("", false),
        ] {
            assert_eq!(forks(&c, &args(line)), forked, "{line}");
        }
        assert!(!forks(&cfg("5.24.0"), &args("backup inspect x")));
        assert!(!forks(&cfg("4.4.30"), &args("database backup --to-path=x db")));
    }

    #[test]
    fn a_signal_becomes_128_plus_its_number() {
        assert_eq!(exit_value(Some(1), None), 1);
        assert_eq!(exit_value(None, Some(9)), 137);
        assert_eq!(exit_value(None, Some(15)), 143);
    }
}
