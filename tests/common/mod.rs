//! Shared test harness: LocalStack S3 buckets (one per test, so tests run in
//! parallel), filesystem stores, keys and artifact data.
//!
//! LocalStack must be running (`localstack/up.sh`, done by `scripts/test.sh`):
//! a test that cannot reach it FAILS, it is never skipped.
#![allow(dead_code)]

pub mod admin_double;
pub mod cli;
pub mod cli_world;
pub mod json_contract;
pub mod processes;
pub mod s3_proxy;
pub mod webhook;
pub mod world;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use graphvault::pipeline::{generate_identity, Identities, Recipients};
use graphvault::store::{FsStore, ObjectStore, RetryPolicy, S3Settings, S3Store};
use rand::{Rng, RngCore, SeedableRng};

/// LocalStack's endpoint; `GV_TEST_S3_ENDPOINT` overrides.
pub fn endpoint() -> String {
    std::env::var("GV_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".into())
}

static ENV: Once = Once::new();

/// LocalStack accepts any credentials; the SDK still wants some.
pub fn test_credentials() {
    ENV.call_once(|| {
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ] {
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    });
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::thread_rng().gen::<u32>())
}

pub fn s3_settings(bucket: &str, prefix: &str) -> S3Settings {
    S3Settings {
        bucket: bucket.into(),
        prefix: prefix.into(),
        endpoint: Some(endpoint()),
        region: Some("us-east-1".into()),
        force_path_style: true,
        connect_timeout: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(120),
        list_page_size: 1000,
    }
}

/// A fresh bucket on LocalStack and a store on it under `prefix`.
pub async fn s3_store_with_bucket(prefix: &str) -> (S3Store, String) {
    test_credentials();
    let bucket = unique("gv-test");
    let store = S3Store::connect(&s3_settings(&bucket, prefix)).await;
    store
        .client()
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "LocalStack S3 at {} is not reachable or refused CreateBucket ({}). Start it with localstack/up.sh \
                 (scripts/test.sh does this); integration tests never skip.",
                endpoint(),
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    (store, bucket)
}

pub async fn s3_store() -> Arc<dyn ObjectStore> {
    Arc::new(s3_store_with_bucket("graphvault/test").await.0)
}

pub fn fs_store() -> (Arc<dyn ObjectStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    (Arc::new(FsStore::new(dir.path().join("store")).expect("fs store")), dir)
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

/// A fresh identity file and its recipient.
pub struct TestKey {
    pub dir: tempfile::TempDir,
    pub identity_path: PathBuf,
    pub recipient: String,
}

impl TestKey {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let identity_path = dir.path().join("identity.txt");
        let recipient = generate_identity(&identity_path).expect("generate identity");
        Self {
            dir,
            identity_path,
            recipient,
        }
    }

    pub fn recipients(&self) -> Arc<Recipients> {
        Arc::new(Recipients::parse(std::slice::from_ref(&self.recipient)).expect("recipient"))
    }

    pub fn identities(&self) -> Arc<Identities> {
        Arc::new(Identities::from_file(&self.identity_path).expect("identity"))
    }
}

/// Random (incompressible) bytes, deterministic per seed.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

/// Store-like compressible bytes: repeated records with small variations.
pub fn compressible_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(len + 64);
    let mut n = 0u64;
    while v.len() < len {
        n += 1;
        let line = format!(
            "node:{n:012} label:Customer prop:{:04} rel:KNOWS->{}\n",
            rng.gen_range(0..50),
            n / 3
        );
        v.extend_from_slice(line.as_bytes());
    }
    v.truncate(len);
    v
}

/// Writes `data` as a neo4j-admin-like artifact file in `dir`.
pub fn write_artifact(dir: &Path, db: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(format!("{db}-2026-11-24T02-00-00.backup"));
    std::fs::write(&path, data).expect("write artifact");
    path
}

/// A binary built from this workspace (the Neo4j doubles), next to the test
/// executable's `deps/` folder. `scripts/test.sh` builds them first.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the test doubles with `cargo build --workspace --bins` (scripts/test.sh does this)",
        path.display()
    );
    path
}

/// The test run's manifest signing key: one per test process, kept in a
/// directory that lives as long as the process.
pub struct TestSigning {
    pub key_file: PathBuf,
    pub public: String,
}

pub fn signing() -> &'static TestSigning {
    static KEY: std::sync::OnceLock<TestSigning> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let key_file = dir.join("signing.key");
        let public = graphvault::signing::generate_signing_key(&key_file).expect("signing key");
        TestSigning { key_file, public }
    })
}

/// `--set` overrides that sign backups with the test key and trust it.
pub fn signing_sets() -> Vec<String> {
    let s = signing();
    vec![
        format!("signing.key_file={}", s.key_file.display()),
        format!("signing.trusted_keys={}", s.public),
    ]
}

/// The same as a config file section.
pub fn signing_toml() -> String {
    let s = signing();
    format!(
        "[signing]\nkey_file = \"{}\"\ntrusted_keys = [\"{}\"]\n",
        s.key_file.display(),
        s.public
    )
}
