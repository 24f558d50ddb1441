//! What a neo4j-admin backup produced, and its processes, against the
//! double: exit 1 with the artifact made (a `--from` server did not
//! respond) is a backup with a warning; a kind that cannot be told is
//! refused, not guessed; at the timeout the launcher and the worker it
//! forked are both ended.

mod common;

use std::path::Path;
use std::time::Duration;

use common::admin_double::{admin, admin_with_timeout, request, wrapper_script};
use graphvault::neo4j::{AdminError, AdminSettings, BackupKind, BackupRequest, BackupType, Neo4jAdmin, ProcessAdmin};

#[tokio::test]
async fn a_timeout_ends_the_launcher_and_the_worker_it_forked() {
    use common::processes;
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let a = admin_with_timeout(
        dir.path(),
        &[
            ("NEO4J_ADMIN_DOUBLE_FAIL", "customer4-1767741527:slow:120"),
            ("NEO4J_ADMIN_DOUBLE_PID_DIR", pids.to_str().unwrap()),
        ],
        Duration::from_secs(3),
    );
    let err = a
        .backup(&request("customer4-1767741527", dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Timeout { .. }), "{err:?}");
    let launcher = processes::pids(&pids, "launcher", "backup");
    let worker = processes::pids(&pids, "worker", "backup");
    assert_eq!((launcher.len(), worker.len()), (1, 1), "the double forked its worker");
    let all = [launcher, worker].concat();
    let survivors: Vec<u32> = all.iter().copied().filter(|p| processes::alive(*p)).collect();
    processes::kill_all(&all);
    assert!(
        survivors.is_empty(),
        "neo4j-admin processes outlived the timeout: {survivors:?}"
    );
}

/// A neo4j-admin whose log never says full or differential and which cannot
/// read an artifact back (as if its wording had changed and inspect failed).
fn mute_wrapper(dir: &Path) -> std::path::PathBuf {
    let body = "case \" $* \" in *\" inspect \"*|*--inspect-path*) echo 'cannot inspect here' >&2; exit 1;; esac\n\
                set -o pipefail\n\"$ADMIN\" \"$@\" | grep -v -E 'Start (full|differential) backup|Falling back'";
    wrapper_script(dir, "neo4j-admin-mute", body)
}

#[tokio::test]
async fn a_backup_whose_kind_cannot_be_told_is_refused_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = ProcessAdmin::new(AdminSettings {
        binary: mute_wrapper(dir.path()),
        ..admin(dir.path(), &[]).settings().clone()
    });
    let auto = BackupRequest {
        backup_type: BackupType::Auto,
        ..request("customer13-1767741527", &to)
    };
    let err = a.backup(&auto).await.unwrap_err();
    assert!(matches!(err, AdminError::UnknownBackupType { .. }), "{err:?}");
    assert!(err.to_string().contains("--type full"), "{err}");
    // An explicit FULL needs no guess.
    let out = a.backup(&request("customer13-1767741527", &to)).await.unwrap();
    assert_eq!(out.kind, BackupKind::Full);
}

#[tokio::test]
async fn exit_1_with_the_artifact_made_is_a_backup_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("staging");
    std::fs::create_dir(&to).unwrap();
    let a = ProcessAdmin::new(AdminSettings {
        from: vec!["db1:6362".into(), "db2:6362".into()],
        ..admin(dir.path(), &[("NEO4J_ADMIN_DOUBLE_FAIL", "*:unreachable:db1:6362")])
            .settings()
            .clone()
    });
    let out = a.backup(&request("customer14-1767741527", &to)).await.unwrap();
    assert_eq!((out.artifacts.len(), out.kind), (1, BackupKind::Full));
    assert_eq!(out.warnings.len(), 1);
    assert!(
        out.warnings[0].contains("servers it reported problems with: db1:6362"),
        "{}",
        out.warnings[0]
    );
    // Exit 1 without an announced artifact stays a failure.
    let err = ProcessAdmin::new(AdminSettings {
        from: vec!["db1:6362".into()],
        ..a.settings().clone()
    })
    .backup(&request("customer14-1767741527", &to))
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::Failed { .. }), "{err:?}");
}
