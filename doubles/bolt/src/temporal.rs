//! Zoned date-times in PackStream, as Neo4j sends `ZONED DATETIME` values
//! such as `creationTime`: the `DateTime` structure (tag `0x49` 'I', seconds
//! since the Unix epoch in UTC, nanoseconds, offset in seconds) on Bolt 5 and
//! on Bolt 4.4 connections that negotiated the `utc` patch; otherwise the
//! legacy `DateTime` (tag `0x46` 'F', seconds in local time). Sources: Bolt
//! docs "Structure Semantics" (DateTime, Legacy DateTime), neo4j-python-driver
//! 5.28 `_codec/hydration` and `_bolt4.py` (`patch_bolt: ["utc"]` in HELLO,
//! honoured only when the server's HELLO SUCCESS echoes it).
//!
//! The double's values are all in UTC (offset 0), where both encodings carry
//! the same numbers; rows are built with the UTC tag and rewritten for
//! legacy connections just before they are sent.

use chrono::{DateTime, Utc};

use crate::packstream::Value;

/// Tag of the UTC `DateTime` structure (Bolt 5.0+, or 4.4 with `utc`).
pub const DATETIME_UTC: u8 = 0x49;
/// Tag of the legacy `DateTime` structure (Bolt 4.x without `utc`).
pub const DATETIME_LEGACY: u8 = 0x46;

/// A UTC instant as a zoned date-time value (offset `+00:00`).
pub fn zoned(t: DateTime<Utc>) -> Value {
    Value::Struct {
        tag: DATETIME_UTC,
        fields: vec![
            Value::Int(t.timestamp()),
            Value::Int(i64::from(t.timestamp_subsec_nanos())),
            Value::Int(0),
        ],
    }
}

/// The RFC 3339 text the state file keeps, as a zoned date-time (`Null` if
/// it is missing or unreadable, as Neo4j shows an unknown time).
pub fn zoned_from_text(text: Option<&str>) -> Value {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(Value::Null, |t| zoned(t.with_timezone(&Utc)))
}

/// Rewrites UTC date-times to the legacy structure, for a connection that
/// did not negotiate the `utc` patch. With offset 0 only the tag changes.
pub fn to_legacy(v: &mut Value) {
    match v {
        Value::Struct { tag, fields } => {
            if *tag == DATETIME_UTC {
                *tag = DATETIME_LEGACY;
            }
            fields.iter_mut().for_each(to_legacy);
        }
        Value::List(items) => items.iter_mut().for_each(to_legacy),
        Value::Map(m) => m.values_mut().for_each(to_legacy),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utc_instant_is_seconds_nanoseconds_and_a_zero_offset() {
        let v = zoned_from_text(Some("2023-08-14T10:01:29.074Z"));
        let Value::Struct { tag, fields } = &v else {
            panic!("{v:?}")
        };
        assert_eq!(*tag, DATETIME_UTC);
        assert_eq!(
            fields,
            &[Value::Int(1_692_007_289), Value::Int(74_000_000), Value::Int(0)]
        );
        let mut legacy = Value::List(vec![v.clone()]);
        to_legacy(&mut legacy);
        assert_eq!(
            legacy,
            Value::List(vec![Value::Struct {
                tag: DATETIME_LEGACY,
                fields: fields.clone()
            }])
        );
        assert_eq!(zoned_from_text(None), Value::Null);
        assert_eq!(zoned_from_text(Some("yesterday")), Value::Null);
    }
}
