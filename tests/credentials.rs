//! Credential problems end at once with one message naming the fix (exit 5):
//! no credentials anywhere in the AWS chain (the real binary with the
//! credential environment unset), and credentials S3 refuses as such
//! (InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken). LocalStack
//! accepts any key, so those answers come from the fault-injecting proxy
//! (`common::s3_proxy`) in front of it. None is retried, and the SDK's list
//! of every credential provider it tried never reaches the message.

mod common;

use common::cli::{run, Run};
use common::cli_world::{Setup, SMALL};
use common::s3_proxy::{Action, S3Op, S3Proxy};

const EXIT_STORAGE: i32 = 5;

/// One error line, no retry, no credential-chain dump.
fn told_once(r: &Run) {
    assert_eq!(r.code, EXIT_STORAGE, "{}", r.explain());
    assert_eq!(r.stderr.matches("graphvault: error:").count(), 1, "{}", r.explain());
    for dump in [
        "retrying store operation",
        "Attempted:",
        "credential provider was not enabled",
    ] {
        assert!(!r.stderr.contains(dump), "{dump:?} in\n{}", r.explain());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_told_once_with_where_to_put_them() {
    let s = Setup::new(SMALL).await;
    let empty = s.work.path().join("empty-aws-file");
    std::fs::write(&empty, "").unwrap();
    for args in [&["list"][..], &["backup", "--alias", "customer1"]] {
        let mut cmd = s.command(args);
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .env("AWS_CONFIG_FILE", &empty)
            .env("HOME", s.work.path());
        let r = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
        told_once(&r);
        for fix in [
            "no AWS credentials found",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
            "instance or task role",
        ] {
            assert!(r.stderr.contains(fix), "{fix:?} in\n{}", r.explain());
        }
    }
    assert!(s.committed().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_store_refuses_are_not_retried_and_name_the_fix() {
    let proxy = S3Proxy::start().await;
    let s = Setup::via(SMALL, &proxy.endpoint).await;
    let cases = [
        (403, "InvalidAccessKeyId", "does not know this access key id"),
        (403, "SignatureDoesNotMatch", "fix AWS_SECRET_ACCESS_KEY"),
        (400, "ExpiredToken", "unset a stale AWS_SESSION_TOKEN"),
    ];
    for (status, code, fix) in cases {
        proxy.clear();
        proxy.inject(S3Op::Any, 0, 1000, Action::Error { status, code });
        let before = proxy.seen().len();
        let r = s.run(&["list"]).await;
        told_once(&r);
        assert_eq!(
            proxy.seen().len() - before,
            1,
            "{code}: one request, no retry\n{}",
            r.explain()
        );
        for phrase in [code, fix, "AWS_PROFILE"] {
            assert!(r.stderr.contains(phrase), "{code}: {phrase:?} in\n{}", r.explain());
        }
    }
}
