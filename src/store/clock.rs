//! The store's own clock, read so that leases are judged by one clock.
//!
//! A lease generation is dated by the store (S3's `LastModified`, a file's
//! mtime). Comparing that date with a host's local clock is what let a host
//! whose clock ran an hour fast take over a live lease. So a reader asks the
//! store what time it is now and compares two store times.
//!
//! S3 says it in the `Date` header of every response (RFC 9110 §6.6.1: an
//! origin server with a clock must send it). [`DateRecorder`] is an SDK
//! interceptor that keeps the latest one with the local monotonic instant it
//! arrived at; [`StoreClock::now`] is that date plus the time elapsed since.
//! `Date` has one-second resolution and is cut down, not rounded, so the
//! estimate is never ahead of the store's clock: a lease is never judged
//! expired early because of it. (`LastModified` is cut down too; the lease
//! rule adds one second for that, `lease/record.rs`.)

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use chrono::{DateTime, Utc};

/// A store time and the local monotonic instant it was seen at.
type Seen = (DateTime<Utc>, Instant);

/// The latest store time seen, and when (by the local monotonic clock).
#[derive(Clone, Debug, Default)]
pub struct StoreClock {
    seen: Arc<Mutex<Option<Seen>>>,
}

impl StoreClock {
    /// Records that the store said `date` just now.
    pub fn record(&self, date: DateTime<Utc>) {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some((date, Instant::now()));
    }

    /// The store's time now, if it ever said what time it was.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        let seen = *self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.map(|(date, at)| date + chrono::Duration::from_std(at.elapsed()).unwrap_or(chrono::Duration::zero()))
    }
}

/// Parses an HTTP `Date` header (IMF-fixdate, e.g. `Wed, 02 Dec 2026
/// 18:27:24 GMT`; the obsolete RFC 850 and asctime forms are not accepted).
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// SDK interceptor feeding a [`StoreClock`] from every response's `Date`.
#[derive(Debug)]
pub struct DateRecorder(pub StoreClock);

impl Intercept for DateRecorder {
    fn name(&self) -> &'static str {
        "graphvault::DateRecorder"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date").and_then(parse_http_date) {
            self.0.record(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_and_other_text_does_not() {
        let want: DateTime<Utc> = "2026-12-02T18:27:24Z".parse().unwrap();
        assert_eq!(parse_http_date("Wed, 02 Dec 2026 18:27:24 GMT"), Some(want));
        assert_eq!(parse_http_date(" Wed, 02 Dec 2026 18:27:24 GMT "), Some(want));
        for bad in ["", "yesterday", "2026-12-02T18:27:24Z", "Wed, 02 Dec 2026"] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_clock_moves_on_from_the_last_date_seen() {
        let clock = StoreClock::default();
        assert_eq!(clock.now(), None);
        let date: DateTime<Utc> = "2026-12-02T18:27:24Z".parse().unwrap();
        clock.record(date);
        let now = clock.now().unwrap();
        assert!(now >= date && now < date + chrono::Duration::seconds(60), "{now}");
    }
}
