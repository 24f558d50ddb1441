//! `graphvault doctor` on LocalStack with the Neo4j doubles: a healthy setup,
//! then a lifecycle rule that would expire backups early, stale backups and
//! a missing Neo4j, each reported with its fix and exit code 14.

mod common;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use common::cli::*;
use common::cli_world::{Setup, SMALL};
use serde_json::Value;

const EXIT_UNHEALTHY: i32 = 14;

fn errors(r: &Run) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.explain()));
    all.into_iter().filter(|f| f["severity"] == "error").collect()
}

async fn lifecycle(s: &Setup, expire_days: Option<i32>) {
    let mut rule = LifecycleRule::builder()
        .id("graphvault-test")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        );
    if let Some(d) = expire_days {
        rule = rule.expiration(LifecycleExpiration::builder().days(d).build());
    }
    s.store
        .client()
        .put_bucket_lifecycle_configuration()
        .bucket(s.store.bucket())
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule.build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_setup_passes_and_each_problem_is_named_with_its_fix() {
    let s = Setup::new(SMALL).await;
    // Before any backup: every alias lacks one.
    let r = s.run(&["doctor", "--json"]).await.code(EXIT_UNHEALTHY);
    let e = errors(&r);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e.iter()
            .all(|f| f["message"].as_str().unwrap().contains("has no backup")),
        "{e:?}"
    );

    s.run(&["backup"]).await.ok();
    lifecycle(&s, None).await;
    let r = s.run(&["doctor"]).await.ok();
    assert!(
        r.stdout.contains("lifecycle") && r.stdout.contains("agree"),
        "{}",
        r.explain()
    );
    assert!(
        r.stdout.contains("can delete"),
        "the writer-role warning: {}",
        r.explain()
    );

    // A rule expiring objects after 30 days contradicts 12 monthly backups.
    lifecycle(&s, Some(30)).await;
    let r = s.run(&["doctor", "--json"]).await.code(EXIT_UNHEALTHY);
    let e = errors(&r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["check"], "lifecycle");
    assert!(e[0]["fix"].as_str().is_some());

    // Backups older than allowed, and a Neo4j that does not answer.
    lifecycle(&s, None).await;
    let r = s
        .run(&["doctor", "--max-age-hours", "0", "--json"])
        .await
        .code(EXIT_UNHEALTHY);
    assert_eq!(errors(&r).len(), 3, "three stale aliases");
    let r = s
        .run(&[
            "--set",
            "neo4j.bolt_uri=bolt://127.0.0.1:1",
            "--set",
            "neo4j.connect_timeout_secs=1",
            "doctor",
            "--json",
        ])
        .await
        .code(EXIT_UNHEALTHY);
    let e = errors(&r);
    assert!(e.iter().any(|f| f["check"] == "bolt"), "{e:?}");
    s.run(&["doctor", "--no-neo4j"]).await.ok();
}
