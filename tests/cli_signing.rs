//! Signed manifests, end to end through the binary on LocalStack: an attacker
//! with write access to the bucket (simulated with raw S3 calls) cannot make
//! restore, verify or prune trust a manifest the backup host did not sign;
//! stock `minisign` verifies what graphvault signed; `--allow-unsigned` is an
//! explicit, logged way past.

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
    let id = repo.gv(&["list", "--json"]).ok().stdout;
    let list: Value = serde_json::from_str(&id).unwrap();
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
