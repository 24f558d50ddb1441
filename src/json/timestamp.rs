//! The one way graphvault writes a time into a JSON document: RFC 3339, in
//! UTC, with `Z`, in whole seconds (`2026-11-24T02:00:00Z`). Every time in a
//! `--json` output, a webhook or a stored drill report goes through here
//! (`#[serde(with = "crate::json::timestamp")]`, or [`format`]); nothing
//! else may call `to_rfc3339()` for output, which writes `+00:00`.
//!
//! Manifests are the exception: docs/FORMAT.md fixes their times with
//! fractional seconds, and they are signed as written.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// `2026-11-24T02:00:00Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// Any RFC 3339 time, whatever its offset or precision: documents written
/// by earlier versions (`+00:00`, nanoseconds) still read.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct At {
        #[serde(with = "super")]
        at: DateTime<Utc>,
    }

    #[test]
    fn times_are_written_in_utc_with_z_and_whole_seconds() {
        let t: DateTime<Utc> = "2026-11-24T03:00:00.412857311+01:00".parse().unwrap();
        assert_eq!(format(&t), "2026-11-24T02:00:00Z");
        assert_eq!(
            serde_json::to_string(&At { at: t }).unwrap(),
            r#"{"at":"2026-11-24T02:00:00Z"}"#
        );
    }

    #[test]
    fn times_written_by_earlier_versions_still_read() {
        for old in ["2026-11-24T02:00:00+00:00", "2026-11-24T02:00:00.5Z"] {
            let at: At = serde_json::from_str(&format!(r#"{{"at":"{old}"}}"#)).unwrap();
            assert_eq!(format(&at.at), "2026-11-24T02:00:00Z");
        }
    }
}
