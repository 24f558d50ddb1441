//! Records of running neo4j-admin process groups, so a run can stop what an
//! earlier, killed run left behind.
//!
//! While neo4j-admin runs, `<staging_dir>/.neo4j-admin-runs/<pgid>.json`
//! (mode 0600) names its process group, the leader's start time, the boot
//! and the graphvault process that started it. The record is removed once the
//! group is empty. When graphvault is SIGKILLed, its launcher dies with it
//! (parent-death signal) but the worker JVM does not; the record stays. Before
//! every neo4j-admin start, graphvault reads the records: one whose owner is
//! gone and whose group still has members is a neo4j-admin of ours left
//! running, and is stopped (and logged) before the new one starts.
//!
//! Fail closed: a record that cannot be read, or a group that cannot be
//! stopped, stops the new run with the file or the pids and what to do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process_group::{end_group, Group};
use super::procfs;

/// The folder under the staging directory.
pub const RUNS_DIR: &str = ".neo4j-admin-runs";

/// A stray record or group that stops a new run.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write the neo4j-admin run record {path}: {source}; check that [backup] staging_dir is writable by graphvault")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the neo4j-admin run record {path} ({detail}), so graphvault cannot tell whether a neo4j-admin it started earlier still runs; check with `ps -eo pid,pgid,args | grep neo4j-admin`, stop any stray one, then delete {path}")]
    Unreadable { path: PathBuf, detail: String },
    #[error("neo4j-admin left running by an earlier graphvault run (process group {pgid}, pids {pids:?}) did not stop on SIGTERM and SIGKILL; stop it by hand (`kill -KILL -- -{pgid}`) before the next run")]
    Unstoppable { pgid: i32, pids: Vec<i32> },
}

/// One running neo4j-admin, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub pgid: i32,
    pub leader_start: u64,
    pub boot_id: String,
    pub owner_pid: i32,
    pub owner_start: u64,
    /// `database backup`, `database restore`, ...: for humans.
    pub command: String,
}

/// What to do about one record found at start.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Its graphvault still runs (another run on this host): leave it.
    OwnerAlive,
    /// Nothing of it runs (or it is from an earlier boot): remove the record.
    Gone,
    /// Its graphvault is gone and these processes of its group still run.
    Stray(Vec<i32>),
}

/// Judges `rec` against the processes now running. Pure.
pub fn judge(rec: &RunRecord, boot_id: &str, procs: &[procfs::ProcStat]) -> Verdict {
    if rec.boot_id != boot_id {
        return Verdict::Gone;
    }
    let owner_alive = procs
        .iter()
        .any(|p| p.pid == rec.owner_pid && p.start_ticks == rec.owner_start && p.is_running());
    if owner_alive {
        return Verdict::OwnerAlive;
    }
    let members = procfs::members(procs, rec.pgid, rec.leader_start);
    if members.is_empty() {
        Verdict::Gone
    } else {
        Verdict::Stray(members.iter().map(|p| p.pid).collect())
    }
}

fn runs_dir(dir: &Path) -> PathBuf {
    dir.join(RUNS_DIR)
}

/// Writes the record of `group` (started for `command`) under `dir`; returns its path.
pub fn write(dir: &Path, group: &Group, command: &str) -> Result<PathBuf, RecordError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let runs = runs_dir(dir);
    let path = runs.join(format!("{}.json", group.pgid));
    let fail = |source| RecordError::Write {
        path: path.clone(),
        source,
    };
    let me = procfs::stat(std::process::id() as i32);
    let rec = RunRecord {
        pgid: group.pgid,
        leader_start: group.leader_start,
        boot_id: procfs::boot_id().unwrap_or_default(),
        owner_pid: std::process::id() as i32,
        owner_start: me.map(|s| s.start_ticks).unwrap_or(0),
        command: command.to_string(),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&runs)
        .map_err(fail)?;
    let tmp = runs.join(format!(".{}.tmp", group.pgid));
    let body = serde_json::to_vec(&rec).map_err(|e| fail(std::io::Error::other(e)))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&body))
        .map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(path)
}

/// Removes a record whose group is empty; a failure only warns (the next
/// start finds the group empty and removes it).
pub fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove the neo4j-admin run record");
        }
    }
}

/// Stops every neo4j-admin an earlier, killed graphvault left running under
/// `dir` (SIGTERM, `grace`, SIGKILL) and removes the records of finished ones.
pub async fn stop_strays(dir: &Path, grace: Duration) -> Result<(), RecordError> {
    let runs = runs_dir(dir);
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Ok(()); // no folder: no record was ever written here
    };
    let boot = procfs::boot_id().unwrap_or_default();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let rec: RunRecord = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|detail| RecordError::Unreadable {
                path: path.clone(),
                detail,
            })?;
        match judge(&rec, &boot, &procfs::all()) {
            Verdict::OwnerAlive => {}
            Verdict::Gone => remove(&path),
            Verdict::Stray(pids) => {
                match end_group(rec.pgid, rec.leader_start, grace).await {
                    Ok(_) => tracing::warn!(
                        pgid = rec.pgid,
                        pids = ?pids,
                        command = rec.command,
                        earlier_graphvault_pid = rec.owner_pid,
                        "stopped a neo4j-admin left running by an earlier graphvault run (it was killed); its partial files in staging are set aside"
                    ),
                    Err(left) => {
                        return Err(RecordError::Unstoppable {
                            pgid: rec.pgid,
                            pids: left,
                        })
                    }
                }
                remove(&path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use procfs::ProcStat;

    #[test]
    fn a_record_is_a_stray_only_when_its_owner_is_gone_and_its_group_runs() {
        let p = ProcStat::sample;
        let rec = RunRecord {
            pgid: 500,
            leader_start: 1000,
            boot_id: "boot-a".into(),
            owner_pid: 400,
            owner_start: 900,
            command: "database backup".into(),
        };
        let owner = p(400, 'S', 400, 900);
        let worker = p(501, 'S', 500, 1001);
        let reused_owner_pid = p(400, 'S', 400, 5000);
        for (procs, boot, verdict) in [
            (vec![owner.clone(), worker.clone()], "boot-a", Verdict::OwnerAlive),
            (vec![worker.clone()], "boot-a", Verdict::Stray(vec![501])),
            (
                vec![reused_owner_pid, worker.clone()],
                "boot-a",
                Verdict::Stray(vec![501]),
            ),
            (vec![p(501, 'Z', 500, 1001)], "boot-a", Verdict::Gone),
            (vec![p(501, 'S', 500, 10)], "boot-a", Verdict::Gone),
            (vec![], "boot-a", Verdict::Gone),
            (vec![worker], "boot-b", Verdict::Gone),
        ] {
            assert_eq!(judge(&rec, boot, &procs), verdict, "{procs:?} {boot}");
        }
    }

    #[tokio::test]
    async fn an_unreadable_record_stops_the_run_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(RUNS_DIR)).unwrap();
        let bad = dir.path().join(RUNS_DIR).join("77.json");
        std::fs::write(&bad, b"{not json").unwrap();
        let err = stop_strays(dir.path(), Duration::from_secs(1)).await.unwrap_err();
        assert!(err.to_string().contains("77.json"), "{err}");
        assert!(bad.exists(), "kept for a human to look at");
        std::fs::write(
            &bad,
            serde_json::to_vec(&RunRecord {
                pgid: 77,
                leader_start: u64::MAX,
                boot_id: procfs::boot_id().unwrap(),
                owner_pid: i32::MAX,
                owner_start: 0,
                command: "database backup".into(),
            })
            .unwrap(),
        )
        .unwrap();
        stop_strays(dir.path(), Duration::from_secs(1)).await.unwrap();
        assert!(!bad.exists(), "a record of a finished run is removed");
    }
}
