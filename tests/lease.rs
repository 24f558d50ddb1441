//! Leases on real S3 (LocalStack) and on the filesystem store: one holder at
//! a time, takeover of an expired lease, a race with exactly one winner,
//! renewal, loss detection, and a corrupt lease object.

mod common;

use std::sync::Arc;
use std::time::Duration;

use graphvault::lease::{acquire, generation_key, Holder, LeaseError, LeaseRecord, LeaseSettings};
use graphvault::store::{ObjectStore, PutMode};
use sha2::{Digest, Sha256};

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
    for (name, store, _dir) in stores().await {
        let crashed = acquire(store.clone(), "repository", holder("crashed"), quick(300, 60_000))
            .await
            .unwrap();
        drop(crashed); // no release, no renewal: as if killed
        assert!(matches!(
            acquire(store.clone(), "repository", holder("next"), quick(300, 60_000)).await,
            Err(LeaseError::Held { .. })
        ));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let next = acquire(store.clone(), "repository", holder("next"), quick(300, 60_000))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            next.key().ends_with("00000000000000000002.json"),
            "{name}: {}",
            next.key()
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
        let a = acquire(store.clone(), "repository", holder("a"), quick(1000, 200))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1600)).await;
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
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(a.lost(), "{name}: the takeover is noticed at the next renewal");
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
