//! Console output shared by the commands: log lines, failures, usage errors.
//!
//! Failure wording follows `org.neo4j.cli.AbstractCommand.call()` (Neo4j 5):
//! the exception message, then `Run with '--verbose' for a more detailed error
//! message.` on stderr, and the `CommandFailedException` exit code (default 1).

use std::io::Write;
use std::path::Path;

use crate::cli::UsageError;
use crate::config::Version;
use crate::timefmt::Utc;

/// `ExitCode.USAGE` of `org.neo4j.cli.ExitCode` (sysexits `EX_USAGE`).
pub const USAGE: i32 = 64;
/// `ExitCode.FAIL`.
pub const FAIL: i32 = 1;
/// `ExitCode.SOFTWARE`.
pub const SOFTWARE: i32 = 70;

/// One log line on stdout: `2023-07-18 14:30:04.205+0000 INFO  [logger] message`.
pub fn log(level: &str, logger: &str, message: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{} {level:<5} [{logger}] {message}", Utc::now().log_stamp());
    let _ = out.flush();
}

/// The logger name the real backup uses (`c.n.b.b.BackupOutputMonitor` in 5.26 logs).
pub const BACKUP_LOGGER: &str = "c.n.b.b.BackupOutputMonitor";

pub fn info(message: &str) {
    log("INFO", BACKUP_LOGGER, message);
}

/// A failed command: message and the `--verbose` hint (or a trace) on stderr.
pub fn failed(message: &str, verbose: bool, code: i32) -> i32 {
    let mut err = std::io::stderr().lock();
    if verbose {
        let _ = writeln!(err, "org.neo4j.cli.CommandFailedException: {message}");
        let _ = writeln!(err, "\tat org.neo4j.cli.AbstractCommand.call(AbstractCommand.java:98)");
        let _ = writeln!(err, "{message}");
    } else {
        let _ = writeln!(err, "{message}");
        let _ = writeln!(err, "Run with '--verbose' for a more detailed error message.");
    }
    code
}

/// picocli's default parameter-exception handling: message, usage, exit 64.
pub fn usage_error(e: &UsageError, usage: &str) -> i32 {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", e.message());
    let _ = write!(err, "{usage}");
    USAGE
}

/// What `--verbose` prints first (`AbstractCommand.printVerboseHeader` and config list).
pub fn verbose_header(v: &Version) {
    outln!("neo4j {}", v.text);
    outln!("Configuration files used (ordered by priority):");
    outln!("--------------------");
}

/// What every command does once its options parsed: the `--verbose` header,
/// then the `--additional-config` check. Returns whether output is verbose,
/// or the exit code to end with.
pub fn preamble(p: &crate::cli::Parsed, v: &Version, root_verbose: bool) -> Result<bool, i32> {
    let verbose = root_verbose || p.bool("--verbose", false);
    if verbose {
        verbose_header(v);
    }
    check_additional_config(p.get("--additional-config"), verbose)?;
    Ok(verbose)
}

/// `--additional-config` must name an existing file (`AbstractAdminCommand.getCommandConfigs`).
pub fn check_additional_config(path: Option<&str>, verbose: bool) -> Result<(), i32> {
    match path {
        Some(p) if !Path::new(p).is_file() => Err(failed(&format!("File {p} does not exist"), verbose, FAIL)),
        _ => Ok(()),
    }
}

/// `AbstractAdminCommand.requireExisting`: `Path '<p>' does not exist.`
pub fn path_missing(p: &str) -> String {
    format!("Path '{p}' does not exist.")
}
