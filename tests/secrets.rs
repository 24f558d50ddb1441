//! Secrets stay secret through a whole Neo4j-driven backup, verify and
//! restore-with-alias-switch at trace level, in text and JSON logs: the Bolt
//! password, the AWS secret key, the age identity and the signing key appear
//! in no log line and on no neo4j-admin command line; key files are 0600.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::cli::AWS_SECRET;
use common::cli_world::Setup;

const PASSWORD: &str = "bolt-Pa55-do-not-log-7f3a";

fn secret_line(path: &std::path::Path, starts: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("{} has no {starts} line", path.display()))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_or_command_lines_and_key_files_are_private() {
    let s = Setup::with("", &common::endpoint(), PASSWORD).await;
    let log = s.work.path().join("admin.jsonl");
    let env = format!(
        "NEO4J_ADMIN_DOUBLE_SIZE = \"300000\", NEO4J_ADMIN_DOUBLE_LOG = \"{}\", NEO4J_ADMIN_DOUBLE_DATA = \"{}\"",
        log.display(),
        s.work.path().join("data").display()
    );
    s.set_admin_env(&env);

    let identity = s.key.identity_path.display().to_string();
    let mut runs = Vec::new();
    for format in ["text", "json"] {
        let base = ["-vv", "--log-format", format];
        let with = |args: &[&str]| -> Vec<String> { base.iter().chain(args).map(|a| a.to_string()).collect() };
        let run = |args: Vec<String>| {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let cmd = s.command(&refs);
            common::cli::run(cmd)
        };
        runs.push(run(with(&["backup"])).ok());
        runs.push(run(with(&["verify", "--all", "--identity", &identity])).ok());
        runs.push(
            run(with(&[
                "restore",
                "--identity",
                &identity,
                "--database",
                "customer1",
                // Its own name: both passes may run within the same second.
                "--as",
                &format!("customer1-restored-{format}"),
                "--switch-alias",
            ]))
            .ok(),
        );
        runs.push(run(with(&["alias", "list"])).ok());
    }

    let age_secret = secret_line(&s.key.identity_path, "AGE-SECRET-KEY-");
    let signing = &common::signing().key_file;
    let signing_secret = std::fs::read_to_string(signing)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let secrets = [
        PASSWORD,
        AWS_SECRET,
        &age_secret["AGE-SECRET-KEY-".len()..],
        &signing_secret,
    ];
    let mut logged = 0;
    for r in &runs {
        logged += r.stderr.len();
        for secret in secrets {
            for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                assert!(
                    !text.to_ascii_lowercase().contains(&secret.to_ascii_lowercase()),
                    "{stream} shows a secret: {}",
                    r.explain()
                );
            }
        }
    }
    assert!(logged > 20_000, "trace-level logs were looked at ({logged} bytes)");
    let invocations = std::fs::read_to_string(&log).unwrap();
    assert!(invocations.lines().count() >= 4, "neo4j-admin ran: {invocations}");
    for secret in secrets {
        assert!(
            !invocations.contains(secret),
            "a neo4j-admin command line holds a secret: {invocations}"
        );
    }
    for key_file in [&s.key.identity_path, signing] {
        let mode = std::fs::metadata(key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key_file.display());
    }
}
