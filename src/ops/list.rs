//! `graphvault list`: renders the catalog as a table or JSON, marking the
//! backups whose manifest has no signature object next to it (`UNSIGNED`):
//! they are not trusted (anyone who can write to the bucket can put one
//! there), and "the latest backup" skips them. `list` makes no GET, so it
//! only sees that a signature exists; restore and verify check it.

use serde::Serialize;

use super::catalog::CatalogListing;

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
    #[serde(skip)]
    when: chrono::DateTime<chrono::Utc>,
    labels: Vec<&'a str>,
    manifest_key: String,
    /// A signature object (`<manifest>.minisig`) is listed next to it.
    signed: bool,
    /// Not trusted whatever its content: it has no signature.
    untrusted: bool,
}

/// Renders backups (already filtered and sorted) for stdout.
pub fn render_list(listing: &CatalogListing, format: ListFormat) -> String {
    let signed = listing.signed_keys();
    let entries: Vec<ListEntry> = listing
        .keys
        .iter()
        .map(|k| {
            let manifest_key = k.to_string();
            let is_signed = signed.contains(manifest_key.as_str());
            ListEntry {
                backup_id: k.backup_id.as_str(),
                alias: k.alias.as_str(),
                database: k.database.as_str(),
                time: k.backup_id.time().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                when: k.backup_id.time(),
                labels: k.labels.iter().map(|l| l.as_str()).collect(),
                manifest_key,
                signed: is_signed,
                untrusted: !is_signed,
            }
        })
        .collect();
    match format {
        ListFormat::Json => {
            let mut out = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
            out.push('\n');
            out
        }
        ListFormat::Table => table(&entries),
    }
}

fn table(entries: &[ListEntry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.backup_id.to_string(),
                e.alias.to_string(),
                e.database.to_string(),
                e.when.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                e.labels.join(","),
                if e.signed { "signed" } else { "UNSIGNED" }.to_string(),
            ]
        })
        .collect();
    let header = ["ID", "ALIAS", "DATABASE", "TIME", "LABELS", "SIGNATURE"].map(String::from);
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
    let unsigned = entries.iter().filter(|e| e.untrusted).count();
    out.push_str(&format!("{} backup(s)\n", rows.len()));
    if unsigned > 0 {
        out.push_str(&format!(
            "{unsigned} unsigned: no .minisig next to the manifest, so not trusted (possibly forged by someone who can \
             write to the bucket); `restore --database` and `verify --latest` skip them\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestKey;
    use crate::store::ObjectInfo;

    fn listing(signed: bool) -> CatalogListing {
        let k =
            ManifestKey::parse("manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527~pinned.json").unwrap();
        let signatures = if signed {
            vec![ObjectInfo {
                key: format!("{k}.minisig"),
                size: 300,
                last_modified: None,
                storage_class: None,
                restore: None,
                checksum: None,
                etag: None,
            }]
        } else {
            Vec::new()
        };
        CatalogListing {
            keys: vec![k],
            signatures,
            ..CatalogListing::default()
        }
    }

    #[test]
    fn table_lists_every_backup_with_a_count() {
        let out = render_list(&listing(true), ListFormat::Table);
        assert!(out.starts_with("ID"), "{out}");
        assert!(
            out.contains(
                "20261124T020000Z-3fa91c  customer1  customer1-1767741527  2026-11-24 02:00:00 UTC  pinned  signed"
            ),
            "{out}"
        );
        assert!(out.ends_with("1 backup(s)\n"));
        let json: serde_json::Value = serde_json::from_str(&render_list(&listing(true), ListFormat::Json)).unwrap();
        assert_eq!(json[0]["labels"][0], "pinned");
        assert_eq!(json[0]["time"], "2026-11-24T02:00:00Z");
        assert_eq!(
            (&json[0]["signed"], &json[0]["untrusted"]),
            (&true.into(), &false.into())
        );
    }

    #[test]
    fn a_manifest_without_a_signature_object_is_marked_untrusted() {
        let out = render_list(&listing(false), ListFormat::Table);
        assert!(out.contains("pinned  UNSIGNED\n"), "{out}");
        assert!(out.contains("1 unsigned: no .minisig"), "{out}");
        let json: serde_json::Value = serde_json::from_str(&render_list(&listing(false), ListFormat::Json)).unwrap();
        assert_eq!(
            (&json[0]["signed"], &json[0]["untrusted"]),
            (&false.into(), &true.into())
        );
    }
}
