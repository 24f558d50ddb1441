//! Measures `list` and prune planning over many fabricated backups on a real
//! S3 endpoint (LocalStack by default): requests made and seconds. Not a
//! test: run it by hand, e.g.
//!
//! ```sh
//! localstack/up.sh
//! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   cargo run --release --example scale_catalog -- 20000
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use graphvault::ops::prune::{prune, PruneRequest};
use graphvault::ops::{list_backups, BackupFilter};
use graphvault::store::{FaultPlan, FaultyStore, ObjectStore, Op, PutMode, S3Settings, S3Store};
use sha2::{Digest, Sha256};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map_or(Ok(20_000), |a| a.parse())?;
    let endpoint = std::env::var("GV_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".into());
    let bucket = format!("gv-scale-{:08x}", rand::random::<u32>());
    let settings = S3Settings {
        bucket: bucket.clone(),
        prefix: "gv".into(),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        force_path_style: true,
        connect_timeout: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(60),
        list_page_size: 1000,
    };
    let s3 = S3Store::connect(&settings).await;
    s3.client().create_bucket().bucket(&bucket).send().await?;
    let base: Arc<dyn ObjectStore> = Arc::new(s3);

    // n signed backups over 100 aliases, one a day each, newest today: a
    // full backup every 7th day and differentials in between (each a data
    // object and a placeholder manifest naming it, so prune can judge them).
    let keydir = tempfile::tempdir()?;
    let key_file = keydir.path().join("signing.key");
    let public = graphvault::signing::generate_signing_key(&key_file)?;
    let signer = Arc::new(graphvault::signing::SigningKey::from_file(&key_file)?);
    let started = Instant::now();
    let now = Utc::now();
    let id = |i: usize| {
        let t = now - chrono::Duration::days((i / 100) as i64) - chrono::Duration::minutes((i % 100) as i64);
        format!("{}-{:06x}", t.format("%Y%m%dT%H%M%SZ"), i)
    };
    futures::stream::iter(0..n)
        .for_each_concurrent(64, |i| {
            let store = base.clone();
            let signer = signer.clone();
            async move {
                let day = i / 100;
                // Day `day` builds on day `day + 1` (older) unless it is a full one.
                let chain = if day % 7 == 6 || i + 100 >= n {
                    "FULL".to_string()
                } else {
                    format!("DIFF-{}", id(i + 100))
                };
                let key = format!(
                    "manifests/customer{}/{}~customer{}-1700000000~{chain}.json",
                    i % 100,
                    id(i),
                    i % 100
                );
                let data = format!("data/customer{}/{}/a.backup.zst.age", i % 100, id(i));
                let parsed = graphvault::model::ManifestKey::parse(&key).unwrap();
                let body = graphvault::model::BackupManifest::placeholder(&parsed, &[(data.clone(), 6)]).to_json();
                let signature = signer.sign_manifest(&key, &body).unwrap();
                for (k, body) in [
                    (data, b"sealed".to_vec()),
                    (format!("{key}.minisig"), signature.into_bytes()),
                    (key, body),
                ] {
                    let sha: [u8; 32] = Sha256::digest(&body).into();
                    store.put(&k, body.into(), sha, PutMode::Overwrite).await.unwrap();
                }
            }
        })
        .await;
    println!(
        "fabricated {n} signed backups ({} objects) in {:.1} s",
        3 * n,
        started.elapsed().as_secs_f64()
    );

    let plan = FaultPlan::new();
    let store: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(base, plan.clone()));
    let t = Instant::now();
    let keys = list_backups(store.as_ref(), &BackupFilter::default()).await?;
    println!(
        "list: {} backups in {:.2} s with {} LIST and {} GET requests",
        keys.len(),
        t.elapsed().as_secs_f64(),
        plan.calls(Op::List),
        plan.calls(Op::Get)
    );
    // The same bucket read with pages of up to 100,000 keys
    // (`storage.list_page_size`): AWS S3 answers 1,000 whatever is asked,
    // LocalStack answers a whole listing in one page.
    let big_pages: Arc<dyn ObjectStore> = Arc::new(FaultyStore::new(
        Arc::new(
            S3Store::connect(&S3Settings {
                list_page_size: 100_000,
                ..settings.clone()
            })
            .await,
        ),
        plan.clone(),
    ));
    // What prune lists, timed alone: the planning is the rest of its time.
    let everything = BackupFilter::default();
    for (page, store) in [(1000, &store), (100_000, &big_pages)] {
        let t = Instant::now();
        let (listed, data) = tokio::join!(
            graphvault::ops::list_with_signatures(store.as_ref(), &everything),
            store.list("data/")
        );
        println!(
            "prune's listings alone (manifests/ and data/ side by side, pages of {page}): {} + {} objects in {:.2} s",
            listed?.objects.len() * 2,
            data?.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let request = PruneRequest {
        database: None,
        dry_run: true,
        now,
        host: "scale".into(),
    };
    let cache = tempfile::tempdir()?;
    let cache_dir = format!("storage.cache_dir={}", cache.path().display());
    let signed = format!("signing.trusted_keys={public}");
    let runs = [
        (
            "unsigned allowed, no cache",
            "signing.allow_unsigned=true".to_string(),
            "storage.cache_dir=".to_string(),
            &store,
        ),
        (
            "signatures checked, first run (empty cache)",
            signed.clone(),
            cache_dir.clone(),
            &store,
        ),
        (
            "signatures checked, steady state (cache of the run before)",
            signed.clone(),
            cache_dir.clone(),
            &store,
        ),
        (
            "signatures checked, steady state, list_page_size = 100000",
            signed,
            cache_dir,
            &big_pages,
        ),
    ];
    for (what, set, cache_set, store) in runs {
        let config = graphvault::config::load(
            None,
            Vec::new(),
            &["storage.url=s3://unused".to_string(), set, cache_set],
        )?;
        let (lists, gets, heads) = (plan.calls(Op::List), plan.calls(Op::Get), plan.calls(Op::Head));
        let t = Instant::now();
        let report = prune(store.clone(), &config, &request).await?;
        println!(
            "prune plan (dry run), {what}: {} backups, {} to keep ({} only as parents), {} to delete, {} untrusted, in {:.2} s with {} LIST, {} GET, {} HEAD requests",
            report.plan.backups.len(),
            report.plan.kept_count(),
            report.plan.backups.iter().filter(|b| b.action == "keep" && b.reasons.iter().all(|r| r.starts_with("parent of"))).count(),
            report.plan.to_delete().count(),
            report.plan.backups.iter().filter(|b| b.action == "untrusted").count(),
            t.elapsed().as_secs_f64(),
            plan.calls(Op::List) - lists,
            plan.calls(Op::Get) - gets,
            plan.calls(Op::Head) - heads
        );
    }
    Ok(())
}
