//! Tests of `list`'s filters and rendering.

use super::*;
use crate::monitor::{AnomalyKind, BackupSample, SampleKind};

fn key(text: &str) -> ManifestKey {
    ManifestKey::parse(text).unwrap()
}

fn backup(signed: bool, judgement: Option<Judgement>) -> AnnotatedBackup {
    AnnotatedBackup {
        key: key("manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527~pinned~FULL.json"),
        signed,
        sample: Some(BackupSample {
            kind: SampleKind::Full,
            plain: 4 << 20,
            stored: 1 << 20,
            seconds: 2.5,
        }),
        parent: None,
        judgement,
    }
}

#[test]
fn table_lists_every_backup_with_type_sizes_ratio_and_a_count() {
    let out = render_list(&[backup(true, Some(Judgement::Normal))], ListFormat::Table);
    assert!(out.starts_with("ID"), "{out}");
    assert!(
        out.contains(
            "20261124T020000Z-3fa91c  customer1  customer1-1767741527  2026-11-24 02:00:00 UTC  full  4.0 MiB  1.0 MiB  4.00   pinned  signed     ok"
        ),
        "{out}"
    );
    assert!(out.ends_with("1 backup(s)\n"));
    let json: serde_json::Value =
        serde_json::from_str(&render_list(&[backup(true, Some(Judgement::Normal))], ListFormat::Json)).unwrap();
    assert_eq!(json["backups"][0]["labels"][0], "pinned");
    assert_eq!(json["backups"][0]["time"], "2026-11-24T02:00:00Z");
    assert_eq!(
        (&json["backups"][0]["signed"], &json["backups"][0]["untrusted"]),
        (&true.into(), &false.into())
    );
    assert_eq!(json["backups"][0]["type"], "full");
    assert_eq!(
        (&json["backups"][0]["size"], &json["backups"][0]["stored_size"]),
        (&(4 << 20).into(), &(1 << 20).into())
    );
    assert_eq!(
        (
            json["backups"][0]["ratio"].as_f64(),
            json["backups"][0]["seconds"].as_f64()
        ),
        (Some(4.0), Some(2.5))
    );
    assert_eq!(json["backups"][0]["judgement"], "normal");
    assert!(json["backups"][0].get("anomalies").is_none());
}

#[test]
fn a_manifest_without_a_signature_object_is_marked_untrusted_and_not_judged() {
    let out = render_list(&[backup(false, None)], ListFormat::Table);
    assert!(out.contains("pinned  UNSIGNED   -\n"), "{out}");
    assert!(out.contains("1 unsigned: no .minisig"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&render_list(&[backup(false, None)], ListFormat::Json)).unwrap();
    assert_eq!(
        (&json["backups"][0]["signed"], &json["backups"][0]["untrusted"]),
        (&false.into(), &true.into())
    );
    assert!(json["backups"][0].get("judgement").is_none());
}

#[test]
fn an_anomaly_is_marked_in_its_row_and_explained_below() {
    let j = Judgement::Anomalous(vec![Anomaly {
        kind: AnomalyKind::SizeShrank,
        value: 4096.0,
        median: 2.0 * (1u64 << 30) as f64,
        of: 5,
    }]);
    let out = render_list(&[backup(true, Some(j))], ListFormat::Table);
    assert!(out.contains("signed     ANOMALY:size_shrank\n"), "{out}");
    assert!(
        out.contains("20261124T020000Z-3fa91c (customer1): anomaly (size_shrank): size 4.0 KiB"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&render_list(
        &[backup(true, Some(Judgement::TooLittleHistory { have: 1, need: 3 }))],
        ListFormat::Json,
    ))
    .unwrap();
    assert_eq!(json["backups"][0]["judgement"], "not_judged");
}

#[test]
fn the_query_filters_by_alias_label_and_time() {
    let k = key("manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527~pinned+pre-deploy~FULL.json");
    let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
    let l = |s: &str| s.parse::<Label>().unwrap();
    let table: Vec<(ListQuery, bool)> = vec![
        (ListQuery::default(), true),
        (
            ListQuery {
                alias: Some("customer1".parse().unwrap()),
                ..ListQuery::default()
            },
            true,
        ),
        (
            ListQuery {
                alias: Some("customer2".parse().unwrap()),
                ..ListQuery::default()
            },
            false,
        ),
        (
            ListQuery {
                labels: vec![l("pinned")],
                ..ListQuery::default()
            },
            true,
        ),
        (
            ListQuery {
                labels: vec![l("pinned"), l("pre-deploy")],
                ..ListQuery::default()
            },
            true,
        ),
        (
            ListQuery {
                labels: vec![l("weekly")],
                ..ListQuery::default()
            },
            false,
        ),
        (
            ListQuery {
                since: t("2026-11-24T02:00:00Z"),
                ..ListQuery::default()
            },
            true,
        ),
        (
            ListQuery {
                since: t("2026-11-24T02:00:01Z"),
                ..ListQuery::default()
            },
            false,
        ),
        (
            ListQuery {
                until: t("2026-11-24T02:00:00Z"),
                ..ListQuery::default()
            },
            true,
        ),
        (
            ListQuery {
                until: t("2026-11-24T01:59:59Z"),
                ..ListQuery::default()
            },
            false,
        ),
        (
            ListQuery {
                since: t("2026-11-23T00:00:00Z"),
                until: t("2026-11-25T00:00:00Z"),
                ..ListQuery::default()
            },
            true,
        ),
    ];
    for (q, want) in table {
        assert_eq!(q.matches(&k), want, "{q:?}");
    }
}
