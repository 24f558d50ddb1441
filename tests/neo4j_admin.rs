//! The neo4j-admin runner against the neo4j-admin double: command lines,
//! artifact discovery, exit-code mapping, timeouts, version refusal.

mod common;

use std::path::Path;
use std::time::Duration;

use common::admin_double::{admin, admin_with_timeout, invocations, request, wrapper_script};
use graphvault::neo4j::{AdminError, AdminSettings, BackupKind, BackupType, Neo4jAdmin, ProcessAdmin, RestoreRequest};

#[tokio::test]
async fn a_backup_produces_one_named_artifact_found_from_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = admin(dir.path(), &[]);
    assert!(a.version().await.unwrap().is_supported());
    let out = a.backup(&request("customer1-1767741527", &to)).await.unwrap();
    assert_eq!((out.kind, out.warnings.len()), (BackupKind::Full, 0));
    let artifacts = out.artifacts;
    assert_eq!(artifacts.len(), 1);
    let name = artifacts[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(
        graphvault::neo4j::is_artifact_of("customer1-1767741527", &name),
        "{name}"
    );
    assert!(artifacts[0].metadata().unwrap().len() >= 65536);
    let log: Vec<Vec<String>> = invocations(dir.path())
        .iter()
        .map(|l| serde_json::from_value(l["argv"].clone()).unwrap())
        .collect();
    let backup = log
        .iter()
        .find(|a| a.iter().any(|x| x.starts_with("--to-path")))
        .unwrap();
    assert!(
        backup.contains(&"--from=127.0.0.1:6362".to_string()) && backup.contains(&"--type=FULL".to_string()),
        "{backup:?}"
    );
    // The kind is read back from the artifact's own header.
    let inspect = log.last().unwrap().join(" ");
    assert!(
        inspect.starts_with("backup inspect ") && inspect.contains(&name) && inspect.contains("--format=TABULAR"),
        "{inspect}"
    );
}

#[tokio::test]
async fn each_documented_exit_code_maps_to_its_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    for (mode, check) in [
        (
            "exit1",
            (|e: &AdminError| matches!(e, AdminError::Failed { .. })) as fn(&AdminError) -> bool,
        ),
        // The real `database backup` reports a stopped database with exit 1.
        ("notrunning", |e| matches!(e, AdminError::Failed { .. })),
        ("partial", |e| matches!(e, AdminError::Failed { .. })),
        ("usage", |e| matches!(e, AdminError::Usage { code: 64, .. })),
        ("crash", |e| matches!(e, AdminError::Crashed { .. })),
        // The worker is SIGKILLed; the launcher exits 137 (Java's 128 + 9).
        ("die", |e| matches!(e, AdminError::Killed { signal: 9, .. })),
    ] {
        let fail = format!("customer2-1767741527:{mode}");
        let err = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_FAIL", &fail)])
            .backup(&request("customer2-1767741527", &to))
            .await
            .unwrap_err();
        assert!(check(&err), "{mode}: {err:?}");
    }
}

#[tokio::test]
async fn errors_carry_the_tools_last_stderr_lines() {
    let dir = tempfile::tempdir().unwrap();
    let err = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_FAIL", "customer3-1767741527:crash")])
        .backup(&request("customer3-1767741527", dir.path()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exit 70") && text.contains(" | "), "{text}");
}

#[tokio::test]
async fn a_backup_that_runs_too_long_is_stopped_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let a = admin_with_timeout(
        dir.path(),
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "customer4-1767741527:slow:30")],
        Duration::from_millis(700),
    );
    let started = std::time::Instant::now();
    let err = a
        .backup(&request("customer4-1767741527", dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the child was killed, not waited for"
    );
}

#[tokio::test]
async fn neo4j_admin_4_x_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let err = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_VERSION", "4.4.30")])
        .version()
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::UnsupportedVersion { .. }), "{err:?}");
    assert!(err.to_string().contains("5.x or 2025.x"), "{err}");
}

#[tokio::test]
async fn a_missing_binary_says_where_it_looked() {
    let a = ProcessAdmin::new(AdminSettings {
        binary: "/nonexistent/neo4j-admin".into(),
        extra_args: vec![],
        from: vec![],
        pagecache: None,
        temp_path: None,
        timeout: Duration::from_secs(5),
        env: vec![],
        run_dir: None,
        stop_grace: Duration::from_secs(10),
    });
    let err = a.version().await.unwrap_err();
    assert!(matches!(err, AdminError::NotFound { .. }) && err.to_string().contains("/nonexistent/neo4j-admin"));
}

#[tokio::test]
async fn restore_writes_a_store_and_refuses_to_overwrite_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = admin(dir.path(), &[]);
    let artifacts = a.backup(&request("customer5-1767741527", &to)).await.unwrap().artifacts;
    let mut req = RestoreRequest {
        database: "customer5-1800000000".parse().unwrap(),
        from_path: artifacts[0].clone(),
        overwrite_destination: false,
        restore_until: None,
    };
    a.restore(&req).await.unwrap();
    assert!(dir.path().join("data/databases/customer5-1800000000").is_dir());
    assert!(a.restore(&req).await.is_err(), "an existing store is not overwritten");
    req.overwrite_destination = true;
    a.restore(&req).await.unwrap();
}

#[tokio::test]
async fn inspect_returns_json_about_the_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = admin(dir.path(), &[]);
    let artifacts = a.backup(&request("customer6-1767741527", &to)).await.unwrap().artifacts;
    for version in ["5.26.0", "2025.10.1"] {
        let a = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_VERSION", version)]);
        let json = a.inspect(&artifacts[0]).await.unwrap();
        let first = &json.as_array().unwrap()[0];
        assert_eq!(first["database"], "customer6-1767741527", "{version}: {json}");
    }
    let old = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_VERSION", "5.20.0")]);
    let err = old.inspect(&artifacts[0]).await.unwrap_err();
    assert!(matches!(err, AdminError::InspectUnavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_partial_artifact_is_never_reported_as_produced() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    for mode in ["partial", "die"] {
        let fail = format!("customer7-1767741527:{mode}");
        let err = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_FAIL", &fail)])
            .backup(&request("customer7-1767741527", &to))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AdminError::Failed { .. } | AdminError::Killed { .. }),
            "{mode}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_4_x_admin_given_5_x_syntax_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_VERSION", "4.4.30")])
        .backup(&request("customer8-1767741527", dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Usage { code: 2, .. }), "{err:?}");
}

#[tokio::test]
async fn a_differential_restores_from_its_newest_artifact_and_check_reads_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = admin(dir.path(), &[]);
    let db = "customer9-1767741527";
    a.backup(&request(db, &to)).await.unwrap();
    let mut diff = request(db, &to);
    diff.backup_type = BackupType::Diff;
    let out = a.backup(&diff).await.unwrap();
    assert_eq!(out.kind, BackupKind::Diff);
    let newest = out.artifacts.last().unwrap().clone();
    a.check(&to, &db.parse().unwrap(), dir.path()).await.unwrap();
    a.restore(&RestoreRequest {
        database: "customer9-1800000000".parse().unwrap(),
        from_path: newest.clone(),
        overwrite_destination: false,
        restore_until: None,
    })
    .await
    .unwrap();
    let marker =
        std::fs::read_to_string(dir.path().join("data/databases/customer9-1800000000/restored.marker")).unwrap();
    let marker: serde_json::Value = serde_json::from_str(&marker).unwrap();
    assert_eq!(marker["chain"].as_array().map(Vec::len), Some(2), "{marker}");

    let bad = admin(
        dir.path(),
        &[("NEO4J_ADMIN_DOUBLE_FAIL", &format!("{db}:inconsistent"))],
    );
    let err = bad.check(&to, &db.parse().unwrap(), dir.path()).await.unwrap_err();
    assert!(
        matches!(err, AdminError::Failed { .. }) && err.to_string().contains("Inconsistencies"),
        "{err}"
    );
    let reports = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("inconsistencies-"))
        .count();
    assert_eq!(reports, 1, "the report goes where graphvault asked");
    let newest_again = newest;
    let fail = admin(
        dir.path(),
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "customer9-1900000000:restorefail")],
    );
    let err = fail
        .restore(&RestoreRequest {
            database: "customer9-1900000000".parse().unwrap(),
            from_path: newest_again,
            overwrite_destination: false,
            restore_until: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Failed { .. }), "{err:?}");
}

#[tokio::test]
async fn a_usage_error_keeps_the_message_that_precedes_the_usage_text() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    // A folder together with <database> is refused by neo4j-admin 5.
    let err = admin(dir.path(), &[])
        .restore(&RestoreRequest {
            database: "customer11-1900000000".parse().unwrap(),
            from_path: to,
            overwrite_destination: false,
            restore_until: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Usage { code: 64, .. }), "{err:?}");
    let AdminError::Usage { stderr, .. } = &err else {
        unreachable!()
    };
    assert!(stderr.iter().any(|l| l.contains("lines omitted")), "{stderr:?}");
    assert!(
        !stderr[0].trim().is_empty() && !stderr[0].starts_with("USAGE"),
        "{stderr:?}"
    );
}

/// A wrapper around the double that drops the "Finished artifact creation"
/// lines and records the environment it was given.
fn wrapper(dir: &Path) -> std::path::PathBuf {
    let env = dir.join("child-env");
    let body = format!(
        "set -o pipefail\nenv > '{}'\n\"$ADMIN\" \"$@\" | grep -v 'Finished artifact creation'",
        env.display()
    );
    wrapper_script(dir, "neo4j-admin-wrapper", &body)
}

#[tokio::test]
async fn artifacts_are_found_by_name_when_the_output_omits_them_and_secrets_stay_out_of_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    // An older artifact of the same database must not be picked up.
    std::fs::write(to.join("customer10-1767741527-2020-01-01T00-00-00.backup"), b"old").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(to.join("customer10-1767741527-2020-01-01T00-00-00.backup"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let a = ProcessAdmin::new(AdminSettings {
        binary: wrapper(dir.path()),
        ..admin(dir.path(), &[]).settings().clone()
    });
    // Inherited by graphvault, scrubbed before neo4j-admin starts.
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "must-not-leak");
    std::env::set_var("GRAPHVAULT_NEO4J_PASSWORD", "must-not-leak-either");
    let artifacts = a
        .backup(&request("customer10-1767741527", &to))
        .await
        .unwrap()
        .artifacts;
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert!(!artifacts[0].to_string_lossy().contains("2020-01-01"));
    let env = std::fs::read_to_string(dir.path().join("child-env")).unwrap();
    assert!(
        !env.contains("must-not-leak"),
        "a secret reached neo4j-admin's environment"
    );
}

#[tokio::test]
async fn exit_3_is_the_database_not_running() {
    // The real `database backup` reports a stopped database with exit 1; other
    // neo4j-admin commands document 3, which the double gives on request.
    let dir = tempfile::tempdir().unwrap();
    let err = admin(
        dir.path(),
        &[("NEO4J_ADMIN_DOUBLE_FAIL", "customer12-1767741527:exit3")],
    )
    .backup(&request("customer12-1767741527", dir.path()))
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::NotRunning { .. }), "{err:?}");
    assert!(err.to_string().contains("is not running"), "{err}");
}
