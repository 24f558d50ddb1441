//! Configuration: TOML file, then `GRAPHVAULT_<SECTION>_<KEY>` environment
//! variables, then `--set section.key=value` flags, merged and validated up
//! front into a `Config` that commands take. Every error names the key (and
//! the variable or file it came from) and says what to write instead.
//! All keys are documented in `docs/CONFIGURATION.md`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod backup;
mod drill;
mod monitor;
mod neo4j;
mod notify;
mod retention;
mod signing;
mod toml_error;

pub use backup::BackupConfig;
pub use drill::{DrillCheck, DrillConfig};
pub use neo4j::Neo4jConfig;
pub use retention::{RetentionConfig, StatedBucket};
pub use signing::SigningConfig;

use crate::pipeline::SealSettings;
use crate::store::{RetryPolicy, StoreSettings, StoreUrl};

/// Where the config file is looked for when neither `--config` nor
/// `GRAPHVAULT_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/graphvault/graphvault.toml";
/// Environment variables with the prefix that are not config keys.
const RESERVED_ENV: &[&str] = &["GRAPHVAULT_CONFIG", "GRAPHVAULT_LOG"];
/// Every settable key, by section (kept in step with the Raw* structs by a test).
const KEYS: &[(&str, &[&str])] = &[
    (
        "storage",
        &[
            "url",
            "endpoint",
            "region",
            "force_path_style",
            "connect_timeout_secs",
            "cache_dir",
            "list_page_size",
        ],
    ),
    ("encryption", &["recipients", "identity_file"]),
    ("compression", &["level", "threads", "incompressible_level"]),
    (
        "upload",
        &["part_size_mib", "concurrency", "max_attempts", "attempt_timeout_secs"],
    ),
    ("neo4j", neo4j::KEYS),
    ("backup", backup::KEYS),
    ("notify", notify::KEYS),
    ("monitor", monitor::KEYS),
    ("retention", retention::KEYS),
    ("signing", signing::KEYS),
];

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: String, message: String },
    #[error("{origin}: '{name}' is not a known setting (see docs/CONFIGURATION.md for every key)")]
    UnknownOverride { origin: String, name: String },
    #[error("{origin}: expected SECTION.KEY=VALUE, e.g. --set storage.url=s3://bucket/prefix")]
    BadOverride { origin: String },
    #[error("{key} must not be given on the command line (it would show in `ps` and shell history): use [neo4j] password_file or the GRAPHVAULT_NEO4J_PASSWORD environment variable")]
    SecretOnCommandLine { key: &'static str },
    #[error("{key} is not set: {hint}")]
    Missing { key: &'static str, hint: &'static str },
    #[error("{key} is invalid: {message}")]
    Invalid { key: &'static str, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    encryption: RawEncryption,
    #[serde(default)]
    compression: RawCompression,
    #[serde(default)]
    upload: RawUpload,
    #[serde(default)]
    neo4j: neo4j::RawNeo4j,
    #[serde(default)]
    backup: backup::RawBackup,
    #[serde(default)]
    notify: notify::RawNotify,
    #[serde(default)]
    monitor: monitor::RawMonitor,
    #[serde(default)]
    retention: retention::RawRetention,
    #[serde(default)]
    drill: drill::RawDrill,
    #[serde(default)]
    signing: signing::RawSigning,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    url: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    #[serde(default)]
    force_path_style: bool,
    connect_timeout_secs: Option<u64>,
    cache_dir: Option<PathBuf>,
    list_page_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEncryption {
    #[serde(default)]
    recipients: OneOrMany,
    identity_file: Option<PathBuf>,
}

/// A list that may also be written as one comma-separated string (handy in env vars).
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompression {
    level: Option<i32>,
    threads: Option<u32>,
    incompressible_level: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpload {
    part_size_mib: Option<u64>,
    concurrency: Option<usize>,
    max_attempts: Option<u32>,
    attempt_timeout_secs: Option<u64>,
}

/// The validated configuration commands run with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from, if any.
    pub file: Option<PathBuf>,
    pub storage: StoreSettings,
    pub seal: SealSettings,
    /// age recipients (may be empty on a restore-only host).
    pub recipients: Vec<String>,
    pub identity_file: Option<PathBuf>,
    pub neo4j: Neo4jConfig,
    pub backup: BackupConfig,
    pub notify: crate::notify::WebhookSettings,
    /// `[monitor]`: when a new backup is an anomaly.
    pub monitor: crate::monitor::AnomalyPolicy,
    pub retention: RetentionConfig,
    /// `[retention] assume_versioning` and `assume_object_lock`.
    pub stated_bucket: StatedBucket,
    pub drill: DrillConfig,
    pub signing: SigningConfig,
    /// Where local caches live (what prune learned from verified manifests);
    /// `None` disables them.
    pub cache_dir: Option<PathBuf>,
}

/// `$XDG_CACHE_HOME/graphvault`, else `$HOME/.cache/graphvault`.
fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |v: std::ffi::OsString| (!v.is_empty()).then(|| PathBuf::from(v));
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(non_empty)
        .or_else(|| std::env::var_os("HOME").and_then(non_empty).map(|h| h.join(".cache")))
        .map(|d| d.join("graphvault"))
}

/// Picks the config file: `--config`, else `GRAPHVAULT_CONFIG`, else the default
/// path if it exists. An explicitly named file must exist.
pub fn resolve_path(flag: Option<&Path>, env_value: Option<String>) -> Option<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = env_value.filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let default = Path::new(DEFAULT_CONFIG_PATH);
    default.exists().then(|| (default.to_path_buf(), false))
}

/// Parses one override value: TOML scalars and arrays keep their type,
/// anything else is a string.
fn override_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Boolean(_)
                | toml::Value::Integer(_)
                | toml::Value::Float(_)
                | toml::Value::Array(_)
                | toml::Value::String(_)),
            ) => v,
            _ => toml::Value::String(raw.to_string()),
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn apply_override(
    table: &mut toml::Table,
    origin: &str,
    section: &str,
    key: &str,
    raw: &str,
) -> Result<(), ConfigError> {
    let known = KEYS.iter().any(|(s, keys)| *s == section && keys.contains(&key));
    if !known {
        return Err(ConfigError::UnknownOverride {
            origin: origin.to_string(),
            name: format!("{section}.{key}"),
        });
    }
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = entry {
        t.insert(key.to_string(), override_value(raw));
    }
    Ok(())
}

/// Loads the file (if any), applies env and `--set` overrides, validates.
pub fn load(
    file: Option<(PathBuf, bool)>,
    env: impl IntoIterator<Item = (String, String)>,
    sets: &[String],
) -> Result<Config, ConfigError> {
    let (mut table, file_path) = match &file {
        Some((path, required)) => match std::fs::read_to_string(path) {
            Ok(text) => {
                // Deserialize the text once directly: its errors carry line numbers.
                toml::from_str::<RawConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: toml_error::describe(&e, Some(&text)),
                })?;
                let table = toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: toml_error::describe(&e, Some(&text)),
                })?;
                (table, Some(path.clone()))
            }
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => (toml::Table::new(), None),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.clone(),
                    source,
                })
            }
        },
        None => (toml::Table::new(), None),
    };

    let mut env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("GRAPHVAULT_") && !RESERVED_ENV.contains(&k.as_str()))
        .collect();
    env.sort();
    for (var, value) in &env {
        let name = var["GRAPHVAULT_".len()..].to_ascii_lowercase();
        let (section, key) = name.split_once('_').unwrap_or((&name, ""));
        apply_override(&mut table, &format!("environment variable {var}"), section, key, value)?;
    }
    for set in sets {
        let origin = format!("--set {set}");
        let (name, value) = set
            .split_once('=')
            .ok_or_else(|| ConfigError::BadOverride { origin: origin.clone() })?;
        let (section, key) = name.trim().split_once('.').unwrap_or((name.trim(), ""));
        if (section, key) == ("neo4j", "password") {
            return Err(ConfigError::SecretOnCommandLine { key: "neo4j.password" });
        }
        apply_override(&mut table, &origin, section, key, value.trim())?;
    }

    let raw: RawConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: match &file_path {
                Some(p) => format!("{} (with environment and --set overrides)", p.display()),
                None => "(environment and --set overrides)".into(),
            },
            message: toml_error::describe(&e, None),
        })?;
    validate(raw, file_path)
}

/// The value (or its default) if it lies in `range`, else an error naming the key.
fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    key: &'static str,
    value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    hint: &str,
) -> Result<T, ConfigError> {
    let v = value.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::Invalid {
            key,
            message: format!("{v} is outside {}..={}{hint}", range.start(), range.end()),
        })
    }
}

fn validate(raw: RawConfig, file: Option<PathBuf>) -> Result<Config, ConfigError> {
    let url = raw.storage.url.ok_or(ConfigError::Missing {
        key: "storage.url",
        hint: "add `[storage] url = \"s3://bucket/prefix\"` (or file:///path) to the config file, or set GRAPHVAULT_STORAGE_URL",
    })?;
    let url: StoreUrl = url
        .parse()
        .map_err(|e: crate::store::InvalidStoreUrl| ConfigError::Invalid {
            key: "storage.url",
            message: e.to_string(),
        })?;
    let level = in_range(
        "compression.level",
        raw.compression.level,
        3,
        -7..=19,
        " (3 is a good default; 19 is very slow)",
    )?;
    let incompressible_level = in_range(
        "compression.incompressible_level",
        raw.compression.incompressible_level,
        1,
        -7..=19,
        "",
    )?;
    let part_size_mib = in_range(
        "upload.part_size_mib",
        raw.upload.part_size_mib,
        8,
        5..=5120,
        " (S3 parts are 5 MiB to 5 GiB)",
    )?;
    let concurrency = in_range("upload.concurrency", raw.upload.concurrency, 4, 1..=64, "")?;
    let list_page_size = in_range(
        "storage.list_page_size",
        raw.storage.list_page_size,
        1000,
        1..=100_000,
        "",
    )?;
    let max_attempts = in_range("upload.max_attempts", raw.upload.max_attempts, 6, 1..=20, "")?;
    if let Some(ep) = &raw.storage.endpoint {
        if !(ep.starts_with("http://") || ep.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "storage.endpoint",
                message: format!("'{ep}' must start with http:// or https://"),
            });
        }
    }
    let backup = backup::from_raw(raw.backup)?;
    Ok(Config {
        file,
        storage: StoreSettings {
            url,
            endpoint: raw.storage.endpoint,
            region: raw.storage.region,
            force_path_style: raw.storage.force_path_style,
            connect_timeout: Duration::from_secs(raw.storage.connect_timeout_secs.unwrap_or(10)),
            list_page_size,
            attempt_timeout: Duration::from_secs(raw.upload.attempt_timeout_secs.unwrap_or(300)),
            retry: RetryPolicy {
                max_attempts,
                ..RetryPolicy::default()
            },
        },
        seal: SealSettings {
            level,
            threads: raw.compression.threads.unwrap_or(0),
            incompressible_level,
            part_size: part_size_mib << 20,
            concurrency,
        },
        recipients: raw.encryption.recipients.into_vec(),
        identity_file: raw.encryption.identity_file,
        neo4j: {
            let mut n = Neo4jConfig::from_raw(raw.neo4j)?;
            n.admin.run_dir = Some(backup.staging_dir.clone());
            n
        },
        backup,
        notify: notify::from_raw(raw.notify)?,
        monitor: monitor::from_raw(raw.monitor)?,
        stated_bucket: retention::stated_bucket(&raw.retention),
        retention: retention::from_raw(raw.retention)?,
        drill: drill::from_raw(raw.drill)?,
        signing: signing::from_raw(raw.signing)?,
        cache_dir: match raw.storage.cache_dir {
            Some(d) if d.as_os_str().is_empty() => None,
            Some(d) => Some(d),
            None => default_cache_dir(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)], sets: &[&str]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("graphvault.toml");
        std::fs::write(&path, text).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load(Some((path, true)), env, &sets)
    }

    #[test]
    fn a_minimal_file_gets_the_documented_defaults() {
        let c = load_text("[storage]\nurl = \"s3://b-1/p\"\n", &[], &[]).unwrap();
        assert_eq!(c.seal.level, 3);
        assert_eq!(c.seal.part_size, 8 << 20);
        assert_eq!(c.seal.concurrency, 4);
        assert!(c.recipients.is_empty());
    }

    #[test]
    fn env_overrides_file_and_set_overrides_env() {
        let c = load_text(
            "[storage]\nurl = \"s3://b-1/p\"\n[compression]\nlevel = 5\n",
            &[
                ("GRAPHVAULT_COMPRESSION_LEVEL", "7"),
                ("GRAPHVAULT_ENCRYPTION_RECIPIENTS", "age1a, age1b"),
            ],
            &["compression.level=9", "storage.force_path_style=true"],
        )
        .unwrap();
        assert_eq!(c.seal.level, 9);
        assert!(c.storage.force_path_style);
        assert_eq!(c.recipients, vec!["age1a", "age1b"]);
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
        let cases: &[Case] = &[
            ("", &[], &[], "storage.url is not set"),
            ("[storage]\nurll = \"x\"\n", &[], &[], "unknown field `urll`"),
            ("[storage]\nurl = \"ftp://x\"\n", &[], &[], "storage.url is invalid"),
            (
                "[storage]\nurl = \"s3://b-1\"\n[compression]\nlevel = 40\n",
                &[],
                &[],
                "compression.level",
            ),
            (
                "[storage]\nurl = \"s3://b-1\"\n",
                &[("GRAPHVAULT_STORGE_URL", "x")],
                &[],
                "GRAPHVAULT_STORGE_URL",
            ),
            (
                "[storage]\nurl = \"s3://b-1\"\n",
                &[],
                &["upload.part_size_mib=1"],
                "upload.part_size_mib",
            ),
            ("[storage]\nurl = \"s3://b-1\"\n", &[], &["nonsense"], "--set nonsense"),
            ("[storage\n", &[], &[], "is invalid"),
        ];
        for (text, env, sets, expected) in cases {
            let err = load_text(text, env, sets).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: got {err}");
        }
    }

    #[test]
    fn backup_section_defaults_and_overrides() {
        let c = load_text("[storage]\nurl = \"s3://b-1/p\"\n", &[], &[]).unwrap();
        assert_eq!(c.backup.keep_local, 0);
        assert_eq!(c.backup.free_space_factor, 1.5);
        assert_eq!(c.backup.min_free, 1024 << 20);
        let c = load_text(
            "[storage]\nurl = \"s3://b-1/p\"\n[backup]\nfree_space_factor = 2\n",
            &[("GRAPHVAULT_BACKUP_TYPE", "auto")],
            &["backup.free_space_factor=1.25", "backup.staging_dir=/srv/staging"],
        )
        .unwrap();
        assert_eq!(c.backup.free_space_factor, 1.25);
        assert_eq!(c.backup.backup_type, crate::neo4j::BackupType::Auto);
        assert_eq!(c.backup.staging_dir, std::path::Path::new("/srv/staging"));
        let e = load_text(
            "[storage]\nurl = \"s3://b-1/p\"\n[backup]\ntype = \"incremental\"\n",
            &[],
            &[],
        );
        assert!(e.unwrap_err().to_string().contains("full, diff or auto"));
    }

    #[test]
    fn every_listed_key_is_accepted_by_the_file_format() {
        for (section, keys) in KEYS {
            for key in *keys {
                let value = match *key {
                    "url" => "\"s3://b-1\"",
                    "endpoint" => "\"http://x\"",
                    "force_path_style" => "true",
                    "recipients" => "[]",
                    "region" | "identity_file" | "user" | "password" | "password_file" | "admin_path" | "pagecache"
                    | "temp_path" | "staging_dir" => "\"x\"",
                    "type" => "\"auto\"",
                    "webhook_url" => "\"https://hooks.example.com/x\"",
                    "on" => "[\"failure\", \"success\"]",
                    "free_space_factor" => "1.5",
                    "defer_min_storage" | "assume_versioning" | "assume_object_lock" => "false",
                    "object_lock_mode" => "\"GOVERNANCE\"",
                    "noncurrent_versions" => "\"lifecycle\"",
                    "bolt_uri" => "\"bolt://x:7687\"",
                    "admin_extra_args" => "[\"--verbose\"]",
                    "backup_from" => "[\"db1:6362\"]",
                    "admin_env" => "{ NEO4J_CONF = \"/etc/neo4j\" }",
                    "key_file" => "\"/etc/graphvault/signing.key\"",
                    "trusted_keys" => "[\"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\"]",
                    "allow_unsigned" => "true",
                    "cache_dir" => "\"/var/cache/graphvault\"",
                    "cluster_server" => "\"db1:7687\"",
                    "lease_max_ttl_secs" => "3600",
                    "grow_percent" => "300",
                    _ => "5",
                };
                let text = match (*section, *key) {
                    ("storage", "url") => format!("[storage]\nurl = {value}\n"),
                    ("storage", _) => format!("[storage]\nurl = \"s3://b-1\"\n{key} = {value}\n"),
                    _ => format!("[storage]\nurl = \"s3://b-1\"\n[{section}]\n{key} = {value}\n"),
                };
                load_text(&text, &[], &[]).unwrap_or_else(|e| panic!("{section}.{key}: {e}"));
            }
        }
    }

    #[test]
    fn an_unknown_key_in_a_known_section_names_the_variable() {
        let err = load_text(
            "[storage]\nurl = \"s3://b-1\"\n",
            &[("GRAPHVAULT_STORAGE_URLL", "x")],
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("GRAPHVAULT_STORAGE_URLL"), "{err}");
        let c = load_text("[storage]\nurl = \"s3://b-1\"\n", &[], &["storage.url=\"s3://b-2/p\""]).unwrap();
        assert_eq!(c.storage.url.to_string(), "s3://b-2/p");
    }

    #[test]
    fn the_neo4j_password_comes_from_env_or_file_never_from_set() {
        let base = "[storage]\nurl = \"s3://b-1\"\n";
        let err = load_text(base, &[], &["neo4j.password=hunter2"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must not be given on the command line") && !err.contains("hunter2"),
            "{err}"
        );
        let c = load_text(base, &[("GRAPHVAULT_NEO4J_PASSWORD", "s3cret")], &[]).unwrap();
        let bolt = c.neo4j.bolt().unwrap();
        assert!(!format!("{bolt:?}").contains("s3cret"), "Debug redacts the password");
        let missing = load_text(base, &[], &[]).unwrap().neo4j.bolt().unwrap_err().to_string();
        assert!(missing.contains("GRAPHVAULT_NEO4J_PASSWORD"), "{missing}");

        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "from-file\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = format!("{base}[neo4j]\npassword_file = \"{}\"\n", pw.display());
        let err = load_text(&text, &[], &[])
            .unwrap()
            .neo4j
            .bolt()
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        load_text(&text, &[], &[]).unwrap().neo4j.bolt().unwrap();
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let err = load(Some(("/nonexistent/graphvault.toml".into(), true)), Vec::new(), &[]).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }
}
