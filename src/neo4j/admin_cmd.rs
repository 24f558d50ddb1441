//! neo4j-admin 5.x / 2025.x command lines and output, as pure functions.
//!
//! Building argument vectors and reading the tool's output are kept apart
//! from running the process, so both are table-tested without a process.

use std::path::{Path, PathBuf};

use crate::model::DbName;

/// How neo4j-admin is invoked (from config).
#[derive(Clone, Debug)]
pub struct AdminSettings {
    pub binary: PathBuf,
    /// Extra arguments put after the sub-command's own options.
    pub extra_args: Vec<String>,
    /// Backup servers, `host:port` (cluster backup port 6362).
    pub from: Vec<String>,
    pub pagecache: Option<String>,
    pub temp_path: Option<PathBuf>,
    pub timeout: std::time::Duration,
    /// Extra environment for the child, e.g. `NEO4J_CONF`, `JAVA_HOME`.
    pub env: Vec<(String, String)>,
    /// Where records of running neo4j-admin process groups are kept (the
    /// staging directory), so a later run can stop one a killed run left.
    pub run_dir: Option<PathBuf>,
    /// Between SIGTERM and SIGKILL when neo4j-admin's group is stopped.
    pub stop_grace: std::time::Duration,
}

/// `--type` of `database backup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupType {
    Full,
    Diff,
    Auto,
}

impl std::str::FromStr for BackupType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "diff" => Ok(Self::Diff),
            "auto" => Ok(Self::Auto),
            _ => Err(format!("'{s}' is not a backup type: use full, diff or auto")),
        }
    }
}

impl BackupType {
    pub fn as_arg(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Diff => "DIFF",
            Self::Auto => "AUTO",
        }
    }
}

/// One `neo4j-admin database backup` run.
#[derive(Clone, Debug)]
pub struct BackupRequest {
    pub database: DbName,
    pub to_path: PathBuf,
    pub backup_type: BackupType,
    pub compress: Option<bool>,
    pub include_metadata: Option<String>,
    /// Servers to back up from, tried in order (`--from`); empty: the
    /// configured `backup_from` (or neo4j-admin's default).
    pub from: Vec<String>,
}

/// One `neo4j-admin database restore` run.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    pub database: DbName,
    /// The newest artifact of the chain to restore. With `<database>` given,
    /// neo4j-admin takes exactly one artifact and finds the full backup and
    /// earlier differentials of a differential one in the same folder, so
    /// the whole chain must sit next to it.
    pub from_path: PathBuf,
    pub overwrite_destination: bool,
    pub restore_until: Option<String>,
}

fn path_arg(flag: &str, p: &Path) -> String {
    format!("{flag}={}", p.display())
}

/// `neo4j-admin database backup …` arguments (binary excluded).
pub fn backup_args(s: &AdminSettings, r: &BackupRequest) -> Vec<String> {
    let mut a = vec!["database".to_string(), "backup".to_string()];
    let from = if r.from.is_empty() { &s.from } else { &r.from };
    if !from.is_empty() {
        a.push(format!("--from={}", from.join(",")));
    }
    a.push(path_arg("--to-path", &r.to_path));
    a.push(format!("--type={}", r.backup_type.as_arg()));
    if let Some(c) = r.compress {
        a.push(format!("--compress={c}"));
    }
    if let Some(m) = &r.include_metadata {
        a.push(format!("--include-metadata={m}"));
    }
    if let Some(p) = &s.pagecache {
        a.push(format!("--pagecache={p}"));
    }
    if let Some(t) = &s.temp_path {
        a.push(path_arg("--temp-path", t));
    }
    a.extend(s.extra_args.iter().cloned());
    a.push(r.database.to_string());
    a
}

/// `neo4j-admin database restore …` arguments.
pub fn restore_args(s: &AdminSettings, r: &RestoreRequest) -> Vec<String> {
    let mut a = vec![
        "database".to_string(),
        "restore".to_string(),
        path_arg("--from-path", &r.from_path),
    ];
    if r.overwrite_destination {
        a.push("--overwrite-destination=true".into());
    }
    if let Some(u) = &r.restore_until {
        a.push(format!("--restore-until={u}"));
    }
    if let Some(t) = &s.temp_path {
        a.push(path_arg("--temp-path", t));
    }
    a.extend(s.extra_args.iter().cloned());
    a.push(r.database.to_string());
    a
}

/// `neo4j-admin backup inspect PATH --format=JSON` arguments (5.25+).
/// Before 2025.07 the metadata (database, time, transactions) is printed only
/// with `--show-metadata`.
pub fn inspect_args(path: &Path, version: &AdminVersion) -> Vec<String> {
    let mut a = vec![
        "backup".into(),
        "inspect".into(),
        path.display().to_string(),
        "--format=JSON".into(),
    ];
    if !version.shows_metadata_by_default() {
        a.push("--show-metadata".into());
    }
    a
}

/// Arguments that print the metadata table (with its `FULL` column) of one
/// artifact: `backup inspect FILE --format=TABULAR --empty` from 5.25 (with
/// `--show-metadata` before 2025.07), else `database backup --inspect-path=FILE`,
/// which every 5.x has (Operations Manual, "Restore a database backup").
pub fn inspect_table_args(path: &Path, version: &AdminVersion) -> Vec<String> {
    if !version.has_inspect() {
        return vec!["database".into(), "backup".into(), path_arg("--inspect-path", path)];
    }
    let mut a = vec![
        "backup".into(),
        "inspect".into(),
        path.display().to_string(),
        "--format=TABULAR".into(),
        "--empty".into(),
    ];
    if !version.shows_metadata_by_default() {
        a.push("--show-metadata".into());
    }
    a
}

/// `neo4j-admin database check --from-path=DIR --report-path=REPORTS DB`
/// arguments. `--from-path` is the directory holding the artifacts: the tool
/// checks the latest chain of `database` in it (a file there is refused). The
/// report of inconsistencies goes to `reports` (the tool's default is its
/// working directory).
pub fn check_args(dir: &Path, database: &DbName, reports: &Path) -> Vec<String> {
    vec![
        "database".into(),
        "check".into(),
        path_arg("--from-path", dir),
        path_arg("--report-path", reports),
        database.to_string(),
    ]
}

/// A neo4j-admin version, as printed by `neo4j-admin --version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminVersion {
    pub text: String,
    pub major: u32,
    pub minor: u32,
}

impl AdminVersion {
    /// 5.x and the calendar-versioned 2025.x+ use the `database backup` syntax.
    pub fn is_supported(&self) -> bool {
        self.major == 5 || self.major >= 2025
    }

    /// `backup inspect` exists from 5.25 (and in every 2025.x).
    pub fn has_inspect(&self) -> bool {
        self.major >= 2025 || (self.major == 5 && self.minor >= 25)
    }

    /// The `CREATE DATABASE` option naming a seeding cluster server:
    /// `existingDataSeedServer` from 5.25 (the old name is removed in
    /// Cypher 25), `existingDataSeedInstance` before.
    pub fn seed_server_option(&self) -> &'static str {
        if self.major >= 2025 || (self.major == 5 && self.minor >= 25) {
            "existingDataSeedServer"
        } else {
            "existingDataSeedInstance"
        }
    }

    /// From 2025.07 `backup inspect` prints metadata without `--show-metadata`.
    pub fn shows_metadata_by_default(&self) -> bool {
        self.major > 2025 || (self.major == 2025 && self.minor >= 7)
    }
}

/// Finds the version in `--version` output: the first `N.N[.N]` token.
pub fn parse_version(output: &str) -> Option<AdminVersion> {
    output.split_whitespace().find_map(|tok| {
        let tok = tok.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.');
        let mut parts = tok.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(AdminVersion {
            text: tok.to_string(),
            major,
            minor,
        })
    })
}

/// The artifact a "Finished artifact creation '<file>' for database '<db>'"
/// line names, with its database.
pub fn finished_artifact(line: &str) -> Option<(String, String)> {
    let rest = &line[line.find("Finished artifact creation '")? + "Finished artifact creation '".len()..];
    let (file, rest) = rest.split_once('\'')?;
    let rest = &rest[rest.find("for database '")? + "for database '".len()..];
    let (db, _) = rest.split_once('\'')?;
    Some((file.to_string(), db.to_string()))
}

/// Whether `file_name` is an artifact of `database` as neo4j-admin names them:
/// `<db>-YYYY-MM-DDTHH-MM-SS.backup`.
pub fn is_artifact_of(database: &str, file_name: &str) -> bool {
    let Some(stamp) = file_name
        .strip_prefix(database)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_suffix(".backup"))
    else {
        return false;
    };
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%S").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings() -> AdminSettings {
        AdminSettings {
            binary: "/usr/bin/neo4j-admin".into(),
            extra_args: vec!["--verbose".into()],
            from: vec!["db1:6362".into(), "db2:6362".into()],
            pagecache: Some("2G".into()),
            temp_path: Some("/var/tmp/neo4j".into()),
            timeout: Duration::from_secs(60),
            env: Vec::new(),
            run_dir: None,
            stop_grace: Duration::from_secs(10),
        }
    }

    #[test]
    fn backup_command_line_uses_neo4j_5_syntax() {
        let r = BackupRequest {
            database: "customer1-1767741527".parse().unwrap(),
            to_path: "/staging/customer1".into(),
            backup_type: BackupType::Auto,
            compress: Some(false),
            include_metadata: Some("all".into()),
            from: Vec::new(),
        };
        assert_eq!(
            backup_args(&settings(), &r).join(" "),
            "database backup --from=db1:6362,db2:6362 --to-path=/staging/customer1 --type=AUTO --compress=false \
             --include-metadata=all --pagecache=2G --temp-path=/var/tmp/neo4j --verbose customer1-1767741527"
        );
        // A cluster's servers, found per database, replace the configured list.
        let r = BackupRequest {
            from: vec!["h4:6362".into(), "h2:6362".into()],
            ..r
        };
        assert!(backup_args(&settings(), &r)
            .join(" ")
            .starts_with("database backup --from=h4:6362,h2:6362 "));
    }

    #[test]
    fn restore_command_line_names_the_newest_artifact_of_the_chain() {
        let r = RestoreRequest {
            database: "customer1-1800000000".parse().unwrap(),
            from_path: "/s/diff1.backup".into(),
            overwrite_destination: false,
            restore_until: None,
        };
        let mut s = settings();
        s.extra_args.clear();
        assert_eq!(
            restore_args(&s, &r).join(" "),
            "database restore --from-path=/s/diff1.backup --temp-path=/var/tmp/neo4j customer1-1800000000"
        );
    }

    #[test]
    fn an_artifacts_table_comes_from_inspect_or_from_inspect_path() {
        let a = Path::new("/s/x.backup");
        for (version, line) in [
            ("5.24.0", "database backup --inspect-path=/s/x.backup"),
            (
                "5.26.0",
                "backup inspect /s/x.backup --format=TABULAR --empty --show-metadata",
            ),
            ("2025.07.0", "backup inspect /s/x.backup --format=TABULAR --empty"),
        ] {
            assert_eq!(inspect_table_args(a, &parse_version(version).unwrap()).join(" "), line);
        }
    }

    #[test]
    fn inspect_asks_for_metadata_where_it_is_not_the_default() {
        for (version, show) in [
            ("5.26.0", true),
            ("2025.06.1", true),
            ("2025.07.0", false),
            ("2026.01.0", false),
        ] {
            let v = parse_version(version).unwrap();
            let args = inspect_args(Path::new("/s/x.backup"), &v);
            assert_eq!(args.contains(&"--show-metadata".to_string()), show, "{version}");
        }
    }

    #[test]
    fn versions_are_read_and_judged() {
        for (out, text, supported, inspect) in [
            ("5.26.0\n", "5.26.0", true, true),
            ("neo4j-admin 5.12.0", "5.12.0", true, false),
            ("2025.10.1", "2025.10.1", true, true),
            ("4.4.30", "4.4.30", false, false),
            ("neo4j-admin version 3.5.35", "3.5.35", false, false),
        ] {
            let v = parse_version(out).unwrap();
            assert_eq!(
                (v.text.as_str(), v.is_supported(), v.has_inspect()),
                (text, supported, inspect),
                "{out}"
            );
        }
        assert_eq!(parse_version("no version here"), None);
    }

    #[test]
    fn finished_artifact_lines_name_file_and_database() {
        let line = "2026-11-24 02:00:13.412+0000 INFO  [c.n.b.b.BackupOutputMonitor] Finished artifact creation \
                    'customer1-1767741527-2026-11-24T02-00-00.backup' for database 'customer1-1767741527', took 12s.";
        assert_eq!(
            finished_artifact(line),
            Some((
                "customer1-1767741527-2026-11-24T02-00-00.backup".into(),
                "customer1-1767741527".into()
            ))
        );
        assert_eq!(finished_artifact("Starting backup of database 'x'"), None);
    }

    #[test]
    fn artifact_names_follow_the_db_and_utc_time_pattern() {
        assert!(is_artifact_of("neo4j", "neo4j-2026-11-24T02-00-00.backup"));
        assert!(!is_artifact_of("neo4j", "neo4j2-2026-11-24T02-00-00.backup"));
        assert!(!is_artifact_of("neo4j", "neo4j-2026-11-24T02-00-00.backup.tmp"));
        assert!(!is_artifact_of(
            "customer1",
            "customer1-1767741527-2026-11-24T02-00-00.backup"
        ));
    }
}
