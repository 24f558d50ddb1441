//! The harness of `tests/bad_input.rs`: one shared world (a LocalStack
//! bucket with one committed backup, the Bolt double, the neo4j-admin double,
//! keys), a table of bad-input cases as data, one runner that runs each case
//! through the real binary and checks it, and the generator of
//! `docs/FAILURES.md` from what the binary really printed.
//!
//! Placeholders: in a case's command, config edits, environment and files,
//! `<tmp>` is the case's own directory, `<work>` the world's directory,
//! `<artifact>` the shared artifact, `<id>` the committed backup's id,
//! `<identity>` the identity that opens it, `<bucket>` the bucket,
//! `<no-versioning-endpoint>` LocalStack behind a proxy denying
//! GetBucketVersioning. The same
//! placeholders replace those values in the messages written to
//! docs/FAILURES.md, so the file does not change from run to run.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bolt_double::{BoltDouble, Running};
use graphvault::store::S3Store;
use tempfile::TempDir;

use crate::common::{
    self,
    cli::{graphvault, run, Run, AWS_SECRET},
    s3_proxy::{Action, S3Op, S3Proxy},
};

/// The database the shared artifact and the Bolt double's alias belong to.
pub const DB: &str = "customer1-1800000000";
pub const ALIAS: &str = "customer1";
/// The shared artifact's file name (a neo4j-admin name).
pub const ARTIFACT_NAME: &str = "customer1-1800000000-2026-11-24T02-00-00.backup";
/// Store prefix in `storage.url`.
const PREFIX: &str = "gv";

/// One bad input: what is run, and what must come out of it.
pub struct Case {
    /// Short stable name (also the name of the case's directory).
    pub id: &'static str,
    /// What is wrong, in words (the first column of docs/FAILURES.md).
    pub case: &'static str,
    /// Changes to the world's working config file for this case.
    pub config: &'static [Edit],
    /// Files to create in the case's directory first.
    pub prep: &'static [Prep],
    /// Extra environment variables.
    pub env: &'static [(&'static str, &'static str)],
    /// Arguments after `graphvault --config <tmp>/graphvault.toml`.
    pub command: &'static [&'static str],
    pub expect_code: i32,
    /// Phrases stderr must contain: what is wrong, then how to fix it.
    pub must_mention: &'static [&'static str],
    /// What must be true afterwards, beyond the checks made for every case
    /// (no new manifest, shared artifact untouched).
    pub check: &'static [Check],
}

/// A change to the config file a case runs with.
pub enum Edit {
    /// `--config` names a file that does not exist.
    NoFile,
    /// The file is exactly this text (placeholders expanded).
    Whole(&'static str),
    /// Leave out `section.key`.
    Drop(&'static str),
    /// `section.key = <raw TOML value>` (placeholders expanded).
    Put(&'static str, &'static str),
    /// Raw text appended at the end of the file.
    Append(&'static str),
}

/// A file prepared in the case's directory before the run.
pub enum Prep {
    /// `<tmp>/identity.txt`: the identity that opens the backup, with this mode.
    IdentityMode(u32),
    /// `<tmp>/identity.txt`: a valid identity the backup was not encrypted to.
    StrangerIdentity,
    /// `<tmp>/signing.key`: the test signing key, with this mode.
    SigningKeyMode(u32),
    /// `<tmp>/NAME` with this text, mode 0600 (parent directories created).
    File(&'static str, &'static str),
    /// `<tmp>/NAME` as a directory.
    Dir(&'static str),
    /// `<tmp>/NAME`: a copy of the shared artifact.
    ArtifactCopy(&'static str),
    /// Under the store prefix `prefix` (the case points `storage.url` at
    /// it): a copy of the committed backup, data and manifest, whose
    /// artifact is renamed `name` (placeholders expanded), with a signature
    /// by the trusted key when `signed` (what a compromised backup host
    /// could write) or none (what anyone with write access to the bucket
    /// could); its artifact may claim another plain `size`.
    ForgedBackup {
        prefix: &'static str,
        name: &'static str,
        signed: bool,
        /// The plain size its artifact claims, when not the real one.
        size: Option<u64>,
    },
    /// Under the store prefix `prefix`: lease generation 1 held by a forger
    /// until 9999-12-31 (every role can write `locks/`).
    LeaseUntil9999 { prefix: &'static str },
}

/// A check made after the run.
pub enum Check {
    /// `<tmp>/PATH` does not exist, or is an empty directory.
    Absent(&'static str),
    /// `<tmp>/PATH` still holds exactly this text.
    FileIs(&'static str, &'static str),
    /// `<tmp>/PATH` still exists (a file the run must not delete).
    Exists(&'static str),
    /// No 6 characters in a row of this text (any casing) appear in stdout
    /// or stderr: secret material is not echoed, not even partly.
    NotEchoed(&'static str),
}

/// The world every case runs in.
pub struct World {
    pub bolt: Running,
    /// LocalStack behind a proxy that answers GetBucketVersioning with 403
    /// AccessDenied, like a role without s3:GetBucketVersioning
    /// (`<no-versioning-endpoint>`).
    pub no_versioning: S3Proxy,
    pub store: S3Store,
    pub bucket: String,
    pub key: common::TestKey,
    pub stranger: common::TestKey,
    pub work: TempDir,
    pub artifact: PathBuf,
    pub artifact_bytes: Vec<u8>,
    pub id: String,
    admin: PathBuf,
    /// The working config as (section, key, raw TOML value), in file order.
    base: Vec<(&'static str, &'static str, String)>,
}

impl World {
    /// Bolt double, bucket, keys, a config that works, and one committed
    /// backup of the shared artifact (made with that config).
    pub async fn new() -> Self {
        let bolt = BoltDouble::builder()
            .user("neo4j")
            .password("pw")
            .database("customer1-1700000000")
            .database(DB)
            .alias(ALIAS, DB)
            .start()
            .await
            .expect("bolt double");
        let (store, bucket) = common::s3_store_with_bucket(PREFIX).await;
        let no_versioning = S3Proxy::start().await;
        no_versioning.inject(
            S3Op::GetVersioning,
            0,
            usize::MAX,
            Action::Error {
                status: 403,
                code: "AccessDenied",
            },
        );
        let key = common::TestKey::new();
        let stranger = common::TestKey::new();
        let work = tempfile::tempdir().expect("tempdir");
        let pw = work.path().join("pw");
        std::fs::write(&pw, "pw").unwrap();
        std::fs::set_permissions(&pw, PermissionsExt::from_mode(0o600)).unwrap();
        let dir = work.path().join("artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let artifact = dir.join(ARTIFACT_NAME);
        let artifact_bytes = common::compressible_bytes(20_000, 7);
        std::fs::write(&artifact, &artifact_bytes).unwrap();
        let admin = common::workspace_bin("neo4j-admin");
        let signing = common::signing();
        let q = |s: &str| format!("\"{s}\"");
        let base = vec![
            ("storage", "url", q(&format!("s3://{bucket}/{PREFIX}"))),
            ("storage", "endpoint", q(&common::endpoint())),
            ("storage", "force_path_style", "true".into()),
            ("storage", "connect_timeout_secs", "2".into()),
            ("encryption", "recipients", format!("[{}]", q(&key.recipient))),
            ("upload", "part_size_mib", "5".into()),
            ("upload", "concurrency", "1".into()),
            ("upload", "max_attempts", "1".into()),
            ("neo4j", "bolt_uri", q(&bolt.uri())),
            ("neo4j", "password_file", q(&pw.display().to_string())),
            ("neo4j", "connect_timeout_secs", "2".into()),
            ("neo4j", "admin_path", q(&admin.display().to_string())),
            ("neo4j", "admin_env", "{ NEO4J_ADMIN_DOUBLE_SIZE = \"20000\" }".into()),
            (
                "backup",
                "staging_dir",
                q(&work.path().join("staging").display().to_string()),
            ),
            ("backup", "min_free_mib", "1".into()),
            ("backup", "progress_interval_secs", "1".into()),
            ("signing", "key_file", q(&signing.key_file.display().to_string())),
            ("signing", "trusted_keys", format!("[{}]", q(&signing.public))),
        ];
        let mut world = Self {
            bolt,
            no_versioning,
            store,
            bucket,
            key,
            stranger,
            work,
            artifact,
            artifact_bytes,
            id: String::new(),
            admin,
            base,
        };
        let dir = world.work.path().join("setup");
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("graphvault.toml");
        std::fs::write(&config, world.config_text(&[], &dir)).unwrap();
        let mut cmd = graphvault();
        cmd.arg("--config").arg(&config).args([
            "backup",
            "--artifact",
            world.artifact.to_str().unwrap(),
            "--database",
            DB,
            "--alias",
            ALIAS,
            "--json",
        ]);
        let r = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap().ok();
        let manifest: serde_json::Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("backup --json: {e}: {}", r.explain()));
        world.id = manifest["backup_id"].as_str().expect("backup_id").to_string();
        world
    }

    /// Every `<placeholder>` of commands and files, with its value for `dir`.
    fn expansions(&self, dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("<tmp>", dir.display().to_string()),
            ("<work>", self.work.path().display().to_string()),
            ("<artifact>", self.artifact.display().to_string()),
            ("<id>", self.id.clone()),
            ("<identity>", self.key.identity_path.display().to_string()),
            ("<bucket>", self.bucket.clone()),
            ("<recipient>", self.key.recipient.clone()),
            ("<no-versioning-endpoint>", self.no_versioning.endpoint.clone()),
        ]
    }

    fn expand(&self, text: &str, dir: &Path) -> String {
        let mut out = text.to_string();
        for (name, value) in self.expansions(dir) {
            out = out.replace(name, &value);
        }
        out
    }

    /// The config file text for a case (`None`: no file at all).
    fn config_text(&self, edits: &[Edit], dir: &Path) -> String {
        let mut entries = self.base.clone();
        let mut tail = String::new();
        for edit in edits {
            match edit {
                Edit::NoFile => {}
                Edit::Whole(text) => return self.expand(text, dir),
                Edit::Drop(name) => {
                    let (s, k) = (*name).split_once('.').expect("section.key");
                    let before = entries.len();
                    entries.retain(|(es, ek, _)| !(*es == s && *ek == k));
                    assert_ne!(before, entries.len(), "Drop({name}): not in the base config");
                }
                Edit::Put(name, value) => {
                    let (s, k) = (*name).split_once('.').expect("section.key");
                    let value = self.expand(value, dir);
                    match entries.iter_mut().find(|(es, ek, _)| *es == s && *ek == k) {
                        Some(e) => e.2 = value,
                        None => entries.push((s, k, value)),
                    }
                }
                Edit::Append(text) => tail.push_str(&self.expand(text, dir)),
            }
        }
        let mut sections: Vec<&str> = Vec::new();
        for (s, _, _) in &entries {
            if !sections.contains(s) {
                sections.push(s);
            }
        }
        let mut text = String::new();
        for section in sections {
            writeln!(text, "[{section}]").unwrap();
            for (_, k, v) in entries.iter().filter(|(s, _, _)| *s == section) {
                writeln!(text, "{k} = {v}").unwrap();
            }
        }
        text.push_str(&tail);
        text
    }

    async fn prepare(&self, prep: &Prep, dir: &Path) {
        let write = |name: &str, bytes: &[u8], mode: u32| {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&path, bytes).unwrap();
            std::fs::set_permissions(&path, PermissionsExt::from_mode(mode)).unwrap();
        };
        match prep {
            Prep::IdentityMode(mode) => write("identity.txt", &std::fs::read(&self.key.identity_path).unwrap(), *mode),
            Prep::StrangerIdentity => write(
                "identity.txt",
                &std::fs::read(&self.stranger.identity_path).unwrap(),
                0o600,
            ),
            Prep::SigningKeyMode(mode) => write(
                "signing.key",
                &std::fs::read(&common::signing().key_file).unwrap(),
                *mode,
            ),
            Prep::File(name, text) => write(name, text.as_bytes(), 0o600),
            Prep::Dir(name) => std::fs::create_dir_all(dir.join(name)).unwrap(),
            Prep::ArtifactCopy(name) => write(name, &self.artifact_bytes, 0o600),
            Prep::ForgedBackup {
                prefix,
                name,
                signed,
                size,
            } => self.forge_backup(prefix, &self.expand(name, dir), *signed, *size).await,
            Prep::LeaseUntil9999 { prefix } => {
                let holder = graphvault::lease::Holder {
                    run_id: "forged".into(),
                    host: "nowhere".into(),
                    pid: 1,
                    command: "backup".into(),
                };
                let mut lease =
                    graphvault::lease::LeaseRecord::new(1, holder, chrono::Utc::now(), chrono::Duration::minutes(10));
                lease.expires_at = "9999-12-31T23:59:59Z".parse().unwrap();
                let key = graphvault::lease::generation_key("repository", 1);
                self.put_raw(&format!("{prefix}/{key}"), lease.to_json()).await;
            }
        }
    }

    async fn put_raw(&self, full_key: &str, body: Vec<u8>) {
        self.store
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(full_key)
            .body(body.into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {full_key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
    }

    async fn get_raw(&self, full_key: &str) -> Vec<u8> {
        let out = self
            .store
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(full_key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {full_key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// See [`Prep::ForgedBackup`].
    async fn forge_backup(&self, prefix: &str, name: &str, signed: bool, size: Option<u64>) {
        let objects = self.backup_objects().await;
        let full = objects
            .iter()
            .find(|k| k.contains("/manifests/") && k.ends_with(".json"))
            .expect("the committed backup's manifest");
        let key = full.strip_prefix(&format!("{PREFIX}/")).unwrap();
        let genuine = String::from_utf8(self.get_raw(full).await).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&genuine).unwrap();
        let data = manifest["artifacts"][0]["key"].as_str().unwrap();
        self.put_raw(
            &format!("{prefix}/{data}"),
            self.get_raw(&format!("{PREFIX}/{data}")).await,
        )
        .await;
        let forged = genuine.replace(
            &format!("\"name\": \"{ARTIFACT_NAME}\""),
            &format!("\"name\": {}", serde_json::Value::from(name)),
        );
        assert!(
            name == ARTIFACT_NAME || forged != genuine,
            "the artifact name was replaced"
        );
        let forged = match size {
            None => forged,
            Some(size) => {
                let mut m: serde_json::Value = serde_json::from_str(&forged).unwrap();
                m["artifacts"][0]["size"] = size.into();
                serde_json::to_string_pretty(&m).unwrap()
            }
        };
        if signed {
            let signer = graphvault::signing::SigningKey::from_file(&common::signing().key_file).unwrap();
            let signature = signer.sign_manifest(key, forged.as_bytes()).unwrap();
            self.put_raw(&format!("{prefix}/{key}.minisig"), signature.into_bytes())
                .await;
        }
        self.put_raw(&format!("{prefix}/{key}"), forged.into_bytes()).await;
    }

    /// Manifests, their signatures and data objects in the bucket (leases
    /// and write probes may change; backups may not).
    pub async fn backup_objects(&self) -> Vec<String> {
        let out = self
            .store
            .client()
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(format!("{PREFIX}/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListObjectsV2: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(String::from))
            .filter(|k| k.starts_with(&format!("{PREFIX}/manifests/")) || k.starts_with(&format!("{PREFIX}/data/")))
            .collect();
        keys.sort();
        keys
    }

    /// Replaces run-specific values in a message by placeholders, in a fixed
    /// order (longest, most specific first).
    pub fn normalise(&self, text: &str, dir: &Path) -> String {
        let target = self
            .admin
            .parent()
            .and_then(Path::parent)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let replacements = [
            (dir.display().to_string(), "<tmp>"),
            (self.artifact.display().to_string(), "<artifact>"),
            (self.key.identity_path.display().to_string(), "<identity>"),
            (self.stranger.identity_path.display().to_string(), "<other-identity>"),
            (self.work.path().display().to_string(), "<work>"),
            (self.admin.display().to_string(), "<neo4j-admin>"),
            (target, "<target>"),
            (self.bolt.uri(), "<bolt-uri>"),
            (self.no_versioning.endpoint.clone(), "<no-versioning-endpoint>"),
            (common::endpoint(), "<endpoint>"),
            (self.bucket.clone(), "<bucket>"),
            (self.id.clone(), "<id>"),
            (self.key.recipient.clone(), "<recipient>"),
            (self.stranger.recipient.clone(), "<other-recipient>"),
            (common::signing().public.clone(), "<signing-key>"),
        ];
        let mut out = text.to_string();
        for (value, name) in replacements {
            if !value.is_empty() {
                out = out.replace(&value, name);
            }
        }
        replace_times(&replace_free_space(&replace_tempfile_dirs(&out)))
    }
}

/// `<tempdir>/.tmpXXXXXX` (tempfile's names) → `<tmp>`.
fn replace_tempfile_dirs(text: &str) -> String {
    let root = std::env::temp_dir().display().to_string();
    let root = root.trim_end_matches('/');
    let needle = format!("{root}/.tmp");
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        out.push_str(&rest[..at]);
        let after = &rest[at + needle.len()..];
        let len = after
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        out.push_str("<tmp>");
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// The rest of a `tracing` text log line of this level, if it is one
/// (`<timestamp> <LEVEL> <rest>`).
fn log_line<'a>(line: &'a str, level: &str) -> Option<&'a str> {
    let (stamp, rest) = line.split_once(' ')?;
    let is_stamp = stamp.starts_with(|c: char| c.is_ascii_digit()) && stamp.contains('T') && stamp.ends_with('Z');
    if !is_stamp {
        return None;
    }
    let rest = rest.trim_start();
    rest.strip_prefix(level)
        .filter(|r| r.starts_with(' '))
        .map(str::trim_start)
}

/// The longest message kept in docs/FAILURES.md, in characters.
const MESSAGE_MAX: usize = 500;

/// The first error on stderr: the first `graphvault: error:` / `error:` line
/// (with the lines that continue it, such as a TOML error's reason or
/// clap's tip, but not source snippets or the usage), or the first ERROR log
/// line without its timestamp, whichever comes first. Long ones are cut.
pub fn first_error_line(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end();
        if line.starts_with("graphvault: error:") || line.starts_with("error:") {
            let mut message = line.to_string();
            for more in &lines[i + 1..] {
                let t = more.trim();
                if log_line(more, "").is_some() || t.starts_with("Usage:") || t.starts_with("For more information") {
                    break;
                }
                let snippet = t.starts_with('|')
                    || t.split_once(" |")
                        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                if t.is_empty() || snippet {
                    continue;
                }
                message.push_str(" — ");
                message.push_str(t);
            }
            found = Some(message);
            break;
        }
        if let Some(rest) = log_line(line, "ERROR") {
            found = Some(format!("ERROR {rest}"));
            break;
        }
    }
    found.map(|m| {
        if m.chars().count() > MESSAGE_MAX {
            format!("{}…", m.chars().take(MESSAGE_MAX).collect::<String>())
        } else {
            m
        }
    })
}

/// `has 52.6 GiB (56427876352 bytes) free` (the staging disk's free space,
/// different on every host and run) → `has <free> free`.
fn replace_free_space(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" has ") {
        let after = &rest[at + " has ".len()..];
        match after.find(" free") {
            Some(end) if end < 40 && after[..end].ends_with("bytes)") => {
                out.push_str(&rest[..at]);
                out.push_str(" has <free>");
                rest = &after[end..];
            }
            _ => {
                out.push_str(&rest[..at + " has ".len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `2026-12-02 16:38:56.624321 UTC`, a time within a day of now (one that
/// differs from run to run) → `<time>`; others (times the case gives, a
/// forged lease's 9999) stay.
fn replace_times(text: &str) -> String {
    const SHAPE: &str = "dddd-dd-dd dd:dd:dd";
    let fits = |s: &str| {
        s.len() >= SHAPE.len()
            && s.bytes()
                .zip(SHAPE.bytes())
                .all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.char_indices().map(|(i, _)| i).find(|&i| fits(&rest[i..])) {
        let after = &rest[at + SHAPE.len()..];
        let fraction = after
            .strip_prefix('.')
            .map_or(0, |f| 1 + f.bytes().take_while(u8::is_ascii_digit).count());
        let end = at + SHAPE.len() + fraction;
        let recent = chrono::NaiveDateTime::parse_from_str(&rest[at..at + SHAPE.len()], "%Y-%m-%d %H:%M:%S")
            .is_ok_and(|t| (t.and_utc() - chrono::Utc::now()).num_hours().abs() <= 24);
        if rest[end..].starts_with(" UTC") && recent {
            out.push_str(&rest[..at]);
            out.push_str("<time>");
            rest = &rest[end + " UTC".len()..];
        } else {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// What one case did.
pub struct Outcome {
    pub run: Run,
    pub elapsed: Duration,
    /// Everything that did not hold (empty: the case passed).
    pub failures: Vec<String>,
    /// The normalised first error line.
    pub message: String,
}

/// Runs one case through the binary and checks it.
pub async fn run_case(world: &World, case: &Case) -> Outcome {
    let dir = world.work.path().join(case.id);
    std::fs::create_dir_all(&dir).unwrap();
    for prep in case.prep {
        world.prepare(prep, &dir).await;
    }
    let config = dir.join("graphvault.toml");
    if !case.config.iter().any(|e| matches!(e, Edit::NoFile)) {
        std::fs::write(&config, world.config_text(case.config, &dir)).unwrap();
    }
    let before = world.backup_objects().await;
    let staging = world.work.path().join("staging");
    let staging_before = tree(&staging);
    let neo4j_before = (world.bolt.databases(), world.bolt.aliases());

    let mut cmd: Command = graphvault();
    for (k, v) in case.env {
        cmd.env(k, world.expand(v, &dir));
    }
    cmd.arg("--config").arg(&config);
    for arg in case.command {
        cmd.arg(world.expand(arg, &dir));
    }
    let started = Instant::now();
    let run = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
    let elapsed = started.elapsed();

    let mut failures = Vec::new();
    if run.code != case.expect_code {
        failures.push(format!("exit code {} (expected {})", run.code, case.expect_code));
    }
    for phrase in case.must_mention {
        let phrase = world.expand(phrase, &dir);
        if !run.stderr.contains(&phrase) {
            failures.push(format!("stderr does not mention {phrase:?}"));
        }
    }
    for bad in ["panicked", "RUST_BACKTRACE", AWS_SECRET] {
        if run.stderr.contains(bad) || run.stdout.contains(bad) {
            failures.push(format!("the output contains {bad:?}"));
        }
    }
    let message = match first_error_line(&run.stderr) {
        Some(line) => world.normalise(&line, &dir),
        None => {
            failures.push("stderr has no error line".into());
            String::new()
        }
    };
    // Nothing lost: no manifest or data object written or deleted, the
    // artifact untouched.
    let after = world.backup_objects().await;
    if after != before {
        failures.push(format!("the backups in the bucket changed: {before:?} -> {after:?}"));
    }
    let staging_after = tree(&staging);
    if staging_after != staging_before {
        failures.push(format!("staging changed: {staging_before:?} -> {staging_after:?}"));
    }
    let neo4j_after = (world.bolt.databases(), world.bolt.aliases());
    if neo4j_after != neo4j_before {
        failures.push(format!(
            "Neo4j's databases or aliases changed: {neo4j_before:?} -> {neo4j_after:?}"
        ));
    }
    if std::fs::read(&world.artifact).ok().as_deref() != Some(&world.artifact_bytes[..]) {
        failures.push(format!("the artifact {} changed or went", world.artifact.display()));
    }
    for check in case.check {
        match check {
            Check::Absent(p) => {
                let path = dir.join(p);
                let empty = match std::fs::read_dir(&path) {
                    Ok(mut it) => it.next().is_none(),
                    Err(_) => !path.exists(),
                };
                if !empty {
                    failures.push(format!("{p} exists and is not an empty directory"));
                }
            }
            Check::FileIs(p, text) => {
                if std::fs::read_to_string(dir.join(p)).ok().as_deref() != Some(*text) {
                    failures.push(format!("{p} no longer holds {text:?}"));
                }
            }
            Check::Exists(p) => {
                if !dir.join(p).exists() {
                    failures.push(format!("{p} was removed"));
                }
            }
            Check::NotEchoed(secret) => {
                let output = format!("{}{}", run.stdout, run.stderr).to_ascii_uppercase();
                let secret = secret.to_ascii_uppercase();
                if let Some(w) = secret
                    .as_bytes()
                    .windows(6)
                    .find(|w| output.contains(std::str::from_utf8(w).unwrap()))
                {
                    failures.push(format!(
                        "the output echoes part of the secret ({:?})",
                        std::str::from_utf8(w).unwrap()
                    ));
                }
            }
        }
    }
    Outcome {
        run,
        elapsed,
        failures,
        message,
    }
}

/// Every file under `dir` with its size, sorted (empty if `dir` is missing);
/// directories and the staging lock file (which stays) are left out.
fn tree(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if !path.ends_with(".graphvault.lock") {
                out.push((path.display().to_string(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

/// The case's setup in words, for docs/FAILURES.md: config changes and
/// prepared files.
pub fn setup_words(case: &Case) -> String {
    let mut parts = Vec::new();
    for edit in case.config {
        parts.push(match edit {
            Edit::NoFile => "no config file".to_string(),
            Edit::Whole(text) => format!("config file: {}", code_cell(&text.trim_end().replace('\n', " ⏎ "))),
            Edit::Drop(key) => format!("config without `{key}`"),
            Edit::Put(key, value) => format!("config: {}", code_cell(&format!("{key} = {value}"))),
            Edit::Append(text) => format!("config + {}", code_cell(&text.trim_end().replace('\n', " ⏎ "))),
        });
    }
    for prep in case.prep {
        parts.push(match prep {
            Prep::IdentityMode(mode) => format!("`<tmp>/identity.txt`: the right identity, mode {mode:04o}"),
            Prep::StrangerIdentity => "`<tmp>/identity.txt`: another identity".to_string(),
            Prep::SigningKeyMode(mode) => format!("`<tmp>/signing.key`: the signing key, mode {mode:04o}"),
            Prep::File(name, text) => format!("`<tmp>/{name}`: {}", code_cell(text.trim_end())),
            Prep::Dir(name) => format!("`<tmp>/{name}`: a directory"),
            Prep::ArtifactCopy(name) => format!("`<tmp>/{name}`: an artifact"),
            Prep::ForgedBackup {
                prefix,
                name,
                signed,
                size,
            } => format!(
                "under `{prefix}/`: a copy of backup `<id>`{}{}, {}",
                if *name == ARTIFACT_NAME {
                    String::new()
                } else {
                    format!(" whose artifact is named `{name}`")
                },
                size.map(|n| format!(" whose artifact claims {n} bytes"))
                    .unwrap_or_default(),
                if *signed {
                    "signed with the trusted key"
                } else {
                    "unsigned"
                }
            ),
            Prep::LeaseUntil9999 { prefix } => {
                format!("under `{prefix}/`: a lease object held until 9999-12-31, written by hand")
            }
        });
    }
    parts.join("; ")
}

/// A cell of a Markdown table: code span, `|` escaped.
fn code_cell(text: &str) -> String {
    let text = text.replace('|', "\\|");
    if text.is_empty() {
        return String::new();
    }
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// A command as a reader would type it (arguments with spaces or quotes quoted).
pub fn shell_words(case: &Case) -> String {
    let mut words: Vec<String> = Vec::new();
    for (k, v) in case.env {
        words.push(format!("{k}={}", quote(v)));
    }
    words.push("graphvault".into());
    for arg in case.command {
        words.push(quote(arg));
    }
    words.join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,<>@+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// docs/FAILURES.md from the cases and their normalised messages.
pub fn failures_md(rows: &[(&Case, String)]) -> String {
    let mut md = String::from(
        "# What graphvault says about bad input\n\
         \n\
         <!-- GENERATED FILE: do not edit by hand. -->\n\
         \n\
         Generated by `tests/bad_input.rs` from its table of cases and the messages\n\
         the `graphvault` binary really printed. The test fails when this file differs\n\
         from what it observes; after changing a message or a case, regenerate it with\n\
         \n\
         ```sh\n\
         UPDATE_FAILURES=1 cargo test --test bad_input\n\
         ```\n\
         \n\
         and review the diff. See docs/TESTING.md (\"Bad-input suite\").\n\
         \n\
         Each row: what was wrong, the command (run with `--config <tmp>/graphvault.toml`,\n\
         a working config changed as the case needs), the exit code (docs/EXIT_CODES.md)\n\
         and the first error line on stderr. Placeholders: `<tmp>` the case's own\n\
         directory, `<work>` the test's working directory, `<artifact>` a neo4j-admin\n\
         artifact, `<id>` an existing backup id, `<identity>` the identity that opens it,\n\
         `<bucket>` the bucket, `<endpoint>` the S3 endpoint, `<no-versioning-endpoint>` the\n\
         S3 endpoint through a proxy that denies GetBucketVersioning, `<bolt-uri>` Neo4j's Bolt URI,\n\
         `<recipient>` an age recipient, `<signing-key>` the trusted signing key,\n\
         `<neo4j-admin>` the neo4j-admin binary, `<time>` a time that differs from run to run.\n\
         In every case nothing was lost: no\n\
         manifest was written, the artifact and any existing files are untouched.\n\
         \n\
         | Case | Command | Exit code | Message |\n\
         |------|---------|-----------|---------|\n",
    );
    for (case, message) in rows {
        let setup = setup_words(case);
        let what = case.case.replace('|', "\\|");
        let what = if setup.is_empty() {
            what
        } else {
            format!("{what} ({setup})")
        };
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            what,
            code_cell(&shell_words(case)),
            case.expect_code,
            code_cell(message)
        )
        .unwrap();
    }
    md
}
