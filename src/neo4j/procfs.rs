//! What Linux's `/proc` says about processes: process group, state and start
//! time of each, and this boot's id. Used to find the members of a
//! neo4j-admin process group and to recognise one left by an earlier run.
//!
//! Parsing is pure (table-tested); reading never fails the caller: a process
//! that vanishes while being read is simply not listed.

use std::path::Path;

/// One process, from `/proc/<pid>/stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: i32,
    /// One letter: `R`, `S`, `D`, `Z` (zombie: exited, not yet reaped), ...
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// Clock ticks since boot when the process started.
    pub start_ticks: u64,
}

impl ProcStat {
    /// A process for table tests.
    #[cfg(test)]
    pub fn sample(pid: i32, state: char, pgrp: i32, start_ticks: u64) -> Self {
        Self {
            pid,
            state,
            ppid: 1,
            pgrp,
            start_ticks,
        }
    }

    /// A zombie has exited; it holds no files and writes nothing.
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) may hold spaces and
/// parentheses, so the fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field n is rest[n - 3].
    Some(ProcStat {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        start_ticks: rest.get(19)?.parse().ok()?,
    })
}

/// The process `pid`, if it exists.
pub fn stat(pid: i32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process visible in `/proc`.
pub fn all() -> Vec<ProcStat> {
    all_in(Path::new("/proc"))
}

fn all_in(proc: &Path) -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| parse_stat(&std::fs::read_to_string(e.path().join("stat")).ok()?))
        .collect()
}

/// Running (non-zombie) members of process group `pgid` that started at or
/// after `since_ticks` (the leader's start). Linux does not reuse a number
/// while a process group of that id exists, so while the group lives these
/// are the leader's descendants (or, in theory, a process of the same session
/// that moved itself into the group; processes older than the leader are
/// left out).
pub fn members(procs: &[ProcStat], pgid: i32, since_ticks: u64) -> Vec<ProcStat> {
    procs
        .iter()
        .filter(|p| p.pgrp == pgid && p.is_running() && p.start_ticks >= since_ticks)
        .cloned()
        .collect()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`): pids and start times
/// only mean something within one boot.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_past_odd_command_names() {
        let tail = "S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        for (line, pid) in [
            (format!("4243 (neo4j-admin) {tail}"), 4243),
            (format!("77 (java (worker) x) {tail}"), 77),
            (format!("9 ()) {tail}"), 9),
        ] {
            let s = parse_stat(&line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(
                (s.pid, s.state, s.ppid, s.pgrp, s.start_ticks),
                (pid, 'S', 1, 4242, 987654),
                "{line}"
            );
        }
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("12 (x) S 1 2"), None, "too few fields");
    }

    #[test]
    fn members_are_the_running_processes_of_the_group_since_its_start() {
        let p = ProcStat::sample;
        let procs = [
            p(100, 'S', 100, 50), // the leader
            p(101, 'R', 100, 51), // its worker
            p(102, 'Z', 100, 52), // exited, not reaped
            p(103, 'S', 999, 53), // another group
            p(104, 'D', 100, 10), // older than the leader: not ours
        ];
        let pids: Vec<i32> = members(&procs, 100, 50).iter().map(|m| m.pid).collect();
        assert_eq!(pids, [100, 101]);
        assert!(members(&procs, 555, 0).is_empty());
    }

    #[test]
    fn this_process_is_found_in_proc() {
        let me = std::process::id() as i32;
        let s = stat(me).expect("own /proc entry");
        assert!(s.is_running() && s.start_ticks > 0);
        assert!(all().iter().any(|p| p.pid == me));
        assert!(boot_id().is_some());
    }
}
