//! Signed manifests, end to end through the binary on LocalStack: an attacker
//! with write access to the bucket (simulated with raw S3 calls) cannot make
//! restore, verify or prune trust a manifest the backup host did not sign;
//! stock `minisign` verifies what graphvault signed; `--allow-unsigned` is an
//! explicit, logged way past. `list` marks unsigned manifests, and "the
//! latest backup" is the newest trusted, complete one, so forgeries cannot
//! block restores. Even a signed manifest cannot name an artifact file
//! outside the directory a restore writes to.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use common::cli::*;
use graphvault::store::S3Store;
use serde_json::Value;
use tempfile::TempDir;

const PREFIX: &str = "gv";
const DB: &str = "customer1-1767741527";
const ALIAS: &str = "customer1";
const EXIT_USAGE: i32 = 2;
const EXIT_INTEGRITY: i32 = 4;

struct Repo {
    store: S3Store,
    bucket: String,
    key: common::TestKey,
    work: TempDir,
    config: PathBuf,
}

impl Repo {
    /// A bucket and a config with `signing` as its `[signing]` section.
    async fn new(signing: &str) -> Self {
        let (store, bucket) = common::s3_store_with_bucket(PREFIX).await;
        let key = common::TestKey::new();
        let work = tempfile::tempdir().unwrap();
        let config = work.path().join("graphvault.toml");
        let repo = Self {
            store,
            bucket,
            key,
            work,
            config,
        };
        repo.write_config(signing);
        repo
    }

    fn write_config(&self, signing: &str) {
        let text = format!(
            "[storage]\nurl = \"s3://{}/{PREFIX}\"\nendpoint = \"{}\"\nforce_path_style = true\n\
             [encryption]\nrecipients = [\"{}\"]\n[retention]\nkeep_last = 1\nkeep_daily = 0\n\
             keep_weekly = 0\nkeep_monthly = 0\n{signing}",
            self.bucket,
            common::endpoint(),
            self.key.recipient
        );
        std::fs::write(&self.config, text).unwrap();
    }

    fn gv<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let mut cmd = graphvault();
        cmd.arg("--config").arg(&self.config).args(args);
        run(cmd)
    }

    /// Backs up a small artifact; returns (backup id, manifest key).
    fn backup(&self, tag: &str) -> (String, String) {
        let dir = self.work.path().join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let artifact = common::write_artifact(&dir, DB, tag.as_bytes());
        let r = self
            .gv(&[
                "backup",
                "--artifact",
                s(&artifact),
                "--database",
                DB,
                "--alias",
                ALIAS,
                "--json",
            ])
            .ok();
        let m: Value = serde_json::from_str(&r.stdout).unwrap();
        let id = m["backup_id"].as_str().unwrap().to_string();
        (id.clone(), format!("manifests/{ALIAS}/{id}~{DB}~FULL.json"))
    }

    fn restore(&self, id: &str, extra: &[&str]) -> Run {
        let dir = self.work.path().join(format!("restored-{}", rand::random::<u32>()));
        let mut args = vec!["restore", "--backup", id, "--to-dir", s(&dir), "--identity"];
        args.push(s(&self.key.identity_path));
        args.extend_from_slice(extra);
        self.gv(&args)
    }

    async fn get(&self, key: &str) -> Vec<u8> {
        let out = self
            .store
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(format!("{PREFIX}/{key}"))
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// Writes behind graphvault's back, as an attacker with bucket access would.
    async fn put(&self, key: &str, body: Vec<u8>) {
        self.store
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{PREFIX}/{key}"))
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }

    /// Signs `body` for `key` with the test signing key (the trusted one) and
    /// writes both: what a holder of the signing key could forge.
    async fn put_signed(&self, key: &str, body: Vec<u8>) {
        let signer = graphvault::signing::SigningKey::from_file(&common::signing().key_file).unwrap();
        let signature = signer.sign_manifest(key, &body).unwrap();
        self.put(&format!("{key}.minisig"), signature.into_bytes()).await;
        self.put(key, body).await;
    }

    async fn delete(&self, key: &str) {
        self.store
            .client()
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("{PREFIX}/{key}"))
            .send()
            .await
            .unwrap();
    }
}

fn download(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_backups_restore_and_stock_minisign_verifies_their_manifests() {
    let repo = Repo::new(&common::signing_toml()).await;
    let (id, manifest_key) = repo.backup("one");
    let manifest = repo.get(&manifest_key).await;
    let signature = repo.get(&format!("{manifest_key}.minisig")).await;
    let path = download(repo.work.path(), "manifest.json", &manifest);
    download(repo.work.path(), "manifest.json.minisig", &signature);
    let mut cmd = std::process::Command::new("minisign");
    cmd.args(["-V", "-P", &common::signing().public, "-m"]).arg(&path);
    let r = run(cmd).ok();
    assert!(
        r.stdout
            .contains(&format!("Trusted comment: graphvault-manifest {manifest_key}")),
        "{}",
        r.explain()
    );
    repo.restore(&id, &[]).ok();
    repo.gv(&["verify", "--backup", &id]).ok();
}

/// Each way an attacker can tamper with a manifest, refused by restore and
/// verify with the manifest named, before anything is downloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_edited_replayed_and_foreign_manifests_are_refused() {
    let repo = Repo::new(&common::signing_toml()).await;
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger_key = stranger_dir.path().join("stranger.key");
    graphvault::signing::generate_signing_key(&stranger_key).unwrap();
    let stranger = graphvault::signing::SigningKey::from_file(&stranger_key).unwrap();

    let (a, a_key) = repo.backup("a");
    let (b, b_key) = repo.backup("b");
    let (c, c_key) = repo.backup("c");
    // a: edited after signing (an artifact's sha256 replaced).
    let original = repo.get(&a_key).await;
    let text = String::from_utf8(original.clone()).unwrap();
    let m: Value = serde_json::from_str(&text).unwrap();
    let sha = m["artifacts"][0]["sha256"].as_str().unwrap();
    repo.put(&a_key, text.replace(sha, &"0".repeat(64)).into_bytes()).await;
    // b: its signature removed.
    repo.delete(&format!("{b_key}.minisig")).await;
    // c: signed by a key nobody trusts.
    let body = repo.get(&c_key).await;
    let forged = stranger.sign_manifest(&c_key, &body).unwrap();
    repo.put(&format!("{c_key}.minisig"), forged.into_bytes()).await;
    // d: a's genuine manifest and signature, replayed under a newer backup id.
    let d = "20990101T000000Z-dddddd".to_string();
    let d_key = format!("manifests/{ALIAS}/{d}~{DB}~FULL.json");
    repo.put(&d_key, original).await;
    repo.put(&format!("{d_key}.minisig"), repo.get(&format!("{a_key}.minisig")).await)
        .await;

    for (id, key, reason) in [
        (&a, &a_key, "does not match its content"),
        (&b, &b_key, "has no signature"),
        (&c, &c_key, "not in [signing] trusted_keys"),
        (&d, &d_key, "made for another manifest"),
    ] {
        let r = repo.restore(id, &[]).code(EXIT_INTEGRITY);
        assert!(
            r.stderr.contains(key.as_str()) && r.stderr.contains(reason),
            "{reason}: {}",
            r.explain()
        );
        assert!(
            r.stderr.contains("--allow-unsigned"),
            "names the escape hatch: {}",
            r.explain()
        );
        let v = repo.gv(&["verify", "--backup", id]).code(EXIT_INTEGRITY);
        assert!(
            v.stdout.contains(reason) || v.stderr.contains(reason),
            "{reason}: {}",
            v.explain()
        );
    }
    // The escape hatch: b's content is genuine, only its signature is gone.
    let r = repo.restore(&b, &["--allow-unsigned"]).ok();
    assert!(r.stderr.contains("unsigned manifests are allowed"), "{}", r.explain());
    assert!(
        r.stderr.contains("accepting a manifest without a trusted signature"),
        "{}",
        r.explain()
    );
    // a's data no longer matches its (edited) manifest: the checksums still catch it.
    repo.restore(&a, &["--allow-unsigned"]).code(EXIT_INTEGRITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_without_keys_are_told_which_setting_to_add() {
    let repo = Repo::new("").await;
    let dir = repo.work.path().join("art");
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = common::write_artifact(&dir, DB, b"x");
    let r = repo
        .gv(&["backup", "--artifact", s(&artifact), "--database", DB])
        .code(EXIT_USAGE);
    assert!(
        r.stderr.contains("key_file") && r.stderr.contains("generate-signing"),
        "{}",
        r.explain()
    );
    // An unsigned backup, explicitly allowed; then a restore host with no trusted keys.
    repo.gv(&[
        "--allow-unsigned",
        "backup",
        "--artifact",
        s(&artifact),
        "--database",
        DB,
    ])
    .ok();
    let list = common::json_contract::items(&repo.gv(&["list", "--json"]).ok().stdout, "backups");
    let id = list[0]["backup_id"].as_str().unwrap().to_string();
    let r = repo.restore(&id, &[]).code(EXIT_USAGE);
    assert!(r.stderr.contains("trusted_keys"), "{}", r.explain());
    let r = repo.gv(&["prune", "--dry-run"]).code(EXIT_USAGE);
    assert!(r.stderr.contains("trusted_keys"), "{}", r.explain());
    repo.restore(&id, &["--allow-unsigned"]).ok();
}

/// Fake newer backups do not push the real one out of the retention window:
/// prune checks the signatures of what it keeps, sets the forgeries aside
/// (left alone, never counted) and keeps the newest genuine backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_newer_manifests_cannot_make_prune_delete_real_backups() {
    let repo = Repo::new(&common::signing_toml()).await;
    let (old, old_key) = repo.backup("old");
    // Backup ids have one-second resolution: make "real" the newer one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (real, real_key) = repo.backup("real");
    // Two forged manifests, newer than everything, copies of the real one
    // under new backup ids (no valid signature).
    let body = String::from_utf8(repo.get(&real_key).await).unwrap();
    let mut forged = Vec::new();
    for (n, suffix) in ["aaaaaa", "bbbbbb"].iter().enumerate() {
        let fake_id = format!("2099010{}T000000Z-{suffix}", n + 1);
        let key = format!("manifests/{ALIAS}/{fake_id}~{DB}~FULL.json");
        repo.put(&key, body.replace(&real, &fake_id).into_bytes()).await;
        // The forger copies the data too, so the forgery looks complete
        // (one without data is set aside as incomplete before any GET).
        let data = graphvault::store::ObjectStore::list(&repo.store, &format!("data/{ALIAS}/{real}/"))
            .await
            .unwrap();
        for o in data {
            repo.put(&o.key.replace(&real, &fake_id), repo.get(&o.key).await).await;
        }
        forged.push(key);
    }
    let r = repo.gv(&["prune", "--json"]).ok();
    let report: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.explain()));
    let action = |id: &str| {
        report["plan"]["backups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["backup_id"] == id)
            .map(|b| b["action"].as_str().unwrap().to_string())
    };
    assert_eq!(action(&real).as_deref(), Some("keep"), "{}", r.explain());
    assert_eq!(action(&old).as_deref(), Some("delete"), "{}", r.explain());
    assert_eq!(
        action("20990101T000000Z-aaaaaa").as_deref(),
        Some("untrusted"),
        "{}",
        r.explain()
    );
    assert!(r.stderr.contains("manifest not trusted"), "{}", r.explain());
    // The real backup still restores; the old one and its signature are gone;
    // the forgeries are still there, for the operator to look at.
    repo.restore(&real, &[]).ok();
    let keys: Vec<String> = graphvault::store::ObjectStore::list(&repo.store, "manifests/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert!(
        !keys.contains(&old_key) && !keys.contains(&format!("{old_key}.minisig")),
        "{keys:?}"
    );
    for f in &forged {
        assert!(keys.contains(f), "{keys:?}");
    }
}

/// A manifest naming an artifact `../escaped.backup` (signed with the trusted
/// key: a compromised backup host) or an absolute path (unsigned, restored
/// with `--allow-unsigned`: anyone who can write to the bucket) is refused
/// before anything is downloaded: exit 4, the manifest and the name in the
/// message, nothing written inside or outside the target directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_names_that_leave_the_target_directory_are_refused_signed_or_not() {
    let repo = Repo::new(&common::signing_toml()).await;
    let (id, key) = repo.backup("one");
    let genuine = String::from_utf8(repo.get(&key).await).unwrap();
    let m: Value = serde_json::from_str(&genuine).unwrap();
    let name = m["artifacts"][0]["name"].as_str().unwrap().to_string();
    let work = repo.work.path();
    let absolute = work.join("absolute.backup").display().to_string();
    for (evil, signed, extra, escaped) in [
        ("../escaped.backup", true, None, work.join("escaped.backup")),
        (
            absolute.as_str(),
            false,
            Some("--allow-unsigned"),
            work.join("absolute.backup"),
        ),
    ] {
        let forged = genuine.replace(&format!("\"name\": \"{name}\""), &format!("\"name\": \"{evil}\""));
        assert_ne!(forged, genuine);
        if signed {
            repo.put_signed(&key, forged.into_bytes()).await;
        } else {
            repo.delete(&format!("{key}.minisig")).await;
            repo.put(&key, forged.into_bytes()).await;
        }
        let dir = work.join(format!("restored-{}", rand::random::<u32>()));
        let mut args = vec!["restore", "--backup", &id, "--to-dir", s(&dir), "--identity"];
        args.push(s(&repo.key.identity_path));
        args.extend(extra);
        let r = repo.gv(&args).code(EXIT_INTEGRITY);
        assert!(
            r.stderr.contains(&key) && r.stderr.contains(evil) && r.stderr.contains("a plain file name"),
            "{evil}: {}",
            r.explain()
        );
        assert!(!escaped.exists(), "{evil}: {} was written", escaped.display());
        assert!(entries_or_none(&dir).is_empty(), "{evil}: {:?}", entries_or_none(&dir));
        let mut args = vec!["verify", "--backup", &id];
        args.extend(extra);
        let v = repo.gv(&args).code(EXIT_INTEGRITY);
        assert!(v.stdout.contains(evil), "{evil}: {}", v.explain());
    }
}

fn entries_or_none(dir: &Path) -> Vec<String> {
    if dir.exists() {
        entries(dir)
    } else {
        Vec::new()
    }
}

/// Copies the manifest at `key` (and its data objects) to backup id `to`:
/// returns the new manifest key and body.
async fn copy_backup(repo: &Repo, from: &str, key: &str, to: &str, with_data: bool) -> (String, Vec<u8>) {
    let body = String::from_utf8(repo.get(key).await).unwrap().replace(from, to);
    let new_key = key.replace(from, to);
    if with_data {
        let data = graphvault::store::ObjectStore::list(&repo.store, &format!("data/{ALIAS}/{from}/"))
            .await
            .unwrap();
        for o in data {
            repo.put(&o.key.replace(from, to), repo.get(&o.key).await).await;
        }
    }
    (new_key, body.into_bytes())
}

/// A newer unsigned manifest (a forgery, data and all), a newer signed one
/// whose data is gone, and an unsigned copy of the real manifest under
/// another alias: `list` marks the unsigned ones untrusted, `restore
/// --database` and `verify --latest` skip the newer ones, say so, and use
/// the newest trusted, complete backup; `--backup ID` finds the signed one. `--allow-unsigned` keeps the old choice
/// (the newest manifest), logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_marks_unsigned_manifests_and_latest_skips_untrusted_and_incomplete_backups() {
    let repo = Repo::new(&common::signing_toml()).await;
    let (real, real_key) = repo.backup("real");
    let forged_id = "20990101T000000Z-aaaaaa";
    let (forged_key, body) = copy_backup(&repo, &real, &real_key, forged_id, true).await;
    repo.put(&forged_key, body).await;
    let broken_id = "20980101T000000Z-bbbbbb";
    let (broken_key, body) = copy_backup(&repo, &real, &real_key, broken_id, false).await;
    repo.put_signed(&broken_key, body).await;
    // The real backup's id again, unsigned, under an alias that sorts first:
    // naming the id must still find the signed one.
    let twin_key = real_key.replacen(&format!("manifests/{ALIAS}/"), "manifests/aaa/", 1);
    repo.put(&twin_key, repo.get(&real_key).await).await;

    let r = repo.gv(&["list", "--json"]).ok();
    let list = common::json_contract::items(&r.stdout, "backups");
    let entry = |key: &str| {
        list.iter()
            .find(|e| e["manifest_key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} not listed: {}", r.explain()))
    };
    for (key, signed) in [
        (&forged_key, false),
        (&twin_key, false),
        (&real_key, true),
        (&broken_key, true),
    ] {
        assert_eq!(entry(key)["signed"], signed, "{key}: {}", r.explain());
        assert_eq!(entry(key)["untrusted"], !signed, "{key}: {}", r.explain());
    }
    let table = repo.gv(&["list"]).ok().stdout;
    let row = table.lines().find(|l| l.starts_with(forged_id)).unwrap();
    assert!(row.contains("UNSIGNED"), "{table}");
    assert!(table.contains("2 unsigned"), "{table}");

    let dir = repo.work.path().join("latest");
    let r = repo
        .gv(&[
            "restore",
            "--database",
            ALIAS,
            "--to-dir",
            s(&dir),
            "--identity",
            s(&repo.key.identity_path),
        ])
        .ok();
    let skipped = |r: &Run, id: &str, why: &str| {
        r.stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("skipping") && l.contains(id) && l.contains(why))
    };
    assert!(skipped(&r, forged_id, "no signature"), "{}", r.explain());
    assert!(skipped(&r, broken_id, "missing"), "{}", r.explain());
    assert_eq!(entries(&dir).len(), 1, "{}", r.explain());
    repo.restore(&real, &[]).ok();

    let v = repo.gv(&["verify", "--latest", "--database", ALIAS]).ok();
    assert!(
        v.stdout.contains(&real) && !v.stdout.contains(forged_id),
        "{}",
        v.explain()
    );
    assert!(skipped(&v, forged_id, "no signature"), "{}", v.explain());
    // Over every alias, one with no trusted backup at all (here only the
    // unsigned copy under `aaa`) fails, named; the others still verify.
    let v = repo.gv(&["verify", "--latest"]).code(EXIT_INTEGRITY);
    assert!(
        v.stdout.contains(&format!("ok      stored  {real}  {ALIAS} / {DB}")),
        "{}",
        v.explain()
    );
    assert!(
        v.stdout.contains("no trusted, complete backup of aaa"),
        "{}",
        v.explain()
    );
    let v = repo.gv(&["verify", "--latest", "--json"]).code(EXIT_INTEGRITY);
    let doc: Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(doc["outcome"], "partial", "one verified, one failed: {doc}");
    let outcomes: Vec<(&str, &str)> = doc["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["alias"].as_str().unwrap(), b["outcome"].as_str().unwrap()))
        .collect();
    assert!(
        outcomes.contains(&(ALIAS, "ok")) && outcomes.contains(&("aaa", "failed")),
        "{doc}"
    );

    // The old choice, explicitly: the newest manifest, accepted unsigned and logged.
    let v = repo
        .gv(&["--allow-unsigned", "verify", "--latest", "--database", ALIAS])
        .ok();
    assert!(v.stdout.contains(forged_id), "{}", v.explain());
    assert!(
        v.stderr.contains("accepting a manifest without a trusted signature"),
        "{}",
        v.explain()
    );
}
