//! Failure injection: `NEO4J_ADMIN_DOUBLE_FAIL=db:mode[,db:mode...]`.
//!
//! `db` is a database name or `*` (every database). A database may be listed
//! several times (e.g. `a:slow:2,a:exit1`). Modes are documented in
//! docs/TESTING.md; `crash` and `die` end the whole process.

use std::io::Write;
use std::time::Duration;

/// One injected behaviour.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// The backup of this database fails (exit 1 at the end).
    Exit1,
    /// The database is not running / not found on the server (exit 1, as the real backup).
    NotRunning,
    /// The database is stopped and the invocation ends at once with exit 3,
    /// the code neo4j-admin documents for "database not running" in general
    /// (the real `database backup` reports that with exit 1: `notrunning`).
    Exit3,
    /// The whole invocation is rejected as a usage error (exit 64).
    Usage,
    /// A Java-like stack trace on stderr and exit 70.
    Crash,
    /// Half an artifact is left under the final name, then this database fails.
    Partial,
    /// Sleep this long before the artifact is written.
    Slow(Duration),
    /// The server at this `host:port` does not respond: the backup goes on
    /// with the next `--from` server, and the invocation exits 1 at the end.
    Unreachable(String),
    /// The server cannot serve a differential backup of this database (its
    /// transaction logs no longer reach back to the folder's chain): AUTO
    /// falls back to a full backup, DIFF fails.
    NoDiff,
    /// Part of the artifact is written, then the process SIGKILLs itself.
    Die,
    /// `database restore` of this database fails (exit 1).
    RestoreFail,
    /// `database check` of this database reports inconsistencies (exit 1).
    Inconsistent,
}

impl Mode {
    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "exit1" => Self::Exit1,
            "notrunning" => Self::NotRunning,
            "exit3" => Self::Exit3,
            "usage" => Self::Usage,
            "crash" => Self::Crash,
            "partial" => Self::Partial,
            "die" => Self::Die,
            "restorefail" => Self::RestoreFail,
            "inconsistent" => Self::Inconsistent,
            "nodiff" => Self::NoDiff,
            _ if s.starts_with("unreachable:") => {
                let server = &s["unreachable:".len()..];
                if server
                    .rsplit_once(':')
                    .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
                {
                    return Err(format!("'{s}' needs a host:port"));
                }
                Self::Unreachable(server.to_string())
            }
            _ => match s.strip_prefix("slow:") {
                Some(secs) => Self::Slow(
                    secs.parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| format!("bad seconds in 'slow:{secs}'"))?,
                ),
                None => return Err(format!("unknown mode '{s}'")),
            },
        })
    }
}

/// The parsed `NEO4J_ADMIN_DOUBLE_FAIL`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailPlan {
    entries: Vec<(String, Mode)>,
}

impl FailPlan {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (db, mode) = entry
                .split_once(':')
                .ok_or_else(|| format!("entry '{entry}' is not db:mode"))?;
            if db.is_empty() {
                return Err(format!("entry '{entry}' has no database"));
            }
            entries.push((db.to_string(), Mode::parse(mode)?));
        }
        Ok(Self { entries })
    }

    /// The modes that apply to `database`, in the order given.
    pub fn modes(&self, database: &str) -> Vec<Mode> {
        self.entries
            .iter()
            .filter(|(db, _)| db == "*" || db == database)
            .map(|(_, m)| m.clone())
            .collect()
    }

    pub fn has(&self, database: &str, mode: &Mode) -> bool {
        self.modes(database).contains(mode)
    }

    /// The total injected delay for `database`.
    pub fn delay(&self, database: &str) -> Duration {
        self.modes(database)
            .iter()
            .filter_map(|m| match m {
                Mode::Slow(d) => Some(*d),
                _ => None,
            })
            .sum()
    }
}

/// Prints a Java-like stack trace on stderr and exits 70 (`ExitCode.SOFTWARE`).
pub fn crash(command: &str, database: &str) -> ! {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "java.lang.IllegalStateException: Injected crash (neo4j-admin-double) during {command} of database '{database}'"
    );
    for frame in [
        "neo4j.admin.double.InjectedFailure.crash(InjectedFailure.java:42)",
        "neo4j.admin.double.DoubleCommand.execute(DoubleCommand.java:117)",
        "org.neo4j.cli.AbstractCommand.call(AbstractCommand.java:98)",
        "picocli.CommandLine.executeUserObject(CommandLine.java:2045)",
        "picocli.CommandLine.access$1500(CommandLine.java:148)",
        "picocli.CommandLine$RunLast.executeUserObjectOfLastSubcommandWithSameParent(CommandLine.java:2465)",
        "picocli.CommandLine$RunLast.handle(CommandLine.java:2457)",
        "picocli.CommandLine.execute(CommandLine.java:2174)",
        "org.neo4j.cli.AdminTool.execute(AdminTool.java:94)",
        "org.neo4j.cli.AdminTool.main(AdminTool.java:82)",
    ] {
        let _ = writeln!(err, "\tat {frame}");
    }
    let _ = err.flush();
    std::process::exit(70)
}

/// Ends the process with SIGKILL, as if the JVM had been killed mid-write.
pub fn die() -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    {
        extern "C" {
            fn kill(pid: i32, sig: i32) -> i32;
        }
        const SIGKILL: i32 = 9;
        // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
        unsafe {
            kill(std::process::id() as i32, SIGKILL);
        }
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_wildcards() {
        let plan = FailPlan::parse("a:exit1, b:slow:1.5 ,*:slow:0.5,c:die").unwrap();
        assert_eq!(
            plan.modes("a"),
            vec![Mode::Exit1, Mode::Slow(Duration::from_millis(500))]
        );
        assert_eq!(plan.delay("b"), Duration::from_secs(2));
        assert!(plan.has("c", &Mode::Die));
        assert!(FailPlan::parse("a:explode").is_err());
        let plan = FailPlan::parse("*:unreachable:db1:6362,a:nodiff").unwrap();
        assert_eq!(plan.modes("b"), vec![Mode::Unreachable("db1:6362".into())]);
        assert!(plan.has("a", &Mode::NoDiff));
        assert!(FailPlan::parse("a:unreachable:db1").is_err());
        assert!(FailPlan::parse("nocolon").is_err());
        assert_eq!(FailPlan::parse("").unwrap(), FailPlan::default());
    }
}
