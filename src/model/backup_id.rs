//! Backup identity: a sortable, UTC-time-based, unique id.
//!
//! Format: `YYYYMMDDTHHMMSSZ-xxxxxx` (24 random bits in hex). Lexical order is
//! time order, so a sorted `ListObjectsV2` listing is already chronological, and
//! the random suffix keeps two agents that start in the same second apart.
//! This module never does I/O.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Why a string is not a backup id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a backup id (expected YYYYMMDDTHHMMSSZ-xxxxxx, e.g. 20261124T020000Z-3fa91c)")]
pub struct InvalidBackupId(pub String);

/// The id of one backup of one database.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BackupId {
    text: String,
    time: DateTime<Utc>,
}

impl BackupId {
    /// A new id for a backup starting at `time` (sub-second precision is dropped).
    pub fn new(time: DateTime<Utc>) -> Self {
        let suffix: u32 = rand::thread_rng().gen_range(0..0x100_0000);
        Self::from_parts(time, suffix)
    }

    fn from_parts(time: DateTime<Utc>, suffix: u32) -> Self {
        let text = format!("{}-{suffix:06x}", time.format(TIME_FORMAT));
        // Round-trip through the text so `time` never holds sub-second precision.
        text.parse()
            .unwrap_or_else(|_| unreachable!("formatted id always parses"))
    }

    /// A new id for a backup starting at `now` that sorts after `previous`
    /// (the alias's newest backup), so id order stays the order backups were
    /// made in, which "latest", chains and retention rely on. In the same
    /// second as `previous` the random suffix is drawn above its suffix (the
    /// id keeps its real second); when this host's clock is behind
    /// `previous` (it went back, or another host's runs ahead), the id takes
    /// the second after `previous`.
    pub fn after(now: DateTime<Utc>, previous: Option<&BackupId>) -> Self {
        let Some(p) = previous else {
            return Self::new(now);
        };
        let second = Self::new(now).time;
        let suffix = p.suffix();
        if p.time == second && suffix < 0xff_ffff {
            let above: u32 = rand::thread_rng().gen_range(suffix + 1..=0xff_ffff);
            return Self::from_parts(second, above);
        }
        if p.time >= second {
            return Self::new(p.time + chrono::Duration::seconds(1));
        }
        Self::new(now)
    }

    /// The random part, as a number.
    fn suffix(&self) -> u32 {
        self.text
            .rsplit_once('-')
            .and_then(|(_, s)| u32::from_str_radix(s, 16).ok())
            .unwrap_or(0)
    }

    /// When the backup started (UTC, whole seconds).
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for BackupId {
    type Err = InvalidBackupId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidBackupId(s.to_string());
        let (time_part, suffix) = s.split_once('-').ok_or_else(bad)?;
        if suffix.len() != 6 || !suffix.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(bad());
        }
        if time_part.len() != 16 {
            return Err(bad());
        }
        let naive = NaiveDateTime::parse_from_str(time_part, TIME_FORMAT).map_err(|_| bad())?;
        Ok(Self {
            text: s.to_string(),
            time: naive.and_utc(),
        })
    }
}

impl TryFrom<String> for BackupId {
    type Error = InvalidBackupId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<BackupId> for String {
    fn from(id: BackupId) -> String {
        id.text
    }
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_format_as_utc_time_plus_suffix_and_parse_back() {
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 5).unwrap();
        let id = BackupId::from_parts(t, 0x3fa91c);
        assert_eq!(id.as_str(), "20261124T020005Z-3fa91c");
        assert_eq!(id.time(), t);
        assert_eq!(id.as_str().parse::<BackupId>().unwrap(), id);
    }

    #[test]
    fn lexical_order_is_time_order() {
        let a = BackupId::new(Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap());
        // `after` keeps id order the order backups were made in.
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 2, 0, 0).unwrap();
        let prev = BackupId::new(t);
        for (now, want) in [
            // The clock went back an hour: the second after the newest.
            (t - chrono::Duration::hours(1), t + chrono::Duration::seconds(1)),
            // The same second: the same second, a larger suffix.
            (t, t),
            (t + chrono::Duration::milliseconds(500), t),
            (t + chrono::Duration::seconds(5), t + chrono::Duration::seconds(5)),
        ] {
            let next = BackupId::after(now, Some(&prev));
            assert_eq!(next.time(), want, "{now}");
            assert!(next > prev, "{next} after {prev}");
        }
        let last_in_second = BackupId::from_parts(t, 0xff_ffff);
        let next = BackupId::after(t, Some(&last_in_second));
        assert_eq!(next.time(), t + chrono::Duration::seconds(1));
        assert!(next > last_in_second);
        assert_eq!(BackupId::after(t, None).time(), t);
        let b = BackupId::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert!(a.as_str() < b.as_str());
        assert!(a < b);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "20261124T020005Z",
            "20261124T020005Z-3FA91C",
            "20261124T020005Z-3fa9",
            "20261324T020005Z-3fa91c",
            "2026-11-24T02:00:05Z-3fa91c",
            "20261124T020005-3fa91c0",
            "../../etc-passwd",
        ] {
            assert!(bad.parse::<BackupId>().is_err(), "{bad:?} should be rejected");
        }
    }
}
