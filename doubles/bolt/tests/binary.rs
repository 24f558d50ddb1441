//! The `bolt-double` binary: prints where it listens, serves, keeps state
//! across a restart.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use neo4rs::{query, ConfigBuilder, Graph};

fn start(dir: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    let pw = dir.join("pw");
    std::fs::write(&pw, "secret\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bolt-double"))
        .args(["--listen", "127.0.0.1:0", "--password-file"])
        .arg(&pw)
        .arg("--state")
        .arg(dir.join("state.json"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    (child, format!("bolt://{addr}"))
}

async fn aliases(uri: &str) -> Vec<(String, String)> {
    let config = ConfigBuilder::default()
        .uri(uri)
        .user("neo4j")
        .password("secret")
        .db("system")
        .build()
        .unwrap();
    let graph = Graph::connect(config).unwrap();
    let mut rows = graph.execute(query("SHOW ALIASES FOR DATABASE")).await.unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push((row.get("name").unwrap(), row.get("database").unwrap()));
    }
    out
}

#[tokio::test]
async fn the_binary_serves_and_keeps_its_state_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, uri) = start(
        dir.path(),
        &[
            "--database",
            "customer1-1700000000",
            "--alias",
            "customer1=customer1-1700000000",
        ],
    );
    assert_eq!(
        aliases(&uri).await,
        [("customer1".to_string(), "customer1-1700000000".to_string())]
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    assert!(state.contains("customer1-1700000000"), "{state}");

    let (mut child, uri) = start(dir.path(), &[]);
    assert_eq!(aliases(&uri).await.len(), 1, "state reloaded");
    child.kill().unwrap();
    child.wait().unwrap();
}
