//! The lease object's content and the pure rules about it: its key layout,
//! when it counts as expired (judged by the store's clock alone, so no
//! host's clock can make a live lease look stale, and never later than the
//! maximum TTL: every role can write `locks/`, so a lease object claiming to
//! last until the year 9999 must not block every run forever), and its JSON.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a scope's lease generations live: `locks/<scope>/<generation>.json`.
pub fn generation_key(scope: &str, generation: u64) -> String {
    format!("locks/{scope}/{generation:020}.json")
}

/// The prefix listing a scope's generations.
pub fn scope_prefix(scope: &str) -> String {
    format!("locks/{scope}/")
}

/// The generation number in a key under `scope_prefix`, if it is one.
pub fn parse_generation(scope: &str, key: &str) -> Option<u64> {
    key.strip_prefix(&scope_prefix(scope))?
        .strip_suffix(".json")
        .filter(|n| n.len() == 20)?
        .parse()
        .ok()
}

/// Who holds a lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Random per run: two runs on one host are different holders.
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    /// `backup`, `prune`, … for humans.
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` on {} (pid {}, run {})",
            self.command, self.host, self.pid, self.run_id
        )
    }
}

pub const LEASE_FORMAT: &str = "graphvault-lease";

/// One generation of a lease, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRecord {
    pub format: String,
    pub version: u32,
    pub generation: u64,
    pub holder: Holder,
    pub acquired_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub released: bool,
}

impl LeaseRecord {
    pub fn new(generation: u64, holder: Holder, now: DateTime<Utc>, ttl: Duration) -> Self {
        Self {
            format: LEASE_FORMAT.into(),
            version: 1,
            generation,
            holder,
            acquired_at: now,
            renewed_at: now,
            expires_at: now + ttl,
            released: false,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let r: Self = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.format != LEASE_FORMAT || r.version != 1 {
            return Err(format!(
                "format {} version {} is not a graphvault lease v1",
                r.format, r.version
            ));
        }
        Ok(r)
    }

    /// How long the holder's last write claims the lease for, as its own
    /// clock measured it (`expires_at − renewed_at`: a duration, so the
    /// offset of that clock does not matter), never more than `max_ttl`.
    pub fn claimed_ttl(&self, max_ttl: Duration) -> Duration {
        (self.expires_at - self.renewed_at).clamp(Duration::zero(), max_ttl)
    }

    /// Whether the lease claims more than `max_ttl`. No graphvault run
    /// writes one: it was forged (every role can write `locks/`) or edited.
    pub fn is_over_long(&self, max_ttl: Duration) -> bool {
        self.expires_at - self.renewed_at > max_ttl
    }

    /// When the lease expires by the store's clock: `claimed_ttl` after the
    /// store wrote its last renewal (`stored_at`, which no writer chooses).
    pub fn expires_by_store(&self, stored_at: DateTime<Utc>, max_ttl: Duration) -> DateTime<Utc> {
        stored_at + self.claimed_ttl(max_ttl)
    }

    /// From when, by the store's clock, another run may take this lease over
    /// (unless it is released): more than `skew` past
    /// [`Self::expires_by_store`], plus [`STORE_TIME_RESOLUTION`] because
    /// the store cuts `stored_at` down to the second. Only store times and
    /// durations enter: neither the writer's nor the reader's clock can make
    /// a live lease look expired.
    pub fn free_at(&self, stored_at: DateTime<Utc>, skew: Duration, max_ttl: Duration) -> DateTime<Utc> {
        self.expires_by_store(stored_at, max_ttl) + skew + STORE_TIME_RESOLUTION
    }

    /// Whether another run may take this lease over when the store's clock
    /// says `store_now`: released, or past [`Self::free_at`].
    pub fn is_free(
        &self,
        store_now: DateTime<Utc>,
        stored_at: DateTime<Utc>,
        skew: Duration,
        max_ttl: Duration,
    ) -> bool {
        self.released || store_now > self.free_at(stored_at, skew, max_ttl)
    }
}

/// S3 dates objects (`LastModified`) and answers (`Date`) to the second.
pub const STORE_TIME_RESOLUTION: Duration = Duration::seconds(1);

#[cfg(test)]
mod tests {
    use super::*;

    fn holder() -> Holder {
        Holder {
            run_id: "r1".into(),
            host: "backup-1".into(),
            pid: 42,
            command: "backup".into(),
        }
    }

    #[test]
    fn keys_sort_by_generation_and_parse_back() {
        assert_eq!(
            generation_key("repository", 7),
            "locks/repository/00000000000000000007.json"
        );
        assert!(generation_key("repository", 10) > generation_key("repository", 9));
        assert_eq!(
            parse_generation("repository", &generation_key("repository", 12)),
            Some(12)
        );
        assert_eq!(parse_generation("repository", "locks/repository/7.json"), None);
        assert_eq!(
            parse_generation("repository", "locks/other/00000000000000000007.json"),
            None
        );
    }

    /// A writer and a reader whose clocks are off by an hour either way: the
    /// lease is judged by the store's times only.
    #[test]
    fn a_lease_is_free_only_when_released_or_expired_by_the_stores_clock() {
        let t0: DateTime<Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
        let (ttl, skew, max) = (Duration::minutes(10), Duration::minutes(1), Duration::hours(1));
        let at = |m: i64| t0 + Duration::minutes(m);
        let second = Duration::seconds(1);
        for writer_offset in [Duration::hours(-1), Duration::zero(), Duration::hours(1)] {
            // Written when the store's clock said t0, by a writer whose clock said t0 + offset.
            let r = LeaseRecord::new(1, holder(), t0 + writer_offset, ttl);
            assert!(!r.is_over_long(max));
            assert_eq!(r.free_at(t0, skew, max), at(11) + second);
            for (store_now, free) in [
                (at(5), false),
                (at(10), false),
                (at(11), false),
                (at(11) + second, false), // exactly at expiry + skew + resolution
                (at(11) + second * 2, true),
                (at(60), true),
            ] {
                assert_eq!(
                    r.is_free(store_now, t0, skew, max),
                    free,
                    "writer offset {writer_offset}, store now {store_now}"
                );
            }
            let mut released = r.clone();
            released.released = true;
            assert!(released.is_free(at(1), t0, skew, max));
        }
    }

    #[test]
    fn a_lease_claiming_more_than_the_maximum_ttl_expires_at_that_maximum() {
        let t0: DateTime<Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
        let (skew, max) = (Duration::minutes(1), Duration::hours(1));
        let far: DateTime<Utc> = "9999-12-31T23:59:59Z".parse().unwrap();
        let at = |m: i64| t0 + Duration::minutes(m);
        let lease = |renewed_at: DateTime<Utc>, expires_at| LeaseRecord {
            renewed_at,
            acquired_at: renewed_at,
            expires_at,
            ..LeaseRecord::new(1, holder(), t0, Duration::minutes(10))
        };
        // (renewed_at as written, expires_at as written, over long, store now, free); stored at t0.
        for (renewed, expires, over_long, now, free) in [
            // Claiming the year 9999: held for the maximum only.
            (t0, far, true, at(30), false),
            (t0, far, true, at(61), false), // within the skew
            (t0, far, true, at(62), true),
            // An old renewal time with a far expiry: the same.
            (t0 - Duration::days(400), far, true, at(30), false),
            (t0 - Duration::days(400), far, true, at(62), true),
            // A renewal time in the far future claiming ten minutes: the
            // store dated it, so it holds ten minutes.
            (far - Duration::minutes(10), far, false, at(5), false),
            (far - Duration::minutes(10), far, false, at(12), true),
            // An expiry before the renewal claims nothing.
            (t0, t0 - Duration::minutes(5), false, at(1) + Duration::seconds(2), true),
        ] {
            let r = lease(renewed, expires);
            assert_eq!(r.is_over_long(max), over_long, "renewed {renewed} expires {expires}");
            assert_eq!(
                r.is_free(now, t0, skew, max),
                free,
                "renewed {renewed} expires {expires} now {now}"
            );
        }
        assert_eq!(lease(t0, far).expires_by_store(at(5), max), at(65));
    }

    #[test]
    fn json_round_trips_and_foreign_content_is_refused() {
        let r = LeaseRecord::new(3, holder(), Utc::now(), Duration::minutes(10));
        assert_eq!(LeaseRecord::from_json(&r.to_json()).unwrap(), r);
        assert!(LeaseRecord::from_json(b"{}").is_err());
        assert!(LeaseRecord::from_json(b"not json").is_err());
    }
}
