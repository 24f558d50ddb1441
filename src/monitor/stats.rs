//! Per-alias figures for `graphvault stats`: how many backups, how much is
//! stored, how the full backups grew, the time span and how long the newest
//! backup's differential chain is. Pure: computed from rows `list` already
//! has.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::anomaly::{BackupSample, SampleKind};

/// One backup as stats see it.
#[derive(Clone, Debug)]
pub struct StatsRow {
    pub alias: String,
    pub backup_id: String,
    pub time: DateTime<Utc>,
    /// The backup it builds on (a differential), if any.
    pub parent: Option<String>,
    pub sample: BackupSample,
}

/// The figures of one alias.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AliasStats {
    pub alias: String,
    pub count: usize,
    pub full: usize,
    pub diff: usize,
    /// Plain (artifact) bytes of every backup.
    pub total_size: u64,
    /// Bytes stored of every backup.
    pub total_stored: u64,
    #[serde(serialize_with = "crate::json::timestamp::serialize")]
    pub oldest: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp::serialize")]
    pub newest: DateTime<Utc>,
    /// Size of the newest full backup, and of the oldest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_full_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_full_size: Option<u64>,
    /// Newest full backup's size as a percentage change from the oldest's
    /// (none with fewer than two full backups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth_percent: Option<f64>,
    /// Backups needed to restore the newest one (1 for a full backup; a
    /// parent missing from the rows ends the count).
    pub chain_length: usize,
}

/// The stats of every alias in `rows` (any order), by alias name.
pub fn alias_stats(rows: &[StatsRow]) -> Vec<AliasStats> {
    let mut by_alias: BTreeMap<&str, Vec<&StatsRow>> = BTreeMap::new();
    for r in rows {
        by_alias.entry(&r.alias).or_default().push(r);
    }
    by_alias
        .into_iter()
        .filter_map(|(alias, mut rs)| {
            rs.sort_by(|a, b| (a.time, &a.backup_id).cmp(&(b.time, &b.backup_id)));
            let (first, last) = (rs.first()?, rs.last()?);
            let fulls: Vec<&&StatsRow> = rs.iter().filter(|r| r.sample.kind == SampleKind::Full).collect();
            let newest_full_size = fulls.last().map(|r| r.sample.plain);
            let oldest_full_size = fulls.first().map(|r| r.sample.plain);
            let growth_percent = match (fulls.len(), oldest_full_size, newest_full_size) {
                (2.., Some(old), Some(new)) if old > 0 => Some((new as f64 / old as f64 - 1.0) * 100.0),
                _ => None,
            };
            Some(AliasStats {
                alias: alias.to_string(),
                count: rs.len(),
                full: fulls.len(),
                diff: rs.iter().filter(|r| r.sample.kind == SampleKind::Diff).count(),
                total_size: rs.iter().map(|r| r.sample.plain).sum(),
                total_stored: rs.iter().map(|r| r.sample.stored).sum(),
                oldest: first.time,
                newest: last.time,
                newest_full_size,
                oldest_full_size,
                growth_percent,
                chain_length: chain_length(&rs, last),
            })
        })
        .collect()
}

fn chain_length(rows: &[&StatsRow], newest: &StatsRow) -> usize {
    let mut length = 1;
    let mut at = newest;
    while let Some(parent) = &at.parent {
        match rows.iter().find(|r| &r.backup_id == parent) {
            Some(p) if length <= rows.len() => {
                length += 1;
                at = p;
            }
            _ => break,
        }
    }
    length
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(alias: &str, id: &str, hour: u32, parent: Option<&str>, plain: u64) -> StatsRow {
        StatsRow {
            alias: alias.into(),
            backup_id: id.into(),
            time: format!("2026-11-24T{hour:02}:00:00Z").parse().unwrap(),
            parent: parent.map(String::from),
            sample: BackupSample {
                kind: if parent.is_some() {
                    SampleKind::Diff
                } else {
                    SampleKind::Full
                },
                plain,
                stored: plain / 2,
                seconds: 1.0,
            },
        }
    }

    #[test]
    fn stats_per_alias_count_totals_growth_span_and_chain() {
        let rows = vec![
            row("b", "b1", 1, None, 100),
            row("a", "a3", 3, Some("a2"), 10),
            row("a", "a1", 1, None, 1000),
            row("a", "a2", 2, Some("a1"), 20),
            row("a", "a0", 0, None, 800),
        ];
        let s = alias_stats(&rows);
        assert_eq!(s.len(), 2);
        let a = &s[0];
        assert_eq!((a.alias.as_str(), a.count, a.full, a.diff), ("a", 4, 2, 2));
        assert_eq!((a.total_size, a.total_stored), (1830, 915));
        assert_eq!(
            (a.oldest.to_rfc3339(), a.newest.to_rfc3339()),
            (
                "2026-11-24T00:00:00+00:00".to_string(),
                "2026-11-24T03:00:00+00:00".to_string()
            )
        );
        assert_eq!((a.oldest_full_size, a.newest_full_size), (Some(800), Some(1000)));
        assert_eq!(a.growth_percent, Some(25.0));
        assert_eq!(a.chain_length, 3, "a3 → a2 → a1");
        let b = &s[1];
        assert_eq!((b.count, b.chain_length, b.growth_percent), (1, 1, None));
    }

    #[test]
    fn a_chain_whose_parent_is_missing_ends_there() {
        let rows = vec![row("a", "a3", 3, Some("gone"), 10)];
        assert_eq!(alias_stats(&rows)[0].chain_length, 1);
        assert!(alias_stats(&[]).is_empty());
    }
}
