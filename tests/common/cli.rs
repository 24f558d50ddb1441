//! Running the `graphvault` binary in tests: a hermetic environment, a
//! timeout, captured output, and messages that show what went wrong.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Exit codes, from src/exit.rs (`enum Exit`): a documented contract, so the
/// numbers are spelled out here rather than taken from the library.
pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INTEGRITY: i32 = 4;
pub const EXIT_KEY: i32 = 6;
pub const EXIT_NOT_FOUND: i32 = 7;
pub const EXIT_LOCAL_IO: i32 = 8;
pub const EXIT_NEO4J_UNAVAILABLE: i32 = 9;
pub const EXIT_NEO4J_FAILED: i32 = 10;
pub const EXIT_BUSY: i32 = 12;

/// LocalStack accepts any secret; this one is distinctive so a leak is visible.
pub const AWS_SECRET: &str = "test-secret-do-not-log";
/// A single run of the binary may not take longer than this.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub code: i32,
    pub stdout: String,
    /// stdout exactly as written (for binary output of the stock tools).
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn explain(&self) -> String {
        format!(
            "`{}` exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.code,
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }

    pub fn ok(self) -> Self {
        assert_eq!(self.code, EXIT_OK, "expected success: {}", self.explain());
        self
    }

    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "expected exit code {expected}: {}", self.explain());
        self
    }
}

/// At most the first and last few KiB of a long output, for messages.
fn clip(text: &str) -> String {
    const KEEP: usize = 4000;
    if text.len() <= 2 * KEEP {
        return text.to_string();
    }
    let head = text
        .char_indices()
        .take_while(|(i, _)| *i < KEEP)
        .map(|(_, c)| c)
        .collect::<String>();
    let tail_start = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= text.len() - KEEP)
        .unwrap_or(0);
    format!(
        "{head}\n[… {} bytes …]\n{}",
        text.len() - head.len() - (text.len() - tail_start),
        &text[tail_start..]
    )
}

/// The binary with a hermetic environment: test credentials, no instance
/// metadata lookups, no GRAPHVAULT_* variables from the caller.
pub fn graphvault() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphvault"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GRAPHVAULT_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RUST_LOG");
    cmd
}

/// Runs `cmd` to completion (killing it after `RUN_TIMEOUT`), capturing
/// output; a `--json` output is checked against its schema (docs/JSON.md).
pub fn run(mut cmd: Command) -> Run {
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let what = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).map(|_| v)
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).map(|_| v)
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for graphvault") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout_bytes = out_reader.join().unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&stdout_bytes).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap().unwrap()).into_owned();
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{what} was killed by a signal: {status:?}"));
    let run = Run {
        what,
        code,
        stdout,
        stdout_bytes,
        stderr,
    };
    super::json_contract::check_output(&args, run.code, &run.stdout, || run.explain());
    run
}

pub fn run_args<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let mut cmd = graphvault();
    cmd.args(args);
    run(cmd)
}

/// File names in `dir` (hidden ones included), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
