//! The alert rules in infra/prometheus/graphvault.rules.yml, evaluated by
//! promtool against textfiles that real graphvault runs wrote (the binary,
//! the Neo4j doubles, LocalStack): a failed alias keeps its last-success
//! series so "stale" fires for it, a run that never reached Neo4j fires,
//! verify, prune and drill failures and staleness fire. Their failures also
//! reach the webhook.
//!
//! promtool evaluates from time 0, so each textfile's Unix timestamps are
//! shifted by the run's own end time: "now" of the run is time 0, and an
//! `eval_time` of 27h is 27 hours after it. Every other value is as written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::*;
use common::cli_world::Setup;
use common::webhook::receiver;
use serde_json::{json, Value};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/prometheus/graphvault.rules.yml");

/// `name{labels} value` lines of a textfile as promtool input series, held
/// for 1000 hours; `*_timestamp_seconds` values are made relative to `base`.
fn input_series(text: &str, base: f64) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            let mut v: f64 = value.parse().unwrap();
            let name = series.split('{').next().unwrap();
            if name.ends_with("_timestamp_seconds") {
                v -= base;
            }
            json!({ "series": series, "values": format!("{v}+0x1000") })
        })
        .collect()
}

/// The run's own end time, read from the file.
fn run_time(text: &str, metric: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{metric} ")))
        .unwrap_or_else(|| panic!("no {metric} in:\n{text}"));
    line.rsplit_once(' ').unwrap().1.parse().unwrap()
}

/// One expected alert: its labels besides `alertname`, and its summary.
fn alert(labels: &[(&str, &str)], summary: &str) -> Value {
    let labels: serde_json::Map<String, Value> = labels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({ "exp_labels": labels, "exp_annotations": { "summary": summary } })
}

/// `(eval_time, alertname, expected alerts)`.
type Expect = (&'static str, &'static str, Vec<Value>);

fn group(files: &[&Path], run_metric: &str, expect: Vec<Expect>) -> Value {
    let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    let base = run_time(&texts[0], run_metric);
    let series: Vec<Value> = texts.iter().flat_map(|t| input_series(t, base)).collect();
    let tests: Vec<Value> = expect
        .into_iter()
        .map(|(at, name, alerts)| json!({ "eval_time": at, "alertname": name, "exp_alerts": alerts }))
        .collect();
    json!({ "interval": "1h", "input_series": series, "alert_rule_test": tests })
}

/// Runs `promtool test rules` on the groups; JSON is YAML.
fn promtool(dir: &Path, groups: Vec<Value>) {
    let spec = json!({ "rule_files": [RULES], "evaluation_interval": "1m", "tests": groups });
    let file = dir.join("alerts_test.yml");
    std::fs::write(&file, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .expect("promtool (Debian package prometheus; scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "promtool:\n{}\n{}\nspec: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        file.display()
    );
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_alert_rules_fire_on_what_real_runs_wrote() {
    Command::new("promtool")
        .arg("--version")
        .output()
        .expect("promtool is installed");
    let s = Setup::new("").await;
    let dir = s.work.path();
    let (url, bodies) = receiver(vec![]).await;
    let hook = format!("notify.webhook_url={url}");
    let data = format!(
        "NEO4J_ADMIN_DOUBLE_SIZE = \"300000\", NEO4J_ADMIN_DOUBLE_DATA = \"{}\"",
        dir.join("data").display()
    );
    let backup_prom: PathBuf = dir.join("backup.prom");
    let backup = |extra: &'static [&'static str]| {
        let mut a = vec!["backup", "--metrics-file", path(&backup_prom)];
        a.extend_from_slice(extra);
        a
    };
    s.set_admin_env(&data);
    // The first night Neo4j does not answer the count queries: those
    // backups record no counts, so a drill of them checks nothing.
    s.run(&backup(&[])).await.ok();
    s.answer_counts(1000, 5000);
    // The next night customer2's neo4j-admin fails: exit 3.
    s.set_admin_env(&format!(
        "{data}, NEO4J_ADMIN_DOUBLE_FAIL = \"customer2-1800000000:exit1\""
    ));
    s.run(&backup(&[])).await.code(3);
    let partial = dir.join("partial.prom");
    std::fs::copy(&backup_prom, &partial).unwrap();
    // Then Neo4j does not answer: the run fails before any database.
    s.server.set_stall(true);
    s.run(&[&["--set", "neo4j.query_timeout_secs=1"][..], &backup(&[])].concat())
        .await
        .code(EXIT_NEO4J_UNAVAILABLE);
    s.server.set_stall(false);
    let early = dir.join("early.prom");
    std::fs::copy(&backup_prom, &early).unwrap();

    let verify_prom = dir.join("verify.prom");
    s.run(&["verify", "--latest", "--metrics-file", path(&verify_prom)])
        .await
        .ok();
    s.run(&[
        "--set",
        &hook,
        "verify",
        "--database",
        "customer9",
        "--metrics-file",
        path(&verify_prom),
    ])
    .await
    .code(EXIT_NOT_FOUND);
    let prune_prom = dir.join("prune.prom");
    s.run(&["prune", "--metrics-file", path(&prune_prom)]).await.ok();
    let prune_ok = dir.join("prune-ok.prom");
    std::fs::copy(&prune_prom, &prune_ok).unwrap();
    let r = s
        .run(&[
            "--set",
            "storage.url=s3://graphvault-no-such-bucket/gv",
            "--set",
            &hook,
            "prune",
            "--metrics-file",
            path(&prune_prom),
        ])
        .await;
    assert_ne!(r.code, 0, "{}", r.explain());
    let identity = format!("encryption.identity_file={}", s.key.identity_path.display());
    let drill_prom = dir.join("drill.prom");
    let drill = |identity: &str, metrics: &Path| {
        let args: Vec<String> = [
            "--set",
            identity,
            "--set",
            &hook,
            "drill",
            "--metrics-file",
            path(metrics),
        ]
        .map(String::from)
        .to_vec();
        let cmd = s.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
        async move {
            tokio::task::spawn_blocking(move || common::cli::run(cmd))
                .await
                .unwrap()
        }
    };
    // customer2's newest backup is the first night's: unchecked (exit 17).
    drill(&identity, &drill_prom).await.code(17);
    // A drill whose restores fail, then one that cannot start (its identity
    // file is missing).
    s.set_admin_env(&format!("{data}, NEO4J_ADMIN_DOUBLE_FAIL = \"*:restorefail\""));
    let drill_failed = dir.join("drill-failed.prom");
    let r = drill(&identity, &drill_failed).await;
    assert_ne!(r.code, 0, "{}", r.explain());
    let drill_early = dir.join("drill-early.prom");
    std::fs::copy(&drill_failed, &drill_early).unwrap();
    let r = drill("encryption.identity_file=/nonexistent/age-identity.txt", &drill_early).await;
    assert_eq!(r.code, EXIT_KEY, "{}", r.explain());

    // Each failure was also sent to the webhook, early failures included.
    let events: Vec<(String, String)> = bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_str(b).unwrap();
            (
                v["event"].as_str().unwrap().to_string(),
                v["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let failure = |e: &str| (e.to_string(), "failed".to_string());
    assert_eq!(
        events,
        [
            failure("verify"),
            failure("prune"),
            ("drill".into(), "unchecked".into()),
            failure("drill"),
            failure("drill"),
        ],
        "webhook bodies: {:?}",
        bodies.lock().unwrap()
    );

    let failed = |a: &str| {
        alert(
            &[("severity", "ticket"), ("alias", a)],
            &format!("The last backup of {a} failed"),
        )
    };
    let stale = |a: &str| {
        alert(
            &[("severity", "page"), ("alias", a)],
            &format!("No backup of {a} committed for over 26 hours"),
        )
    };
    let all_stale = || ["customer1", "customer2", "customer3"].map(stale).to_vec();
    let not_running = || {
        vec![alert(
            &[("severity", "page")],
            "No backup run has ended for over 26 hours",
        )]
    };
    let groups = vec![
        group(
            &[&partial],
            "graphvault_backup_run_timestamp_seconds",
            vec![
                ("1h", "GraphvaultBackupFailed", vec![failed("customer2")]),
                ("1h", "GraphvaultBackupStale", vec![]),
                ("1h", "GraphvaultBackupRunFailed", vec![]),
                ("1h", "GraphvaultBackupAnomaly", vec![]),
                ("1h", "GraphvaultBackupNotRunning", vec![]),
                // customer2's last success is carried over: it goes stale too.
                ("27h", "GraphvaultBackupStale", all_stale()),
                ("27h", "GraphvaultBackupNotRunning", not_running()),
            ],
        ),
        group(
            &[&early],
            "graphvault_backup_run_timestamp_seconds",
            vec![
                (
                    "1h",
                    "GraphvaultBackupRunFailed",
                    vec![alert(
                        &[("severity", "ticket")],
                        "The last backup run failed before backing up any database",
                    )],
                ),
                ("1h", "GraphvaultBackupFailed", vec![failed("customer2")]),
                ("1h", "GraphvaultBackupStale", vec![]),
                ("27h", "GraphvaultBackupStale", all_stale()),
            ],
        ),
        group(
            &[&verify_prom, &prune_ok],
            "graphvault_verify_run_timestamp_seconds",
            vec![
                (
                    "1h",
                    "GraphvaultVerifyFailed",
                    vec![alert(&[("severity", "ticket")], "The last verify run failed")],
                ),
                ("7d", "GraphvaultVerifyStale", vec![]),
                (
                    "9d",
                    "GraphvaultVerifyStale",
                    vec![alert(
                        &[("severity", "ticket")],
                        "No verify run has passed for over 8 days",
                    )],
                ),
                ("1h", "GraphvaultPruneFailed", vec![]),
                (
                    "2h",
                    "GraphvaultBackupMetricsMissing",
                    vec![alert(
                        &[("severity", "ticket")],
                        "No graphvault backup metrics: is --metrics-file set and node_exporter reading it?",
                    )],
                ),
            ],
        ),
        group(
            &[&prune_prom],
            "graphvault_prune_run_timestamp_seconds",
            vec![(
                "1h",
                "GraphvaultPruneFailed",
                vec![alert(
                    &[("severity", "ticket")],
                    "The last prune failed: backups are not being expired",
                )],
            )],
        ),
        group(
            &[&drill_prom],
            "graphvault_drill_run_timestamp_seconds",
            vec![
                ("1h", "GraphvaultDrillFailed", vec![]),
                (
                    "1h",
                    "GraphvaultDrillUnchecked",
                    vec![alert(
                        &[("severity", "ticket"), ("alias", "customer2")],
                        "The last drill of customer2 restored but checked nothing",
                    )],
                ),
                ("34d", "GraphvaultDrillStale", vec![]),
                // customer2 never passed: GraphvaultDrillUnchecked keeps firing for it.
                (
                    "36d",
                    "GraphvaultDrillStale",
                    ["customer1", "customer3"]
                        .map(|a| {
                            alert(
                                &[("severity", "ticket"), ("alias", a)],
                                &format!("No restore drill of {a} has passed for over 35 days"),
                            )
                        })
                        .to_vec(),
                ),
            ],
        ),
        group(
            &[&drill_failed],
            "graphvault_drill_run_timestamp_seconds",
            vec![(
                "1h",
                "GraphvaultDrillFailed",
                ["customer1", "customer2", "customer3"]
                    .map(|a| {
                        alert(
                            &[("severity", "page"), ("alias", a)],
                            &format!("The last restore drill of {a} failed"),
                        )
                    })
                    .to_vec(),
            )],
        ),
        group(
            &[&drill_early],
            "graphvault_drill_run_timestamp_seconds",
            vec![(
                "1h",
                "GraphvaultDrillRunFailed",
                vec![alert(
                    &[("severity", "page")],
                    "The last restore drill failed before drilling any alias",
                )],
            )],
        ),
    ];
    promtool(dir, groups);
}
