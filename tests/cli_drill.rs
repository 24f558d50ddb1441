//! `graphvault drill` through the binary: a monthly drill over every alias,
//! its report files, the copy in the bucket and `drill history`.

mod common;

use common::cli::*;
use common::cli_world::Setup;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_writes_its_report_and_history_lists_it() {
    let s = Setup::new("").await;
    let env = format!(
        "NEO4J_ADMIN_DOUBLE_SIZE = \"300000\", NEO4J_ADMIN_DOUBLE_DATA = \"{}\"",
        s.work.path().join("data").display()
    );
    let text = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("admin_env = {  }", &format!("admin_env = {{ {env} }}"));
    std::fs::write(&s.config, text).unwrap();
    s.run(&["backup"]).await.ok();
    let identity = format!("encryption.identity_file={}", s.key.identity_path.display());
    let report = s.work.path().join("drill-report");
    let r = s
        .run(&["--set", &identity, "drill", "--report", report.to_str().unwrap()])
        .await
        .ok();
    assert!(
        r.stdout.contains("# Restore drill") && r.stdout.contains("3 alias(es), 0 failed"),
        "{}",
        r.explain()
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(report.with_extension("json")).unwrap()).unwrap();
    common::json_contract::validate(graphvault::json::JsonDocument::Drill, &json).unwrap();
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["results"].as_array().unwrap().len(), 3);
    assert!(report.with_extension("md").is_file());
    let r = s.run(&["drill", "history"]).await.ok();
    assert!(r.stdout.contains("1 drill(s)"), "{}", r.explain());
    // The history says what the stored report says, phases included.
    let r = s.run(&["drill", "history", "--json"]).await.ok();
    let drills = common::json_contract::items(&r.stdout, "drills");
    assert_eq!(drills.len(), 1, "{}", r.explain());
    let mut stored = json.clone();
    stored.as_object_mut().unwrap().remove("schema");
    assert_eq!(
        drills[0], stored,
        "drill history --json drops nothing of the stored report"
    );
    let phases = drills[0]["results"][0]["phases"].as_array().unwrap();
    assert!(phases.iter().any(|p| p["name"] == "checks"), "{phases:?}");
    let r = s.run(&["--set", &identity, "drill", "--json"]).await.ok();
    let printed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(printed["schema"], "graphvault.drill/1");
    // No identity: a clear key error before anything is restored.
    s.run(&["drill"]).await.code(EXIT_KEY);
}
