//! Size and duration anomalies: a backup compared with the recent history of
//! its alias, like with like (a differential with differentials, a full with
//! fulls: a differential is naturally much smaller than a full).
//!
//! The reference is the median of the last `history` backups of the same
//! type (robust: one odd backup in the history does not move it), and a
//! backup is judged only when at least `min_history` of them exist. A value
//! below `shrink_percent` or above `grow_percent` of the median is an
//! anomaly. Durations are judged only when the median is at least
//! `min_duration_secs`: short backups jitter by whole factors.
//!
//! Pure: never reads anything, never decides to delete anything.

use serde::Serialize;

/// The thresholds (`[monitor]`, docs/CONFIGURATION.md).
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyPolicy {
    /// How many earlier backups of the same type the median is taken over.
    pub history: usize,
    /// Fewer earlier backups of the same type than this: not judged.
    pub min_history: usize,
    /// Below this percentage of the median: an anomaly.
    pub shrink_percent: u32,
    /// Above this percentage of the median: an anomaly.
    pub grow_percent: u32,
    /// Durations whose median is shorter than this are not judged.
    pub min_duration_secs: u64,
}

impl Default for AnomalyPolicy {
    fn default() -> Self {
        Self {
            history: 10,
            min_history: 3,
            shrink_percent: 50,
            grow_percent: 200,
            min_duration_secs: 60,
        }
    }
}

/// Full or differential, as the manifest says; `Other` never matches
/// anything (a backup whose type cannot be told is not compared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleKind {
    Full,
    Diff,
    Other,
}

impl SampleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Diff => "diff",
            Self::Other => "?",
        }
    }
}

/// What is measured of one backup.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupSample {
    pub kind: SampleKind,
    /// Artifact bytes (plaintext).
    pub plain: u64,
    /// Bytes stored after compression and encryption.
    pub stored: u64,
    /// Seal-and-upload time recorded in the manifest (finished_at − started_at).
    pub seconds: f64,
}

impl BackupSample {
    /// Plain bytes per stored byte.
    pub fn ratio(&self) -> f64 {
        self.plain as f64 / self.stored.max(1) as f64
    }
}

/// Which measure is off, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    SizeShrank,
    SizeGrew,
    StoredShrank,
    StoredGrew,
    RatioFell,
    RatioRose,
    DurationShrank,
    DurationGrew,
}

impl AnomalyKind {
    /// The metric label and JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SizeShrank => "size_shrank",
            Self::SizeGrew => "size_grew",
            Self::StoredShrank => "stored_shrank",
            Self::StoredGrew => "stored_grew",
            Self::RatioFell => "ratio_fell",
            Self::RatioRose => "ratio_rose",
            Self::DurationShrank => "duration_shrank",
            Self::DurationGrew => "duration_grew",
        }
    }
}

/// One measure far from its history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// The new backup's value (bytes, plain/stored ratio, or seconds).
    pub value: f64,
    /// The median of the history it was compared with.
    pub median: f64,
    /// How many earlier backups that median is over.
    pub of: usize,
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, value, median) = match self.kind {
            AnomalyKind::SizeShrank | AnomalyKind::SizeGrew => ("size", bytes(self.value), bytes(self.median)),
            AnomalyKind::StoredShrank | AnomalyKind::StoredGrew => {
                ("stored size", bytes(self.value), bytes(self.median))
            }
            AnomalyKind::RatioFell | AnomalyKind::RatioRose => (
                "compression ratio",
                format!("{:.2}", self.value),
                format!("{:.2}", self.median),
            ),
            AnomalyKind::DurationShrank | AnomalyKind::DurationGrew => (
                "upload time",
                format!("{:.0} s", self.value),
                format!("{:.0} s", self.median),
            ),
        };
        let percent = if self.median > 0.0 {
            self.value / self.median * 100.0
        } else {
            f64::INFINITY
        };
        write!(
            f,
            "anomaly ({}): {what} {value} is {percent:.1}% of the median {median} of the last {} backup(s) of this type",
            self.kind.as_str(),
            self.of
        )
    }
}

fn bytes(n: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", units[unit])
    }
}

/// The verdict on one backup.
#[derive(Clone, Debug, PartialEq)]
pub enum Judgement {
    /// Fewer than `min_history` earlier backups of its type: not judged.
    TooLittleHistory { have: usize, need: usize },
    /// Every measure within the thresholds.
    Normal,
    /// At least one measure outside them.
    Anomalous(Vec<Anomaly>),
}

impl Judgement {
    pub fn anomalies(&self) -> &[Anomaly] {
        match self {
            Self::Anomalous(a) => a,
            _ => &[],
        }
    }

    /// `normal`, `anomalous` or `not_judged` (JSON and tables).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Anomalous(_) => "anomalous",
            Self::TooLittleHistory { .. } => "not_judged",
        }
    }

    /// One line for a person ("normal", "not judged: …", or the anomalies).
    pub fn describe(&self) -> String {
        match self {
            Self::TooLittleHistory { have, need } => {
                format!("not judged: {have} earlier backup(s) of this type, {need} needed ([monitor] min_history)")
            }
            Self::Normal => "within the usual range".into(),
            Self::Anomalous(a) => a.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        }
    }
}

/// The median of non-empty `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Judges `new` against `history` (earlier backups of the alias, oldest first).
pub fn judge(history: &[BackupSample], new: &BackupSample, policy: &AnomalyPolicy) -> Judgement {
    let need = policy.min_history.max(1);
    let same: Vec<&BackupSample> = if new.kind == SampleKind::Other {
        Vec::new()
    } else {
        history.iter().filter(|h| h.kind == new.kind).collect()
    };
    let recent = &same[same.len().saturating_sub(policy.history.max(1))..];
    if recent.len() < need {
        return Judgement::TooLittleHistory {
            have: recent.len(),
            need,
        };
    }
    let of = recent.len();
    let (low, high) = (
        f64::from(policy.shrink_percent) / 100.0,
        f64::from(policy.grow_percent) / 100.0,
    );
    let mut found = Vec::new();
    let mut check = |value: f64, med: f64, shrank: AnomalyKind, grew: AnomalyKind| {
        if value < med * low {
            found.push(Anomaly {
                kind: shrank,
                value,
                median: med,
                of,
            });
        } else if value > med * high {
            found.push(Anomaly {
                kind: grew,
                value,
                median: med,
                of,
            });
        }
    };
    let m = |f: fn(&BackupSample) -> f64| median(recent.iter().map(|s| f(s)).collect());
    check(
        new.plain as f64,
        m(|s| s.plain as f64),
        AnomalyKind::SizeShrank,
        AnomalyKind::SizeGrew,
    );
    check(
        new.stored as f64,
        m(|s| s.stored as f64),
        AnomalyKind::StoredShrank,
        AnomalyKind::StoredGrew,
    );
    check(
        new.ratio(),
        m(BackupSample::ratio),
        AnomalyKind::RatioFell,
        AnomalyKind::RatioRose,
    );
    let seconds = m(|s| s.seconds);
    if seconds >= policy.min_duration_secs as f64 {
        check(
            new.seconds,
            seconds,
            AnomalyKind::DurationShrank,
            AnomalyKind::DurationGrew,
        );
    }
    if found.is_empty() {
        Judgement::Normal
    } else {
        Judgement::Anomalous(found)
    }
}

/// Judges every backup of one alias (oldest first) against those before it.
pub fn judge_series(samples: &[BackupSample], policy: &AnomalyPolicy) -> Vec<Judgement> {
    (0..samples.len())
        .map(|i| judge(&samples[..i], &samples[i], policy))
        .collect()
}

#[cfg(test)]
#[path = "anomaly_tests.rs"]
mod tests;
