//! `verify` at its three depths on LocalStack: stored checksums without an
//! identity, decrypted artifacts with one, neo4j-admin's checks with --deep;
//! and every kind of damage named with its object.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use graphvault::config::Config;
use graphvault::model::BackupManifest;
use graphvault::neo4j::{AdminSettings, BackupRequest, BackupType, Neo4jAdmin, ProcessAdmin};
use graphvault::ops::verify::{select, verify, VerifyContext, Which};
use graphvault::ops::{backup_artifacts, progress::ProgressStyle, ArtifactBackupRequest};
use graphvault::store::{ObjectStore, S3Store};

const PREFIX: &str = "gv";

fn config(recipient: &str) -> Config {
    let mut sets = vec![
        "storage.url=s3://unused".to_string(),
        format!("encryption.recipients={recipient}"),
    ];
    sets.extend(common::signing_sets());
    graphvault::config::load(None, Vec::new(), &sets).expect("config")
}

fn admin(dir: &Path, fail: &str) -> ProcessAdmin {
    ProcessAdmin::new(AdminSettings {
        binary: common::workspace_bin("neo4j-admin"),
        extra_args: vec![],
        from: vec![],
        pagecache: None,
        temp_path: None,
        timeout: Duration::from_secs(60),
        env: vec![
            ("NEO4J_ADMIN_DOUBLE_SIZE".into(), "100000".into()),
            ("NEO4J_ADMIN_DOUBLE_DATA".into(), dir.join("data").display().to_string()),
            ("NEO4J_ADMIN_DOUBLE_FAIL".into(), fail.into()),
        ],
        run_dir: Some(dir.to_path_buf()),
        stop_grace: Duration::from_secs(10),
    })
}

struct Fixture {
    s3: S3Store,
    store: Arc<dyn ObjectStore>,
    key: common::TestKey,
    work: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let (s3, _bucket) = common::s3_store_with_bucket(PREFIX).await;
        Self {
            store: Arc::new(s3.clone()),
            s3,
            key: common::TestKey::new(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// A backup of `db` made by the neo4j-admin double, sealed and committed.
    async fn backup(&self, db: &str) -> BackupManifest {
        let dir = self.work.path().join(format!("art-{db}-{}", rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = admin(self.work.path(), "")
            .backup(&BackupRequest {
                database: db.parse().unwrap(),
                to_path: dir,
                backup_type: BackupType::Full,
                compress: None,
                include_metadata: None,
                from: Vec::new(),
            })
            .await
            .unwrap();
        let req = ArtifactBackupRequest {
            artifacts: out.artifacts,
            database: db.parse().unwrap(),
            alias: Some(db.split('-').next().unwrap().parse().unwrap()),
            labels: vec![],
            neo4j: None,
            progress: ProgressStyle::Off,
            lease_lost: None,
        };
        backup_artifacts(self.store.clone(), &config(&self.key.recipient), &req)
            .await
            .unwrap()
    }

    async fn overwrite(&self, key: &str, body: Vec<u8>) {
        self.s3
            .client()
            .put_object()
            .bucket(self.s3.bucket())
            .key(format!("{PREFIX}/{key}"))
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }

    async fn object(&self, key: &str) -> Vec<u8> {
        graphvault::store::get_all(self.store.as_ref(), key)
            .await
            .unwrap()
            .to_vec()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intact_backups_verify_at_every_depth() {
    let f = Fixture::new().await;
    f.backup("customer1-1700000000").await;
    f.backup("customer2-1700000000").await;
    let trust = config(&f.key.recipient).signing.trust().unwrap();
    let keys = select(f.store.as_ref(), &trust, None, &Which::Latest)
        .await
        .unwrap()
        .keys;
    assert_eq!(keys.len(), 2);
    let a = admin(f.work.path(), "");
    for ctx in [
        VerifyContext {
            store: f.store.clone(),
            trust: config(&f.key.recipient).signing.trust().unwrap(),
            identities: None,
            deep: None,
        },
        VerifyContext {
            store: f.store.clone(),
            trust: config(&f.key.recipient).signing.trust().unwrap(),
            identities: Some(f.key.identities()),
            deep: None,
        },
        VerifyContext {
            store: f.store.clone(),
            trust: config(&f.key.recipient).signing.trust().unwrap(),
            identities: Some(f.key.identities()),
            deep: Some((&a as &dyn Neo4jAdmin, f.work.path().join("staging"))),
        },
    ] {
        let results = verify(&ctx, &keys).await;
        assert!(results.iter().all(|r| r.ok()), "{results:?}");
    }
    let scratch = std::fs::read_dir(f.work.path().join("staging")).unwrap().count();
    assert_eq!(scratch, 0, "the deep scratch copies are removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_damage_is_named_with_its_object() {
    let f = Fixture::new().await;
    let flipped = f.backup("customer1-1700000000").await;
    let truncated = f.backup("customer2-1700000000").await;
    let swapped = f.backup("customer3-1700000000").await;
    let missing = f.backup("customer4-1700000000").await;
    let intact = f.backup("customer5-1700000000").await;

    let k = &flipped.artifacts[0].key;
    let mut body = f.object(k).await;
    let mid = body.len() / 2;
    body[mid] ^= 0x40;
    f.overwrite(k, body).await;
    let k = &truncated.artifacts[0].key;
    let body = f.object(k).await;
    f.overwrite(k, body[..body.len() - 100].to_vec()).await;
    let other = f.object(&intact.artifacts[0].key).await;
    f.overwrite(&swapped.artifacts[0].key, other).await;
    f.store.delete(&missing.artifacts[0].key).await.unwrap();

    let trust = config(&f.key.recipient).signing.trust().unwrap();
    let keys = select(f.store.as_ref(), &trust, None, &Which::All).await.unwrap().keys;
    for identities in [None, Some(f.key.identities())] {
        let ctx = VerifyContext {
            store: f.store.clone(),
            trust: config(&f.key.recipient).signing.trust().unwrap(),
            identities,
            deep: None,
        };
        let results = verify(&ctx, &keys).await;
        let by_db = |db: &str| results.iter().find(|r| r.database == db).unwrap();
        for (db, what) in [
            ("customer1-1700000000", "sha256"),
            ("customer2-1700000000", "bytes"),
            ("customer3-1700000000", "stored object"),
            ("customer4-1700000000", "cannot download"),
        ] {
            let r = by_db(db);
            assert!(!r.ok(), "{db}");
            let problem = r.objects[0].problem.clone().unwrap();
            assert!(
                problem.contains(what) && problem.contains(&r.objects[0].key),
                "{db}: {problem}"
            );
        }
        assert!(by_db("customer5-1700000000").ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_verify_reports_what_neo4j_admin_found() {
    let f = Fixture::new().await;
    f.backup("customer1-1700000000").await;
    let trust = config(&f.key.recipient).signing.trust().unwrap();
    let keys = select(
        f.store.as_ref(),
        &trust,
        Some(&"customer1".parse().unwrap()),
        &Which::Latest,
    )
    .await
    .unwrap()
    .keys;
    let a = admin(f.work.path(), "customer1-1700000000:inconsistent");
    let ctx = VerifyContext {
        store: f.store.clone(),
        trust: config(&f.key.recipient).signing.trust().unwrap(),
        identities: Some(f.key.identities()),
        deep: Some((&a as &dyn Neo4jAdmin, f.work.path().join("staging"))),
    };
    let results = verify(&ctx, &keys).await;
    let problem = results[0].problem.clone().unwrap_or_default();
    assert!(problem.contains("Inconsistencies"), "{results:?}");
}
