//! The shell procedures of docs/FORMAT.md section 12, "Restoring without
//! graphvault", run as written with stock tools (`aws`, `minisign`, `age`,
//! `zstd`, `jq`, `sha256sum`) against a backup graphvault made: from
//! LocalStack (12.1) and from a `file://` store (12.2). Only the variables
//! of the procedure's first step are replaced by the test's values, and
//! `aws` is given the LocalStack endpoint, as the section tells S3-compatible
//! users to do. A manifest edited after signing stops the procedure before
//! anything is written. When the document drifts from the format, this
//! test fails. The configuration examples run too: docs/CONFIGURATION.md's
//! minimal backup and restore hosts, and README's complete config (a
//! nightly backup of every alias through the Neo4j doubles, then a restore).

mod common;

use std::path::{Path, PathBuf};

use common::cli::*;
use serde_json::Value;

const DB: &str = "customer1-1767741527";
const ALIAS: &str = "customer1";

/// The ```sh blocks under the heading `### {section}`, in order.
fn blocks(section: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/FORMAT.md")).unwrap();
    let start = doc
        .find(&format!("\n### {section}"))
        .unwrap_or_else(|| panic!("docs/FORMAT.md has no section {section}"));
    let body = &doc[start + 1..];
    let end = ["\n## ", "\n### "]
        .iter()
        .filter_map(|h| body[4..].find(h))
        .min()
        .map_or(body.len(), |e| e + 4);
    let mut out = Vec::new();
    let mut lines = body[..end].lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push(block.join("\n"));
        }
    }
    assert!(!out.is_empty(), "no sh blocks in section {section}");
    out
}

/// The blocks as one script, each `NAME=…` line of `vars` set to the test's value.
fn script(blocks: &[String], vars: &[(&str, String)]) -> String {
    let mut seen = vec![false; vars.len()];
    let mut text = String::from("aws() { command aws --endpoint-url \"$GV_ENDPOINT\" \"$@\"; }\n");
    for block in blocks {
        for line in block.lines() {
            let set = vars.iter().position(|(name, _)| line.starts_with(&format!("{name}=")));
            match set {
                Some(i) => {
                    seen[i] = true;
                    text.push_str(&format!("{}='{}'\n", vars[i].0, vars[i].1));
                }
                None => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    for (i, (name, _)) in vars.iter().enumerate() {
        assert!(
            seen[i],
            "the procedure no longer sets {name}: update this test with the document"
        );
    }
    text
}

fn bash(script: &str, cwd: &Path) -> Run {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("GV_ENDPOINT", common::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_PAGER", "");
    run(cmd)
}

/// `graphvault backup --artifact` with `config`; the new backup's id.
fn backup_artifact(config: &Path, artifact: &Path) -> String {
    let mut cmd = graphvault();
    cmd.arg("--config").arg(config).args([
        "backup",
        "--artifact",
        s(artifact),
        "--database",
        DB,
        "--alias",
        ALIAS,
        "--json",
    ]);
    let r = run(cmd).ok();
    let m: Value = serde_json::from_str(&r.stdout).unwrap();
    m["backup_id"].as_str().unwrap().to_string()
}

/// A config for `url`, a signed backup of one artifact, and its id.
struct Backup {
    work: tempfile::TempDir,
    key: common::TestKey,
    id: String,
    artifact: PathBuf,
}

fn back_up(storage: &str) -> Backup {
    let work = tempfile::tempdir().unwrap();
    let key = common::TestKey::new();
    let config = work.path().join("graphvault.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\n{storage}\n[encryption]\nrecipients = [\"{}\"]\n{}",
            key.recipient,
            common::signing_toml()
        ),
    )
    .unwrap();
    let data = common::compressible_bytes(300_000, 7);
    let artifact = common::write_artifact(work.path(), DB, &data);
    let id = backup_artifact(&config, &artifact);
    Backup {
        work,
        key,
        id,
        artifact,
    }
}

fn restored(dest: &Path, b: &Backup) -> Option<Vec<u8>> {
    std::fs::read(dest.join(b.artifact.file_name().unwrap())).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_procedure_restores_a_signed_backup_and_refuses_an_edited_manifest() {
    let (store, bucket) = common::s3_store_with_bucket("neo4j/prod").await;
    let b = back_up(&format!(
        "url = \"s3://{bucket}/neo4j/prod\"\nendpoint = \"{}\"\nforce_path_style = true",
        common::endpoint()
    ));
    let dest = b.work.path().join("restore");
    let vars = |dest: &Path| {
        vec![
            ("BUCKET", bucket.clone()),
            ("PREFIX", "neo4j/prod".to_string()),
            ("ALIAS", ALIAS.to_string()),
            ("IDENTITY", b.key.identity_path.display().to_string()),
            ("SIGNING_KEY", common::signing().public.clone()),
            ("ID", b.id.clone()),
            ("DEST", dest.display().to_string()),
        ]
    };
    let steps = blocks("12.1 From S3");
    let r = bash(&script(&steps, &vars(&dest)), b.work.path()).ok();
    assert!(
        r.stdout
            .contains(&format!("{DB}-2026-11-24T02-00-00.backup.partial: OK")),
        "{}",
        r.explain()
    );
    assert_eq!(
        restored(&dest, &b),
        Some(std::fs::read(&b.artifact).unwrap()),
        "byte for byte"
    );

    // Edited after signing: the signature check stops the procedure.
    let key = format!("neo4j/prod/manifests/{ALIAS}/{}~{DB}~FULL.json", b.id);
    let body = store
        .client()
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let edited = String::from_utf8(body.to_vec())
        .unwrap()
        .replacen("\"size\"", "\"size\" ", 1);
    store
        .client()
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(edited.into_bytes().into())
        .send()
        .await
        .unwrap();
    let forged_dest = b.work.path().join("forged");
    let r = bash(&script(&steps, &vars(&forged_dest)), b.work.path());
    assert_ne!(r.code, 0, "{}", r.explain());
    assert!(r.stderr.contains("Signature verification failed"), "{}", r.explain());
    assert!(!forged_dest.exists(), "nothing written: {}", r.explain());
}

#[test]
fn the_file_store_procedure_restores_a_signed_backup() {
    let store_dir = tempfile::tempdir().unwrap();
    let b = back_up(&format!("url = \"file://{}\"", store_dir.path().display()));
    let dest = b.work.path().join("restore");
    let vars = vec![
        ("ROOT", store_dir.path().display().to_string()),
        ("ALIAS", ALIAS.to_string()),
        ("IDENTITY", b.key.identity_path.display().to_string()),
        ("SIGNING_KEY", common::signing().public.clone()),
        ("ID", b.id.clone()),
        ("DEST", dest.display().to_string()),
    ];
    let r = bash(&script(&blocks("12.2 From a `file://` store"), &vars), b.work.path()).ok();
    assert!(r.stdout.contains(".backup.partial: OK"), "{}", r.explain());
    assert_eq!(
        restored(&dest, &b),
        Some(std::fs::read(&b.artifact).unwrap()),
        "byte for byte"
    );
}

/// The ```toml block after the line starting with `caption` in docs/CONFIGURATION.md.
fn config_example(caption: &str) -> String {
    toml_block("docs/CONFIGURATION.md", caption)
}

/// The ```toml block after the line starting with `caption` in `doc`.
fn toml_block(doc_path: &str, caption: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc_path)).unwrap();
    let at = doc
        .find(&format!("\n{caption}"))
        .unwrap_or_else(|| panic!("{doc_path} has no example '{caption}'"));
    let rest = &doc[at..];
    let start = rest.find("```toml\n").unwrap() + "```toml\n".len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

/// The example with the test's bucket, keys and files in place of the
/// document's, and the LocalStack endpoint added to `[storage]`.
fn localised(example: &str, url: &str, key: &common::TestKey) -> String {
    localised_with(example, url, key, &[])
}

/// `localised`, also setting each `(key, line)` of `more` (an empty line
/// drops the key: a value only the document's host has).
fn localised_with(example: &str, url: &str, key: &common::TestKey, more: &[(&str, String)]) -> String {
    let mut out = String::new();
    for line in example.lines() {
        let name = line.split_once(" = ").map(|(k, _)| k.trim_start_matches("# "));
        if let Some((_, replacement)) = more.iter().find(|(k, _)| Some(*k) == name) {
            if !replacement.is_empty() {
                out.push_str(replacement);
                out.push('\n');
            }
            continue;
        }
        let line = match line.split_once(" = ").map(|(k, _)| k) {
            Some("url") => format!(
                "url = \"{url}\"\nendpoint = \"{}\"\nforce_path_style = true",
                common::endpoint()
            ),
            Some("recipients") => format!("recipients = [\"{}\"]", key.recipient),
            Some("identity_file") => format!("identity_file = \"{}\"", key.identity_path.display()),
            Some("key_file") => format!("key_file = \"{}\"", common::signing().key_file.display()),
            Some("trusted_keys") => format!("trusted_keys = [\"{}\"]", common::signing().public),
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_backup_and_restore_host_configs_work_as_documented() {
    let (_store, bucket) = common::s3_store_with_bucket("neo4j/prod").await;
    let url = format!("s3://{bucket}/neo4j/prod");
    let key = common::TestKey::new();
    let work = tempfile::tempdir().unwrap();
    let backup_host = work.path().join("backup-host.toml");
    let restore_host = work.path().join("restore-host.toml");
    std::fs::write(
        &backup_host,
        localised(&config_example("Minimal backup host"), &url, &key),
    )
    .unwrap();
    std::fs::write(
        &restore_host,
        localised(&config_example("Minimal restore host"), &url, &key),
    )
    .unwrap();

    let artifact = common::write_artifact(work.path(), DB, b"minimal hosts");
    let id = backup_artifact(&backup_host, &artifact);
    let dir = work.path().join("restored");
    let mut cmd = graphvault();
    cmd.arg("--config")
        .arg(&restore_host)
        .args(["restore", "--backup", &id, "--to-dir", s(&dir)]);
    run(cmd).ok();
    assert_eq!(
        std::fs::read(dir.join(artifact.file_name().unwrap())).unwrap(),
        b"minimal hosts"
    );
}

/// README's complete `/etc/graphvault/graphvault.toml`, with this machine's
/// bucket, keys, Neo4j (the doubles) and staging in place of the
/// document's: a nightly backup of every alias, then a restore with the
/// same file on a restore host (identity added, as its comment says).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_config_backs_up_every_alias_and_restores() {
    let world = common::cli_world::Setup::new("").await;
    world.answer_counts(10, 20);
    let (_store, bucket) = common::s3_store_with_bucket("neo4j/prod").await;
    let url = format!("s3://{bucket}/neo4j/prod");
    let dir = world.work.path();
    let local = |identity: bool| {
        let more = [
            ("bolt_uri", format!("bolt_uri = \"{}\"", world.server.uri())),
            (
                "password_file",
                format!("password_file = \"{}\"", dir.join("pw").display()),
            ),
            (
                "admin_path",
                format!("admin_path = \"{}\"", common::workspace_bin("neo4j-admin").display()),
            ),
            // The doubles' backup server is wherever neo4j-admin is told;
            // the document's address belongs to its host.
            ("backup_from", String::new()),
            (
                "staging_dir",
                format!("staging_dir = \"{}\"", dir.join("readme-staging").display()),
            ),
            ("min_free_mib", "min_free_mib = 1".into()),
            // A clean run sends nothing; a failing one must not call out.
            ("webhook_url", String::new()),
            (
                "identity_file",
                if identity {
                    format!("identity_file = \"{}\"", world.key.identity_path.display())
                } else {
                    String::new()
                },
            ),
        ];
        localised_with(
            &toml_block("README.md", "A complete `/etc/graphvault/graphvault.toml`"),
            &url,
            &world.key,
            &more,
        )
    };
    let backup_host = dir.join("readme-backup-host.toml");
    let restore_host = dir.join("readme-restore-host.toml");
    std::fs::write(&backup_host, local(false)).unwrap();
    std::fs::write(&restore_host, local(true)).unwrap();
    let with = |config: &Path, args: &[&str]| {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(config).args(args);
        run(cmd)
    };
    let r = with(&backup_host, &["backup", "--json"]).ok();
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["databases"].as_array().map(Vec::len), Some(3), "{}", r.explain());
    let list = with(&restore_host, &["list", "--json", "--database", ALIAS]).ok();
    let id = common::json_contract::items(&list.stdout, "backups")[0]["backup_id"]
        .as_str()
        .unwrap()
        .to_string();
    let restored = dir.join("readme-restored");
    with(&restore_host, &["restore", "--backup", &id, "--to-dir", s(&restored)]).ok();
    assert!(std::fs::read_dir(&restored).unwrap().count() > 0, "nothing restored");
}

/// Every ```toml block of `doc`, in order.
fn toml_blocks(doc_path: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc_path)).unwrap();
    doc.split("```toml\n")
        .skip(1)
        .map(|rest| rest[..rest.find("```").unwrap()].to_string())
        .collect()
}

/// Every config example in the documents is a config graphvault accepts
/// (a fragment gets a storage URL, the one key every config needs), and
/// CONFIGURATION.md's S3-compatible example, pointed at this machine's
/// LocalStack and a fresh bucket, lists it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_config_example_loads_and_the_s3_compatible_one_lists() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("example.toml");
    let mut seen = 0;
    for doc in ["docs/CONFIGURATION.md", "README.md"] {
        for block in toml_blocks(doc) {
            let text = if block.contains("[storage]") {
                block.clone()
            } else {
                format!("[storage]\nurl = \"file:///srv/graphvault\"\n{block}")
            };
            std::fs::write(&file, &text).unwrap();
            graphvault::config::load(Some((file.clone(), true)), Vec::new(), &[])
                .unwrap_or_else(|e| panic!("{doc}: an example graphvault refuses ({e}):\n{block}"));
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} examples found");

    let caption = "S3-compatible server (MinIO, LocalStack):";
    let (_store, bucket) = common::s3_store_with_bucket("neo4j").await;
    let more = [
        ("url", format!("url = \"s3://{bucket}/neo4j\"")),
        ("endpoint", format!("endpoint = \"{}\"", common::endpoint())),
    ];
    let key = common::TestKey::new();
    std::fs::write(&file, localised_with(&config_example(caption), "", &key, &more)).unwrap();
    let mut cmd = graphvault();
    cmd.arg("--config").arg(&file).args(["list"]);
    let r = run(cmd).ok();
    assert!(r.stdout.contains("no backups yet"), "{}", r.explain());
}
