//! A blue/green Neo4j world for tests: the Bolt double with customers, the
//! neo4j-admin double as neo4j-admin, a LocalStack bucket and a config tying
//! them together, plus a fake free-space source.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bolt_double::{BoltDouble, Running};
use graphvault::config::Config;
use graphvault::model::{BackupManifest, ManifestKey};
use graphvault::neo4j::{BoltCatalog, BoltSettings, Password, ProcessAdmin};
use graphvault::ops::backup_run::{backup_run, BackupRunRequest, FreeSpace, RunContext, RunReport, StatvfsFreeSpace};
use graphvault::ops::restore_db::{restore_db, RestoreContext, RestoreDbRequest, RestoreOutcome};
use graphvault::ops::{list_backups, read_manifest_unverified, BackupFilter, OpsError};
use graphvault::pipeline::Identities;
use graphvault::store::ObjectStore;
use tempfile::TempDir;

/// Free space as the test says, per database folder.
pub struct FakeFree {
    pub tight: Vec<String>,
}

impl FreeSpace for FakeFree {
    fn available(&self, dir: &Path) -> std::io::Result<u64> {
        let name = dir.file_name().unwrap().to_string_lossy();
        Ok(if self.tight.iter().any(|t| *t == name) {
            512 << 10
        } else {
            1 << 40
        })
    }
}

/// A server, a bucket, a staging dir and a config tying them together.
pub struct World {
    pub server: Running,
    pub store: Arc<dyn ObjectStore>,
    s3: graphvault::store::S3Store,
    pub config: Config,
    pub work: TempDir,
    pub key: super::TestKey,
}

impl World {
    /// `pairs` blue/green customers (alias → green), plus `unaliased`.
    pub async fn new(pairs: usize, extra_toml: &str) -> Self {
        Self::on_servers(1, pairs, extra_toml).await
    }

    /// The same world on a cluster of `servers` servers (the Bolt double's
    /// `cluster` mode: every database on every server, three primaries and
    /// the rest secondaries).
    pub async fn on_servers(servers: usize, pairs: usize, extra_toml: &str) -> Self {
        let mut builder = BoltDouble::builder().user("neo4j").password("pw").cluster(servers);
        for i in 1..=pairs {
            builder = builder
                .database(&format!("customer{i}-1700000000"))
                .database(&format!("customer{i}-1800000000"))
                .alias(&format!("customer{i}"), &format!("customer{i}-1800000000"));
        }
        let server = builder.database("scratch-1").start().await.unwrap();
        let (store, bucket) = super::s3_store_with_bucket("gv").await;
        let key = super::TestKey::new();
        let work = tempfile::tempdir().unwrap();
        let text = format!(
            "[storage]\nurl = \"s3://{bucket}/gv\"\nendpoint = \"{}\"\nforce_path_style = true\n\
             [encryption]\nrecipients = [\"{}\"]\n\
             [neo4j]\nbolt_uri = \"{}\"\nadmin_path = \"{}\"\n\
             [backup]\nstaging_dir = \"{}\"\nmin_free_mib = 1\n{extra_toml}\n{}",
            super::endpoint(),
            key.recipient,
            server.uri(),
            super::workspace_bin("neo4j-admin").display(),
            work.path().join("staging").display(),
            super::signing_toml(),
        );
        let path = work.path().join("graphvault.toml");
        std::fs::write(&path, text).unwrap();
        let config = graphvault::config::load(Some((path, true)), Vec::new(), &[]).unwrap();
        Self {
            server,
            store: Arc::new(store.clone()),
            s3: store,
            config,
            work,
            key,
        }
    }

    /// The bucket's S3 store itself (for raw client calls in tests).
    pub fn s3(&self) -> &graphvault::store::S3Store {
        &self.s3
    }

    /// A client of the Bolt double.
    pub fn catalog(&self) -> BoltCatalog {
        BoltCatalog::connect(BoltSettings {
            uri: self.server.uri(),
            user: "neo4j".into(),
            password: Password::new("pw"),
            connect_timeout: std::time::Duration::from_secs(2),
            query_timeout: std::time::Duration::from_secs(10),
        })
        .unwrap()
    }

    /// The neo4j-admin double, logging to `admin.jsonl`, restoring into `data/`.
    pub fn admin(&self, env: &[(&str, &str)]) -> ProcessAdmin {
        let mut admin = self.config.neo4j.admin.clone();
        admin.env = vec![
            ("NEO4J_ADMIN_DOUBLE_SIZE".into(), "200000".into()),
            (
                "NEO4J_ADMIN_DOUBLE_LOG".into(),
                self.work.path().join("admin.jsonl").display().to_string(),
            ),
            (
                "NEO4J_ADMIN_DOUBLE_DATA".into(),
                self.work.path().join("data").display().to_string(),
            ),
        ];
        admin
            .env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ProcessAdmin::new(admin)
    }

    /// The neo4j-admin invocations so far (argv lists).
    pub fn admin_calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.work.path().join("admin.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    pub fn staging(&self, db: &str) -> PathBuf {
        self.work.path().join("staging").join(db)
    }

    /// One run with the double told `env` (e.g. NEO4J_ADMIN_DOUBLE_FAIL).
    pub async fn run(
        &self,
        req: &BackupRunRequest,
        env: &[(&str, &str)],
        free: &dyn FreeSpace,
    ) -> Result<RunReport, OpsError> {
        let catalog = BoltCatalog::connect(BoltSettings {
            uri: self.server.uri(),
            user: "neo4j".into(),
            password: Password::new("pw"),
            connect_timeout: std::time::Duration::from_secs(2),
            query_timeout: std::time::Duration::from_secs(10),
        })
        .unwrap();
        let mut admin = self.config.neo4j.admin.clone();
        admin.env = vec![
            ("NEO4J_ADMIN_DOUBLE_SIZE".into(), "200000".into()),
            (
                "NEO4J_ADMIN_DOUBLE_LOG".into(),
                self.work.path().join("admin.jsonl").display().to_string(),
            ),
        ];
        admin
            .env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let admin = ProcessAdmin::new(admin);
        let ctx = RunContext {
            store: self.store.clone(),
            config: &self.config,
            catalog: &catalog,
            admin: &admin,
            free_space: free,
            host: "test-host".into(),
            progress: graphvault::ops::progress::ProgressStyle::Lines {
                every: std::time::Duration::from_millis(50),
            },
        };
        backup_run(&ctx, req).await
    }

    /// `restore_db` on this world's Neo4j and bucket, with `config` (e.g. a
    /// fresh restore host's) and `identities`.
    pub async fn restore(
        &self,
        config: &Config,
        identities: Arc<Identities>,
        req: &RestoreDbRequest,
    ) -> Result<RestoreOutcome, OpsError> {
        let catalog = self.catalog();
        let admin = self.admin(&[]);
        let ctx = RestoreContext {
            store: self.store.clone(),
            config,
            identities,
            catalog: &catalog,
            admin: &admin,
            free_space: &StatvfsFreeSpace,
            progress: graphvault::ops::progress::ProgressStyle::Off,
            host: "restore-host".into(),
        };
        restore_db(&ctx, req).await
    }

    pub async fn manifests(&self) -> Vec<(ManifestKey, BackupManifest)> {
        let mut out = Vec::new();
        for k in list_backups(self.store.as_ref(), &BackupFilter::default())
            .await
            .unwrap()
        {
            let m = read_manifest_unverified(self.store.as_ref(), &k).await.unwrap();
            out.push((k, m));
        }
        out
    }
}
