//! What a `neo4j-admin database backup` produced, decided from what it left
//! rather than from its exit code or one log line alone. Pure functions,
//! table-tested; `admin.rs` gathers the inputs.
//!
//! - Exit 1 is also "succeeded with problems such as some servers being
//!   uncontactable" (Operations Manual, exit codes of `database backup`):
//!   an artifact the tool announced as finished, which reads back, is a
//!   backup, with a warning naming the servers it had trouble with.
//! - AUTO may start a differential, fail, fall back and start a full one: the
//!   kind is the artifact's own header (`FULL` column of `backup inspect` or
//!   `database backup --inspect-path`), else the *last* decision in the log
//!   (both streams). Never a guess: unknown is an error, because a
//!   differential recorded without its parent cannot be restored.

use super::admin_cmd::BackupType;

/// Full or differential, as recorded in the manifest (`FULL`/`DIFF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupKind {
    Full,
    Diff,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Diff => "DIFF",
        }
    }
}

/// Decision lines of Neo4j 5's `BackupOutputMonitor` and what they decide.
const DECISIONS: &[(&str, BackupKind)] = &[
    ("Start full backup of database '", BackupKind::Full),
    ("Start differential backup of database '", BackupKind::Diff),
    ("Falling back to full backup of database '", BackupKind::Full),
];

/// The kind one line decides for its database, if it is a decision line.
pub fn decision(line: &str) -> Option<(BackupKind, &str)> {
    DECISIONS.iter().find_map(|(prefix, kind)| {
        let rest = &line[line.find(prefix)? + prefix.len()..];
        Some((*kind, rest.split_once('\'')?.0))
    })
}

/// The last decision the lines (stdout and stderr) announce for `database`.
pub fn logged_kind<'a>(lines: impl IntoIterator<Item = &'a str>, database: &str) -> Option<BackupKind> {
    lines
        .into_iter()
        .filter_map(decision)
        .filter(|(_, db)| *db == database)
        .map(|(kind, _)| kind)
        .last()
}

/// The kind to record: the artifact's header when it could be read, else
/// the requested type checked against the log. `Err` says why it is unknown.
pub fn decide_kind(
    requested: BackupType,
    logged: Option<BackupKind>,
    artifact: Option<BackupKind>,
) -> Result<BackupKind, String> {
    use BackupKind::{Diff, Full};
    if let Some(kind) = artifact {
        return Ok(kind);
    }
    match (requested, logged) {
        (BackupType::Full, None | Some(Full)) => Ok(Full),
        (BackupType::Diff, None | Some(Diff)) => Ok(Diff),
        (BackupType::Auto, Some(kind)) => Ok(kind),
        (BackupType::Auto, None) => {
            Err("--type=AUTO, its log announced neither a full nor a differential backup, and the artifact's header could not be read".into())
        }
        (asked, Some(said)) => Err(format!(
            "--type={} was asked, its log says {}, and the artifact's header could not be read",
            asked.as_arg(),
            said.as_str()
        )),
    }
}

/// Whether `line` names `server` (`host:port`) as a whole word.
fn mentions(line: &str, server: &str) -> bool {
    line.match_indices(server).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + server.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The `--from` servers the problem lines name, in `from` order.
pub fn servers_named<'a>(problems: impl IntoIterator<Item = &'a str> + Clone, from: &[String]) -> Vec<String> {
    from.iter()
        .filter(|s| problems.clone().into_iter().any(|l| mentions(l, s)))
        .cloned()
        .collect()
}

/// Whether a stdout line is a problem report (a WARN or ERROR log line).
pub fn is_problem_line(line: &str) -> bool {
    line.contains(" ERROR ") || line.contains(" WARN ")
}

/// The warning for exit 1 with `artifact` finished and read back.
pub fn exit1_warning(artifact: &str, named: &[String], from: &[String], said: &[String]) -> String {
    let servers = match (named.is_empty(), from.len()) {
        (false, _) => format!("servers it reported problems with: {}", named.join(", ")),
        (true, 0 | 1) => "it named no server".to_string(),
        (true, _) => format!("it named none of the --from servers [{}]", from.join(", ")),
    };
    let said = if said.is_empty() {
        String::new()
    } else {
        format!("; it said: {}", said.join(" | "))
    };
    format!(
        "neo4j-admin exited 1 (\"succeeded, but encountered problems such as some servers being uncontactable\") \
         after it finished the artifact {artifact}, which reads back; {servers}{said}"
    )
}

/// The `FULL` value of `file_name`'s row in a `backup inspect` /
/// `database backup --inspect-path` table (`| FILE | ... | FULL | ...`).
pub fn artifact_full(table: &str, file_name: &str) -> Result<bool, String> {
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|') && l.ends_with('|') && l.len() > 1)
        .map(|l| l[1..l.len() - 1].split('|').map(str::trim).collect())
        .collect();
    let Some((head, body)) = rows.split_first() else {
        return Err("it printed no table".into());
    };
    let col = |name: &str| head.iter().position(|h| *h == name);
    let (Some(file), Some(full)) = (col("FILE"), col("FULL")) else {
        return Err(format!("its table has no FILE and FULL columns: {}", head.join(" | ")));
    };
    let row = body
        .iter()
        .find(|r| {
            r.get(file)
                .is_some_and(|f| *f == file_name || f.ends_with(&format!("/{file_name}")))
        })
        .ok_or_else(|| format!("its table has no row for {file_name}"))?;
    match row.get(full).copied() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        other => Err(format!("FULL is {other:?} for {file_name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackupKind::{Diff, Full};

    const P: &str = "2026-11-24 02:00:13.412+0000 INFO  [c.n.b.b.BackupOutputMonitor] ";

    #[test]
    fn the_last_decision_of_the_database_wins() {
        let fell_back = [
            format!("{P}Start differential backup of database 'c1-1'."),
            format!("{P}Differential backup of database 'c1-1' failed. Reason: no full backup"),
            format!("{P}Falling back to full backup of database 'c1-1'."),
            format!("{P}Start full backup of database 'c1-1'."),
        ];
        for (lines, db, kind) in [
            (&fell_back[..], "c1-1", Some(Full)),
            (&fell_back[..1], "c1-1", Some(Diff)),
            (&fell_back[..3], "c1-1", Some(Full)),
            (&fell_back[..], "c1-10", None),
            (&[format!("{P}Start backup of database 'c1-1'.")][..], "c1-1", None),
        ] {
            assert_eq!(logged_kind(lines.iter().map(String::as_str), db), kind, "{lines:?}");
        }
    }

    #[test]
    fn the_artifact_decides_then_the_request_and_log_and_unknown_is_an_error() {
        use BackupType::{Auto, Diff as D, Full as F};
        for (requested, logged, artifact, expected) in [
            (Auto, Some(Diff), Some(Full), Ok(Full)),
            (Auto, None, Some(Diff), Ok(Diff)),
            (F, Some(Diff), Some(Full), Ok(Full)),
            (F, None, None, Ok(Full)),
            (F, Some(Full), None, Ok(Full)),
            (D, None, None, Ok(Diff)),
            (D, Some(Diff), None, Ok(Diff)),
            (Auto, Some(Full), None, Ok(Full)),
            (Auto, Some(Diff), None, Ok(Diff)),
            (Auto, None, None, Err(())),
            (F, Some(Diff), None, Err(())),
            (D, Some(Full), None, Err(())),
        ] {
            let got = decide_kind(requested, logged, artifact).map_err(|_| ());
            assert_eq!(got, expected, "{requested:?} {logged:?} {artifact:?}");
        }
    }

    #[test]
    fn servers_are_named_only_as_whole_addresses() {
        let from = vec!["db1:6362".to_string(), "db2:6362".to_string(), "b1:6362".to_string()];
        let lines = [
            format!("{P}Unable to connect to server db1:6362 for backup"),
            "Execution of backup completed with problems: db1:63620 and xdb2:6362".to_string(),
        ];
        assert_eq!(servers_named(lines.iter().map(String::as_str), &from), ["db1:6362"]);
        assert!(servers_named(std::iter::empty::<&str>(), &from).is_empty());
        assert!(is_problem_line(&format!("2026 ERROR [x] {}", "y")) && !is_problem_line(P));
        let w = exit1_warning("a.backup", &[], &from, &["boom".into()]);
        assert!(
            w.contains("none of the --from servers [db1:6362, db2:6362, b1:6362]") && w.ends_with("boom"),
            "{w}"
        );
    }

    #[test]
    fn the_full_column_is_read_from_the_manuals_tables() {
        let manual = "\
|                                              FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX | RECOVERED |
|  file:///backups/neo4j-2024-10-07T16-05-37.backup |    neo4j | 7dcb1d0c-4374-4476-b8ae-d3c3f124683f | 2024-10-07T16:05:37 |  true |       true |         1 |          3 |      true |
| file:///backups/london-2024-10-07T16-04-05.backup |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | 2024-10-07T16:04:05 | false |       true |         6 |          6 |     false |
";
        assert_eq!(artifact_full(manual, "neo4j-2024-10-07T16-05-37.backup"), Ok(true));
        assert_eq!(artifact_full(manual, "london-2024-10-07T16-04-05.backup"), Ok(false));
        assert!(artifact_full(manual, "london-2024-10-07T16-04-06.backup").is_err());
        assert!(
            artifact_full("|  FILE |\n| file:///b/x.backup |\n", "x.backup").is_err(),
            "no metadata"
        );
        assert!(artifact_full("", "x.backup").is_err());
    }
}
