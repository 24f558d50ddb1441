//! Retention invariants over random histories, with real prunes on real
//! stores: random mixes of full and differential chains, labels and pins,
//! several aliases, clock-skewed backups (dated after "now"), and backups
//! whose data object was deleted or truncated, under random policies.
//! After prune:
//! - every backup prune keeps verifies (as stored, and decrypted with the
//!   identity) and its whole chain restores into a directory;
//! - pinned and pre-deploy backups are never deleted;
//! - the newest restorable backup of each alias (dated at or before now) is
//!   kept, and no backup that cannot be restored is kept by a rule (an
//!   unrestorable backup retention would delete anyway may go: prune reads
//!   only the manifests of backups it keeps, so it cannot always know);
//! - a second prune deletes nothing and reads no manifest.
//!
//! "Restorable" here is the generator's own ground truth (its data was left
//! intact and so was every parent's), not what prune computed. Many seeds on
//! the filesystem store, a few on LocalStack.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use graphvault::model::{BackupId, BackupManifest, Chain, CompressionInfo, EncryptionInfo, ManifestKey, Neo4jInfo};
use graphvault::ops::progress::ProgressStyle;
use graphvault::ops::prune::{prune, PruneRequest};
use graphvault::ops::verify::{verify, VerifyContext};
use graphvault::ops::{download_verified, list_backups, resolve_chain, BackupFilter};
use graphvault::pipeline::{seal_to_store, SealSettings};
use graphvault::retention::RetentionPolicy;
use graphvault::store::{get_all, ObjectStore, PutMode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Damage {
    None,
    Missing,
    Truncated,
}

/// One generated backup and the generator's truth about it.
#[derive(Clone, Debug)]
struct Planted {
    key: ManifestKey,
    data_key: String,
    damage: Damage,
    parent: Option<usize>,
}

impl Planted {
    fn pinned(&self) -> bool {
        self.key.labels.iter().any(|l| l.is_pinning())
    }
}

fn random_policy(rng: &mut StdRng) -> RetentionPolicy {
    let mut p = RetentionPolicy {
        keep_last: rng.gen_range(0..4),
        keep_daily: rng.gen_range(0..9),
        keep_weekly: rng.gen_range(0..5),
        keep_monthly: rng.gen_range(0..13),
        keep_yearly: rng.gen_range(0..2),
        keep_within: match rng.gen_range(0..3) {
            0 => None,
            1 => Some(std::time::Duration::from_secs(86_400 * rng.gen_range(0..30))),
            _ => Some(std::time::Duration::from_secs(rng.gen_range(0..40 * 86_400))),
        },
    };
    if p.keep_last + p.keep_daily + p.keep_weekly + p.keep_monthly + p.keep_yearly == 0 && p.keep_within.is_none() {
        p.keep_last = 1;
    }
    p
}

/// A random history: per alias, backups at random times over about a year
/// (some after `now`), each full or a differential of the alias's previous
/// backup, some pinned, some damaged.
fn history(rng: &mut StdRng, now: DateTime<Utc>) -> Vec<Planted> {
    let mut out: Vec<Planted> = Vec::new();
    for a in 0..rng.gen_range(1..4) {
        let alias = format!("customer{a}");
        let n = rng.gen_range(1..16);
        let mut t = now - Duration::days(rng.gen_range(0..400));
        let mut previous: Option<usize> = None;
        for i in 0..n {
            t += Duration::seconds(rng.gen_range(600..20 * 86_400));
            if i == n - 1 && rng.gen_bool(0.2) {
                t = now + Duration::seconds(rng.gen_range(1..3 * 86_400)); // a skewed clock
            }
            let id: BackupId = format!("{}-{:06x}", t.format("%Y%m%dT%H%M%SZ"), rng.gen_range(0..0x100_0000))
                .parse()
                .unwrap();
            let parent = previous.filter(|_| rng.gen_bool(0.6));
            let labels = match rng.gen_range(0..12) {
                0 => vec!["pinned".parse().unwrap()],
                1 => vec!["pre-deploy".parse().unwrap()],
                _ => Vec::new(),
            };
            let damage = match rng.gen_range(0..12) {
                0 => Damage::Missing,
                1 => Damage::Truncated,
                _ => Damage::None,
            };
            let key = ManifestKey {
                alias: alias.parse().unwrap(),
                backup_id: id.clone(),
                database: format!("{alias}-1700000000").parse().unwrap(),
                labels,
                chain: Chain::from_parent(parent.map(|p: usize| out[p].key.backup_id.clone())),
            };
            let data_key = format!("data/{alias}/{id}/{alias}-{id}.backup.zst.age");
            out.push(Planted {
                key,
                data_key,
                damage,
                parent,
            });
            previous = Some(out.len() - 1);
        }
    }
    out
}

fn restorable(h: &[Planted], i: usize) -> bool {
    h[i].damage == Damage::None && h[i].parent.is_none_or(|p| restorable(h, p))
}

async fn put(store: &dyn ObjectStore, key: &str, body: Vec<u8>) {
    let sha: [u8; 32] = Sha256::digest(&body).into();
    store.put(key, body.into(), sha, PutMode::Overwrite).await.unwrap();
}

/// Writes the history: one real sealed artifact, copied under every data
/// key, and a signed manifest per backup; then the damage.
async fn plant(store: &Arc<dyn ObjectStore>, key: &common::TestKey, h: &[Planted]) {
    let dir = tempfile::tempdir().unwrap();
    let artifact = common::write_artifact(dir.path(), "template", &common::compressible_bytes(8 << 10, 7));
    let template = "template/artifact.zst.age";
    let sealed = seal_to_store(
        store.clone(),
        &artifact,
        template,
        key.recipients(),
        &SealSettings::default(),
        None,
    )
    .await
    .unwrap();
    let bytes = get_all(store.as_ref(), template).await.unwrap().to_vec();
    store.delete(template).await.unwrap();
    let signer = graphvault::signing::SigningKey::from_file(&common::signing().key_file).unwrap();
    for p in h {
        let name = p.data_key.rsplit('/').next().unwrap().trim_end_matches(".zst.age");
        let manifest = BackupManifest {
            format: graphvault::model::MANIFEST_FORMAT.into(),
            version: graphvault::model::MANIFEST_VERSION,
            backup_id: p.key.backup_id.clone(),
            alias: p.key.alias.clone(),
            database: p.key.database.clone(),
            labels: p.key.labels.clone(),
            started_at: p.key.backup_id.time(),
            finished_at: p.key.backup_id.time(),
            graphvault_version: "test".into(),
            compression: CompressionInfo {
                algorithm: "zstd".into(),
                level: 3,
            },
            encryption: EncryptionInfo {
                scheme: "age".into(),
                recipients: vec![key.recipient.clone()],
            },
            neo4j: Some(Neo4jInfo {
                backup_type: Some(if p.parent.is_some() { "DIFF" } else { "FULL" }.into()),
                parent: p.parent.map(|i| h[i].key.backup_id.to_string()),
                ..Neo4jInfo::default()
            }),
            artifacts: vec![sealed.to_record(name, &p.data_key)],
        };
        assert_eq!(manifest.key(), p.key);
        let text = p.key.to_string();
        let body = manifest.to_json();
        put(
            store.as_ref(),
            &format!("{text}.minisig"),
            signer.sign_manifest(&text, &body).unwrap().into_bytes(),
        )
        .await;
        put(store.as_ref(), &text, body).await;
        match p.damage {
            Damage::None => put(store.as_ref(), &p.data_key, bytes.clone()).await,
            Damage::Truncated => put(store.as_ref(), &p.data_key, bytes[..bytes.len() / 2].to_vec()).await,
            Damage::Missing => {}
        }
    }
}

async fn check_seed(store: Arc<dyn ObjectStore>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let h = history(&mut rng, now);
    let key = common::TestKey::new();
    plant(&store, &key, &h).await;

    let cache = tempfile::tempdir().unwrap();
    let mut sets = vec![
        "storage.url=s3://unused".to_string(),
        format!("storage.cache_dir={}", cache.path().display()),
    ];
    sets.extend(common::signing_sets());
    let mut config = graphvault::config::load(None, Vec::new(), &sets).unwrap();
    let mut aliases: BTreeSet<String> = h.iter().map(|p| p.key.alias.to_string()).collect();
    config.retention.default = random_policy(&mut rng);
    if let Some(alias) = aliases.pop_first().filter(|_| rng.gen_bool(0.5)) {
        let policy = random_policy(&mut rng);
        config.retention.per_alias.insert(alias, policy);
    }
    let req = PruneRequest {
        database: None,
        dry_run: false,
        now,
        host: "invariants".into(),
    };
    let report = prune(store.clone(), &config, &req).await.unwrap();
    let context = format!(
        "seed {seed}, policy {:?}\n{}",
        config.retention,
        graphvault::ops::prune::render(&report)
    );
    assert!(report.failures.is_empty(), "{context}");

    let left: BTreeSet<String> = list_backups(store.as_ref(), &BackupFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    let mut newest: BTreeMap<String, usize> = BTreeMap::new();
    for (i, p) in h.iter().enumerate() {
        let text = p.key.to_string();
        if p.pinned() {
            assert!(left.contains(&text), "pinned {text} deleted: {context}");
        }
        if restorable(&h, i) && p.key.backup_id.time() <= now {
            let entry = newest.entry(p.key.alias.to_string()).or_insert(i);
            if h[*entry].key.backup_id < p.key.backup_id {
                *entry = i;
            }
        }
    }
    for i in newest.values() {
        let text = h[*i].key.to_string();
        assert!(left.contains(&text), "the newest restorable {text} deleted: {context}");
    }

    // Every kept backup is restorable by the generator's truth, verifies and restores.
    let trust = config.signing.trust().unwrap();
    let kept: Vec<ManifestKey> = report
        .plan
        .backups
        .iter()
        .filter(|b| b.action == "keep")
        .map(|b| ManifestKey::parse(&b.manifest_key).unwrap())
        .collect();
    let by_key: BTreeMap<String, usize> = h.iter().enumerate().map(|(i, p)| (p.key.to_string(), i)).collect();
    for k in &kept {
        assert!(
            restorable(&h, by_key[&k.to_string()]),
            "kept {k} cannot be restored: {context}"
        );
    }
    // As stored (sizes and checksums, no identity), then decrypted.
    for identities in [None, Some(key.identities())] {
        let ctx = VerifyContext {
            store: store.clone(),
            trust: trust.clone(),
            identities,
            deep: None,
        };
        for r in verify(&ctx, &kept).await {
            assert!(
                r.problem.is_none() && r.objects.iter().all(|o| o.problem.is_none()),
                "{r:?}: {context}"
            );
        }
    }
    for k in &kept {
        let chain = resolve_chain(store.as_ref(), &trust, k)
            .await
            .unwrap_or_else(|e| panic!("{k}: {e}: {context}"));
        let dir = tempfile::tempdir().unwrap();
        let written = download_verified(store.clone(), key.identities(), &chain, dir.path(), ProgressStyle::Off)
            .await
            .unwrap_or_else(|e| panic!("{k}: {e}: {context}"));
        assert_eq!(written.len(), chain.len());
    }

    let again = prune(store.clone(), &config, &req).await.unwrap();
    assert_eq!(
        again.deleted_backups,
        0,
        "a second prune deleted more: {context}\nsecond:\n{}",
        graphvault::ops::prune::render(&again)
    );
    assert_eq!(again.manifests_read, 0, "the second prune read manifests: {context}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_on_the_filesystem_store() {
    for seed in 0..40 {
        let (store, _dir) = common::fs_store();
        check_seed(store, seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_on_localstack() {
    for seed in 1000..1003 {
        check_seed(common::s3_store().await, seed).await;
    }
}
