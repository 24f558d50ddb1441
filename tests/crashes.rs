//! kill -9 at every S3 request of a `graphvault backup` (and at several of a
//! restore): the fault proxy parks request number k (for an upload part:
//! after half its body arrived) and the test SIGKILLs graphvault right
//! there. Afterwards: no partial backup is listed, every listed backup
//! verifies, the next run succeeds, prune cleans what the killed runs left
//! (unfinished uploads, data and signatures without a manifest), and a killed
//! restore leaves nothing that looks like a finished artifact.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::cli_world::Setup;
use common::s3_proxy::{Action, S3Op, S3Proxy};
use graphvault::store::ObjectStore;
use serde_json::Value;

/// 30 MB, incompressible: six 5 MiB parts (over 20 S3 requests a backup).
const ADMIN_ENV: &str = "NEO4J_ADMIN_DOUBLE_SIZE = \"30000000\", NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY = \"0\"";
const BACKUP: &[&str] = &[
    "--set",
    "backup.lease_ttl_secs=2",
    "--set",
    "backup.lease_clock_skew_secs=0",
    "backup",
    "--alias",
    "customer1",
];

/// Runs `args`, parks S3 request number `k` (0-based), kills graphvault
/// there; returns the operation it was killed at, or `None` when the run
/// finished before making k+1 requests.
async fn kill_at(s: &Setup, proxy: &mut S3Proxy, args: &[&str], k: usize) -> Option<String> {
    kill_at_request(s, proxy, args, S3Op::Any, "", k).await
}

/// `kill_at`, counting only `op` requests whose target contains `contains`.
async fn kill_at_request(
    s: &Setup,
    proxy: &mut S3Proxy,
    args: &[&str],
    op: S3Op,
    contains: &str,
    k: usize,
) -> Option<String> {
    proxy.clear();
    proxy.inject_on(op, contains, k, 1, Action::Hold);
    let mut child = s
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let outcome = tokio::select! {
        held = proxy.held.recv() => Some(held.expect("proxy alive")),
        _ = async {
            loop {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } => None,
        _ = tokio::time::sleep(Duration::from_secs(60)) => panic!("neither held nor finished at request {k}"),
    };
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    proxy.clear();
    outcome.map(|seen| {
        let object = seen
            .target
            .split('?')
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        format!("{:?} {object}", seen.op)
    })
}

fn listed(s: &Setup) -> Vec<Value> {
    let r = common::cli::run(s.command(&["list", "--json"])).ok();
    common::json_contract::items(&r.stdout, "backups")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_every_request_of_a_backup_and_of_a_restore_loses_nothing() {
    let mut proxy = S3Proxy::start().await;
    let s = Setup::via(ADMIN_ENV, &proxy.endpoint).await;
    // A reference run: how many requests a backup makes.
    let start = proxy.seen().len();
    s.run(BACKUP).await.ok();
    let per_run = proxy.seen().len() - start;
    assert!(per_run >= 20, "a backup makes {per_run} requests");
    let mut complete = listed(&s).len();
    assert_eq!(complete, 1);

    let mut points = Vec::new();
    for k in 0..per_run {
        // The previous victim's lease must go stale first (2 s by the store's clock).
        common::processes::until_lease_free(&s.store).await;
        let Some(at) = kill_at(&s, &mut proxy, BACKUP, k).await else {
            // The run finished before request k (a run's request count
            // varies with lease renewals on a loaded machine): count again.
            complete = listed(&s).len();
            continue;
        };
        points.push(format!("backup request {k}: {at}"));
        let now = listed(&s);
        // Killed before the manifest PUT: no new backup; at or after it: a
        // whole one. Never anything in between.
        assert!(
            now.len() == complete || now.len() == complete + 1,
            "killed at {at}: {now:?}"
        );
        complete = now.len();
    }
    // And exactly between the signature and the manifest, and during the
    // manifest PUT (the signature is written first).
    for (k, what) in [(0, "signature PUT"), (1, "manifest PUT")] {
        common::processes::until_lease_free(&s.store).await;
        let at = kill_at_request(&s, &mut proxy, BACKUP, S3Op::Put, "/manifests/", k)
            .await
            .expect("reached");
        points.push(format!("{what}: {at}"));
        assert_eq!(listed(&s).len(), complete, "killed at the {what}: no new backup");
    }
    assert!(points.len() >= 20, "kill points reached: {points:#?}");

    // Every backup listed is whole and trusted.
    let v = s.command(&["verify", "--all"]).output().unwrap();
    assert!(
        v.status.success(),
        "verify after the kills: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    // The next run succeeds; prune then clears every leftover.
    common::processes::until_lease_free(&s.store).await;
    s.run(BACKUP).await.ok();
    // Leftovers are younger than the orphan grace period (24 h by default):
    // prune as if two days had passed.
    let sets = ["retention.keep_last=100".to_string()];
    let config = graphvault::config::load(Some((s.config.clone(), true)), Vec::new(), &sets).unwrap();
    let store: std::sync::Arc<dyn ObjectStore> = std::sync::Arc::new(s.store.clone());
    let report = graphvault::ops::prune::prune(
        store,
        &config,
        &graphvault::ops::prune::PruneRequest {
            database: None,
            dry_run: false,
            now: chrono::Utc::now() + chrono::Duration::days(2),
            host: "test".into(),
        },
    )
    .await
    .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    println!(
        "prune removed {} orphan prefix(es)/signature(s) and aborted {} upload(s)",
        report.deleted_orphans, report.aborted_uploads
    );
    assert!(s.store.list_multipart("").await.unwrap().is_empty());
    let keys: Vec<String> = graphvault::store::ObjectStore::list(&s.store, "")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    let manifests: Vec<&String> = keys
        .iter()
        .filter(|k| k.ends_with(".json") && k.starts_with("manifests/"))
        .collect();
    for k in &keys {
        if let Some(m) = k.strip_suffix(".minisig") {
            assert!(
                keys.iter().any(|x| x == m),
                "a signature without its manifest is left: {k}"
            );
        }
        if let Some(rest) = k.strip_prefix("data/") {
            let id = rest.split('/').nth(1).unwrap();
            assert!(
                manifests.iter().any(|m| m.contains(id)),
                "data without a manifest is left: {k}"
            );
        }
    }

    // Restores killed mid-download leave no finished artifact.
    let id = listed(&s)[0]["backup_id"].as_str().unwrap().to_string();
    let mut restore_points = 0;
    for k in [2usize, 4, 6, 8] {
        let dir = s.work.path().join(format!("restore-{k}"));
        let restore = s.restore_args(&id, &dir);
        let args: Vec<&str> = restore.iter().map(String::as_str).collect();
        if let Some(at) = kill_at(&s, &mut proxy, &args, k).await {
            restore_points += 1;
            points.push(format!("restore request {k}: {at}"));
            let names: Vec<String> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                names.iter().all(|n| n.starts_with(".graphvault-partial-")),
                "killed at {at}: {names:?}"
            );
        }
    }
    assert!(restore_points >= 3, "{points:#?}");
    println!("kill -9 points tried ({}):\n{}", points.len(), points.join("\n"));
}
