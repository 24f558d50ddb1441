//! Monitoring that cannot lie, end to end (the binary, the Bolt double, the
//! neo4j-admin double, LocalStack): a backup that shrank is kept but shows
//! in the summary, the metrics, the webhook, the exit code, `doctor` and
//! `list`; `list` filters by alias, label and time; `stats` per alias.

mod common;

use common::cli::{run, Run, EXIT_OK, EXIT_USAGE};
use common::cli_world::Setup;
use common::json_contract::items;
use common::webhook::receiver;
use serde_json::Value;

const EXIT_ANOMALOUS: i32 = 16;

/// `graphvault ARGS` with the neo4j-admin double making artifacts of `size` bytes.
async fn with_size(s: &Setup, size: &str, args: &[&str]) -> Run {
    let mut cmd = s.command(args);
    cmd.env("NEO4J_ADMIN_DOUBLE_SIZE", size);
    tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_shrank_is_kept_and_reported_everywhere() {
    let s = Setup::new("").await;
    let (url, bodies) = receiver(vec![]).await;
    let hook = format!("notify.webhook_url={url}");
    let metrics = s.work.path().join("graphvault.prom");
    let metrics_arg = metrics.display().to_string();
    let args = [
        "--set",
        &hook,
        "backup",
        "--alias",
        "customer1",
        "--metrics-file",
        &metrics_arg,
    ];
    for _ in 0..3 {
        let r = with_size(&s, "300000", &args).await;
        assert_eq!(r.code, EXIT_OK, "{}", r.explain());
    }
    assert!(
        bodies.lock().unwrap().is_empty(),
        "successes are not announced by default"
    );

    let r = with_size(&s, "4096", &args).await;
    assert_eq!(r.code, EXIT_ANOMALOUS, "{}", r.explain());
    assert!(
        r.stdout
            .contains("customer1-1800000000: warning: anomaly (size_shrank): size ")
            && r.stdout.contains("KiB of the last 3 backup(s) of this type"),
        "{}",
        r.explain()
    );
    assert!(
        r.stdout
            .contains("1 of 1 database(s) backed up, 1 with warnings (1 anomalous"),
        "{}",
        r.explain()
    );
    assert!(r.stderr.contains("look wrong"), "{}", r.explain());
    assert_eq!(s.committed().await.len(), 4, "the shrunken backup is kept");

    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("graphvault_backup_anomaly{alias=\"customer1\",kind=\"size_shrank\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("graphvault_backup_anomalies{alias=\"customer1\"} "),
        "{text}"
    );
    assert!(text.contains("graphvault_backup_success{alias=\"customer1\"} 1\n"));

    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "the anomaly is announced like a failure");
    let payload: Value = serde_json::from_str(&sent[0]).unwrap();
    assert_eq!(payload["schema"], "graphvault.webhook/1", "{payload}");
    common::json_contract::validate(graphvault::json::JsonDocument::Webhook, &payload).unwrap();
    assert_eq!(payload["event"], "backup");
    assert_eq!(payload["outcome"], "anomalous");
    assert!(payload["finished_at"].as_str().unwrap().ends_with('Z'), "{payload}");
    assert_eq!(
        payload["report"]["databases"][0]["anomalies"][0]["kind"], "size_shrank",
        "{payload}"
    );

    // Backups in the same second list in id order; each is judged in the
    // order it was taken.
    let list = s.run(&["list", "--alias", "customer1"]).await.ok();
    let rows: Vec<&str> = list.stdout.lines().skip(1).take(4).collect();
    let flagged: Vec<&&str> = rows.iter().filter(|r| r.contains("ANOMALY:size_shrank")).collect();
    assert_eq!(flagged.len(), 1, "{}", list.stdout);
    assert!(
        flagged[0].contains("  full  ") && flagged[0].contains(" KiB "),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("(customer1): anomaly (size_shrank)"),
        "{}",
        list.stdout
    );
    let listed = items(
        &s.run(&["list", "--json", "--alias", "customer1"]).await.ok().stdout,
        "backups",
    );
    let mut judged: Vec<(&str, u64)> = listed
        .iter()
        .map(|r| (r["judgement"].as_str().unwrap(), r["size"].as_u64().unwrap()))
        .collect();
    judged.sort();
    assert_eq!(
        judged.iter().map(|j| j.0).collect::<Vec<_>>(),
        ["anomalous", "not_judged", "not_judged", "not_judged"]
    );
    assert!(judged[0].1 < 10_000, "the shrunken one: {judged:?}");

    let doctor = s.run(&["doctor", "--no-neo4j"]).await;
    assert!(
        doctor.stdout.contains("WARNING  anomaly      customer1: newest backup")
            && doctor.stdout.contains("size_shrank"),
        "{}",
        doctor.explain()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_alias_label_and_time_and_stats_sum_up_each_alias() {
    let s = Setup::new(common::cli_world::SMALL).await;
    s.run(&["backup", "--alias", "customer1"]).await.ok();
    s.run(&["backup", "--alias", "customer1", "--label", "pre-deploy"])
        .await
        .ok();
    s.run(&["backup", "--alias", "customer2"]).await.ok();
    // The aliases of the backups listed (sorted: backups taken in the same
    // second list in id order).
    let ids = |r: Run| -> Vec<String> {
        let mut aliases: Vec<String> = items(&r.stdout, "backups")
            .iter()
            .map(|e| e["alias"].as_str().unwrap().to_string())
            .collect();
        aliases.sort();
        aliases
    };
    assert_eq!(
        ids(s.run(&["list", "--json"]).await.ok()),
        ["customer1", "customer1", "customer2"]
    );
    assert_eq!(
        ids(s.run(&["list", "--json", "--alias", "customer2"]).await.ok()),
        ["customer2"]
    );
    assert_eq!(
        ids(s.run(&["list", "--json", "--label", "pre-deploy"]).await.ok()),
        ["customer1"]
    );
    assert!(ids(s.run(&["list", "--json", "--since", "2999-01-01"]).await.ok()).is_empty());
    assert!(ids(s.run(&["list", "--json", "--until", "2000-01-01"]).await.ok()).is_empty());
    assert_eq!(
        ids(s
            .run(&["list", "--json", "--since", "2000-01-01", "--until", "2999-01-01"])
            .await
            .ok())
        .len(),
        3
    );
    // --no-sizes reads no manifest: the same rows, no sizes.
    let fast = items(&s.run(&["list", "--json", "--no-sizes"]).await.ok().stdout, "backups");
    assert_eq!(fast.len(), 3);
    assert!(
        fast[0].get("size").is_none() && fast[0].get("judgement").is_none(),
        "{fast:?}"
    );
    let table = s.run(&["list", "--label", "pre-deploy"]).await.ok().stdout;
    assert!(
        table.starts_with("ID  ") && table.contains("TYPE") && table.contains("RATIO"),
        "{table}"
    );
    assert!(table.contains("  full  ") && table.contains("pre-deploy"), "{table}");

    let bad = s.run(&["list", "--since", "yesterday"]).await.code(EXIT_USAGE);
    assert!(
        bad.stderr.contains("--since is invalid: 'yesterday' is not a time"),
        "{}",
        bad.explain()
    );

    let stats = items(&s.run(&["stats", "--json"]).await.ok().stdout, "aliases");
    let by_alias: Vec<(String, u64, u64)> = stats
        .iter()
        .map(|a| {
            (
                a["alias"].as_str().unwrap().to_string(),
                a["count"].as_u64().unwrap(),
                a["chain_length"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_alias, [("customer1".into(), 2, 1), ("customer2".into(), 1, 1)]);
    assert!(stats[0]["total_stored"].as_u64().unwrap() > 0);
    assert_eq!(stats[0]["growth_percent"], 0.0, "two equal full backups");
    let text = s.run(&["stats", "--database", "customer2"]).await.ok().stdout;
    assert!(
        text.starts_with("ALIAS") && text.contains("customer2") && !text.contains("customer1"),
        "{text}"
    );
}
