//! The deployment files in `infra/`: the systemd units pass
//! `systemd-analyze verify` (with ExecStart pointed at the built binary), and
//! the cron line runs the same command as the service.

use std::path::Path;
use std::process::Command;

fn infra(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn systemd_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let units = [
        "graphvault-backup.service",
        "graphvault-backup.timer",
        "graphvault-drill.service",
        "graphvault-drill.timer",
        "graphvault-prune.service",
        "graphvault-prune.timer",
        "graphvault-verify.service",
        "graphvault-verify.timer",
    ];
    for unit in units {
        let text =
            infra(&format!("systemd/{unit}")).replace("/usr/local/bin/graphvault", env!("CARGO_BIN_EXE_graphvault"));
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(units.iter().map(|u| dir.path().join(u)))
        .output()
        .expect("systemd-analyze is installed by scripts/setup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about the host's own units (e.g. missing targets in a container) are not ours.
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("graphvault")).collect();
    assert!(out.status.success() && ours.is_empty(), "{stderr}");
}

#[test]
fn the_service_is_hardened_and_writes_only_staging_and_metrics() {
    let service = infra("systemd/graphvault-backup.service");
    for line in [
        "User=graphvault",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/graphvault/staging /var/lib/node_exporter/textfile",
        "LoadCredential=neo4j-password:",
    ] {
        assert!(service.lines().any(|l| l.starts_with(line)), "missing {line}");
    }
    let timer = infra("systemd/graphvault-backup.timer");
    assert!(timer.contains("OnCalendar=*-*-* 02:00:00"));
}

#[test]
fn the_cron_line_runs_the_backup_at_two_as_the_graphvault_user() {
    let cron = infra("cron/graphvault");
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && l.contains("graphvault -q backup"))
        .expect("a quiet backup line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[..7], ["0", "2", "*", "*", "*", "graphvault", "graphvault"]);
    assert!(line.contains("--metrics-file"));
}

#[test]
fn the_drill_runs_monthly_with_a_report() {
    let timer = infra("systemd/graphvault-drill.timer");
    assert!(timer.contains("OnCalendar=Sun *-*-01..07 04:00:00"));
    let service = infra("systemd/graphvault-drill.service");
    assert!(service.contains("graphvault -q drill") && service.contains("--report"));
    let cron = infra("cron/graphvault");
    let drill = cron
        .lines()
        .find(|l| l.contains("graphvault -q drill"))
        .expect("a drill line");
    // cron ORs day-of-month and day-of-week: restricting both would run every Sunday.
    assert!(drill.starts_with("0 4 1-7 * * graphvault "), "{drill}");
}

/// Every scheduled run is quiet (`-q`): cron mails any output, so a clean
/// night must print nothing; systemd keeps the journal to what matters.
#[test]
fn every_scheduled_run_is_quiet() {
    let cron = infra("cron/graphvault");
    let jobs: Vec<&str> = cron
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" graphvault "))
        .collect();
    assert_eq!(jobs.len(), 4, "{cron}");
    for job in jobs {
        let runs = job.matches("graphvault ").count() - job.matches("graphvault -q ").count();
        // The cron user field "graphvault" precedes each command.
        assert_eq!(runs, 1, "every graphvault command in `{job}` needs -q");
    }
    for unit in ["backup", "prune", "verify", "drill"] {
        let service = infra(&format!("systemd/graphvault-{unit}.service"));
        let exec = service.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
        assert!(exec.starts_with("ExecStart=/usr/local/bin/graphvault -q "), "{exec}");
    }
}

/// Prune runs daily after the backup, verify weekly; both hardened, neither
/// gets the Bolt password (they do not talk to Neo4j).
#[test]
fn prune_runs_daily_after_the_backup_and_verify_weekly() {
    assert!(infra("systemd/graphvault-prune.timer").contains("OnCalendar=*-*-* 06:00:00"));
    assert!(infra("systemd/graphvault-verify.timer").contains("OnCalendar=Sat *-*-* 04:00:00"));
    for (unit, command) in [
        ("graphvault-prune.service", "graphvault -q prune"),
        ("graphvault-verify.service", "graphvault -q verify"),
    ] {
        let service = infra(&format!("systemd/{unit}"));
        assert!(service.contains(command), "{unit}");
        for line in [
            "User=graphvault",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=",
        ] {
            assert!(service.lines().any(|l| l.starts_with(line)), "{unit} lacks {line}");
        }
        assert!(!service.contains("LoadCredential"), "{unit} needs no secret");
    }
    let cron = infra("cron/graphvault");
    assert!(cron
        .lines()
        .any(|l| l.starts_with("0 6 * * * graphvault graphvault -q prune")));
    assert!(cron
        .lines()
        .any(|l| l.starts_with("0 4 * * 6 graphvault graphvault -q verify")));
}
