//! The `[monitor]` section: when a new backup is an anomaly compared with
//! its alias's recent history (src/monitor/anomaly.rs).

use serde::Deserialize;

use super::{in_range, ConfigError};
use crate::monitor::AnomalyPolicy;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonitor {
    history: Option<usize>,
    min_history: Option<usize>,
    shrink_percent: Option<u32>,
    grow_percent: Option<u32>,
    min_duration_secs: Option<u64>,
}

/// Keys of `[monitor]` (for env and `--set` validation).
pub(super) const KEYS: &[&str] = &[
    "history",
    "min_history",
    "shrink_percent",
    "grow_percent",
    "min_duration_secs",
];

pub(super) fn from_raw(raw: RawMonitor) -> Result<AnomalyPolicy, ConfigError> {
    let d = AnomalyPolicy::default();
    let history = in_range("monitor.history", raw.history, d.history, 1..=100, "")?;
    let min_history = in_range(
        "monitor.min_history",
        raw.min_history,
        d.min_history.min(history),
        1..=history,
        " (at most monitor.history)",
    )?;
    let shrink_percent = in_range(
        "monitor.shrink_percent",
        raw.shrink_percent,
        d.shrink_percent,
        0..=99,
        " (0 turns shrink checks off)",
    )?;
    let grow_percent = in_range(
        "monitor.grow_percent",
        raw.grow_percent,
        d.grow_percent,
        101..=100_000,
        "",
    )?;
    let min_duration_secs = in_range(
        "monitor.min_duration_secs",
        raw.min_duration_secs,
        d.min_duration_secs,
        0..=86_400,
        "",
    )?;
    Ok(AnomalyPolicy {
        history,
        min_history,
        shrink_percent,
        grow_percent,
        min_duration_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        assert_eq!(from_raw(RawMonitor::default()).unwrap(), AnomalyPolicy::default());
        let bad = |raw: RawMonitor, key: &str| {
            let e = from_raw(raw).unwrap_err().to_string();
            assert!(e.starts_with(key), "{e}");
        };
        bad(
            RawMonitor {
                history: Some(0),
                ..RawMonitor::default()
            },
            "monitor.history is invalid: 0 is outside 1..=100",
        );
        bad(
            RawMonitor {
                history: Some(5),
                min_history: Some(6),
                ..RawMonitor::default()
            },
            "monitor.min_history is invalid: 6 is outside 1..=5 (at most monitor.history)",
        );
        bad(
            RawMonitor {
                grow_percent: Some(100),
                ..RawMonitor::default()
            },
            "monitor.grow_percent is invalid",
        );
        bad(
            RawMonitor {
                shrink_percent: Some(100),
                ..RawMonitor::default()
            },
            "monitor.shrink_percent is invalid",
        );
    }
}
