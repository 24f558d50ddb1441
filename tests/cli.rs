//! End-to-end tests of the `graphvault` binary: real processes, a config file
//! in a tempdir, LocalStack S3 (one fresh bucket per test), and the stock `age`
//! and `zstd` CLIs to check the stored format is open.
//!
//! LocalStack must be running (`localstack/up.sh`); a test that cannot reach it
//! FAILS (the harness panics on CreateBucket), it is never skipped.

mod common;

use common::cli::*;

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use graphvault::store::S3Store;
use serde_json::Value;
use tempfile::TempDir;

const MIB: usize = 1 << 20;
/// The store prefix in `storage.url`; object keys in manifests are relative to it.
const PREFIX: &str = "graphvault";

const DB: &str = "customer1-1767741527";
const ALIAS: &str = "customer1";

// ---------------------------------------------------------------------------
// A bucket, a key pair and a config file

struct Vault {
    store: S3Store,
    bucket: String,
    key: common::TestKey,
    /// Holds the config file and artifacts.
    work: TempDir,
    config: PathBuf,
}

impl Vault {
    /// A fresh bucket, a fresh key pair, a config that encrypts to it.
    async fn new() -> Self {
        let key = common::TestKey::new();
        let recipient = key.recipient.clone();
        Self::with_recipient(key, &recipient).await
    }

    async fn with_recipient(key: common::TestKey, recipient: &str) -> Self {
        let (store, bucket) = common::s3_store_with_bucket(PREFIX).await;
        let work = tempfile::tempdir().expect("tempdir");
        let config = work.path().join("graphvault.toml");
        std::fs::write(
            &config,
            format!(
                "[storage]\nurl = \"s3://{bucket}/{PREFIX}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
                 force_path_style = true\n\n[encryption]\nrecipients = [\"{recipient}\"]\n{}",
                common::endpoint(),
                common::signing_toml()
            ),
        )
        .unwrap();
        Self {
            store,
            bucket,
            key,
            work,
            config,
        }
    }

    /// `graphvault --config FILE ARGS…`
    fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(&self.config).args(args);
        run(cmd)
    }

    /// Writes an artifact named like neo4j-admin does, in its own directory.
    fn artifact(&self, tag: &str, db: &str, data: &[u8]) -> PathBuf {
        let dir = self.work.path().join(format!("artifacts-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        common::write_artifact(&dir, db, data)
    }

    /// `backup --json` of one artifact with 5 MiB parts; the manifest it printed.
    fn backup_json(&self, artifact: &Path, db: &str) -> Value {
        let r = self
            .run(&[
                "--set",
                "upload.part_size_mib=5",
                "backup",
                "--artifact",
                s(artifact),
                "--database",
                db,
                "--json",
            ])
            .ok();
        let doc: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("backup --json is not JSON ({e}): {}", r.explain()));
        doc["manifest"].clone()
    }

    fn restore(&self, id: &str, dir: &Path, identity: &Path) -> Run {
        self.run(&["restore", "--backup", id, "--to-dir", s(dir), "--identity", s(identity)])
    }

    fn full_key(key: &str) -> String {
        format!("{PREFIX}/{key}")
    }

    /// The stored object behind a manifest key, straight from S3.
    async fn get_object(&self, key: &str) -> Vec<u8> {
        let out = self
            .store
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(Self::full_key(key))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
        out.body
            .collect()
            .await
            .expect("read object body")
            .into_bytes()
            .to_vec()
    }

    /// Replaces the stored object behind a manifest key, behind graphvault's back.
    async fn put_object(&self, key: &str, body: Vec<u8>) {
        self.store
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(Self::full_key(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
    }

    /// Every key in the bucket (prefix included).
    async fn all_keys(&self) -> Vec<String> {
        let out = self
            .store
            .client()
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListObjectsV2: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(String::from))
            .collect()
    }
}

fn artifact_of(manifest: &Value) -> (&str, &str) {
    let a = &manifest["artifacts"][0];
    (
        a["key"].as_str().expect("artifacts[0].key"),
        a["name"].as_str().expect("artifacts[0].name"),
    )
}

fn backup_id_of(manifest: &Value) -> &str {
    manifest["backup_id"].as_str().expect("backup_id")
}

/// Restores `id` expecting an integrity failure that names `key` and leaves
/// `dir` without any file.
fn assert_integrity_failure(vault: &Vault, id: &str, key: &str, dir: &Path) -> Run {
    let r = vault.restore(id, dir, &vault.key.identity_path).code(EXIT_INTEGRITY);
    assert!(
        r.stderr.contains(key),
        "stderr names the object key {key}: {}",
        r.explain()
    );
    assert!(
        entries(dir).is_empty(),
        "nothing written, not even temporary files: {:?}\n{}",
        entries(dir),
        r.explain()
    );
    assert!(r.stdout.is_empty(), "nothing reported as written: {}", r.explain());
    r
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn key_generate_writes_a_0600_identity_and_prints_its_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restore-host.key");

    let r = run_args(&["key", "generate", "--output", s(&path)]).ok();
    let recipient = r.stdout.trim();
    assert!(recipient.starts_with("age1"), "prints the recipient: {}", r.explain());
    assert_eq!(r.stdout.lines().count(), 1, "one line on stdout: {}", r.explain());
    assert!(!r.stdout.contains("AGE-SECRET-KEY") && !r.stderr.contains("AGE-SECRET-KEY"));

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "identity mode is {mode:04o}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("AGE-SECRET-KEY-")).count(),
        1,
        "one identity in the file: {text}"
    );

    // The stock tools agree that the printed recipient belongs to the identity.
    let mut keygen = Command::new("age-keygen");
    keygen.arg("-y").arg(&path);
    let y = run(keygen);
    assert_eq!(y.code, 0, "{}", y.explain());
    assert_eq!(
        y.stdout.trim(),
        recipient,
        "age-keygen -y derives the printed recipient"
    );
    let plain = dir.path().join("hello.txt");
    std::fs::write(&plain, b"hello, restore host\n").unwrap();
    let mut round = Command::new("sh");
    round.args([
        "-c",
        r#"age -r "$1" "$2" | age -d -i "$3""#,
        "sh",
        recipient,
        s(&plain),
        s(&path),
    ]);
    let round = run(round);
    assert_eq!(round.code, 0, "{}", round.explain());
    assert_eq!(round.stdout, "hello, restore host\n");

    // A second generate refuses to overwrite, with the key exit code.
    let before = std::fs::read(&path).unwrap();
    let again = run_args(&["key", "generate", "-o", s(&path)]).code(EXIT_KEY);
    assert!(again.stdout.is_empty(), "no recipient printed: {}", again.explain());
    assert!(
        again.stderr.contains("already exists") && again.stderr.contains(s(&path)),
        "says which file exists: {}",
        again.explain()
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the existing identity is untouched"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn backup_list_restore_round_trip_through_the_cli() {
    let vault = Vault::new().await;
    // 12 MiB: store-like records, then random bytes, so that even compressed
    // the sealed object needs more than one 5 MiB part.
    let mut data = common::compressible_bytes(6 * MIB, 21);
    data.extend_from_slice(&common::random_bytes(6 * MIB, 22));
    let artifact = vault.artifact("a", DB, &data);
    let name = artifact.file_name().unwrap().to_str().unwrap().to_string();

    let r = vault
        .run(&[
            "--set",
            "upload.part_size_mib=5",
            "backup",
            "--artifact",
            s(&artifact),
            "--label",
            "pre-deploy",
            "--pin",
            "--alias",
            ALIAS,
            "--database",
            DB,
        ])
        .ok();
    let line = r.stdout.trim();
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.explain());
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(
        words.len() > 4 && words[0] == "backup" && words[2] == "of" && words[3] == DB && words[4] == "committed:",
        "a committed line: {}",
        r.explain()
    );
    let id = words[1].to_string();
    assert!(
        line.contains(&format!("1 artifact(s), {} bytes stored as", data.len())),
        "{}",
        r.explain()
    );

    // list: the table row.
    let l = vault.run(&["list"]).ok();
    let row = l
        .stdout
        .lines()
        .find(|row| row.starts_with(&id))
        .unwrap_or_else(|| panic!("list shows {id}: {}", l.explain()));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], ALIAS, "{row}");
    assert_eq!(cells[2], DB, "{row}");
    assert_eq!(cells[6], "full", "{row}");
    assert_eq!(cells[cells.len() - 3], "pinned,pre-deploy", "{row}");
    assert_eq!(cells[cells.len() - 2], "signed", "{row}");
    // One backup: too little history to judge its size.
    assert_eq!(cells.last().copied(), Some("-"), "{row}");
    assert!(l.stdout.lines().next().unwrap().starts_with("ID"), "{}", l.explain());
    assert!(l.stdout.ends_with("1 backup(s)\n"), "{}", l.explain());

    // list --json
    let j = vault.run(&["list", "--json"]).ok();
    let list = common::json_contract::items(&j.stdout, "backups");
    assert_eq!(list.len(), 1, "{}", j.explain());
    let entry = &list[0];
    assert_eq!(entry["backup_id"], id.as_str());
    assert_eq!(entry["alias"], ALIAS);
    assert_eq!(entry["database"], DB);
    assert_eq!(entry["labels"], serde_json::json!(["pinned", "pre-deploy"]));
    assert!(entry["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{entry}");
    let manifest_key = entry["manifest_key"].as_str().expect("manifest_key");
    assert!(
        manifest_key.starts_with(&format!("manifests/{ALIAS}/{id}~{DB}")),
        "{manifest_key}"
    );

    // The manifest says the upload really was multipart.
    let manifest: Value = serde_json::from_slice(&vault.get_object(manifest_key).await).unwrap();
    let record = &manifest["artifacts"][0];
    assert_eq!(record["name"], name.as_str());
    assert_eq!(record["part_size"], 5 * MIB as u64);
    assert!(record["parts"].as_u64().unwrap() >= 2, "multipart: {record}");

    // --database filters by alias or database; a name with no backups is
    // refused (exit 7) naming those that have some, never "0 backup(s)".
    let other = vault.run(&["list", "--database", "someone-else"]).code(EXIT_NOT_FOUND);
    assert!(!other.stdout.contains(&id), "{}", other.explain());
    assert!(
        other.stderr.contains("Aliases with backups there: customer1"),
        "{}",
        other.explain()
    );
    let by_db = vault.run(&["list", "--database", DB]).ok();
    assert!(by_db.stdout.contains(&id), "{}", by_db.explain());

    // restore
    let out = tempfile::tempdir().unwrap();
    let r = vault.restore(&id, out.path(), &vault.key.identity_path).ok();
    let restored = out.path().join(&name);
    assert_eq!(
        r.stdout.trim(),
        s(&restored),
        "prints the path it wrote: {}",
        r.explain()
    );
    assert_eq!(
        entries(out.path()),
        vec![name.clone()],
        "only the artifact, no leftovers"
    );
    assert!(
        std::fs::read(&restored).unwrap() == data,
        "restored bytes differ from the original"
    );

    // A second restore into the same directory refuses to overwrite.
    let again = vault
        .restore(&id, out.path(), &vault.key.identity_path)
        .code(EXIT_LOCAL_IO);
    assert!(again.stderr.contains("already exists"), "{}", again.explain());
    assert_eq!(entries(out.path()), vec![name]);
}

#[tokio::test]
async fn stock_age_and_zstd_open_what_graphvault_stored() {
    let vault = Vault::new().await;
    for (tag, data) in [
        ("random", common::random_bytes(11 * MIB + 123, 31)),
        ("empty", Vec::new()),
    ] {
        let artifact = vault.artifact(tag, DB, &data);
        let manifest = vault.backup_json(&artifact, DB);
        let (key, _) = artifact_of(&manifest);
        assert!(key.starts_with("data/") && key.ends_with(".zst.age"), "{key}");
        if tag == "random" {
            assert!(manifest["artifacts"][0]["parts"].as_u64().unwrap() >= 3, "{manifest}");
        }

        let stored = vault.get_object(key).await;
        assert_eq!(
            stored.len() as u64,
            manifest["artifacts"][0]["stored_size"].as_u64().unwrap()
        );
        assert!(stored.starts_with(b"age-encryption.org/v1\n"), "{tag}: an age file");
        let file = vault.work.path().join(format!("{tag}.zst.age"));
        std::fs::write(&file, &stored).unwrap();

        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            r#"{ age -d -i "$1" "$2" || echo "AGE FAILED: $?" >&2; } | zstd -d"#,
            "sh",
            s(&vault.key.identity_path),
            s(&file),
        ]);
        let r = run(sh);
        assert_eq!(r.code, 0, "{tag}: zstd -d failed: {}", r.explain());
        assert!(
            !r.stderr.contains("AGE FAILED"),
            "{tag}: age -d failed: {}",
            r.explain()
        );
        assert_eq!(
            r.stdout_bytes.len(),
            data.len(),
            "{tag}: size of age -d | zstd -d output"
        );
        assert!(r.stdout_bytes == data, "{tag}: age -d | zstd -d gives different bytes");
    }
}

#[tokio::test]
async fn restore_with_the_wrong_identity_fails_with_the_key_exit_code_and_leaves_dir_empty() {
    let vault = Vault::new().await;
    let data = common::compressible_bytes(2 * MIB, 41);
    let manifest = vault.backup_json(&vault.artifact("a", DB, &data), DB);
    let id = backup_id_of(&manifest);

    let stranger = common::TestKey::new();
    let out = tempfile::tempdir().unwrap();
    let r = vault.restore(id, out.path(), &stranger.identity_path).code(EXIT_KEY);
    assert!(
        r.stderr.contains(&vault.key.recipient),
        "names the recipients it was encrypted to: {}",
        r.explain()
    );
    assert!(entries(out.path()).is_empty(), "{:?}", entries(out.path()));
    assert!(r.stdout.is_empty(), "{}", r.explain());

    // The right identity still works afterwards (nothing was damaged).
    vault.restore(id, out.path(), &vault.key.identity_path).ok();
    assert!(std::fs::read(out.path().join(artifact_of(&manifest).1)).unwrap() == data);
}

#[tokio::test]
async fn restore_of_a_flipped_byte_fails_as_integrity_and_writes_nothing() {
    let vault = Vault::new().await;
    let data = common::random_bytes(6 * MIB, 51);
    let manifest = vault.backup_json(&vault.artifact("a", DB, &data), DB);
    let id = backup_id_of(&manifest);
    let (key, _) = artifact_of(&manifest);
    let original = vault.get_object(key).await;

    // The header: "age-encryption.org/v1\n-> X25519 <share>\n<wrapped file key>\n" then
    // other stanzas (age-rs adds a grease one) and "--- <mac>\n": find the X25519 body.
    let header_end = original.windows(4).position(|w| w == b"\n---").expect("age header");
    let stanza = original[..header_end]
        .windows(10)
        .position(|w| w == b"-> X25519 ")
        .expect("an X25519 stanza");
    let body_line = stanza + original[stanza..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let in_wrapped_key = body_line + 5;

    let mut failures = Vec::new();
    for (what, pos) in [
        ("a byte in the middle of the payload", original.len() / 2),
        ("the last byte", original.len() - 1),
        ("a byte of the age header's wrapped file key", in_wrapped_key),
    ] {
        let mut bad = original.clone();
        bad[pos] = if what.contains("header") {
            // Stay within base64 so the header still parses.
            if bad[pos] == b'A' {
                b'B'
            } else {
                b'A'
            }
        } else {
            bad[pos] ^ 0x01
        };
        assert_ne!(bad, original);
        vault.put_object(key, bad).await;
        let out = tempfile::tempdir().unwrap();
        let r = vault.restore(id, out.path(), &vault.key.identity_path);
        let left = entries(out.path());
        if r.code != EXIT_INTEGRITY || !r.stderr.contains(key) || !left.is_empty() || !r.stdout.is_empty() {
            failures.push(format!(
                "{what} (offset {pos}): expected exit {EXIT_INTEGRITY} naming {key} and an empty dir, \
                 got files {left:?} and {}",
                r.explain()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Put the original back: it restores fine, so the failures above were the flips.
    vault.put_object(key, original).await;
    let out = tempfile::tempdir().unwrap();
    vault.restore(id, out.path(), &vault.key.identity_path).ok();
}

#[tokio::test]
async fn restore_of_a_truncated_object_fails_as_integrity_and_writes_nothing() {
    let vault = Vault::new().await;
    let data = common::random_bytes(6 * MIB, 61);
    let manifest = vault.backup_json(&vault.artifact("a", DB, &data), DB);
    let id = backup_id_of(&manifest);
    let (key, _) = artifact_of(&manifest);
    let original = vault.get_object(key).await;

    for cut in [original.len() - 1, 5 * MIB, original.len() / 2, 40] {
        vault.put_object(key, original[..cut].to_vec()).await;
        let out = tempfile::tempdir().unwrap();
        let r = assert_integrity_failure(&vault, id, key, out.path());
        assert!(!r.stderr.is_empty(), "cut at {cut}");
    }
}

#[tokio::test]
async fn restore_of_an_object_swapped_with_another_backups_object_fails_as_integrity() {
    let vault = Vault::new().await;
    let a = vault.backup_json(&vault.artifact("a", DB, &common::random_bytes(MIB, 71)), DB);
    let b = vault.backup_json(&vault.artifact("b", DB, &common::random_bytes(MIB, 72)), DB);
    assert_ne!(backup_id_of(&a), backup_id_of(&b));
    let (key_a, _) = artifact_of(&a);
    let (key_b, _) = artifact_of(&b);
    assert_ne!(key_a, key_b);

    // B's object decrypts fine with the same identity: only the manifest's
    // checksums can tell it is not A's.
    let object_b = vault.get_object(key_b).await;
    vault.put_object(key_a, object_b).await;

    let out = tempfile::tempdir().unwrap();
    assert_integrity_failure(&vault, backup_id_of(&a), key_a, out.path());

    // B itself is intact.
    vault
        .restore(backup_id_of(&b), out.path(), &vault.key.identity_path)
        .ok();
}

#[tokio::test]
async fn restore_of_an_unknown_backup_id_exits_not_found() {
    let vault = Vault::new().await;
    vault.backup_json(&vault.artifact("a", DB, &common::compressible_bytes(10_000, 81)), DB);

    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("restore-here");
    // A well-formed id that is not there is "not found"; a malformed one is a usage error.
    for (id, code) in [("20200101T000000Z-abcdef", EXIT_NOT_FOUND), ("not-an-id", EXIT_USAGE)] {
        let r = vault.restore(id, &out, &vault.key.identity_path).code(code);
        assert!(r.stderr.contains(id), "names the id: {}", r.explain());
        assert!(!out.exists(), "no directory created for a backup that does not exist");
    }
}

#[test]
fn bad_config_exits_with_usage_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = common::endpoint();
    let cases: &[(&str, String, &[&str], &str)] = &[
        (
            "missing storage.url",
            format!("[storage]\nendpoint = \"{endpoint}\"\nforce_path_style = true\n"),
            &[],
            "storage.url",
        ),
        (
            "unknown key in the file",
            "[storage]\nurl = \"s3://gv-bucket/graphvault\"\nbukket = \"oops\"\n".to_string(),
            &[],
            "bukket",
        ),
        (
            "bad url",
            "[storage]\nurl = \"ftp://gv-bucket/graphvault\"\n".to_string(),
            &[],
            "storage.url",
        ),
        (
            "part size out of range via --set",
            "[storage]\nurl = \"s3://gv-bucket/graphvault\"\n".to_string(),
            &["--set", "upload.part_size_mib=1"],
            "upload.part_size_mib",
        ),
        (
            "bad endpoint",
            "[storage]\nurl = \"s3://gv-bucket/graphvault\"\nendpoint = \"127.0.0.1:4566\"\n".to_string(),
            &[],
            "storage.endpoint",
        ),
    ];
    for (i, (what, text, extra, names)) in cases.iter().enumerate() {
        let config = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&config, text).unwrap();
        let mut args: Vec<&str> = vec!["--config", s(&config)];
        args.extend_from_slice(extra);
        args.push("list");
        let r = run_args(&args);
        assert_eq!(r.code, EXIT_USAGE, "{what}: {}", r.explain());
        assert!(
            r.stderr.contains(names),
            "{what}: stderr names {names}: {}",
            r.explain()
        );
        assert!(r.stdout.is_empty(), "{what}: {}", r.explain());
    }

    // An environment variable that is not a setting is named too.
    let config = dir.path().join("ok.toml");
    std::fs::write(&config, "[storage]\nurl = \"s3://gv-bucket/graphvault\"\n").unwrap();
    let mut cmd = graphvault();
    cmd.env("GRAPHVAULT_STORGE_URL", "s3://x/y")
        .arg("--config")
        .arg(&config)
        .arg("list");
    let r = run(cmd).code(EXIT_USAGE);
    assert!(r.stderr.contains("GRAPHVAULT_STORGE_URL"), "{}", r.explain());

    // A named config file that does not exist.
    let missing = dir.path().join("nope.toml");
    let r = run_args(&["--config", s(&missing), "list"]).code(EXIT_USAGE);
    assert!(r.stderr.contains(s(&missing)), "{}", r.explain());
}

#[tokio::test]
async fn backup_of_a_missing_artifact_exits_local_io_and_writes_no_manifest() {
    let vault = Vault::new().await;
    let missing = vault.work.path().join(format!("{DB}-2026-11-24T02-00-00.backup"));
    let r = vault
        .run(&["backup", "--artifact", s(&missing), "--database", DB])
        .code(EXIT_LOCAL_IO);
    assert!(r.stderr.contains(s(&missing)), "names the file: {}", r.explain());
    assert!(r.stdout.is_empty(), "{}", r.explain());

    // A directory is not an artifact either; nor is one missing among good ones.
    let good = vault.artifact("good", DB, &common::compressible_bytes(10_000, 101));
    vault
        .run(&["backup", "--artifact", s(vault.work.path()), "--database", DB])
        .code(EXIT_LOCAL_IO);
    vault
        .run(&[
            "backup",
            "--artifact",
            s(&good),
            "--artifact",
            s(&missing),
            "--database",
            DB,
        ])
        .code(EXIT_LOCAL_IO);

    let l = vault.run(&["list"]).ok();
    assert_eq!(l.stdout.lines().count(), 1, "one line: {}", l.explain());
    assert!(l.stdout.starts_with("no backups yet in s3://"), "{}", l.explain());
    let j = vault.run(&["list", "--json"]).ok();
    assert_eq!(
        serde_json::from_str::<Value>(&j.stdout).unwrap(),
        serde_json::json!({"schema": "graphvault.list/1", "backups": []})
    );
    assert_eq!(
        vault.all_keys().await,
        Vec::<String>::new(),
        "nothing at all in the bucket"
    );
}

#[tokio::test]
async fn json_logs_are_one_json_object_per_line() {
    let vault = Vault::new().await;
    let artifact = vault.artifact("a", DB, &common::compressible_bytes(MIB, 111));
    let out = tempfile::tempdir().unwrap();

    let check = |r: &Run| {
        let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "some log lines: {}", r.explain());
        for line in &lines {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\n{}", r.explain()));
            assert!(v.is_object(), "a JSON object: {line}");
            assert!(v.get("level").is_some() && v.get("timestamp").is_some(), "{line}");
        }
        lines.len()
    };

    let b = vault
        .run(&[
            "--log-format",
            "json",
            "backup",
            "--artifact",
            s(&artifact),
            "--database",
            DB,
        ])
        .ok();
    check(&b);
    assert!(b.stderr.contains("backup committed"), "{}", b.explain());
    let id = b.stdout.split_whitespace().nth(1).unwrap().to_string();

    // -vv: the AWS SDK's own debug events must come out as JSON too.
    check(&vault.run(&["--log-format", "json", "-vv", "list"]).ok());
    check(
        &vault
            .run(&[
                "--log-format",
                "json",
                "restore",
                "--backup",
                &id,
                "--to-dir",
                s(out.path()),
                "--identity",
                s(&vault.key.identity_path),
            ])
            .ok(),
    );

    // A failure is logged as JSON too, with the exit code.
    let f = vault
        .run(&[
            "--log-format",
            "json",
            "restore",
            "--backup",
            "20200101T000000Z-abcdef",
            "--to-dir",
            s(out.path()),
            "--identity",
            s(&vault.key.identity_path),
        ])
        .code(EXIT_NOT_FOUND);
    check(&f);
    let last: Value = serde_json::from_str(f.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap()).unwrap();
    assert_eq!(last["exit_code"], EXIT_NOT_FOUND, "{last}");
    assert_eq!(last["level"], "ERROR", "{last}");
}

#[tokio::test]
async fn no_secret_reaches_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();

    // Keys made by the CLI, at trace level, in both formats.
    let id_text = dir.path().join("text.key");
    let id_json = dir.path().join("json.key");
    runs.push(run_args(&["-vv", "--log-format", "text", "key", "generate", "-o", s(&id_text)]).ok());
    runs.push(run_args(&["-vv", "--log-format", "json", "key", "generate", "-o", s(&id_json)]).ok());
    let recipient = runs[0].stdout.trim().to_string();
    let secrets: Vec<String> = [&id_text, &id_json]
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .expect("a secret line")
                .to_string()
        })
        .collect();

    let vault = Vault::with_recipient(common::TestKey::new(), &recipient).await;
    let artifact = vault.artifact("a", DB, &common::compressible_bytes(MIB, 121));
    for format in ["text", "json"] {
        let b = vault
            .run(&[
                "-vv",
                "--log-format",
                format,
                "backup",
                "--artifact",
                s(&artifact),
                "--database",
                DB,
            ])
            .ok();
        let id = b.stdout.split_whitespace().nth(1).unwrap().to_string();
        runs.push(b);
        runs.push(vault.run(&["-vv", "--log-format", format, "list"]).ok());
        let out = dir.path().join(format!("restore-{format}"));
        runs.push(
            vault
                .run(&[
                    "-vv",
                    "--log-format",
                    format,
                    "restore",
                    "--backup",
                    &id,
                    "--to-dir",
                    s(&out),
                    "--identity",
                    s(&id_text),
                ])
                .ok(),
        );
        // A failing restore (wrong identity) logs its error: no secret there either.
        let out = dir.path().join(format!("wrong-{format}"));
        runs.push(
            vault
                .run(&[
                    "-vv",
                    "--log-format",
                    format,
                    "restore",
                    "--backup",
                    &id,
                    "--to-dir",
                    s(&out),
                    "--identity",
                    s(&id_json),
                ])
                .code(EXIT_KEY),
        );
    }

    let mut total_log = 0;
    for r in &runs {
        total_log += r.stderr.len();
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("age-secret-key"),
                "{stream} shows an age identity: {}",
                r.explain()
            );
            assert!(
                !text.contains(AWS_SECRET),
                "{stream} shows the AWS secret key: {}",
                r.explain()
            );
            for secret in &secrets {
                let body = &secret["AGE-SECRET-KEY-".len()..];
                assert!(
                    !text.contains(body) && !lower.contains(&body.to_ascii_lowercase()),
                    "{stream} shows identity key material: {}",
                    r.explain()
                );
            }
        }
    }
    // -vv really is verbose: the check above looked at real logs.
    assert!(total_log > 10_000, "expected trace-level logs, got {total_log} bytes");
}
