//! The JSON contract of graphvault's outputs (docs/JSON.md): which document
//! each `--json` prints, its schema id (`graphvault.<name>/<version>`), the
//! envelope they share, and the two things every one of them spells the
//! same way: times ([`timestamp`]) and outcomes ([`Outcome`]). The schemas
//! are docs/schemas/<name>.json; the tests check every output against them.
//!
//! It decides how a result is written, never what a command does: the
//! commands build their results, and print them through [`document`].

mod outcome;
pub mod timestamp;

use serde::Serialize;

pub use outcome::Outcome;

use crate::cli::{AliasCommand, Cli, Command, DrillCommand, LifecycleCommand};

/// Every JSON document graphvault writes for a machine to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonDocument {
    /// `backup --json`: the run report.
    Backup,
    /// `backup --artifact … --json`: the committed manifest.
    BackupArtifact,
    /// `list --json`.
    List,
    /// `stats --json`.
    Stats,
    /// `restore --json` (into Neo4j).
    Restore,
    /// `restore --to-dir DIR --json`.
    RestoreToDir,
    /// `verify --json`.
    Verify,
    /// `prune --json`.
    Prune,
    /// `doctor --json`.
    Doctor,
    /// `drill --json`, `drill --report FILE` (FILE.json) and the reports
    /// stored under `reports/drills/`.
    Drill,
    /// `drill history --json`.
    DrillHistory,
    /// `alias list --json`.
    AliasList,
    /// `lifecycle suggest --json`: S3's own lifecycle configuration, with
    /// no envelope, so that `aws s3api put-bucket-lifecycle-configuration`
    /// takes it as it is.
    LifecycleSuggest,
    /// The body of a webhook POST (`[notify]`).
    Webhook,
}

impl JsonDocument {
    pub const ALL: [Self; 14] = [
        Self::Backup,
        Self::BackupArtifact,
        Self::List,
        Self::Stats,
        Self::Restore,
        Self::RestoreToDir,
        Self::Verify,
        Self::Prune,
        Self::Doctor,
        Self::Drill,
        Self::DrillHistory,
        Self::AliasList,
        Self::LifecycleSuggest,
        Self::Webhook,
    ];

    /// The schema's name: docs/schemas/<name>.json.
    pub fn name(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::BackupArtifact => "backup-artifact",
            Self::List => "list",
            Self::Stats => "stats",
            Self::Restore => "restore",
            Self::RestoreToDir => "restore-to-dir",
            Self::Verify => "verify",
            Self::Prune => "prune",
            Self::Doctor => "doctor",
            Self::Drill => "drill",
            Self::DrillHistory => "drill-history",
            Self::AliasList => "alias-list",
            Self::LifecycleSuggest => "lifecycle-suggest",
            Self::Webhook => "webhook",
        }
    }

    /// Raised when a field is removed, renamed or changes meaning or type
    /// (docs/JSON.md, "Versions"); never for an added field.
    pub fn version(self) -> u32 {
        1
    }

    /// `graphvault.<name>/<version>`, the value of the `schema` field.
    pub fn id(self) -> String {
        format!("graphvault.{}/{}", self.name(), self.version())
    }

    /// Whether the document is a graphvault object with a `schema` field
    /// (all but S3's lifecycle configuration).
    pub fn enveloped(self) -> bool {
        self != Self::LifecycleSuggest
    }

    /// The document `cli` prints on stdout, if it asks for JSON.
    pub fn printed_by(cli: &Cli) -> Option<Self> {
        let doc = match &cli.command {
            Command::Backup(a) if a.json && a.artifacts.is_empty() => Self::Backup,
            Command::Backup(a) if a.json => Self::BackupArtifact,
            Command::List(a) if a.json => Self::List,
            Command::Stats(a) if a.json => Self::Stats,
            Command::Restore(a) if a.json && a.to_dir.is_some() => Self::RestoreToDir,
            Command::Restore(a) if a.json => Self::Restore,
            Command::Verify(a) if a.json => Self::Verify,
            Command::Prune(a) if a.json => Self::Prune,
            Command::Doctor(a) if a.json => Self::Doctor,
            Command::Drill(a) => match &a.history {
                Some(DrillCommand::History { json: true }) => Self::DrillHistory,
                None if a.json => Self::Drill,
                _ => return None,
            },
            Command::Alias(AliasCommand::List { json: true }) => Self::AliasList,
            Command::Lifecycle(LifecycleCommand::Suggest { json: true }) => Self::LifecycleSuggest,
            _ => return None,
        };
        Some(doc)
    }
}

/// `{"schema": "graphvault.<name>/<version>", …the body's fields}`.
#[derive(Serialize)]
struct Envelope<'a, T: ?Sized> {
    schema: String,
    #[serde(flatten)]
    body: &'a T,
}

/// `{"outcome": …, …the body's fields}`: a result with its outcome first.
#[derive(Serialize)]
pub struct WithOutcome<'a, T: ?Sized> {
    pub outcome: Outcome,
    #[serde(flatten)]
    pub body: &'a T,
}

/// The value of `doc` with `body`'s fields (a struct or map), in its envelope.
pub fn value<T: Serialize + ?Sized>(doc: JsonDocument, body: &T) -> Result<serde_json::Value, serde_json::Error> {
    if doc.enveloped() {
        serde_json::to_value(Envelope { schema: doc.id(), body })
    } else {
        serde_json::to_value(body)
    }
}

/// `doc` as printed: pretty, one newline at the end.
pub fn document<T: Serialize + ?Sized>(doc: JsonDocument, body: &T) -> Result<String, serde_json::Error> {
    Ok(text(&value(doc, body)?))
}

/// A document's value as printed: pretty, one newline at the end.
pub fn text(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_its_body_under_a_schema_id() {
        #[derive(Serialize)]
        struct Body {
            outcome: Outcome,
            n: u32,
        }
        let v = value(
            JsonDocument::Verify,
            &Body {
                outcome: Outcome::Ok,
                n: 2,
            },
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"schema": "graphvault.verify/1", "outcome": "ok", "n": 2})
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = JsonDocument::ALL.iter().map(|d| d.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), JsonDocument::ALL.len());
    }
}
