//! `graphvault verify`: prove backups are intact, at three depths.
//!
//! - **stored** (no identity, e.g. on the backup host): every object exists
//!   and streams with the size and SHA-256 the manifest records;
//! - **plain** (with an identity): each object is also decrypted and
//!   decompressed in the stream and the artifact's size and SHA-256 checked;
//!   nothing is written;
//! - **deep**: the chain is restored into a scratch folder in staging and
//!   neo4j-admin inspects and checks it (`backup inspect`, `database check`);
//!   the folder is removed afterwards.
//!
//! Every backup is reported, with the object and what differed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::json::Outcome;

use crate::model::{BackupManifest, DbName, ManifestKey};
use crate::neo4j::Neo4jAdmin;
use crate::pipeline::{check_stored, open_from_store, Identities};
use crate::store::ObjectStore;

use super::catalog::{find_backup, list_with_signatures, read_manifest, BackupFilter};
use super::chain::{chain_from, resolve_chain};
use super::known_names::NameKind;
use super::latest::newest_usable;
use super::progress::ProgressStyle;
use super::restore_to_dir::download_verified;
use super::OpsError;
use crate::signing::ManifestTrust;

/// Which backups to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Which {
    Id(String),
    /// The newest backup of each alias (or of `--database`).
    Latest,
    All,
}

/// What verify works with.
pub struct VerifyContext<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub identities: Option<Arc<Identities>>,
    /// Which manifests are trusted (`[signing]`).
    pub trust: ManifestTrust,
    /// For `--deep`: neo4j-admin and a staging directory for the scratch copy.
    pub deep: Option<(&'a dyn Neo4jAdmin, PathBuf)>,
}

/// One object's result.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectResult {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One backup's result.
#[derive(Clone, Debug, Serialize)]
pub struct BackupResult {
    pub backup_id: String,
    pub alias: String,
    pub database: String,
    /// `stored`, `plain` or `deep`.
    pub depth: &'static str,
    pub objects: Vec<ObjectResult>,
    /// A problem with the backup as a whole (manifest, chain, neo4j-admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub seconds: f64,
}

impl BackupResult {
    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.objects.iter().all(|o| o.problem.is_none())
    }
}

/// What `select` chose.
#[derive(Debug, Default)]
pub struct Selected {
    /// The backups to verify, oldest first.
    pub keys: Vec<ManifestKey>,
    /// `--latest`: a failed result for each alias whose every backup was
    /// skipped (none trusted and complete).
    pub unusable: Vec<BackupResult>,
}

/// The backups `which` names. `--latest` means the newest trusted, complete
/// backup of each alias (`latest.rs`: the newer ones are skipped with a
/// warning; `--all` or `--backup ID` verify them).
pub async fn select(
    store: &dyn ObjectStore,
    trust: &ManifestTrust,
    database: Option<&DbName>,
    which: &Which,
) -> Result<Selected, OpsError> {
    let mut out = Selected::default();
    if let Which::Id(id) = which {
        out.keys.push(find_backup(store, id).await?);
        return Ok(out);
    }
    let filter = BackupFilter {
        database: database.cloned(),
    };
    let listing = list_with_signatures(store, &filter).await?;
    if let Some(db) = database {
        listing
            .names
            .require(NameKind::AliasOrDatabase, db.as_str(), &store.location())?;
    }
    if *which == Which::All {
        out.keys = listing.keys;
        return Ok(out);
    }
    let mut by_alias: std::collections::BTreeMap<&DbName, Vec<ManifestKey>> = Default::default();
    for k in &listing.keys {
        by_alias.entry(&k.alias).or_default().push(k.clone());
    }
    let signed = listing.signed_keys();
    for (alias, keys) in by_alias {
        match newest_usable(store, trust, &keys, &signed).await? {
            (Some(key), _) => out.keys.push(key),
            (None, skipped) => {
                let Some(newest) = skipped.first() else { continue };
                out.unusable.push(BackupResult {
                    backup_id: newest.key.backup_id.to_string(),
                    alias: alias.to_string(),
                    database: newest.key.database.to_string(),
                    depth: "stored",
                    objects: Vec::new(),
                    problem: Some(format!(
                        "no trusted, complete backup of {alias}: {} skipped, the newest because {}",
                        skipped.len(),
                        newest.reason
                    )),
                    seconds: 0.0,
                });
            }
        }
    }
    out.keys
        .sort_by(|a, b| (&a.backup_id, &a.alias).cmp(&(&b.backup_id, &b.alias)));
    Ok(out)
}

async fn check_objects(ctx: &VerifyContext<'_>, manifest: &BackupManifest) -> Vec<ObjectResult> {
    let mut out = Vec::new();
    for record in &manifest.artifacts {
        let result = match &ctx.identities {
            None => check_stored(ctx.store.as_ref(), record).await,
            Some(ids) => {
                open_from_store(
                    ctx.store.clone(),
                    record,
                    &manifest.encryption.recipients,
                    ids.clone(),
                    std::io::sink(),
                )
                .await
            }
        };
        out.push(ObjectResult {
            key: record.key.clone(),
            problem: result.err().map(|e| e.to_string()),
        });
    }
    out
}

/// Restores the chain into a scratch folder and lets neo4j-admin judge it.
async fn deep_check(
    ctx: &VerifyContext<'_>,
    admin: &dyn Neo4jAdmin,
    staging: &std::path::Path,
    key: &ManifestKey,
) -> Result<(), String> {
    let ids = ctx
        .identities
        .clone()
        .ok_or("--deep needs an identity (the artifacts must be decrypted)")?;
    let chain = resolve_chain(ctx.store.as_ref(), &ctx.trust, key)
        .await
        .map_err(|e| e.to_string())?;
    let dir = staging.join(format!("verify-{}", key.backup_id));
    super::restore_to_dir::check_room(&super::backup_run::StatvfsFreeSpace, &dir, key, &chain)
        .map_err(|e| e.to_string())?;
    let result = async {
        let written = download_verified(ctx.store.clone(), ids, &chain, &dir, ProgressStyle::Off)
            .await
            .map_err(|e| e.to_string())?;
        let version = admin.version().await.map_err(|e| e.to_string())?;
        if version.has_inspect() {
            if let Some(newest) = written.last() {
                admin.inspect(newest).await.map_err(|e| e.to_string())?;
            }
        }
        admin.check(&dir, &key.database, &dir).await.map_err(|e| e.to_string())
    }
    .await;
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the scratch copy");
    }
    result
}

/// Verifies each backup in `keys`; never stops at the first problem.
pub async fn verify(ctx: &VerifyContext<'_>, keys: &[ManifestKey]) -> Vec<BackupResult> {
    let depth = match (&ctx.deep, &ctx.identities) {
        (Some(_), _) => "deep",
        (None, Some(_)) => "plain",
        (None, None) => "stored",
    };
    let mut results = Vec::new();
    for key in keys {
        let started = Instant::now();
        let mut r = BackupResult {
            backup_id: key.backup_id.to_string(),
            alias: key.alias.to_string(),
            database: key.database.to_string(),
            depth,
            objects: Vec::new(),
            problem: None,
            seconds: 0.0,
        };
        match read_manifest(ctx.store.as_ref(), &ctx.trust, key).await {
            Err(e) => r.problem = Some(format!("manifest: {e}")),
            Ok(manifest) => {
                r.objects = check_objects(ctx, &manifest).await;
                // A differential backup is only as good as its parents.
                if manifest.neo4j.as_ref().is_some_and(|n| n.parent.is_some()) {
                    if let Err(e) = chain_from(ctx.store.as_ref(), &ctx.trust, key, manifest.clone()).await {
                        r.problem = Some(format!("chain: {e}"));
                    }
                }
                if let (Some((admin, staging)), true) = (&ctx.deep, r.ok()) {
                    r.problem = deep_check(ctx, *admin, staging, key).await.err();
                }
            }
        }
        r.seconds = started.elapsed().as_secs_f64();
        if r.ok() {
            tracing::info!(backup_id = r.backup_id, depth, "backup verified");
        } else {
            let problem = r
                .problem
                .iter()
                .chain(r.objects.iter().filter_map(|o| o.problem.as_ref()))
                .next()
                .cloned()
                .unwrap_or_default();
            tracing::error!(backup_id = r.backup_id, depth, problem, "backup FAILED verification");
        }
        results.push(r);
    }
    results
}

/// One backup in the `graphvault.verify` document.
#[derive(Serialize)]
struct JsonRow<'a> {
    outcome: Outcome,
    #[serde(flatten)]
    result: &'a BackupResult,
}

/// The body of the `graphvault.verify` document (docs/JSON.md): the
/// outcome of the whole verify, and each backup's with its objects.
pub fn json_body(results: &[BackupResult]) -> impl Serialize + '_ {
    let failed = results.iter().filter(|r| !r.ok()).count();
    let backups: Vec<JsonRow> = results
        .iter()
        .map(|r| JsonRow {
            outcome: if r.ok() { Outcome::Ok } else { Outcome::Failed },
            result: r,
        })
        .collect();
    serde_json::json!({
        "outcome": Outcome::of_counts(failed, results.len()),
        "backups": backups,
    })
}

/// The human report: one line per backup, then each problem.
/// The run as its metrics see it: backups by result, and per alias
/// whether every backup verified.
pub fn job_run(results: &[BackupResult]) -> crate::monitor::run_metrics::JobRun {
    use crate::monitor::run_metrics::{AliasRun, Job, JobRun};
    let failed = results.iter().filter(|r| !r.ok()).count();
    let mut aliases: Vec<AliasRun> = Vec::new();
    for r in results {
        match aliases.iter_mut().find(|a| a.alias == r.alias) {
            Some(a) => a.ok &= r.ok(),
            None => aliases.push(AliasRun {
                alias: r.alias.clone(),
                ok: r.ok(),
                recovery_seconds: None,
                unchecked: false,
            }),
        }
    }
    JobRun {
        job: Job::Verify,
        ok: failed == 0,
        counted: "backups",
        counts: vec![("ok", results.len() - failed), ("failed", failed)],
        aliases,
    }
}

pub fn render(results: &[BackupResult]) -> String {
    let mut out = String::new();
    for r in results {
        out.push_str(&format!(
            "{}  {:<6}  {}  {} / {}  {} object(s)  {:.1} s\n",
            if r.ok() { "ok    " } else { "FAILED" },
            r.depth,
            r.backup_id,
            r.alias,
            r.database,
            r.objects.len(),
            r.seconds
        ));
        if let Some(p) = &r.problem {
            out.push_str(&format!("    {p}\n"));
        }
        for o in r.objects.iter().filter(|o| o.problem.is_some()) {
            out.push_str(&format!(
                "    {}: {}\n",
                o.key,
                o.problem.as_deref().unwrap_or_default()
            ));
        }
    }
    let failed = results.iter().filter(|r| !r.ok()).count();
    out.push_str(&format!(
        "{} of {} backup(s) verified\n",
        results.len() - failed,
        results.len()
    ));
    out
}
