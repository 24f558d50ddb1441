//! Leases on real S3 (LocalStack) and on the filesystem store: one holder at
//! a time, takeover of an expired lease, a race with exactly one winner,
//! renewal, loss detection (takeover, missed expiry, stuck renewal), a lost
//! PUT response, a store that ignores create-only writes, a corrupt lease
//! object, and a lease object claiming to be held until the year 9999 (it
//! blocks for `max_ttl` after it was written, not forever).

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graphvault::lease::{acquire, generation_key, Holder, LeaseError, LeaseRecord, LeaseSettings};
use graphvault::store::{
    Fault, FaultPlan, FaultyStore, ObjectStore, Op, PutMode, RetryPolicy, RetryingStore, StoreError,
};
use sha2::{Digest, Sha256};

/// Log lines written while the guard lives (this test's thread only).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The first PUTs of an acquire on a fresh store: the two of the conditional-write probe.
const PROBE_PUTS: u32 = 2;

fn holder(run: &str) -> Holder {
    Holder {
        run_id: run.into(),
        host: "test-host".into(),
        pid: 1,
        command: "backup".into(),
    }
}

fn quick(ttl_ms: u64, renew_ms: u64) -> LeaseSettings {
    LeaseSettings {
        ttl: Duration::from_millis(ttl_ms),
        renew_every: Duration::from_millis(renew_ms),
        clock_skew: Duration::ZERO,
        max_ttl: Duration::from_secs(3600),
    }
}

/// Waits until `cond` holds; `common::processes::BOUND` only guards
/// against a hang (a loaded machine may take long, never too long).
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + common::processes::BOUND;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {:?}",
            common::processes::BOUND
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stores() -> Vec<(&'static str, Arc<dyn ObjectStore>, Option<tempfile::TempDir>)> {
    let (fs, dir) = common::fs_store();
    vec![("s3", common::s3_store().await, None), ("fs", fs, Some(dir))]
}

#[tokio::test]
async fn one_holder_at_a_time_and_release_frees_it_at_once() {
    for (name, store, _dir) in stores().await {
        let a = acquire(store.clone(), "repository", holder("a"), LeaseSettings::default())
            .await
            .unwrap();
        let err = acquire(store.clone(), "repository", holder("b"), LeaseSettings::default())
            .await
            .unwrap_err();
        match &err {
            LeaseError::Held { holder, .. } => assert_eq!(holder.run_id, "a", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        assert!(err.to_string().contains("run a"), "{name}: {err}");
        a.release().await.unwrap();
        let b = acquire(store.clone(), "repository", holder("b"), LeaseSettings::default())
            .await
            .unwrap();
        assert!(!b.lost());
        b.release().await.unwrap();
    }
}

#[tokio::test]
async fn an_expired_lease_of_a_crashed_run_is_taken_over() {
    let logs = Logs::default();
    let _guard = logs.capture();
    for (name, store, _dir) in stores().await {
        let crashed = acquire(store.clone(), "repository", holder("crashed"), quick(300, 60_000))
            .await
            .unwrap();
        drop(crashed); // no release, no renewal: as if killed
        assert!(matches!(
            acquire(store.clone(), "repository", holder("next"), quick(300, 60_000)).await,
            Err(LeaseError::Held { .. })
        ));
        // Taken over once the store's clock is past its expiry (store times
        // have one-second resolution, so within about 1.3 s); the bound only
        // guards against a hang.
        let bound = std::time::Instant::now() + Duration::from_secs(60);
        let next = loop {
            match acquire(store.clone(), "repository", holder("next"), quick(300, 60_000)).await {
                Ok(lease) => break lease,
                Err(LeaseError::Held { .. }) if std::time::Instant::now() < bound => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("{name}: {e}"),
            }
        };
        assert!(
            next.key().ends_with("00000000000000000002.json"),
            "{name}: {}",
            next.key()
        );
        let text = logs.text();
        let warn = text
            .lines()
            .find(|l| l.contains("WARN") && l.contains("taking over the stale lease"))
            .unwrap_or_else(|| panic!("{name}: no takeover warning in\n{text}"));
        assert!(
            warn.contains("test-host") && warn.contains("run crashed"),
            "{name}: {warn}"
        );
    }
}

#[tokio::test]
async fn racing_runs_get_exactly_one_winner() {
    for (name, store, _dir) in stores().await {
        for round in 0..3 {
            let scope = format!("race-{round}");
            let tries = (0..8).map(|i| {
                let store = store.clone();
                let scope = scope.clone();
                async move { acquire(store, &scope, holder(&format!("r{i}")), LeaseSettings::default()).await }
            });
            let results = futures::future::join_all(tries).await;
            let winners = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(winners, 1, "{name} round {round}: {results:?}");
            assert!(results
                .iter()
                .all(|r| matches!(r, Ok(_) | Err(LeaseError::Held { .. }))));
        }
    }
}

#[tokio::test]
async fn renewal_keeps_a_lease_past_its_ttl_and_a_takeover_is_noticed() {
    for (name, store, _dir) in stores().await {
        // A 3 s lease renewed every 200 ms: past its first expiry it is
        // still held (a renewer starved for 3 s would lose it, rightly).
        let a = acquire(store.clone(), "repository", holder("a"), quick(3000, 200))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert!(!a.lost(), "{name}");
        assert!(
            matches!(
                acquire(store.clone(), "repository", holder("b"), quick(1000, 200)).await,
                Err(LeaseError::Held { .. })
            ),
            "{name}: renewed, so still held"
        );
        // Someone writes the next generation behind a's back (as a run that
        // judged a's lease expired while a was stalled would).
        let r = LeaseRecord::new(2, holder("usurper"), chrono::Utc::now(), chrono::Duration::minutes(10));
        let body = r.to_json();
        let sha: [u8; 32] = Sha256::digest(&body).into();
        store
            .put(&generation_key("repository", 2), body.into(), sha, PutMode::CreateOnly)
            .await
            .unwrap();
        until(&format!("{name}: the takeover is noticed at a renewal"), || a.lost()).await;
    }
}

#[tokio::test]
async fn a_corrupt_lease_object_is_reported_with_its_key() {
    for (name, store, _dir) in stores().await {
        let key = generation_key("repository", 1);
        let sha: [u8; 32] = Sha256::digest(b"garbage").into();
        store
            .put(&key, bytes::Bytes::from_static(b"garbage"), sha, PutMode::CreateOnly)
            .await
            .unwrap();
        let err = acquire(store.clone(), "repository", holder("a"), LeaseSettings::default())
            .await
            .unwrap_err();
        assert!(matches!(err, LeaseError::Corrupt { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(&key), "{name}: {err}");
    }
}

/// What anyone who can write to `locks/` can write: a lease "held" until the
/// end of the year 9999, renewed just now by its own account.
async fn put_lease_until_9999(store: &dyn ObjectStore, generation: u64) -> String {
    let mut r = LeaseRecord::new(
        generation,
        holder("forger"),
        chrono::Utc::now(),
        chrono::Duration::minutes(10),
    );
    r.expires_at = "9999-12-31T23:59:59Z".parse().unwrap();
    let key = generation_key("repository", generation);
    let body = r.to_json();
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store.put(&key, body.into(), sha, PutMode::CreateOnly).await.unwrap();
    key
}

#[tokio::test]
async fn a_lease_claiming_the_year_9999_holds_only_until_the_maximum_ttl_after_it_was_written() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let settings = LeaseSettings::default();
    for (name, store, dir) in stores().await {
        let key = put_lease_until_9999(store.as_ref(), 1).await;
        // Just written: it holds, but the error gives the capped expiry
        // (written + max_ttl), not the year 9999, and says where to look.
        let err = acquire(store.clone(), "repository", holder("next"), settings)
            .await
            .unwrap_err();
        let LeaseError::Held { free_at, .. } = &err else {
            panic!("{name}: {err:?}")
        };
        let cap = chrono::Utc::now()
            + chrono::Duration::from_std(settings.max_ttl + settings.clock_skew).unwrap()
            + graphvault::lease::STORE_TIME_RESOLUTION;
        assert!(*free_at <= cap, "{name}: held until {free_at}");
        let text = err.to_string();
        assert!(
            text.contains("9999-12-31") && text.contains("lease_max_ttl_secs") && text.contains("graphvault doctor"),
            "{name}: {text}"
        );
        // The filesystem store dates objects by their mtime: as if written
        // longer ago than max_ttl + skew, it is taken over, with a warning.
        let Some(dir) = dir else { continue };
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join("store").join(&key))
            .unwrap();
        let long_ago = settings.max_ttl + settings.clock_skew + Duration::from_secs(60);
        file.set_modified(std::time::SystemTime::now() - long_ago).unwrap();
        let lease = acquire(store.clone(), "repository", holder("next"), settings)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lease.key(), generation_key("repository", 2), "{name}");
        lease.release().await.unwrap();
        let text = logs.text();
        assert!(
            text.lines()
                .any(|l| l.contains("WARN") && l.contains("claimed to last until 9999-12-31")),
            "{name}: {text}"
        );
    }
}

#[tokio::test]
async fn a_lease_whose_generation_cannot_be_followed_is_reported_not_overflowed() {
    for (name, store, _dir) in stores().await {
        let key = generation_key("repository", u64::MAX);
        let mut r = LeaseRecord::new(
            u64::MAX,
            holder("forger"),
            chrono::Utc::now(),
            chrono::Duration::minutes(10),
        );
        r.released = true;
        let body = r.to_json();
        let sha: [u8; 32] = Sha256::digest(&body).into();
        store.put(&key, body.into(), sha, PutMode::CreateOnly).await.unwrap();
        let err = acquire(store.clone(), "repository", holder("a"), LeaseSettings::default())
            .await
            .unwrap_err();
        assert!(matches!(err, LeaseError::Corrupt { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(&key), "{name}: {err}");
    }
}

#[tokio::test]
async fn a_lease_not_renewed_by_its_expiry_is_lost_even_without_a_takeover() {
    for (name, store, _dir) in stores().await {
        // Renewal due only after a minute: the 300 ms lease lapses first.
        let a = acquire(store.clone(), "repository", holder("a"), quick(300, 60_000))
            .await
            .unwrap();
        let flag = a.lost_flag();
        until(&format!("{name}: the renewer flags the lapse itself"), || {
            flag.load(Ordering::SeqCst)
        })
        .await;
        assert!(a.lost(), "{name}");
    }
}

#[tokio::test]
async fn a_renewal_stuck_past_the_expiry_marks_the_lease_lost() {
    for (name, base, _dir) in stores().await {
        // Every PUT after the probe and the create fails transiently, and the
        // retrying store would keep trying far beyond the 1 s lease.
        let plan = FaultPlan::new().inject(Op::Put, PROBE_PUTS + 1, u32::MAX, Fault::Transient);
        let faulty: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base, plan.clone()));
        let patient = RetryPolicy {
            max_attempts: 10_000,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(20),
        };
        let store: Arc<dyn ObjectStore> = Arc::new(RetryingStore::new(faulty, patient));
        let a = acquire(store, "repository", holder("a"), quick(1000, 200))
            .await
            .unwrap();
        let acquired = std::time::Instant::now();
        let flag = a.lost_flag();
        until(&format!("{name}: the renewal is being retried"), || {
            plan.calls(Op::Put) > PROBE_PUTS as usize + 2
        })
        .await;
        // Still within the 1 s lease (when this machine got here in time to say).
        if acquired.elapsed() < Duration::from_millis(800) {
            assert!(!flag.load(Ordering::SeqCst), "{name}: still within the lease");
        }
        until(&format!("{name}: lost at the expiry, mid-renewal"), || {
            flag.load(Ordering::SeqCst)
        })
        .await;
    }
}

#[tokio::test]
async fn a_lease_put_whose_response_was_lost_is_recognised_as_ours() {
    for (name, base, _dir) in stores().await {
        let plan = FaultPlan::new().inject(Op::Put, PROBE_PUTS, 1, Fault::LostResponse);
        let faulty: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base.clone(), plan.clone()));
        let store: Arc<dyn ObjectStore> = Arc::new(RetryingStore::new(faulty, common::fast_retry()));
        let a = acquire(store, "repository", holder("a"), LeaseSettings::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: the retried create finds its own lease: {e}"));
        assert_eq!(plan.calls(Op::Put), PROBE_PUTS as usize + 2, "{name}");
        assert!(a.key().ends_with("00000000000000000001.json"), "{name}");
        assert!(matches!(
            acquire(base.clone(), "repository", holder("b"), LeaseSettings::default()).await,
            Err(LeaseError::Held { .. })
        ));
    }
}

#[tokio::test]
async fn a_store_that_ignores_create_only_writes_is_refused_before_any_lease_is_written() {
    for (name, base, _dir) in stores().await {
        let plan = FaultPlan::new().inject(Op::Put, 0, u32::MAX, Fault::IgnoreCondition);
        let store: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base.clone(), plan));
        let err = acquire(store, "repository", holder("a"), LeaseSettings::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                LeaseError::Store {
                    source: StoreError::Unsupported { .. },
                    ..
                }
            ),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("If-None-Match"), "{name}: {err}");
        assert!(base.list("locks/repository/").await.unwrap().is_empty(), "{name}");
    }
}
