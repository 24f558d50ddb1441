//! When the bucket's versioning or object lock cannot be read (a role
//! without s3:GetBucketVersioning, a store answering 501), graphvault fails
//! closed: `prune` deletes nothing and exits 15 naming the request and the
//! fix, `doctor` reports "unknown" as an error, `lifecycle suggest` refuses;
//! a setting stated in config (`[retention] assume_*`) is used instead, and
//! logged. The fault proxy (`common::s3_proxy`) answers the bucket-setting
//! requests; everything else reaches LocalStack.

mod common;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use common::cli::{Run, EXIT_OK};
use common::cli_world::{Setup, SMALL};
use common::s3_proxy::{Action, S3Op, S3Proxy};
use serde_json::Value;

const EXIT_UNHEALTHY: i32 = 14;
const EXIT_PROTECTION_UNKNOWN: i32 = 15;

const DENIED: Action = Action::Error {
    status: 403,
    code: "AccessDenied",
};
const NOT_IMPLEMENTED: Action = Action::Error {
    status: 501,
    code: "NotImplemented",
};

/// Every version and delete marker under the store's prefix: (key, version
/// id, is a delete marker), sorted.
async fn versions(s: &Setup) -> Vec<(String, String, bool)> {
    let out = s
        .store
        .client()
        .list_object_versions()
        .bucket(s.store.bucket())
        .prefix("gv/")
        .send()
        .await
        .unwrap();
    let mut all: Vec<(String, String, bool)> = out
        .versions()
        .iter()
        .map(|v| (v.key().unwrap_or("").into(), v.version_id().unwrap_or("").into(), false))
        .chain(
            out.delete_markers()
                .iter()
                .map(|m| (m.key().unwrap_or("").into(), m.version_id().unwrap_or("").into(), true)),
        )
        .collect();
    all.sort();
    all
}

fn assert_mentions(r: &Run, phrases: &[&str]) {
    for p in phrases {
        assert!(r.stderr.contains(p), "stderr does not mention {p:?}: {}", r.explain());
    }
}

/// A versioned bucket with two backups of customer1 taken the same day: the
/// retention policy deletes the older one.
async fn versioned_with_one_backup_to_prune(proxy: &S3Proxy) -> Setup {
    let s = Setup::via(SMALL, &proxy.endpoint).await;
    s.store
        .client()
        .put_bucket_versioning()
        .bucket(s.store.bucket())
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        s.run(&["backup", "--alias", "customer1"]).await.ok();
    }
    let plan = s.run(&["prune", "--dry-run", "--json"]).await.ok();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let deletes = plan["plan"]["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["action"] == "delete")
        .count();
    assert_eq!(deletes, 1, "{plan}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_nothing_when_versioning_or_object_lock_cannot_be_read_unless_config_states_it() {
    let proxy = S3Proxy::start().await;
    let s = versioned_with_one_backup_to_prune(&proxy).await;
    let before = versions(&s).await;
    let deletes_before = proxy.seen().iter().filter(|r| r.op == S3Op::Delete).count();

    // A role without s3:GetBucketVersioning: refused, dry run or not.
    proxy.inject(S3Op::GetVersioning, 0, usize::MAX, DENIED);
    for args in [&["prune"][..], &["prune", "--dry-run"][..]] {
        let r = s.run(args).await.code(EXIT_PROTECTION_UNKNOWN);
        assert_mentions(
            &r,
            &[
                "prune deleted nothing",
                "the versioning of s3://",
                "GetBucketVersioning: HTTP 403 AccessDenied",
                "grant this role s3:GetBucketVersioning",
                "[retention] assume_versioning = true|false",
            ],
        );
    }
    // A store that does not implement GetObjectLockConfiguration: the same.
    proxy.clear();
    proxy.inject(S3Op::GetObjectLock, 0, usize::MAX, NOT_IMPLEMENTED);
    let r = s.run(&["prune"]).await.code(EXIT_PROTECTION_UNKNOWN);
    assert_mentions(
        &r,
        &[
            "prune deleted nothing",
            "the object lock of s3://",
            "GetObjectLockConfiguration: HTTP 501 NotImplemented",
            "grant this role s3:GetBucketObjectLockConfiguration",
            "assume_object_lock = true|false",
        ],
    );
    assert!(
        proxy
            .seen()
            .iter()
            .any(|r| r.op == S3Op::GetObjectLock && r.fault.is_some()),
        "the 501 was answered"
    );
    assert_eq!(versions(&s).await, before, "no version deleted, no delete marker added");
    let deletes = proxy.seen().iter().filter(|r| r.op == S3Op::Delete).count();
    assert_eq!(deletes, deletes_before, "no DELETE was sent");

    // The operator states the setting the role cannot read: prune goes on,
    // says so, and removes every version of the backup it deletes.
    proxy.clear();
    proxy.inject(S3Op::GetVersioning, 0, usize::MAX, DENIED);
    let r = s
        .run(&["--set", "retention.assume_versioning=true", "prune"])
        .await
        .code(EXIT_OK);
    assert_mentions(&r, &["retention.assume_versioning", "using the value config states"]);
    assert!(r.stdout.contains("deleted 1 backup(s)"), "{}", r.explain());
    let after = versions(&s).await;
    assert!(after.len() < before.len(), "{after:?}");
    assert!(
        after.iter().all(|(_, _, marker)| !marker),
        "no delete marker left: {after:?}"
    );
    assert_eq!(s.committed().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_unreadable_settings_as_unknown_errors_and_lifecycle_suggest_refuses() {
    let proxy = S3Proxy::start().await;
    let s = Setup::via(SMALL, &proxy.endpoint).await;
    let bucket_finding = |r: &Run| -> Value {
        common::json_contract::items(&r.stdout, "findings")
            .into_iter()
            .find(|f| f["check"] == "bucket")
            .expect("a bucket finding")
    };
    let r = s.run(&["doctor", "--no-neo4j", "--json"]).await;
    assert_eq!(bucket_finding(&r)["message"], "versioning off, object lock off");

    proxy.inject(S3Op::GetVersioning, 0, usize::MAX, DENIED);
    proxy.inject(S3Op::GetObjectLock, 0, usize::MAX, NOT_IMPLEMENTED);
    let r = s.run(&["doctor", "--no-neo4j", "--json"]).await.code(EXIT_UNHEALTHY);
    let f = bucket_finding(&r);
    assert_eq!(f["severity"], "error", "{f}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("versioning unknown, object lock unknown: access denied during GetBucketVersioning"),
        "{message}"
    );
    assert!(
        message.contains("HTTP 501 NotImplemented") && !message.contains(" off"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("s3:GetBucketVersioning and s3:GetBucketObjectLockConfiguration"),
        "{fix}"
    );
    let all = common::json_contract::items(&r.stdout, "findings");
    let credentials = all.iter().find(|f| f["check"] == "credentials").unwrap();
    assert!(
        credentials["message"]
            .as_str()
            .unwrap()
            .contains("whether object lock protects them is unknown"),
        "{credentials}"
    );

    // `lifecycle suggest` needs versioning (noncurrent-version expiration).
    let r = s
        .run(&["lifecycle", "suggest", "--json"])
        .await
        .code(EXIT_PROTECTION_UNKNOWN);
    assert_mentions(
        &r,
        &[
            "no lifecycle rules were suggested",
            "GetBucketVersioning",
            "assume_versioning",
        ],
    );
    assert!(r.stdout.is_empty(), "{}", r.explain());
    let r = s
        .run(&[
            "--set",
            "retention.assume_versioning=true",
            "lifecycle",
            "suggest",
            "--json",
        ])
        .await
        .code(EXIT_OK);
    assert!(r.stdout.contains("NoncurrentVersionExpiration"), "{}", r.explain());
}

/// S3's own "not set" answers (LocalStack gives AWS's) still read as off:
/// the narrowed classification does not turn them into errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_are_simply_not_set_read_as_off_on_plain_and_locked_buckets() {
    use graphvault::store::{ObjectStore, PutMode};
    use sha2::{Digest, Sha256};
    let (plain, _) = common::s3_store_with_bucket("gv").await;
    let bucket = common::unique("gv-lock");
    let locked = graphvault::store::S3Store::connect(&common::s3_settings(&bucket, "gv")).await;
    locked
        .client()
        .create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    for (store, on) in [(&plain, false), (&locked, true)] {
        let body: &'static [u8] = b"x";
        let sha: [u8; 32] = Sha256::digest(body).into();
        store.put("data/x", body.into(), sha, PutMode::Overwrite).await.unwrap();
        assert_eq!(store.versioning().await.unwrap(), on, "{}", store.location());
        assert_eq!(store.object_lock().await.unwrap(), on, "{}", store.location());
        let p = store.protection("data/x").await.unwrap();
        assert_eq!(p, Default::default(), "{}", store.location());
    }
}
