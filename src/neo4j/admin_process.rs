//! One neo4j-admin invocation as a supervised process group: spawn (own
//! group, parent-death signal, secrets scrubbed), read both output streams
//! line by line into tracing, wait for the launcher within the timeout, and
//! always end the whole group before its leader is reaped.
//!
//! Order: stop strays of killed runs → spawn → record the group → read
//! until both streams close → wait for the launcher's exit without reaping
//! it → end any member still running (SIGTERM, grace, SIGKILL) → release and
//! remove the record → reap. On timeout the group is ended the same way.
//! A dropped (cancelled) run SIGKILLs the group.

use std::collections::VecDeque;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::admin::AdminError;
use super::admin_cmd::{finished_artifact, AdminSettings};
use super::process_group::{self, Group};
use super::run_record;

/// stderr lines kept for errors: the first ones (picocli puts the message
/// before the usage text) and the last ones (Java puts the cause last).
const HEAD_LINES: usize = 4;
const TAIL_LINES: usize = 16;
/// At most this many lines of each stream are kept for reading decisions.
const MAX_LINES: usize = 100_000;
/// Variables never passed on to neo4j-admin.
const SCRUBBED_ENV: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GRAPHVAULT_NEO4J_PASSWORD",
    "NEO4J_PASSWORD",
];

/// What a finished neo4j-admin process left.
#[derive(Debug, Default)]
pub struct Finished {
    /// `database backup`, `--version`, ...
    pub command: String,
    pub code: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    /// The first and last stderr lines, for error messages.
    pub stderr_tail: Vec<String>,
    /// `(file, database)` of every "Finished artifact creation" line.
    pub artifacts: Vec<(String, String)>,
}

impl Finished {
    /// Every line of both streams (stdout first).
    pub fn lines(&self) -> impl Iterator<Item = &str> + Clone {
        self.stdout.iter().chain(&self.stderr).map(String::as_str)
    }
}

fn keep(lines: &mut Vec<String>, line: String) {
    if lines.len() < MAX_LINES {
        lines.push(line);
    }
}

/// Reads both streams to their end.
async fn read_streams(out: tokio::process::ChildStdout, err: tokio::process::ChildStderr) -> Finished {
    let mut done = Finished::default();
    let (mut head, mut tail, mut omitted) = (Vec::new(), VecDeque::new(), 0usize);
    let (mut out, mut err) = (BufReader::new(out).lines(), BufReader::new(err).lines());
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        tokio::select! {
            line = out.next_line(), if out_open => match line {
                Ok(Some(l)) => {
                    // Its progress chatter is detail; its warnings are not.
                    if super::backup_outcome::is_problem_line(&l) {
                        tracing::warn!(target: "graphvault::neo4j_admin", "{l}");
                    } else {
                        tracing::debug!(target: "graphvault::neo4j_admin", "{l}");
                    }
                    done.artifacts.extend(finished_artifact(&l));
                    keep(&mut done.stdout, l);
                }
                _ => out_open = false,
            },
            line = err.next_line(), if err_open => match line {
                Ok(Some(l)) => {
                    tracing::warn!(target: "graphvault::neo4j_admin", "{l}");
                    done.artifacts.extend(finished_artifact(&l));
                    if head.len() < HEAD_LINES {
                        head.push(l.clone());
                    } else {
                        tail.push_back(l.clone());
                        if tail.len() > TAIL_LINES {
                            tail.pop_front();
                            omitted += 1;
                        }
                    }
                    keep(&mut done.stderr, l);
                }
                _ => err_open = false,
            },
        }
    }
    if omitted > 0 {
        head.push(format!("… ({omitted} lines omitted)"));
    }
    head.extend(tail);
    done.stderr_tail = head;
    done
}

/// Waits until process `pid` (a child of ours) has exited, without reaping
/// it: while it is a zombie its number cannot name another process group.
async fn exited_unreaped(pid: u32) -> std::io::Result<()> {
    let wait = tokio::task::spawn_blocking(move || loop {
        let id = rustix::process::Pid::from_raw(pid as i32).ok_or(rustix::io::Errno::INVAL)?;
        let opts = rustix::process::WaitIdOptions::EXITED | rustix::process::WaitIdOptions::NOWAIT;
        match rustix::process::waitid(rustix::process::WaitId::Pid(id), opts) {
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(std::io::Error::from(e)),
            Ok(_) => return Ok(()),
        }
    });
    wait.await.map_err(std::io::Error::other)?
}

/// Runs neo4j-admin with `args`; any exit code is returned in `Finished`.
pub async fn run_process(s: &AdminSettings, args: Vec<String>) -> Result<Finished, AdminError> {
    let command = args.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
    let path = s.binary.clone();
    // `--version` is answered by the launcher itself (no worker, no files):
    // it neither stops strays nor leaves a record (so `doctor` changes nothing).
    let run_dir = s
        .run_dir
        .as_ref()
        .filter(|_| args.first().is_some_and(|a| a != "--version"));
    if let Some(dir) = run_dir {
        run_record::stop_strays(dir, s.stop_grace).await?;
    }
    let mut cmd = Command::new(&path);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd.envs(s.env.iter().map(|(k, v)| (k, v)));
    process_group::isolate(&mut cmd);
    tracing::info!(binary = %path.display(), args = ?args, "running neo4j-admin");
    let spawn_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            AdminError::NotFound { path: path.clone() }
        } else {
            AdminError::Spawn {
                path: path.clone(),
                source,
            }
        }
    };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    let pid = child.id().ok_or_else(|| spawn_err(std::io::Error::other("no pid")))?;
    // Declared after `child`, so a cancelled run kills the group before the
    // child is dropped (and reaped by tokio).
    let group = Group::register(pid).ok_or(AdminError::ProcUnreadable { pid })?;
    let record = match run_dir {
        Some(dir) => Some(run_record::write(dir, &group, &command)?),
        None => None,
    };
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(spawn_err(std::io::Error::other("no pipes to the child")));
    };
    let waited = tokio::time::timeout(s.timeout, async {
        let done = read_streams(out, err).await;
        exited_unreaped(pid).await.map(|()| done)
    })
    .await;
    let ended = group.end(s.stop_grace).await;
    let timed_out = waited.is_err();
    match &ended {
        Ok(pids) if !pids.is_empty() && !timed_out => {
            tracing::warn!(pids = ?pids, "neo4j-admin's launcher exited but processes of its group still ran; they were stopped");
        }
        _ => {}
    }
    if let Err(pids) = ended {
        // Still registered: dropping `group` SIGKILLs it again; the record stays for the next run.
        return Err(AdminError::Unstoppable { command, pids });
    }
    group.release();
    if let Some(r) = &record {
        run_record::remove(r);
    }
    let status = child.wait().await.map_err(spawn_err)?;
    let mut done = match waited {
        Ok(Ok(done)) => done,
        Ok(Err(source)) => return Err(spawn_err(source)),
        Err(_) => {
            return Err(AdminError::Timeout {
                command,
                secs: s.timeout.as_secs(),
            })
        }
    };
    done.command = command;
    done.code = std::os::unix::process::ExitStatusExt::signal(&status)
        .map(|sig| 128 + sig)
        .or(status.code());
    Ok(done)
}
