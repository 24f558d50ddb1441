//! UTC wall-clock time and the few formats neo4j-admin prints, without a date crate.
//!
//! Log lines use `2023-07-18 14:30:04.205+0000`, artifact names use
//! `2023-07-18T14-30-04`, headers and `backup inspect` use `2023-07-18T14:30:04`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant broken into calendar fields (millisecond precision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    /// Whole seconds since the Unix epoch.
    pub epoch_secs: i64,
}

impl Utc {
    pub fn now() -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self::from_epoch(since.as_secs() as i64, since.subsec_millis())
    }

    pub fn from_epoch(secs: i64, millis: u32) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            millis,
            epoch_secs: secs,
        }
    }

    /// `2023-07-18 14:30:04.205+0000`, the prefix of neo4j-admin log lines.
    pub fn log_stamp(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+0000",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }

    /// `2023-07-18T14-30-04`, the time part of an artifact file name.
    pub fn file_stamp(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2023-07-18T14:30:04`, as `backup inspect` shows TIME (UTC).
    pub fn iso_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// RFC 3339 with milliseconds and `Z`, for the invocation log.
    pub fn rfc3339(&self) -> String {
        format!("{}.{:03}Z", self.iso_seconds(), self.millis)
    }
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether `s` is `YYYY-MM-DD HH:MM:SS` (the `--restore-until` date form).
pub fn is_restore_until_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 19 {
        return false;
    }
    b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b' ',
        13 | 16 => *c == b':',
        _ => c.is_ascii_digit(),
    })
}

/// A duration as Neo4j prints it: `38ms`, `1s 181ms`, `2m 3s 4ms`.
pub fn neo4j_duration(d: Duration) -> String {
    let total = d.as_millis();
    let (mins, secs, ms) = (total / 60_000, total / 1000 % 60, total % 1000);
    match (mins, secs) {
        (0, 0) => format!("{ms}ms"),
        (0, _) => format!("{secs}s {ms}ms"),
        _ => format!("{mins}m {secs}s {ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_a_known_instant() {
        // 2023-07-18T14:30:04Z
        let t = Utc::from_epoch(1_689_690_604, 205);
        assert_eq!(t.log_stamp(), "2023-07-18 14:30:04.205+0000");
        assert_eq!(t.file_stamp(), "2023-07-18T14-30-04");
        assert_eq!(t.iso_seconds(), "2023-07-18T14:30:04");
        assert_eq!(Utc::from_epoch(951_782_400, 0).iso_seconds(), "2000-02-29T00:00:00");
    }

    #[test]
    fn durations_and_dates() {
        assert_eq!(neo4j_duration(Duration::from_millis(38)), "38ms");
        assert_eq!(neo4j_duration(Duration::from_millis(1181)), "1s 181ms");
        assert!(is_restore_until_date("2021-09-11 10:15:30"));
        assert!(!is_restore_until_date("2021-09-11T10:15:30"));
    }
}
