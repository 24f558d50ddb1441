//! `neo4j-admin` test double: mimics the Neo4j 5.x / 2025.x command line
//! (`database backup`, `database restore`, `database check`, `backup inspect`,
//! `version`, `help`) closely enough for graphvault's tests. Not Neo4j.
//!
//! Behaviour, sources and every known difference from the real tool are in
//! docs/TESTING.md, section "neo4j-admin double".

/// `println!` that ignores a closed stdout, as Java's `System.out` does.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `print!` that ignores a closed stdout.
macro_rules! outp {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `eprint!` that ignores a closed stderr.
macro_rules! errp {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
}

mod artifact;
mod backup;
mod check;
mod cli;
mod config;
mod fail;
mod inspect;
mod invocation;
mod launcher;
mod out;
mod restore;
mod text;
mod timefmt;

use std::io::Write;

use config::{Config, Version};

/// picocli's own `ExitCode.USAGE`, returned by the root and category levels.
const PICOCLI_USAGE: i32 = 2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let worker = launcher::is_worker();
    if !worker {
        invocation::append(&args);
    }
    let code = match Config::from_env() {
        // The launcher runs admin commands in a worker process, as the real one does.
        Ok(cfg) if !worker && launcher::forks(&cfg, &args) => {
            launcher::record_pid("launcher", &args);
            launcher::fork_and_wait(&args)
        }
        Ok(cfg) => {
            if worker {
                launcher::record_pid("worker", &args);
            }
            run(&cfg, &args)
        }
        Err(e) => {
            errln!("neo4j-admin-double: {e}");
            70
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code);
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// picocli's message for words no command matches, then `usage`; exit 2.
fn unmatched(index: usize, words: &[String], suggestion: Option<&str>, usage: &str) -> i32 {
    if words.len() == 1 {
        errln!("Unmatched argument at index {index}: {}", quoted(words));
    } else {
        errln!("Unmatched arguments from index {index}: {}", quoted(words));
    }
    match suggestion {
        Some(s) => errln!("Did you mean: {s}?"),
        None => errp!("{usage}"),
    }
    PICOCLI_USAGE
}

fn run(cfg: &Config, all: &[String]) -> i32 {
    let v = &cfg.version;
    // Launcher options accepted before the category (Neo4jAdminCommand).
    let lead = all
        .iter()
        .take_while(|a| *a == "--verbose" || *a == "--expand-commands")
        .count();
    let root_verbose = all[..lead].iter().any(|a| a == "--verbose");
    let args = &all[lead..];
    let Some(first) = args.first() else {
        errp!(
            "{}",
            if v.is_modern() {
                text::root(v)
            } else {
                text::legacy_root()
            }
        );
        return PICOCLI_USAGE;
    };
    match first.as_str() {
        "-V" | "--version" => {
            outln!("{}", v.text);
            return 0;
        }
        "-h" | "--help" => {
            outp!(
                "{}",
                if v.is_modern() {
                    text::root(v)
                } else {
                    text::legacy_root()
                }
            );
            return 0;
        }
        _ => {}
    }
    if !v.is_modern() {
        if first == "help" {
            outp!("{}", text::legacy_root());
            return 0;
        }
        return unmatched(lead, args, None, &text::legacy_root());
    }
    let rest = &args[1..];
    match first.as_str() {
        "version" => {
            outln!("neo4j {}", v.text);
            0
        }
        "help" => help(v, rest),
        "database" => database(cfg, rest, lead + 1, root_verbose),
        "backup" if v.has_backup_category() => backup_category(cfg, rest, lead + 1, root_verbose),
        "backup" => unmatched(lead, args, Some("neo4j-admin database backup"), ""),
        "dbms" | "server" => not_implemented(&format!("{first} {}", rest.first().map_or("", |s| s))),
        _ => unmatched(lead, args, None, &text::root(v)),
    }
}

/// `neo4j-admin help [category [command]]`.
fn help(v: &Version, rest: &[String]) -> i32 {
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let page = match words.as_slice() {
        [] => text::root(v),
        ["database"] => text::database_group(),
        ["database", "backup"] => text::backup(v),
        ["database", "restore"] => text::restore(v),
        ["database", "check"] => text::check(),
        ["backup"] if v.has_backup_category() => text::backup_group(),
        ["backup", "inspect"] if v.has_backup_category() => text::inspect(v),
        _ => {
            errln!("Unknown subcommand '{}'.", words.join(" "));
            errp!("{}", text::root(v));
            return PICOCLI_USAGE;
        }
    };
    outp!("{page}");
    0
}

fn not_implemented(what: &str) -> i32 {
    errln!(
        "neo4j-admin-double: 'neo4j-admin {}' is not implemented by the test double",
        what.trim()
    );
    70
}

/// Group-level dispatch shared by `database` and `backup`: help, missing or unknown command.
fn group_command<'a>(rest: &'a [String], usage: &str) -> Result<(&'a str, &'a [String]), i32> {
    let Some(cmd) = rest.first() else {
        errln!("Missing required subcommand");
        errp!("{usage}");
        return Err(PICOCLI_USAGE);
    };
    match cmd.as_str() {
        "-h" | "--help" => {
            outp!("{usage}");
            Err(0)
        }
        _ => Ok((cmd.as_str(), &rest[1..])),
    }
}

fn database(cfg: &Config, rest: &[String], index: usize, verbose: bool) -> i32 {
    let usage = text::database_group();
    let (cmd, args) = match group_command(rest, &usage) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cmd {
        "backup" => backup::run(cfg, args, verbose),
        "restore" => restore::run(cfg, args, verbose),
        "check" => check::run(cfg, args, verbose),
        "help" => help(&cfg.version, &[&["database".to_string()], args].concat()),
        "aggregate-backup" | "copy" | "dump" | "import" | "info" | "load" | "migrate" | "upload" => {
            not_implemented(&format!("database {cmd}"))
        }
        _ => unmatched(index, rest, None, &usage),
    }
}

fn backup_category(cfg: &Config, rest: &[String], index: usize, verbose: bool) -> i32 {
    let usage = text::backup_group();
    let (cmd, args) = match group_command(rest, &usage) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cmd {
        "inspect" => inspect::run(cfg, args, verbose),
        "help" => help(&cfg.version, &[&["backup".to_string()], args].concat()),
        "aggregate" => not_implemented("backup aggregate"),
        _ => unmatched(index, rest, None, &usage),
    }
}
