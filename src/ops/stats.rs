//! `graphvault stats`: per-alias figures (count, full and differential,
//! total size and stored, growth of the full backups, oldest and newest,
//! the newest backup's chain length and its anomaly judgement) as a table
//! or JSON. The figures are computed by src/monitor/stats.rs.

use serde::Serialize;

use crate::json::JsonDocument;
use crate::monitor::stats::StatsRow;
use crate::monitor::{alias_stats, AliasStats, Judgement};

use super::annotated::AnnotatedBackup;
use super::backup_run::Bytes;
use super::list::{columns, render, ListFormat};

#[derive(Serialize)]
struct StatsEntry<'a> {
    #[serde(flatten)]
    stats: &'a AliasStats,
    /// The newest backup's judgement: normal, anomalous, not_judged, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_judgement: Option<&'static str>,
    /// Backups whose manifest could not be read, or that are unsigned (not counted).
    skipped: usize,
}

/// Renders the stats of the annotated backups (every backup of the aliases asked for).
pub fn render_stats(backups: &[AnnotatedBackup], format: ListFormat) -> String {
    // Judged means trusted (signed, or unsigned ones allowed) and read.
    let usable: Vec<&AnnotatedBackup> = backups.iter().filter(|b| b.judgement.is_some()).collect();
    let rows: Vec<StatsRow> = usable
        .iter()
        .filter_map(|b| {
            Some(StatsRow {
                alias: b.key.alias.to_string(),
                backup_id: b.key.backup_id.to_string(),
                time: b.key.backup_id.time(),
                parent: b.parent.clone(),
                sample: b.sample.clone()?,
            })
        })
        .collect();
    let stats = alias_stats(&rows);
    let entries: Vec<StatsEntry> = stats
        .iter()
        .map(|s| {
            let of_alias = |b: &AnnotatedBackup| b.key.alias.as_str() == s.alias;
            StatsEntry {
                stats: s,
                newest_judgement: usable
                    .iter()
                    .rev()
                    .find(|b| of_alias(b))
                    .and_then(|b| b.judgement.as_ref())
                    .map(Judgement::label),
                skipped: backups.iter().filter(|b| of_alias(b)).count() - usable.iter().filter(|b| of_alias(b)).count(),
            }
        })
        .collect();
    render(&entries, format, table, (JsonDocument::Stats, "aliases"))
}

fn table(entries: &[StatsEntry]) -> String {
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let rows: Vec<[String; 10]> = entries
        .iter()
        .map(|e| {
            let s = e.stats;
            [
                s.alias.clone(),
                s.count.to_string(),
                format!("{}/{}", s.full, s.diff),
                Bytes(s.total_size).short(),
                Bytes(s.total_stored).short(),
                s.growth_percent.map_or_else(|| "-".into(), |g| format!("{g:+.1}%")),
                time(s.oldest),
                time(s.newest),
                s.chain_length.to_string(),
                match e.newest_judgement {
                    Some("anomalous") => "ANOMALY".into(),
                    Some("normal") => "ok".into(),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    let header = [
        "ALIAS",
        "BACKUPS",
        "FULL/DIFF",
        "SIZE",
        "STORED",
        "GROWTH",
        "OLDEST",
        "NEWEST",
        "CHAIN",
        "NEWEST-ANOMALY",
    ];
    let mut out = columns(header, &rows);
    out.push_str(&format!(
        "{} alias(es); GROWTH: newest full backup against the oldest one; CHAIN: backups needed to restore the newest\n",
        rows.len()
    ));
    let skipped: usize = entries.iter().map(|e| e.skipped).sum();
    if skipped > 0 {
        out.push_str(&format!("{skipped} unsigned or unreadable backup(s) not counted\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestKey;
    use crate::monitor::{BackupSample, SampleKind};

    fn b(key: &str, parent: Option<&str>, plain: u64, signed: bool) -> AnnotatedBackup {
        AnnotatedBackup {
            key: ManifestKey::parse(key).unwrap(),
            signed,
            sample: Some(BackupSample {
                kind: if parent.is_some() {
                    SampleKind::Diff
                } else {
                    SampleKind::Full
                },
                plain,
                stored: plain / 4,
                seconds: 1.0,
            }),
            parent: parent.map(String::from),
            judgement: signed.then_some(Judgement::Normal),
        }
    }

    #[test]
    fn one_row_per_alias_with_its_figures() {
        let backups = vec![
            b(
                "manifests/c1/20261124T020000Z-000001~c1-1~FULL.json",
                None,
                4 << 20,
                true,
            ),
            b(
                "manifests/c1/20261125T020000Z-000002~c1-1~FULL.json",
                None,
                6 << 20,
                true,
            ),
            b(
                "manifests/c1/20261126T020000Z-000003~c1-1~DIFF-20261125T020000Z-000002.json",
                Some("20261125T020000Z-000002"),
                1 << 20,
                true,
            ),
            b(
                "manifests/c1/20261127T020000Z-000004~c1-1~FULL.json",
                None,
                9 << 20,
                false,
            ),
        ];
        let out = render_stats(&backups, ListFormat::Table);
        let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            row,
            [
                "c1",
                "3",
                "2/1",
                "11.0",
                "MiB",
                "2.8",
                "MiB",
                "+50.0%",
                "2026-11-24",
                "02:00",
                "2026-11-26",
                "02:00",
                "2",
                "ok"
            ],
            "{out}"
        );
        assert!(out.contains("1 unsigned or unreadable backup(s) not counted"), "{out}");
        let json: serde_json::Value = serde_json::from_str(&render_stats(&backups, ListFormat::Json)).unwrap();
        assert_eq!(json["aliases"][0]["alias"], "c1");
        assert_eq!(json["aliases"][0]["count"], 3);
        assert_eq!(json["aliases"][0]["total_stored"], (11u64 << 20) / 4);
        assert_eq!(json["aliases"][0]["growth_percent"], 50.0);
        assert_eq!(json["aliases"][0]["chain_length"], 2);
        assert_eq!(json["aliases"][0]["newest"], "2026-11-26T02:00:00Z");
        assert_eq!(json["aliases"][0]["newest_judgement"], "normal");
        assert_eq!(json["aliases"][0]["skipped"], 1);
    }
}
