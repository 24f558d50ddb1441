//! `graphvault list`: the backups, filtered by alias, label and time, as a
//! table or JSON, with each one's type, size, stored size, ratio and
//! anomaly judgement (src/ops/annotated.rs reads the manifests), marking
//! the backups whose manifest has no signature object next to it
//! (`UNSIGNED`): they are not trusted (anyone who can write to the bucket
//! can put one there), and "the latest backup" skips them. `list` does not
//! check signatures; restore and verify do.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::json::JsonDocument;
use crate::model::{DbName, Label, ManifestKey};
use crate::monitor::{Anomaly, Judgement};

use super::annotated::AnnotatedBackup;
use super::backup_run::Bytes;

/// Output format of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

/// Which backups `list` shows, beyond `--database` (decided from the key alone).
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Only this alias.
    pub alias: Option<DbName>,
    /// Only backups carrying every one of these labels.
    pub labels: Vec<Label>,
    /// Only backups taken at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only backups taken at or before this time.
    pub until: Option<DateTime<Utc>>,
}

impl ListQuery {
    pub fn matches(&self, k: &ManifestKey) -> bool {
        let t = k.backup_id.time();
        self.alias.as_ref().is_none_or(|a| &k.alias == a)
            && self.labels.iter().all(|l| k.labels.contains(l))
            && self.since.is_none_or(|s| t >= s)
            && self.until.is_none_or(|u| t <= u)
    }
}

#[derive(Serialize)]
struct ListEntry<'a> {
    backup_id: &'a str,
    alias: &'a str,
    database: &'a str,
    time: String,
    #[serde(skip)]
    when: DateTime<Utc>,
    labels: Vec<&'a str>,
    manifest_key: String,
    /// A signature object (`<manifest>.minisig`) is listed next to it.
    signed: bool,
    /// Not trusted whatever its content: it has no signature.
    untrusted: bool,
    /// `full` or `diff`; absent when the manifest could not be read.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stored_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
    /// `normal`, `anomalous`, `not_judged` (too little history), or absent
    /// (unsigned or unread: never judged).
    #[serde(skip_serializing_if = "Option::is_none")]
    judgement: Option<&'static str>,
    #[serde(skip_serializing_if = "<[Anomaly]>::is_empty")]
    anomalies: &'a [Anomaly],
}

fn entry(b: &AnnotatedBackup) -> ListEntry<'_> {
    let k = &b.key;
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    ListEntry {
        backup_id: k.backup_id.as_str(),
        alias: k.alias.as_str(),
        database: k.database.as_str(),
        time: crate::json::timestamp::format(&k.backup_id.time()),
        when: k.backup_id.time(),
        labels: k.labels.iter().map(|l| l.as_str()).collect(),
        manifest_key: k.to_string(),
        signed: b.signed,
        untrusted: !b.signed,
        kind: b.sample.as_ref().map(|s| s.kind.as_str()),
        size: b.sample.as_ref().map(|s| s.plain),
        stored_size: b.sample.as_ref().map(|s| s.stored),
        ratio: b.sample.as_ref().map(|s| round(s.ratio())),
        seconds: b.sample.as_ref().map(|s| round(s.seconds)),
        judgement: b.judgement.as_ref().map(Judgement::label),
        anomalies: b.judgement.as_ref().map(Judgement::anomalies).unwrap_or(&[]),
    }
}

/// Renders backups (already filtered, oldest first) for stdout.
pub fn render_list(backups: &[AnnotatedBackup], format: ListFormat) -> String {
    let entries: Vec<ListEntry> = backups.iter().map(entry).collect();
    render(&entries, format, table, (JsonDocument::List, "backups"))
}

/// The table `table` makes, or the JSON document `doc` with the entries
/// as its field `field` (docs/JSON.md).
pub fn render<T: Serialize>(
    entries: &[T],
    format: ListFormat,
    table: fn(&[T]) -> String,
    (doc, field): (JsonDocument, &'static str),
) -> String {
    match format {
        ListFormat::Json => {
            let body = std::collections::BTreeMap::from([(field, entries)]);
            crate::json::document(doc, &body).unwrap_or_default()
        }
        ListFormat::Table => table(entries),
    }
}

/// Fixed-width columns, left-aligned, trailing blanks trimmed.
pub fn columns<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn table(entries: &[ListEntry]) -> String {
    let dash = || "-".to_string();
    let rows: Vec<[String; 11]> = entries
        .iter()
        .map(|e| {
            [
                e.backup_id.to_string(),
                e.alias.to_string(),
                e.database.to_string(),
                e.when.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                e.kind.map_or_else(dash, String::from),
                e.size.map_or_else(dash, |n| Bytes(n).short()),
                e.stored_size.map_or_else(dash, |n| Bytes(n).short()),
                e.ratio.map_or_else(dash, |r| format!("{r:.2}")),
                if e.labels.is_empty() {
                    dash()
                } else {
                    e.labels.join(",")
                },
                if e.signed { "signed" } else { "UNSIGNED" }.to_string(),
                match e.judgement {
                    Some("anomalous") => {
                        let kinds: Vec<&str> = e.anomalies.iter().map(|a| a.kind.as_str()).collect();
                        format!("ANOMALY:{}", kinds.join(","))
                    }
                    Some("normal") => "ok".into(),
                    _ => dash(),
                },
            ]
        })
        .collect();
    let header = [
        "ID",
        "ALIAS",
        "DATABASE",
        "TIME",
        "TYPE",
        "SIZE",
        "STORED",
        "RATIO",
        "LABELS",
        "SIGNATURE",
        "ANOMALY",
    ];
    let mut out = columns(header, &rows);
    let unsigned = entries.iter().filter(|e| e.untrusted).count();
    out.push_str(&format!("{} backup(s)\n", rows.len()));
    for e in entries {
        for a in e.anomalies {
            out.push_str(&format!("{} ({}): {a}\n", e.backup_id, e.alias));
        }
    }
    if unsigned > 0 {
        out.push_str(&format!(
            "{unsigned} unsigned: no .minisig next to the manifest, so not trusted (possibly forged by someone who can \
             write to the bucket); `restore --database` and `verify --latest` skip them\n"
        ));
    }
    out
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
