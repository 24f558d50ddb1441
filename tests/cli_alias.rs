//! `graphvault alias …` end to end: the binary, a config file with a
//! password file, the Bolt server double running in this test, the
//! neo4j-admin double for the pre-deploy backup, and LocalStack S3 for the
//! backups and the switch records.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use bolt_double::{BoltDouble, Running};
use common::cli::*;
use serde_json::Value;
use tempfile::TempDir;

const BLUE: &str = "customer1-1767741527";
const GREEN: &str = "customer1-1790000000";
const PASSWORD: &str = "bolt-password-do-not-log";

struct Setup {
    server: Running,
    work: TempDir,
    config: PathBuf,
    _key: common::TestKey,
}

impl Setup {
    async fn new() -> Self {
        Self::with_password(PASSWORD).await
    }

    /// A server with one customer's blue/green databases; a config whose
    /// password file holds `password`.
    async fn with_password(password: &str) -> Self {
        let server = BoltDouble::builder()
            .user("neo4j")
            .password(PASSWORD)
            .database(BLUE)
            .database(GREEN)
            .alias("customer1", BLUE)
            .start()
            .await
            .unwrap();
        let work = tempfile::tempdir().unwrap();
        let password_file = work.path().join("neo4j-password");
        std::fs::write(&password_file, format!("{password}\n")).unwrap();
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (_, bucket) = common::s3_store_with_bucket("gv").await;
        let key = common::TestKey::new();
        let config = work.path().join("graphvault.toml");
        std::fs::write(
            &config,
            format!(
                "[storage]\nurl = \"s3://{bucket}/gv\"\nendpoint = \"{}\"\nforce_path_style = true\n\
                 [encryption]\nrecipients = [\"{}\"]\n\
                 [neo4j]\nbolt_uri = \"{}\"\nuser = \"neo4j\"\n\
                 password_file = \"{}\"\nconnect_timeout_secs = 2\nquery_timeout_secs = 5\n\
                 admin_path = \"{}\"\nadmin_env = {{ NEO4J_ADMIN_DOUBLE_SIZE = \"100000\" }}\n\
                 [backup]\nstaging_dir = \"{}\"\nmin_free_mib = 1\n{}",
                common::endpoint(),
                key.recipient,
                server.uri(),
                password_file.display(),
                common::workspace_bin("neo4j-admin").display(),
                work.path().join("staging").display(),
                common::signing_toml(),
            ),
        )
        .unwrap();
        Self {
            server,
            work,
            config,
            _key: key,
        }
    }

    /// Runs the binary off the test's runtime threads (the server lives there).
    async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(&self.config).args(args);
        tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_target_and_switch_with_a_rollback_hint() {
    let s = Setup::new().await;
    let r = s.run(&["alias", "list"]).await.ok();
    assert!(
        r.stdout.contains("customer1") && r.stdout.contains(BLUE),
        "{}",
        r.explain()
    );
    let r = s.run(&["alias", "list", "--json"]).await.ok();
    let aliases = common::json_contract::items(&r.stdout, "aliases");
    assert_eq!(aliases[0]["name"], "customer1");
    assert_eq!(aliases[0]["database"], BLUE);

    assert_eq!(
        s.run(&["alias", "get-target", "customer1"]).await.ok().stdout.trim(),
        BLUE
    );
    let r = s.run(&["alias", "switch", "customer1", GREEN]).await.ok();
    assert!(
        r.stdout.contains("graphvault alias rollback customer1"),
        "the rollback command is printed: {}",
        r.explain()
    );
    assert!(
        r.stdout.contains("pre-deploy backup of the previous target"),
        "{}",
        r.explain()
    );
    assert_eq!(
        s.run(&["alias", "get-target", "customer1"]).await.ok().stdout.trim(),
        GREEN
    );
    // The pre-deploy backup of the old target is in the bucket, pinned.
    let r = s.run(&["list", "--json", "--database", "customer1"]).await.ok();
    let list = common::json_contract::items(&r.stdout, "backups");
    assert_eq!(list[0]["database"], BLUE, "{list:?}");
    assert!(list[0]["labels"].to_string().contains("pre-deploy"), "{list:?}");

    // Rollback from the record in the bucket (any host could run it).
    let r = s.run(&["alias", "rollback", "customer1"]).await.ok();
    assert!(r.stdout.contains(&format!("rolled back to {BLUE}")), "{}", r.explain());
    assert_eq!(
        s.run(&["alias", "get-target", "customer1"]).await.ok().stdout.trim(),
        BLUE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_is_refused_when_it_cannot_be_done_safely() {
    let s = Setup::new().await;
    s.run(&["alias", "rollback", "customer1"]).await.code(EXIT_NOT_FOUND); // nothing recorded
    s.run(&["alias", "switch", "customer1", GREEN, "--no-backup"])
        .await
        .ok();
    // The old target went offline: no rollback onto it.
    s.server.set_status(BLUE, "offline");
    s.run(&["alias", "rollback", "customer1"]).await.code(EXIT_NEO4J_FAILED);
    s.server.set_status(BLUE, "online");
    // Someone switched it outside graphvault since: refuse to guess.
    s.server.add_database("customer1-1800000000");
    s.server.add_alias("customer1", "customer1-1800000000");
    let r = s.run(&["alias", "rollback", "customer1"]).await.code(EXIT_NOT_FOUND);
    assert!(
        r.stderr.contains("points at customer1-1800000000 now"),
        "{}",
        r.explain()
    );
    // A pre-deploy backup that fails stops the switch.
    let r = s
        .run(&[
            "--set",
            "neo4j.admin_path=/nonexistent/neo4j-admin",
            "alias",
            "switch",
            "customer1",
            GREEN,
        ])
        .await;
    assert_ne!(r.code, EXIT_OK, "{}", r.explain());
    assert!(r.stderr.contains("not switched"), "{}", r.explain());
    assert_eq!(
        s.run(&["alias", "get-target", "customer1"]).await.ok().stdout.trim(),
        "customer1-1800000000"
    );
    assert!(s.work.path().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_to_a_missing_or_offline_database_is_refused_with_its_exit_code() {
    let s = Setup::new().await;
    let r = s
        .run(&["alias", "switch", "customer1", "customer1-404"])
        .await
        .code(EXIT_NOT_FOUND);
    assert!(r.stderr.contains("customer1-404"), "{}", r.explain());
    s.server.set_status(GREEN, "offline");
    let r = s
        .run(&["alias", "switch", "customer1", GREEN])
        .await
        .code(EXIT_NEO4J_FAILED);
    assert!(r.stderr.contains("offline"), "{}", r.explain());
    assert_eq!(
        s.run(&["alias", "get-target", "customer1"]).await.ok().stdout.trim(),
        BLUE
    );
    s.run(&["alias", "get-target", "customer7"]).await.code(EXIT_NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_database_needs_yes_without_a_terminal_and_force_past_aliases() {
    let s = Setup::new().await;
    let r = s.run(&["alias", "drop-database", GREEN]).await.code(EXIT_USAGE);
    assert!(r.stderr.contains("--yes"), "{}", r.explain());
    let r = s.run(&["alias", "drop-database", BLUE, "--yes"]).await.code(EXIT_USAGE);
    assert!(
        r.stderr.contains("customer1") && r.stderr.contains("--force"),
        "{}",
        r.explain()
    );

    s.run(&["alias", "drop-database", GREEN, "--yes"]).await.ok();
    let r = s
        .run(&["alias", "drop-database", BLUE, "--yes", "--force", "--destroy-data"])
        .await
        .ok();
    assert!(r.stdout.contains("alias customer1 dropped"), "{}", r.explain());
    assert!(s.server.query_log().iter().any(|q| q.contains("DESTROY DATA")));
    let r = s.run(&["alias", "list", "--json"]).await.ok();
    assert_eq!(common::json_contract::items(&r.stdout, "aliases"), Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_exits_neo4j_unavailable_and_never_prints_it() {
    let s = Setup::with_password("not-the-password-42").await;
    let r = s.run(&["alias", "list"]).await.code(EXIT_NEO4J_UNAVAILABLE);
    assert!(
        r.stderr.contains("password"),
        "the message names the fix: {}",
        r.explain()
    );
    assert!(!r.stderr.contains("not-the-password-42") && !r.stdout.contains("not-the-password-42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_on_the_command_line_is_refused() {
    let s = Setup::new().await;
    let r = s
        .run(&["--set", "neo4j.password=oops", "alias", "list"])
        .await
        .code(EXIT_USAGE);
    assert!(!r.stderr.contains("oops"), "{}", r.explain());
}
