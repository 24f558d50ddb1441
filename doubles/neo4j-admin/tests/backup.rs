//! `database backup`: naming, content, types, failure injection and exit codes.

mod common;

use std::collections::HashSet;
use std::fs;
use std::time::Instant;

use common::{admin, artifacts, named_like_neo4j, split, Scratch, SMALL};

fn file_name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn full_backup_names_and_fills_the_artifact() {
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "--type=FULL", "neo4j"],
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.all());
    let files = artifacts(&to);
    assert_eq!(files.len(), 1);
    let name = file_name(&files[0]);
    assert!(named_like_neo4j("neo4j", &name), "{name}");
    assert!(r.stdout.contains(&format!(
        "Finished artifact creation '{name}' for database 'neo4j', took "
    )));
    assert!(r
        .stdout
        .contains("INFO  [c.n.b.b.BackupOutputMonitor] Start full backup of database 'neo4j'."));
    let (h, body) = split(&files[0]);
    assert_eq!(body.len(), SMALL.parse::<usize>().unwrap());
    assert_eq!(h["database"], "neo4j");
    assert_eq!(h["type"], "FULL");
    assert_eq!(h["lowestTx"], 1);
    assert_eq!(h["compressed"], true);
    let stamp = name.trim_start_matches("neo4j-").trim_end_matches(".backup");
    assert_eq!(h["backupTime"].as_str().unwrap().replace(':', "-"), stamp);
}

#[test]
fn bodies_are_reproducible_and_follow_size_and_compressibility() {
    let s = Scratch::new();
    let (a, b) = (s.dir("a"), s.dir("b"));
    let env = [
        ("NEO4J_ADMIN_DOUBLE_SIZE", "40960"),
        ("NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY", "0.5"),
    ];
    for dir in ["a", "b"] {
        let r = admin(
            s.path(),
            &["database", "backup", &format!("--to-path={dir}"), "db1"],
            &env,
        );
        assert_eq!(r.code, Some(0), "{}", r.all());
    }
    let (ha, body_a) = split(&artifacts(&a)[0]);
    let (_, body_b) = split(&artifacts(&b)[0]);
    assert_eq!(body_a, body_b);
    assert_eq!(body_a.len(), 40960);
    assert_eq!(ha["compressibility"], 0.5);

    let distinct_blocks = |c: &str| {
        let d = s.dir(&format!("c{c}"));
        let env = [
            ("NEO4J_ADMIN_DOUBLE_SIZE", "409600"),
            ("NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY", c),
        ];
        let r = admin(&d, &["database", "backup", "--to-path=.", "db1"], &env);
        assert_eq!(r.code, Some(0), "{}", r.all());
        let (_, body) = split(&artifacts(&d)[0]);
        body.chunks(4096).collect::<HashSet<_>>().len()
    };
    assert_eq!(distinct_blocks("1.0"), 1);
    assert_eq!(distinct_blocks("0.0"), 100);
    let half = distinct_blocks("0.5");
    assert!((20..=80).contains(&half), "{half}");
}

#[test]
fn auto_is_full_then_differential_and_diff_needs_a_full() {
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "--type=DIFF", "neo4j"],
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r
        .all()
        .contains("Differential backups require that a full backup of the same database exists"));
    assert!(artifacts(&to).is_empty());

    // AUTO in an empty folder tries a differential, then falls back (5.26 log).
    let r = admin(s.path(), &["database", "backup", "--to-path=b", "neo4j"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let steps: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split("BackupOutputMonitor] ").nth(1))
        .filter(|m| m.contains("ifferential") || m.contains("full backup"))
        .collect();
    assert_eq!(
        steps[..4],
        [
            "Start differential backup of database 'neo4j'.",
            "Differential backup of database 'neo4j' failed. Reason: Differential backups require that a full \
             backup of the same database exists in the folder defined in --to-path.",
            "Falling back to full backup of database 'neo4j'.",
            "Start full backup of database 'neo4j'.",
        ],
        "{}",
        r.stdout
    );
    let r = admin(s.path(), &["database", "backup", "--to-path=b", "neo4j"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(!r.stdout.contains("Falling back"), "{}", r.stdout);
    let files = artifacts(&to);
    assert_eq!(files.len(), 2);
    let (full, _) = split(&files[0]);
    let (diff, _) = split(&files[1]);
    assert_eq!(
        (full["type"].as_str(), diff["type"].as_str()),
        (Some("FULL"), Some("DIFF"))
    );
    assert_eq!(
        diff["lowestTx"].as_u64().unwrap(),
        full["highestTx"].as_u64().unwrap() + 1
    );

    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "--type=diff", "neo4j"],
        &[],
    );
    assert_eq!(r.code, Some(0), "lower-case type is accepted: {}", r.all());
}

#[test]
fn several_databases_and_patterns() {
    let s = Scratch::new();
    let to = s.dir("b");
    let env = [("NEO4J_ADMIN_DOUBLE_DATABASES", "cust1,cust2,other")];
    let r = admin(s.path(), &["database", "backup", "--to-path=b", "cust*", "neo4j"], &env);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let names: Vec<String> = artifacts(&to).iter().map(|p| file_name(p)).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for db in ["cust1", "cust2", "neo4j"] {
        assert!(names.iter().any(|n| named_like_neo4j(db, n)), "{db} in {names:?}");
    }
    let r = admin(s.path(), &["database", "backup", "--to-path=b", "nomatch*"], &env);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("Pattern 'nomatch*' did not match any database"));
}

#[test]
fn one_failing_database_does_not_stop_the_others() {
    for mode in ["exit1", "notrunning"] {
        let s = Scratch::new();
        let to = s.dir("b");
        let fail = format!("a:{mode}");
        let r = admin(
            s.path(),
            &["database", "backup", "--to-path=b", "a", "b"],
            &[("NEO4J_ADMIN_DOUBLE_FAIL", &fail)],
        );
        assert_eq!(r.code, Some(1), "{mode}: {}", r.all());
        let names: Vec<String> = artifacts(&to).iter().map(|p| file_name(p)).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(named_like_neo4j("b", &names[0]));
        assert!(r.stderr.contains("Backup of database 'a' failed"), "{}", r.stderr);
        assert!(r
            .stderr
            .contains("Run with '--verbose' for a more detailed error message."));
    }
}

#[test]
fn usage_and_crash_modes() {
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "a", "b"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "b:usage")],
    );
    assert_eq!(r.code, Some(64), "{}", r.all());
    assert!(r.stderr.contains("USAGE") && artifacts(&to).is_empty());

    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "a"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "a:crash")],
    );
    assert_eq!(r.code, Some(70), "{}", r.all());
    assert!(
        r.stderr.starts_with("java.lang.IllegalStateException: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\tat org.neo4j.cli.AbstractCommand.call("));
    assert!(artifacts(&to).is_empty());
}

#[test]
fn partial_leaves_half_an_artifact_under_the_final_name() {
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "a"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "a:partial")],
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    let files = artifacts(&to);
    assert_eq!(files.len(), 1);
    assert!(named_like_neo4j("a", &file_name(&files[0])));
    let (_, body) = split(&files[0]);
    assert_eq!(body.len(), SMALL.parse::<usize>().unwrap() / 2);
    assert!(!r.stdout.contains("Finished artifact creation"));
}

#[test]
fn an_unreachable_server_is_skipped_but_the_exit_code_says_so() {
    let s = Scratch::new();
    let to = s.dir("b");
    let from = [
        "database",
        "backup",
        "--from=db1:6362,db2:6362",
        "--to-path=b",
        "a",
        "c",
    ];
    let r = admin(
        s.path(),
        &from,
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "*:unreachable:db1:6362")],
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert_eq!(artifacts(&to).len(), 2, "both databases were backed up from db2");
    assert!(r
        .stdout
        .contains("Using remote server db2:6362 for backup of database 'a'."));
    assert!(r.stdout.contains("Finished artifact creation 'a-"));
    assert!(
        r.stderr.contains("Unable to connect to server db1:6362"),
        "{}",
        r.stderr
    );

    let r = admin(
        s.path(),
        &from,
        &[(
            "NEO4J_ADMIN_DOUBLE_FAIL",
            "a:unreachable:db1:6362,a:unreachable:db2:6362",
        )],
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stderr.contains("Backup of database 'a' failed"), "{}", r.stderr);
    assert_eq!(artifacts(&to).len(), 3, "only c was backed up again");
}

#[test]
fn a_server_that_cannot_serve_a_differential_makes_auto_fall_back_to_full() {
    let s = Scratch::new();
    let to = s.dir("b");
    let run = |kind: &str| {
        let t = format!("--type={kind}");
        admin(
            s.path(),
            &["database", "backup", "--to-path=b", &t, "a"],
            &[("NEO4J_ADMIN_DOUBLE_FAIL", "a:nodiff")],
        )
    };
    assert_eq!(run("FULL").code, Some(0));
    let r = run("AUTO");
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("Falling back to full backup of database 'a'."));
    assert!(artifacts(&to).iter().all(|f| split(f).0["type"] == "FULL"));
    let r = run("DIFF");
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert_eq!(artifacts(&to).len(), 2);
}

#[cfg(unix)]
#[test]
fn die_kills_itself_mid_write() {
    use std::os::unix::process::ExitStatusExt;
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "a"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "a:die")],
    );
    // The worker is SIGKILLed; the launcher reports Java's 128 + 9.
    assert_eq!(r.code, Some(137), "{}", r.all());
    assert_eq!(r.out.status.signal(), None);
    let files = artifacts(&to);
    assert_eq!(files.len(), 1);
    assert!(split(&files[0]).1.len() < SMALL.parse::<usize>().unwrap());
}

#[test]
fn slow_delays_the_artifact() {
    let s = Scratch::new();
    s.dir("b");
    let started = Instant::now();
    let r = admin(
        s.path(),
        &["database", "backup", "--to-path=b", "a"],
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "a:slow:0.6")],
    );
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(started.elapsed().as_millis() >= 600);
}

#[test]
fn malformed_command_lines_exit_64_with_picocli_wording() {
    let s = Scratch::new();
    s.dir("b");
    let cases: [(&[&str], &str); 5] = [
        (
            &["database", "backup", "--to-path=b", "--bogus", "neo4j"],
            "Unknown option: '--bogus'",
        ),
        (
            &["database", "backup", "neo4j"],
            "Missing required option: '--to-path=<path>'",
        ),
        (
            &["database", "backup", "--to-path=b", "--type=WEEKLY", "neo4j"],
            "Invalid value for option '--type': expected one of [FULL, DIFF, AUTO] (case-insensitive) but was 'WEEKLY'",
        ),
        (
            &["database", "backup", "--to-path"],
            "Missing required parameter for option '--to-path' (<path>)",
        ),
        (
            &["database", "backup", "--to-path=b", "--compress=maybe", "x"],
            "Invalid value for option '--compress': 'maybe' is not a boolean",
        ),
    ];
    for (args, message) in cases {
        let r = admin(s.path(), args, &[]);
        assert_eq!(r.code, Some(64), "{args:?}: {}", r.all());
        assert!(r.stderr.starts_with(message), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("\nUSAGE\n"), "usage follows the message");
    }
}

#[test]
fn database_defaults_to_neo4j_and_to_path_must_exist() {
    let s = Scratch::new();
    let to = s.dir("b");
    let r = admin(s.path(), &["database", "backup", "--to-path=b"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(named_like_neo4j("neo4j", &file_name(&artifacts(&to)[0])));

    let r = admin(s.path(), &["database", "backup", "--to-path=missing", "neo4j"], &[]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "Path 'missing' does not exist.\nRun with '--verbose' for a more detailed error message.\n"
    );
}

#[test]
fn invocation_log_has_one_line_per_run_and_no_environment() {
    let s = Scratch::new();
    s.dir("b");
    let log = s.path().join("calls.jsonl");
    let log_s = log.to_string_lossy().into_owned();
    let env = [
        ("NEO4J_ADMIN_DOUBLE_LOG", log_s.as_str()),
        ("NEO4J_ADMIN_DOUBLE_DATABASES", "secret-value-xyz"),
    ];
    admin(s.path(), &["--version"], &env);
    admin(s.path(), &["database", "backup", "--to-path=b", "neo4j"], &env);
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["argv"], serde_json::json!(["--version"]));
    assert_eq!(
        lines[1]["argv"],
        serde_json::json!(["database", "backup", "--to-path=b", "neo4j"])
    );
    let cwd = std::fs::canonicalize(s.path()).unwrap();
    assert_eq!(lines[1]["cwd"].as_str().map(std::path::PathBuf::from), Some(cwd));
    assert!(lines[1]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1].as_object().unwrap().len(), 3);
    assert!(!text.contains("secret-value-xyz"));
}
