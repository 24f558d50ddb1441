//! `graphvault list`: renders the catalog as a table or JSON.

use serde::Serialize;

use crate::model::ManifestKey;

/// Output format of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Serialize)]
struct ListEntry<'a> {
    backup_id: &'a str,
    alias: &'a str,
    database: &'a str,
    time: String,
    labels: Vec<&'a str>,
    manifest_key: String,
}

/// Renders backups (already filtered and sorted) for stdout.
pub fn render_list(keys: &[ManifestKey], format: ListFormat) -> String {
    match format {
        ListFormat::Json => {
            let entries: Vec<ListEntry> = keys
                .iter()
                .map(|k| ListEntry {
                    backup_id: k.backup_id.as_str(),
                    alias: k.alias.as_str(),
                    database: k.database.as_str(),
                    time: k.backup_id.time().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    labels: k.labels.iter().map(|l| l.as_str()).collect(),
                    manifest_key: k.to_string(),
                })
                .collect();
            let mut out = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
            out.push('\n');
            out
        }
        ListFormat::Table => {
            let rows: Vec<[String; 5]> = keys
                .iter()
                .map(|k| {
                    let labels: Vec<&str> = k.labels.iter().map(|l| l.as_str()).collect();
                    [
                        k.backup_id.to_string(),
                        k.alias.to_string(),
                        k.database.to_string(),
                        k.backup_id.time().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        labels.join(","),
                    ]
                })
                .collect();
            let header = ["ID", "ALIAS", "DATABASE", "TIME", "LABELS"].map(String::from);
            let mut widths = header.clone().map(|h| h.len());
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.len());
                }
            }
            let mut out = String::new();
            for row in std::iter::once(&header).chain(&rows) {
                let cells: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
            }
            out.push_str(&format!("{} backup(s)\n", rows.len()));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_backup_with_a_count() {
        let k =
            ManifestKey::parse("manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527~pinned.json").unwrap();
        let out = render_list(std::slice::from_ref(&k), ListFormat::Table);
        assert!(out.starts_with("ID"), "{out}");
        assert!(
            out.contains("20261124T020000Z-3fa91c  customer1  customer1-1767741527  2026-11-24 02:00:00 UTC  pinned")
        );
        assert!(out.ends_with("1 backup(s)\n"));
        let json: serde_json::Value = serde_json::from_str(&render_list(&[k], ListFormat::Json)).unwrap();
        assert_eq!(json[0]["labels"][0], "pinned");
        assert_eq!(json[0]["time"], "2026-11-24T02:00:00Z");
    }
}
