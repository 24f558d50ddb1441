//! Table and property tests of the anomaly judgement.

use proptest::prelude::*;

use super::*;

const GIB: u64 = 1 << 30;

fn full(plain: u64, stored: u64, seconds: f64) -> BackupSample {
    BackupSample {
        kind: SampleKind::Full,
        plain,
        stored,
        seconds,
    }
}

fn diff(plain: u64, stored: u64, seconds: f64) -> BackupSample {
    BackupSample {
        kind: SampleKind::Diff,
        ..full(plain, stored, seconds)
    }
}

fn kinds(j: &Judgement) -> Vec<AnomalyKind> {
    j.anomalies().iter().map(|a| a.kind).collect()
}

#[test]
fn judgements_table() {
    use AnomalyKind::*;
    let p = AnomalyPolicy::default();
    let two_gib = vec![full(2 * GIB, GIB, 300.0); 5];
    let jitter = vec![
        full(2 * GIB, GIB, 300.0),
        full(2 * GIB + (50 << 20), GIB + (20 << 20), 320.0),
        full(2 * GIB - (40 << 20), GIB - (10 << 20), 280.0),
    ];
    let mixed = vec![
        full(2 * GIB, GIB, 300.0),
        diff(4 << 20, 2 << 20, 5.0),
        full(2 * GIB, GIB, 300.0),
        diff(5 << 20, 2 << 20, 5.0),
        full(2 * GIB, GIB, 300.0),
        diff(4 << 20, 2 << 20, 5.0),
    ];
    let table: Vec<(&str, Vec<BackupSample>, BackupSample, Vec<AnomalyKind>)> = vec![
        (
            "2 GiB history then 4 KiB: size, stored size and time shrank",
            two_gib.clone(),
            full(4096, 4300, 1.0),
            vec![SizeShrank, StoredShrank, RatioFell, DurationShrank],
        ),
        (
            "normal jitter: none",
            jitter.clone(),
            full(2 * GIB + (10 << 20), GIB, 310.0),
            vec![],
        ),
        (
            "tripled: grew",
            two_gib.clone(),
            full(6 * GIB, 3 * GIB, 900.0),
            vec![SizeGrew, StoredGrew, DurationGrew],
        ),
        (
            "same size, incompressible now: the ratio fell",
            two_gib.clone(),
            full(2 * GIB, 5 * GIB / 2, 300.0),
            vec![StoredGrew, RatioFell],
        ),
        (
            "a differential among fulls is judged with differentials",
            mixed.clone(),
            diff(4 << 20, 2 << 20, 6.0),
            vec![],
        ),
        (
            "a full among differentials is judged with fulls",
            mixed.clone(),
            full(2 * GIB, GIB, 290.0),
            vec![],
        ),
        (
            "a shrunken full is caught even between differentials",
            mixed,
            full(4096, 4096, 1.0),
            vec![SizeShrank, StoredShrank, DurationShrank],
        ),
        (
            "short backups: their time is not judged",
            vec![full(1 << 20, 1 << 19, 1.0); 4],
            full(1 << 20, 1 << 19, 9.0),
            vec![],
        ),
        (
            "one odd backup in the history does not move the median",
            vec![
                full(2 * GIB, GIB, 300.0),
                full(4096, 4096, 1.0),
                full(2 * GIB, GIB, 300.0),
                full(2 * GIB, GIB, 300.0),
            ],
            full(2 * GIB, GIB, 300.0),
            vec![],
        ),
    ];
    for (name, history, new, want) in table {
        assert_eq!(kinds(&judge(&history, &new, &p)), want, "{name}");
    }
}

#[test]
fn too_little_history_of_the_same_type_is_not_judged_and_says_so() {
    let p = AnomalyPolicy::default();
    let history = vec![
        full(2 * GIB, GIB, 300.0),
        full(2 * GIB, GIB, 300.0),
        diff(1 << 20, 1 << 19, 2.0),
    ];
    let j = judge(&history, &full(4096, 4096, 1.0), &p);
    assert_eq!(j, Judgement::TooLittleHistory { have: 2, need: 3 });
    // Exactly at a threshold is not beyond it.
    let at = judge(&vec![full(2 * GIB, GIB, 300.0); 3], &full(GIB, GIB / 2, 600.0), &p);
    assert_eq!(at, Judgement::Normal);
    assert!(
        j.describe()
            .contains("not judged: 2 earlier backup(s) of this type, 3 needed"),
        "{}",
        j.describe()
    );
    // A differential never borrows the fulls' history.
    let j = judge(&history, &diff(4096, 4096, 1.0), &p);
    assert_eq!(j, Judgement::TooLittleHistory { have: 1, need: 3 });
    // A backup whose type is unknown is never compared.
    let other = BackupSample {
        kind: SampleKind::Other,
        ..full(4096, 4096, 1.0)
    };
    assert!(matches!(
        judge(&history, &other, &p),
        Judgement::TooLittleHistory { have: 0, .. }
    ));
}

#[test]
fn only_the_last_n_of_the_same_type_count() {
    // Old backups were small; the last 3 are 2 GiB: 2 GiB is normal now.
    let p = AnomalyPolicy {
        history: 3,
        ..AnomalyPolicy::default()
    };
    let mut history = vec![full(4 << 20, 2 << 20, 1.0); 10];
    history.extend(vec![full(2 * GIB, GIB, 1.0); 3]);
    assert_eq!(judge(&history, &full(2 * GIB, GIB, 1.0), &p), Judgement::Normal);
}

#[test]
fn the_message_names_the_measure_the_values_and_the_history() {
    let p = AnomalyPolicy::default();
    let j = judge(&vec![full(2 * GIB, GIB, 300.0); 10], &full(4096, 4300, 1.0), &p);
    let text = j.describe();
    assert!(
        text.starts_with(
            "anomaly (size_shrank): size 4.0 KiB is 0.0% of the median 2.0 GiB of the last 10 backup(s) of this type"
        ),
        "{text}"
    );
}

#[test]
fn a_series_is_judged_backup_by_backup() {
    let p = AnomalyPolicy::default();
    let mut s = vec![full(2 * GIB, GIB, 1.0); 4];
    s.push(full(4096, 4096, 1.0));
    let j = judge_series(&s, &p);
    assert!(matches!(j[0], Judgement::TooLittleHistory { have: 0, .. }));
    assert_eq!(j[3], Judgement::Normal);
    assert!(!j[4].anomalies().is_empty());
}

proptest! {
    /// Whatever the history, a backup equal to every earlier one is normal
    /// (or not judged), never an anomaly.
    #[test]
    fn a_backup_like_its_history_is_never_an_anomaly(
        plain in 1u64..1 << 40, stored in 1u64..1 << 40, secs in 0.0f64..10_000.0, n in 0usize..15
    ) {
        let s = full(plain, stored, secs);
        let j = judge(&vec![s.clone(); n], &s, &AnomalyPolicy::default());
        prop_assert!(j.anomalies().is_empty());
    }

    /// Within the thresholds of the median of a constant history: normal.
    #[test]
    fn values_within_the_thresholds_are_normal(factor in 0.51f64..1.99) {
        let base = full(1 << 30, 1 << 29, 600.0);
        let new = full((base.plain as f64 * factor) as u64, (base.stored as f64 * factor) as u64, 600.0 * factor);
        prop_assert_eq!(judge(&vec![base; 5], &new, &AnomalyPolicy::default()), Judgement::Normal);
    }
}
