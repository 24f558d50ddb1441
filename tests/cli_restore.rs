//! The 3 AM restore through the binary: a fresh host (new staging, only the
//! config, the identity and the bucket) restores into Neo4j and switches the
//! alias; every refusal has its documented exit code and leaves neo4j-admin
//! untouched.

mod common;

use common::cli::*;
use common::cli_world::Setup;
use serde_json::Value;

/// The world with a nightly backup done; the admin double logs and restores
/// inside the work dir.
async fn backed_up() -> Setup {
    let s = Setup::new("").await;
    let env = format!(
        "NEO4J_ADMIN_DOUBLE_SIZE = \"300000\", NEO4J_ADMIN_DOUBLE_LOG = \"{}\", NEO4J_ADMIN_DOUBLE_DATA = \"{}\"",
        s.work.path().join("admin.jsonl").display(),
        s.work.path().join("data").display()
    );
    s.set_admin_env(&env);
    s.run(&["backup"]).await.ok();
    s
}

/// `graphvault restore …` as a fresh host: its own staging, the identity.
async fn restore(s: &Setup, args: &[&str]) -> Run {
    let staging = s.work.path().join("fresh-host-staging");
    let staging = format!("backup.staging_dir={}", staging.display());
    let identity = s.key.identity_path.display().to_string();
    let mut all = vec!["--set", staging.as_str(), "restore", "--identity", identity.as_str()];
    all.extend_from_slice(args);
    s.run(&all).await
}

fn admin_restores(s: &Setup) -> usize {
    std::fs::read_to_string(s.work.path().join("admin.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"restore\""))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_3_am_restore_switches_the_alias_and_reports_the_recovery_time() {
    let s = backed_up().await;
    let r = restore(&s, &["--database", "customer2", "--switch-alias"]).await.ok();
    assert!(r.stdout.contains("(recovery time)"), "{}", r.explain());
    assert!(
        r.stdout.contains("to roll back: graphvault alias rollback customer2"),
        "{}",
        r.explain()
    );
    let target = s
        .server
        .aliases()
        .into_iter()
        .find(|(a, _)| a == "customer2")
        .map(|(_, d)| d)
        .unwrap();
    assert_ne!(
        target, "customer2-1800000000",
        "the alias moved to the restored database"
    );
    assert_eq!(admin_restores(&s), 1);

    let r = restore(&s, &["--database", "customer3", "--json"]).await.ok();
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let phases: Vec<&str> = out["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["download_verify", "neo4j_admin_restore", "online"]);
    assert!(out["total_seconds"].as_f64().unwrap() > 0.0);

    let dir = s.work.path().join("just-the-files");
    let r = restore(&s, &["--database", "customer1", "--to-dir", dir.to_str().unwrap()])
        .await
        .ok();
    assert!(r.stdout.contains(".backup"), "{}", r.explain());
    let again = s.work.path().join("the-files-as-json");
    let r = restore(
        &s,
        &["--database", "customer1", "--to-dir", again.to_str().unwrap(), "--json"],
    )
    .await
    .ok();
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        out["schema"], "graphvault.restore-to-dir/1",
        "an object, not a plain path"
    );
    assert_eq!(out["outcome"], "ok");
    let files = out["files"].as_array().unwrap();
    assert!(
        !files.is_empty()
            && files
                .iter()
                .all(|f| std::path::Path::new(f.as_str().unwrap()).is_file()),
        "{out}"
    );
    assert_eq!(admin_restores(&s), 2, "--to-dir never runs neo4j-admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_their_exit_codes_and_never_reach_neo4j_admin() {
    let s = backed_up().await;
    // An existing target.
    let r = restore(&s, &["--database", "customer1", "--as", "customer1-1700000000"])
        .await
        .code(EXIT_USAGE);
    assert!(r.stderr.contains("--overwrite-destination"), "{}", r.explain());
    // The wrong identity.
    let stranger = common::TestKey::new();
    let staging = format!("backup.staging_dir={}", s.work.path().join("x").display());
    let r = s
        .run(&[
            "--set",
            &staging,
            "restore",
            "--database",
            "customer1",
            "--identity",
            stranger.identity_path.to_str().unwrap(),
        ])
        .await
        .code(EXIT_KEY);
    assert!(r.stderr.contains("encrypted to"), "{}", r.explain());
    // No backup of that alias; an unknown time format.
    restore(&s, &["--database", "customer9"]).await.code(EXIT_NOT_FOUND);
    restore(&s, &["--database", "customer1", "--at", "yesterday"])
        .await
        .code(EXIT_USAGE);
    restore(&s, &["--database", "customer1", "--at", "2000-01-01"])
        .await
        .code(EXIT_NOT_FOUND);
    // A flipped byte in the stored object.
    let listed = graphvault::ops::list_backups(&s.store, &Default::default())
        .await
        .unwrap();
    let key = listed.iter().find(|k| k.alias.as_str() == "customer1").unwrap();
    let manifest = graphvault::ops::read_manifest_unverified(&s.store, key).await.unwrap();
    let object = &manifest.artifacts[0].key;
    let mut body = graphvault::store::get_all(&s.store, object).await.unwrap().to_vec();
    body[1000] ^= 0x10;
    s.store
        .client()
        .put_object()
        .bucket(s.store.bucket())
        .key(format!("gv/{object}"))
        .body(body.into())
        .send()
        .await
        .unwrap();
    let r = restore(&s, &["--database", "customer1"]).await.code(EXIT_INTEGRITY);
    assert!(
        r.stderr.contains(object.as_str()),
        "the message names the object: {}",
        r.explain()
    );
    assert_eq!(admin_restores(&s), 0, "neo4j-admin never saw a file");
}

fn target_of(s: &Setup, alias: &str) -> String {
    s.server
        .aliases()
        .into_iter()
        .find(|(a, _)| a == alias)
        .map(|(_, d)| d)
        .unwrap()
}

/// Issue 19.7: a DR restore on a restore host (identity, no recipients, no
/// signing key: it cannot take a backup) records its alias switch, and the
/// rollback command it prints, run exactly as printed there, works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dr_restore_switch_is_recorded_and_the_printed_rollback_runs_as_printed_on_the_restore_host() {
    let s = backed_up().await;
    let host = s.restore_host_config();
    let r = s
        .run_with(&host, &["restore", "--database", "customer2", "--switch-alias"])
        .await
        .ok();
    let restored = target_of(&s, "customer2");
    assert_ne!(restored, "customer2-1800000000", "{}", r.explain());
    let line = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("to roll back: "))
        .unwrap_or_else(|| panic!("no rollback command printed: {}", r.explain()));
    let printed: Vec<&str> = line.split("   ").next().unwrap().split_whitespace().collect();
    assert_eq!(printed, ["graphvault", "alias", "rollback", "customer2"], "{line}");

    // The switch is in the bucket, so any host can undo it.
    let rec = graphvault::ops::cutover::last_switch(&s.store, "customer2")
        .await
        .unwrap()
        .expect("the restore's switch is recorded");
    assert_eq!(
        (rec.kind.as_str(), rec.previous.as_deref(), rec.target.as_str()),
        ("restore", Some("customer2-1800000000"), restored.as_str())
    );

    // What used to be printed needs a pre-deploy backup this host cannot take.
    s.run_with(&host, &["alias", "switch", "customer2", "customer2-1800000000"])
        .await
        .code(EXIT_KEY);
    assert_eq!(target_of(&s, "customer2"), restored);

    // The printed command, as printed, with this host's config found the
    // way an operator's is (GRAPHVAULT_CONFIG).
    let mut cmd = graphvault();
    cmd.env("GRAPHVAULT_CONFIG", &host).args(&printed[1..]);
    let r = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap().ok();
    assert!(
        r.stdout.contains("rolled back to customer2-1800000000"),
        "{}",
        r.explain()
    );
    assert_eq!(target_of(&s, "customer2"), "customer2-1800000000");
}
