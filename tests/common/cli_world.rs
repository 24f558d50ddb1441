//! The binary in a blue/green world: three customers on the Bolt double,
//! the neo4j-admin double as neo4j-admin (logging to `admin.jsonl`,
//! restoring into `data/`), a LocalStack bucket, and a config file.
#![allow(dead_code)]

use std::path::PathBuf;

use bolt_double::{BoltDouble, Running};
use graphvault::ops::{list_backups, BackupFilter};
use graphvault::store::S3Store;
use tempfile::TempDir;

use super::cli::{graphvault, run, Run, EXIT_BUSY};

/// Small artifacts for the runs that are not about size.
pub const SMALL: &str = "NEO4J_ADMIN_DOUBLE_SIZE = \"300000\"";

pub struct Setup {
    pub server: Running,
    pub store: S3Store,
    pub work: TempDir,
    pub config: PathBuf,
    pub key: super::TestKey,
}

impl Setup {
    /// Three customers (blue/green each), the doubles, a bucket, a config;
    /// `admin_env` is the inside of the neo4j-admin double's env table.
    pub async fn new(admin_env: &str) -> Self {
        Self::via(admin_env, &super::endpoint()).await
    }

    /// The same, with graphvault talking to S3 through `endpoint` (a proxy);
    /// the bucket is made (and `store` reads it) directly on LocalStack.
    pub async fn via(admin_env: &str, endpoint: &str) -> Self {
        Self::with(admin_env, endpoint, "pw").await
    }

    /// The same, with this Bolt password (in the password file).
    pub async fn with(admin_env: &str, endpoint: &str, password: &str) -> Self {
        let mut b = BoltDouble::builder().user("neo4j").password(password);
        for i in 1..=3 {
            b = b
                .database(&format!("customer{i}-1700000000"))
                .database(&format!("customer{i}-1800000000"))
                .alias(&format!("customer{i}"), &format!("customer{i}-1800000000"));
        }
        let server = b.start().await.unwrap();
        let (store, bucket) = super::s3_store_with_bucket("gv").await;
        let key = super::TestKey::new();
        let work = tempfile::tempdir().unwrap();
        let pw = work.path().join("pw");
        std::fs::write(&pw, password).unwrap();
        std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let config = work.path().join("graphvault.toml");
        std::fs::write(
            &config,
            format!(
                "[storage]\nurl = \"s3://{bucket}/gv\"\nendpoint = \"{}\"\nforce_path_style = true\n\
                 [encryption]\nrecipients = [\"{}\"]\n\
                 [upload]\npart_size_mib = 5\nconcurrency = 1\n\
                 [neo4j]\nbolt_uri = \"{}\"\npassword_file = \"{}\"\nadmin_path = \"{}\"\n\
                 admin_env = {{ {admin_env} }}\n\
                 [backup]\nstaging_dir = \"{}\"\nmin_free_mib = 1\nprogress_interval_secs = 1\n{}",
                endpoint,
                key.recipient,
                server.uri(),
                pw.display(),
                super::workspace_bin("neo4j-admin").display(),
                work.path().join("staging").display(),
                super::signing_toml(),
            ),
        )
        .unwrap();
        Self {
            server,
            store,
            work,
            config,
            key,
        }
    }

    /// A world whose neo4j-admin backup of customer1 runs for two minutes,
    /// its processes writing their pids into `pids`.
    pub async fn slow(pids: &std::path::Path) -> Self {
        Self::new(&format!(
            "{SMALL}, NEO4J_ADMIN_DOUBLE_PID_DIR = \"{}\", NEO4J_ADMIN_DOUBLE_FAIL = \"customer1-1800000000:slow:120\"",
            pids.display()
        ))
        .await
    }

    /// Starts `graphvault [global] backup --alias customer1`, its log going to a file.
    pub fn start_backup(&self, global: &[&str]) -> (std::process::Child, PathBuf) {
        let log = self.work.path().join("graphvault.log");
        let child = self
            .command(&[global, &["backup", "--alias", "customer1"]].concat())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (child, log)
    }

    /// Replaces the neo4j-admin double's environment in the config file
    /// (the inside of `admin_env = { … }`), for the runs that follow.
    pub fn set_admin_env(&self, env: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let start = text.find("admin_env = {").expect("an admin_env line");
        let end = start + text[start..].find('\n').unwrap();
        let text = format!("{}admin_env = {{ {env} }}{}", &text[..start], &text[end..]);
        std::fs::write(&self.config, text).unwrap();
    }

    /// Neo4j answers the node and relationship count queries a backup
    /// records (as a real server does; the double answers only what it is told).
    pub fn answer_counts(&self, nodes: i64, relationships: i64) {
        use graphvault::neo4j::{NODE_COUNT_QUERY, RELATIONSHIP_COUNT_QUERY};
        for (q, column, n) in [
            (NODE_COUNT_QUERY, "nodes", nodes),
            (RELATIONSHIP_COUNT_QUERY, "relationships", relationships),
        ] {
            self.server
                .canned_query("*", q, &[column], vec![vec![bolt_double::Value::Int(n)]]);
        }
    }

    /// The config of a restore host (README, "Two kinds of host"): the same
    /// bucket and Neo4j, the identity file, the trusted signing key, its own
    /// staging; no recipients and no signing key, so it can take no backup.
    pub fn restore_host_config(&self) -> PathBuf {
        let staging = self.work.path().join("restore-host-staging");
        let text: String = std::fs::read_to_string(&self.config)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("recipients =") && !l.starts_with("key_file ="))
            .map(|l| match l {
                "[encryption]" => format!(
                    "[encryption]\nidentity_file = \"{}\"\n",
                    self.key.identity_path.display()
                ),
                l if l.starts_with("staging_dir =") => format!("staging_dir = \"{}\"\n", staging.display()),
                l => format!("{l}\n"),
            })
            .collect();
        let path = self.work.path().join("restore-host.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `graphvault [args]` with the config at `config`.
    pub async fn run_with(&self, config: &std::path::Path, args: &[&str]) -> Run {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(config).args(args);
        tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(&self.config).args(args);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let cmd = self.command(args);
        tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
    }

    /// Runs `cmd()` until it is no longer refused for a lease another run
    /// holds (exit 12), e.g. until a killed run's lease expired by the
    /// store's clock; `BOUND` only guards against a hang.
    pub async fn run_when_free(&self, cmd: impl Fn() -> std::process::Command) -> Run {
        let deadline = std::time::Instant::now() + super::processes::BOUND;
        loop {
            let c = cmd();
            let r = tokio::task::spawn_blocking(move || run(c)).await.unwrap();
            if r.code != EXIT_BUSY || std::time::Instant::now() > deadline {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The id of the first backup `list --json` shows.
    pub async fn first_backup_id(&self) -> String {
        let list = self.run(&["list", "--json"]).await.ok();
        let backups = super::json_contract::items(&list.stdout, "backups");
        backups[0]["backup_id"].as_str().expect("a backup").to_string()
    }

    /// `restore --backup ID --to-dir DIR --identity <the test identity>`.
    pub fn restore_args(&self, id: &str, dir: &std::path::Path) -> Vec<String> {
        [
            "restore",
            "--backup",
            id,
            "--to-dir",
            &dir.display().to_string(),
            "--identity",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([self.key.identity_path.display().to_string()])
        .collect()
    }

    pub async fn committed(&self) -> Vec<String> {
        list_backups(&self.store, &BackupFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.database.to_string())
            .collect()
    }
}
