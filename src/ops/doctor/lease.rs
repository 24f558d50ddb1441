//! Doctor's lease check: the newest lease generation of the store, judged as
//! `acquire` would judge it. A lease that claims to last longer than
//! `lease_max_ttl_secs` was not written by a graphvault run (every role can
//! write `locks/`, so a forger can): it blocks every backup and prune until
//! the maximum has passed, so it is an error, with the command that removes
//! it. graphvault has no command of its own to clear a lease; removing the
//! generation object is the documented manual step (docs/DESIGN.md, "Leases
//! and locks"). The judgement is pure; `mod.rs` reads the lease.

use chrono::{DateTime, Utc};

use crate::lease::{LeaseError, LeaseSettings, LeaseView};
use crate::store::{StoreSettings, StoreUrl};

use super::judge::{finding, Finding, Severity};

fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `'text'` when the shell would split or expand it.
fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The shell command that removes the object at `key` of this store.
pub fn remove_command(storage: &StoreSettings, key: &str) -> String {
    match &storage.url {
        StoreUrl::S3 { bucket, prefix } => {
            let object = if prefix.is_empty() {
                format!("s3://{bucket}/{key}")
            } else {
                format!("s3://{bucket}/{prefix}/{key}")
            };
            let mut cmd = format!("aws s3 rm {}", shell_quote(&object));
            if let Some(endpoint) = &storage.endpoint {
                cmd.push_str(&format!(" --endpoint-url {}", shell_quote(endpoint)));
            }
            cmd
        }
        StoreUrl::File { root } => format!("rm {}", shell_quote(&root.join(key).display().to_string())),
    }
}

/// The `lease` finding for what reading the lease gave, at `now` by the
/// store's clock. `remove` makes the command that removes an object.
pub fn judge_lease(
    read: Result<Option<&LeaseView>, &LeaseError>,
    settings: &LeaseSettings,
    now: DateTime<Utc>,
    remove: impl Fn(&str) -> String,
) -> Finding {
    let max = chrono_dur(settings.max_ttl);
    let view = match read {
        Ok(Some(v)) => v,
        Ok(None) => return finding("lease", Severity::Ok, "no lease taken yet", None),
        Err(LeaseError::Corrupt { key, detail }) => {
            return Finding {
                fix: Some(format!(
                    "check that no graphvault run uses this store, then remove it: {}",
                    remove(key)
                )),
                ..finding(
                    "lease",
                    Severity::Error,
                    format!("lease object {key} is unusable ({detail}): every backup and prune stops on it"),
                    None,
                )
            }
        }
        Err(e) => return finding("lease", Severity::Warning, format!("cannot read the lease: {e}"), None),
    };
    let r = &view.record;
    let key = &view.key;
    let skew = chrono_dur(settings.clock_skew);
    let expiry = r.expires_by_store(view.stored_at, max);
    let until = r.free_at(view.stored_at, skew, max);
    if r.released {
        return finding(
            "lease",
            Severity::Ok,
            format!("free ({key}: released by {})", r.holder),
            None,
        );
    }
    if r.is_over_long(max) {
        return Finding {
            fix: Some(format!(
                "no graphvault run writes such a lease (forged by someone who can write to locks/, or a host clock far \
                 off): find out who wrote it; check that no graphvault run uses this store, then remove it: {}",
                remove(key)
            )),
            ..finding(
                "lease",
                Severity::Error,
                format!(
                    "lease {key} of {} claims to last until {}, longer than lease_max_ttl_secs ({} s) allows: \
                     every backup and prune stops on it (exit 12) until {until}",
                    r.holder,
                    r.expires_at,
                    settings.max_ttl.as_secs()
                ),
                None,
            )
        };
    }
    if r.is_free(now, view.stored_at, skew, max) {
        return finding(
            "lease",
            Severity::Warning,
            format!(
                "lease {key} of {} expired at {expiry} without being released: that run did not finish (crashed, \
                 killed or stalled); the next run takes it over",
                r.holder
            ),
            Some("nothing to do for the lease; find out why that run did not finish"),
        );
    }
    finding(
        "lease",
        Severity::Ok,
        format!("held by {} until {expiry} ({key}): a run is in progress", r.holder),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{Holder, LeaseRecord};

    fn view(expires_at: &str, released: bool) -> LeaseView {
        let t0: DateTime<Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
        let holder = Holder {
            run_id: "r1".into(),
            host: "backup-1".into(),
            pid: 42,
            command: "backup".into(),
        };
        let mut record = LeaseRecord::new(7, holder, t0, chrono::Duration::minutes(10));
        record.expires_at = expires_at.parse().unwrap();
        record.released = released;
        LeaseView {
            key: "locks/repository/00000000000000000007.json".into(),
            record,
            stored_at: t0,
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-11-24T02:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(minutes)
    }

    fn rm(key: &str) -> String {
        format!("rm /b/{key}")
    }

    #[test]
    fn a_lease_claiming_more_than_the_maximum_is_an_error_with_the_command_that_removes_it() {
        let s = LeaseSettings::default();
        let far = view("9999-12-31T23:59:59Z", false);
        let f = judge_lease(Ok(Some(&far)), &s, at(5), rm);
        assert_eq!(f.severity, Severity::Error, "{f:?}");
        assert!(
            f.message.contains("9999-12-31") && f.message.contains("until 2026-11-24 03:01:01 UTC"),
            "{}",
            f.message
        );
        assert!(f
            .fix
            .unwrap()
            .ends_with("rm /b/locks/repository/00000000000000000007.json"),);
        // Still an error once it no longer blocks: no graphvault run wrote it.
        assert_eq!(judge_lease(Ok(Some(&far)), &s, at(90), rm).severity, Severity::Error);
    }

    #[test]
    fn ordinary_leases_are_judged_as_acquire_judges_them() {
        let s = LeaseSettings::default();
        let live = view("2026-11-24T02:10:00Z", false);
        for (v, now, severity, says) in [
            (None, at(0), Severity::Ok, "no lease taken yet"),
            (Some(&live), at(5), Severity::Ok, "a run is in progress"),
            (Some(&live), at(12), Severity::Warning, "without being released"),
        ] {
            let f = judge_lease(Ok(v), &s, now, rm);
            assert_eq!((f.severity, f.message.contains(says)), (severity, true), "{f:?}");
        }
        let released = view("2026-11-24T02:10:00Z", true);
        assert_eq!(judge_lease(Ok(Some(&released)), &s, at(5), rm).severity, Severity::Ok);
        let corrupt = LeaseError::Corrupt {
            key: "locks/repository/18446744073709551615.json".into(),
            detail: "x".into(),
        };
        let f = judge_lease(Err(&corrupt), &s, at(0), rm);
        assert_eq!(f.severity, Severity::Error);
        assert!(f
            .fix
            .unwrap()
            .ends_with("rm /b/locks/repository/18446744073709551615.json"));
    }

    #[test]
    fn the_remove_command_names_the_object_and_the_endpoint() {
        let settings = |url: &str, endpoint: Option<&str>| StoreSettings {
            url: url.parse().unwrap(),
            endpoint: endpoint.map(String::from),
            region: None,
            force_path_style: true,
            connect_timeout: std::time::Duration::from_secs(1),
            attempt_timeout: std::time::Duration::from_secs(1),
            list_page_size: 1000,
            retry: crate::store::RetryPolicy::default(),
        };
        let key = "locks/repository/00000000000000000007.json";
        for (url, endpoint, expected) in [
            (
                "s3://bkt/gv",
                Some("http://127.0.0.1:4566"),
                "aws s3 rm s3://bkt/gv/locks/repository/00000000000000000007.json --endpoint-url http://127.0.0.1:4566",
            ),
            (
                "s3://bkt",
                None,
                "aws s3 rm s3://bkt/locks/repository/00000000000000000007.json",
            ),
            (
                "file:///srv/my backups",
                None,
                "rm '/srv/my backups/locks/repository/00000000000000000007.json'",
            ),
        ] {
            assert_eq!(remove_command(&settings(url, endpoint), key), expected);
        }
    }
}
