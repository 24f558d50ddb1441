//! `graphvault doctor` on LocalStack with the Neo4j doubles: a healthy setup,
//! then a lifecycle rule that would expire backups early, stale backups and
//! a missing Neo4j, each reported with its fix and exit code 14; a lease
//! object claiming to be held until the year 9999, reported with the exact
//! command that clears it (run here with the stock `aws` CLI); every broken
//! key (issue 19.5) is an error with its fix, and the last verify is shown.

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
    let all = common::json_contract::items(&r.stdout, "findings");
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

/// The suggested JSON, as SDK types (the shape `lifecycle suggest` prints).
fn to_sdk(v: &Value) -> BucketLifecycleConfiguration {
    use aws_sdk_s3::types::{LifecycleRuleAndOperator, NoncurrentVersionExpiration, Tag};
    let mut rules = Vec::new();
    for r in v["Rules"].as_array().unwrap() {
        let f = &r["Filter"];
        let filter = if f["And"].is_object() {
            let tags = f["And"]["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    Tag::builder()
                        .key(t["Key"].as_str().unwrap())
                        .value(t["Value"].as_str().unwrap())
                        .build()
                        .unwrap()
                })
                .collect::<Vec<_>>();
            LifecycleRuleFilter::builder()
                .and(
                    LifecycleRuleAndOperator::builder()
                        .prefix(f["And"]["Prefix"].as_str().unwrap())
                        .set_tags(Some(tags))
                        .build(),
                )
                .build()
        } else {
            LifecycleRuleFilter::builder()
                .prefix(f["Prefix"].as_str().unwrap())
                .build()
        };
        let mut b = LifecycleRule::builder()
            .id(r["ID"].as_str().unwrap())
            .status(ExpirationStatus::Enabled)
            .filter(filter);
        if let Some(d) = r["Expiration"]["Days"].as_i64() {
            b = b.expiration(LifecycleExpiration::builder().days(d as i32).build());
        }
        if let Some(d) = r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].as_i64() {
            b = b.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(d as i32)
                    .build(),
            );
        }
        if let Some(d) = r["NoncurrentVersionExpiration"]["NoncurrentDays"].as_i64() {
            b = b.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder().noncurrent_days(d as i32).build(),
            );
        }
        rules.push(b.build().unwrap());
    }
    BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suggested_lifecycle_rules_apply_and_doctor_agrees_with_them() {
    let s = Setup::new(SMALL).await;
    s.run(&["backup", "--alias", "customer1"]).await.ok();
    s.run(&["backup", "--alias", "customer2", "--label", "pre-deploy"])
        .await
        .ok();
    let r = s.run(&["lifecycle", "suggest", "--json"]).await.ok();
    let suggestion: Value = serde_json::from_str(&r.stdout).unwrap();
    s.store
        .client()
        .put_bucket_lifecycle_configuration()
        .bucket(s.store.bucket())
        .lifecycle_configuration(to_sdk(&suggestion))
        .send()
        .await
        .unwrap();
    let r = s.run(&["doctor", "--json", "--no-neo4j"]).await.ok();
    let lifecycle: Vec<Value> = common::json_contract::items(&r.stdout, "findings")
        .into_iter()
        .filter(|f| f["check"] == "lifecycle")
        .collect();
    assert!(lifecycle.iter().all(|f| f["severity"] == "ok"), "{lifecycle:?}");
    // New backups are tagged with their tier.
    let keys = graphvault::ops::list_backups(&s.store, &Default::default())
        .await
        .unwrap();
    for k in keys {
        let tags = graphvault::store::ObjectStore::get_tags(&s.store, &k.to_string())
            .await
            .unwrap();
        let want = if k.alias.as_str() == "customer2" {
            "pinned"
        } else {
            "daily"
        };
        assert_eq!(tags, [("graphvault-tier".to_string(), want.to_string())], "{k}");
    }
}

/// Anyone who can write to `locks/` (every role can) writes a lease "held"
/// until the year 9999: backups stop with exit 12 pointing at doctor, and
/// doctor names the lease and the command that removes it; that command,
/// run as printed, frees the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_claiming_the_year_9999_is_an_error_with_the_command_that_clears_it() {
    use graphvault::lease::{generation_key, Holder, LeaseRecord};
    use graphvault::store::{ObjectStore, PutMode};
    use sha2::{Digest, Sha256};

    let s = Setup::new(SMALL).await;
    s.run(&["backup"]).await.ok();
    let lease = |r: &Run| -> Vec<Value> {
        common::json_contract::items(&r.stdout, "findings")
            .into_iter()
            .filter(|f| f["check"] == "lease")
            .collect()
    };
    let r = s.run(&["doctor", "--json", "--no-neo4j"]).await;
    assert_eq!(lease(&r)[0]["severity"], "ok", "{}", r.explain());

    let holder = Holder {
        run_id: "forged".into(),
        host: "nowhere".into(),
        pid: 1,
        command: "backup".into(),
    };
    let mut record = LeaseRecord::new(2, holder, chrono::Utc::now(), chrono::Duration::minutes(10));
    record.expires_at = "9999-12-31T23:59:59Z".parse().unwrap();
    let key = generation_key("repository", 2);
    let body = record.to_json();
    let sha: [u8; 32] = Sha256::digest(&body).into();
    s.store.put(&key, body.into(), sha, PutMode::CreateOnly).await.unwrap();

    let b = s.run(&["backup", "--alias", "customer1"]).await.code(12);
    assert!(
        b.stderr.contains("lease_max_ttl_secs") && b.stderr.contains("graphvault doctor"),
        "{}",
        b.explain()
    );
    let r = s.run(&["doctor", "--json", "--no-neo4j"]).await.code(EXIT_UNHEALTHY);
    let e = errors(&r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["check"], "lease");
    assert!(e[0]["message"].as_str().unwrap().contains("9999-12-31"), "{e:?}");
    let fix = e[0]["fix"].as_str().unwrap();
    let object = format!("s3://{}/gv/{key}", s.store.bucket());
    let command = format!("aws s3 rm {object} --endpoint-url {}", common::endpoint());
    assert!(fix.ends_with(&command), "{fix}");

    let mut rm = std::process::Command::new("sh");
    rm.args(["-c", &command]);
    run(rm).ok();
    s.run(&["backup", "--alias", "customer1"]).await.ok();
    let r = s.run(&["doctor", "--json", "--no-neo4j"]).await;
    assert_eq!(lease(&r)[0]["severity"], "ok", "{}", r.explain());
}

/// The errors of a doctor run that must have failed, as "check: message".
fn failed_with(r: Run) -> Vec<String> {
    let r = r.code(EXIT_UNHEALTHY);
    errors(&r)
        .iter()
        .map(|f| {
            assert!(
                f["fix"].as_str().is_some_and(|x| !x.is_empty()),
                "an error without a fix: {f}"
            );
            format!("{}: {}", f["check"].as_str().unwrap(), f["message"].as_str().unwrap())
        })
        .collect()
}

fn finding_of(r: &Run, check: &str) -> Value {
    let doc: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.explain()));
    doc["findings"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no findings: {}", r.explain()))
        .into_iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding: {}", r.explain()))
}

/// Issue 19.5: each broken key makes doctor exit 14 naming the key and the
/// fix, on the backup host (recipients, signing key, its public half in
/// trusted_keys) and on a restore host (identity file, identity against the
/// newest backup, trusted_keys against its manifest).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_key_makes_doctor_fail_with_its_fix() {
    let s = Setup::new(SMALL).await;
    s.run(&["backup", "--alias", "customer1"]).await.ok();
    let doctor = ["doctor", "--no-neo4j", "--json"];
    let with = |sets: Vec<String>| {
        let mut args: Vec<String> = sets.into_iter().flat_map(|x| ["--set".to_string(), x]).collect();
        args.extend(doctor.iter().map(|a| a.to_string()));
        args
    };
    let run_on = |config: std::path::PathBuf, sets: Vec<String>| {
        let args = with(sets);
        let s = &s;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            s.run_with(&config, &args).await
        }
    };
    let backup_host = s.config.clone();
    let r = run_on(backup_host.clone(), vec![]).await.ok();
    assert_eq!(finding_of(&r, "keys")["severity"], "ok", "{}", r.explain());

    // An invalid recipient.
    let e = failed_with(run_on(backup_host.clone(), vec!["encryption.recipients=age1qqqqbroken".into()]).await);
    assert!(
        e.iter().any(|m| m.starts_with("keys:") && m.contains("recipient #1")),
        "{e:?}"
    );

    // A signing key that cannot be read, or that others can read.
    let gone = s.work.path().join("no-such-signing.key");
    let e = failed_with(
        run_on(
            backup_host.clone(),
            vec![format!("signing.key_file={}", gone.display())],
        )
        .await,
    );
    assert!(e.iter().any(|m| m.contains("cannot be read")), "{e:?}");
    let exposed = s.work.path().join("exposed-signing.key");
    std::fs::copy(&common::signing().key_file, &exposed).unwrap();
    std::fs::set_permissions(&exposed, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let e = failed_with(
        run_on(
            backup_host.clone(),
            vec![format!("signing.key_file={}", exposed.display())],
        )
        .await,
    );
    assert!(e.iter().any(|m| m.contains("chmod 600")), "{e:?}");

    // A signing key whose public half is not trusted.
    let other = tempfile::tempdir().unwrap();
    let other_public = graphvault::signing::generate_signing_key(&other.path().join("k")).unwrap();
    let untrusted = vec![format!("signing.trusted_keys={other_public}")];
    let e = failed_with(run_on(backup_host.clone(), untrusted.clone()).await);
    assert!(
        e.iter()
            .any(|m| m.contains(&common::signing().public) && m.contains("is not in [signing] trusted_keys")),
        "{e:?}"
    );

    // The restore host: its identity opens the newest backup.
    let restore_host = s.restore_host_config();
    let r = run_on(restore_host.clone(), vec![]).await.ok();
    let f = finding_of(&r, "identity");
    assert_eq!(f["severity"], "ok", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("opens the newest backup of 1 alias(es)"),
        "{f}"
    );
    assert_eq!(finding_of(&r, "verify")["severity"], "warning", "nothing recorded yet");

    // A missing identity file.
    let missing = format!("encryption.identity_file={}", s.work.path().join("gone.txt").display());
    let e = failed_with(run_on(restore_host.clone(), vec![missing]).await);
    assert!(
        e.iter()
            .any(|m| m.starts_with("keys:") && m.contains("gone.txt cannot be read")),
        "{e:?}"
    );

    // An identity that loads but cannot decrypt the backups.
    let stranger = common::TestKey::new();
    let wrong = format!("encryption.identity_file={}", stranger.identity_path.display());
    let e = failed_with(run_on(restore_host.clone(), vec![wrong]).await);
    assert!(
        e.iter().any(|m| m.starts_with("identity:")
            && m.contains("cannot decrypt the newest backup of 'customer1'")
            && m.contains(&s.key.recipient)),
        "{e:?}"
    );

    // trusted_keys that do not verify the newest manifest.
    let e = failed_with(run_on(restore_host.clone(), untrusted).await);
    assert!(
        e.iter()
            .any(|m| m.contains("newest backup of 'customer1'") && m.contains("does not verify")),
        "{e:?}"
    );

    // A verify that passed is recorded; doctor says when.
    s.run_with(&restore_host, &["verify", "--latest"]).await.ok();
    let r = run_on(restore_host, vec![]).await.ok();
    let f = finding_of(&r, "verify");
    assert_eq!(f["severity"], "ok", "{f}");
    assert!(f["message"].as_str().unwrap().contains("the last verify passed"), "{f}");
}
