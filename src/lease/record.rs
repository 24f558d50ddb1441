//! The lease object's content and the pure rules about it: its key layout,
//! when it counts as expired (robust to the writer's clock, and never later
//! than the maximum TTL: every role can write `locks/`, so a lease object
//! claiming to last until the year 9999 must not block every run forever),
//! and its JSON.

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

    /// Whether the lease claims to last beyond [`Self::capped_expiry`]: more
    /// than `max_ttl` after its last renewal or after the store wrote it. No
    /// graphvault run writes one (forged, or a host clock far off).
    pub fn is_over_long(&self, stored_at: Option<DateTime<Utc>>, max_ttl: Duration) -> bool {
        self.expires_at > self.capped_expiry(stored_at, max_ttl)
    }

    /// The expiry a reader goes by: `expires_at`, but never more than
    /// `max_ttl` after the holder's last renewal, nor after the time the
    /// store wrote the object (`stored_at`, which no writer can choose).
    pub fn capped_expiry(&self, stored_at: Option<DateTime<Utc>>, max_ttl: Duration) -> DateTime<Utc> {
        let own = self.expires_at.min(self.renewed_at + max_ttl);
        stored_at.map_or(own, |t| own.min(t + max_ttl))
    }

    /// From when another run may take this lease over (unless it is
    /// released): more than `skew` past its expiry both by its own clock
    /// (`expires_at`, capped as [`Self::capped_expiry`] says) and by the
    /// store's (`stored_at` + the holder's TTL, at most `max_ttl`, when the
    /// store reports a time). So a writer whose clock runs slow cannot lose a
    /// live lease, and no lease outlives `max_ttl` after its last write.
    pub fn free_at(&self, stored_at: Option<DateTime<Utc>>, skew: Duration, max_ttl: Duration) -> DateTime<Utc> {
        let ttl = (self.expires_at - self.renewed_at).min(max_ttl);
        let by_own_clock = self.capped_expiry(stored_at, max_ttl) + skew;
        stored_at.map_or(by_own_clock, |t| by_own_clock.max(t + ttl + skew))
    }

    /// Whether another run may take this lease over at `now`: released, or
    /// past [`Self::free_at`].
    pub fn is_free(
        &self,
        now: DateTime<Utc>,
        stored_at: Option<DateTime<Utc>>,
        skew: Duration,
        max_ttl: Duration,
    ) -> bool {
        self.released || now > self.free_at(stored_at, skew, max_ttl)
    }
}

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

    #[test]
    fn a_lease_is_free_only_when_released_or_expired_by_both_clocks() {
        let t0: DateTime<Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
        let (ttl, skew, max) = (Duration::minutes(10), Duration::minutes(1), Duration::hours(1));
        let r = LeaseRecord::new(1, holder(), t0, ttl);
        let at = |m: i64| t0 + Duration::minutes(m);
        for (now, stored_at, free) in [
            (at(5), Some(t0), false),
            (at(10), Some(t0), false),
            (at(11), Some(t0), false), // exactly at expiry + skew
            (at(12), Some(t0), true),
            (at(12), None, true),
            // The writer's clock ran 30 min slow: by the store's clock it was written at +30.
            (at(12), Some(at(30)), false),
            (at(42), Some(at(30)), true),
        ] {
            assert_eq!(
                r.is_free(now, stored_at, skew, max),
                free,
                "now {now} stored {stored_at:?}"
            );
            assert!(!r.is_over_long(Some(t0), max));
        }
        let mut released = r.clone();
        released.released = true;
        assert!(released.is_free(at(1), Some(t0), skew, max));
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
        // (renewed_at as written, expires_at as written, stored at, now, free)
        for (renewed, expires, stored, now, free) in [
            // Written now, claiming the year 9999: held for the maximum only.
            (t0, far, Some(t0), at(30), false),
            (t0, far, Some(t0), at(61), false), // within the skew
            (t0, far, Some(t0), at(62), true),
            (t0, far, None, at(62), true),
            // A renewal time in the far future cannot stretch it either: the
            // store's own time caps it.
            (far - Duration::minutes(10), far, Some(t0), at(62), true),
            (far - Duration::minutes(10), far, Some(t0), at(30), false),
            // An old renewal time with a far expiry: the store's time decides.
            (t0 - Duration::days(400), far, Some(t0), at(30), false),
            (t0 - Duration::days(400), far, Some(t0), at(62), true),
        ] {
            let r = lease(renewed, expires);
            assert!(r.is_over_long(stored, max));
            assert_eq!(
                r.is_free(now, stored, skew, max),
                free,
                "renewed {renewed} stored {stored:?} now {now}"
            );
        }
        assert_eq!(lease(t0, far).capped_expiry(Some(at(5)), max), at(60));
        assert_eq!(lease(t0, far).capped_expiry(None, max), at(60));
        // Free from the later of both clocks' capped expiries, plus the skew.
        let old = lease(t0 - Duration::days(400), far);
        assert_eq!(old.free_at(Some(at(5)), skew, max), at(66));
    }

    #[test]
    fn json_round_trips_and_foreign_content_is_refused() {
        let r = LeaseRecord::new(3, holder(), Utc::now(), Duration::minutes(10));
        assert_eq!(LeaseRecord::from_json(&r.to_json()).unwrap(), r);
        assert!(LeaseRecord::from_json(b"{}").is_err());
        assert!(LeaseRecord::from_json(b"not json").is_err());
    }
}
