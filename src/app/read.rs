//! The commands that read backups: `list`, `stats`, `restore`, `verify`,
//! `prune`, `doctor`, `lifecycle suggest`.

use std::sync::Arc;

use crate::cli::{Cli, DoctorArgs, ListArgs, PruneArgs, ReportArgs, RestoreArgs, StatsArgs, VerifyArgs};
use crate::config::{Config, ConfigError};
use crate::json::{self, JsonDocument, Outcome, WithOutcome};
use crate::model::DbName;
use crate::neo4j::cypher_names::database_name;
use crate::neo4j::ProcessAdmin;
use crate::notify::Notification;
use crate::ops::annotated::annotate;
use crate::ops::backup_run::StatvfsFreeSpace;
use crate::ops::interrupt::until_interrupted;
use crate::ops::known_names::NameKind;
use crate::ops::repository::Parent;
use crate::ops::{self, BackupFilter, CatalogListing, ListFormat, OpsError, Pick};
use crate::pipeline::{Identities, KeyError};
use crate::store::ObjectStore;

use super::{catalog_for, hostname, load_config, parent_store_for, print, print_report, progress_style, store_for};

pub(super) async fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let filter = BackupFilter {
        database: args.database.as_deref().map(str::parse).transpose()?,
    };
    let query = ops::ListQuery {
        alias: args.alias.as_deref().map(str::parse).transpose()?,
        labels: args.labels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?,
        since: args
            .since
            .as_deref()
            .map(|t| parse_time("--since", t, false))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| parse_time("--until", t, true))
            .transpose()?,
    };
    let store = store_for(&config).await?;
    let listing = checked_listing(&config, store.as_ref(), &filter, query.alias.as_ref()).await?;
    if listing.names.is_empty() && !args.json {
        return print(&no_backups_yet(store.as_ref()));
    }
    let allow = config.signing.allow_unsigned;
    let shown = if args.no_sizes {
        ops::annotated::unread(&listing, |k| query.matches(k))
    } else {
        annotate(store.as_ref(), &listing, |k| query.matches(k), &config.monitor, allow).await
    };
    let format = if args.json { ListFormat::Json } else { ListFormat::Table };
    print(&ops::render_list(&shown, format))
}

/// The config, the store and the checked catalog of `--database NAME` (or
/// of every alias), for `stats` and `report`.
async fn catalog_of(
    cli: &Cli,
    database: Option<&str>,
) -> anyhow::Result<(Config, Arc<dyn ObjectStore>, CatalogListing)> {
    let config = load_config(cli)?;
    let filter = BackupFilter {
        database: database.map(str::parse).transpose()?,
    };
    let store = store_for(&config).await?;
    let listing = checked_listing(&config, store.as_ref(), &filter, None).await?;
    Ok((config, store, listing))
}

pub(super) async fn stats(cli: &Cli, args: &StatsArgs) -> anyhow::Result<()> {
    let (config, store, listing) = catalog_of(cli, args.database.as_deref()).await?;
    if listing.names.is_empty() && !args.json {
        return print(&no_backups_yet(store.as_ref()));
    }
    let allow = config.signing.allow_unsigned;
    let all = annotate(store.as_ref(), &listing, |_| true, &config.monitor, allow).await;
    let format = if args.json { ListFormat::Json } else { ListFormat::Table };
    print(&ops::render_stats(&all, format))
}

pub(super) async fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<()> {
    let (config, store, listing) = catalog_of(cli, args.database.as_deref()).await?;
    let page = ops::report::html_report(store.as_ref(), &listing, &config).await?;
    ops::report::write_page(&args.html, &page)?;
    print(&format!("report written to {}\n", args.html.display()))
}

/// The catalog `list` and `stats` show. A name given as a filter must have
/// backups (exit 7 naming those that do, as restore, verify and prune
/// refuse it); a storage URL with no backup must not be a mistyped prefix
/// next to a repository (`ops::repository`).
async fn checked_listing(
    config: &Config,
    store: &dyn ObjectStore,
    filter: &BackupFilter,
    alias: Option<&DbName>,
) -> anyhow::Result<CatalogListing> {
    let listing = ops::list_with_signatures(store, filter).await?;
    if listing.names.is_empty() {
        let parent = parent_store_for(config).await;
        let parent = parent.as_ref().map(|(store, name)| Parent {
            store: store.as_ref(),
            name,
        });
        ops::repository::require_repository(store, parent).await?;
    }
    let location = store.location();
    if let Some(db) = &filter.database {
        listing
            .names
            .require(NameKind::AliasOrDatabase, db.as_str(), &location)?;
    }
    if let Some(alias) = alias {
        listing.names.require(NameKind::Alias, alias.as_str(), &location)?;
    }
    Ok(listing)
}

/// What `list` and `stats` print for a repository without backups.
fn no_backups_yet(store: &dyn ObjectStore) -> String {
    format!(
        "no backups yet in {} (`graphvault backup` makes the first; check storage.url if there should be some)\n",
        store.location()
    )
}

pub(super) async fn restore(cli: &Cli, args: &RestoreArgs) -> anyhow::Result<()> {
    use crate::ops::restore_db::{self, RestoreContext, RestoreDbRequest};
    let config = load_config(cli)?;
    let identity_file = args
        .identity
        .clone()
        .or(config.identity_file.clone())
        .ok_or(KeyError::NoIdentity)?;
    let identities = Arc::new(Identities::from_file(&identity_file)?);
    let database = args.database.as_deref().map(str::parse::<DbName>).transpose()?;
    let pick = match (&args.backup, &args.at) {
        (Some(id), _) => Pick::Id(id.clone()),
        (None, Some(t)) => Pick::At(parse_time("--at", t, true)?),
        (None, None) => Pick::Latest,
    };
    if database.is_none() && !matches!(pick, Pick::Id(_)) {
        anyhow::bail!(ConfigError::Invalid {
            key: "--database",
            message: "name the alias (or database) to restore, or a backup with --backup ID".into(),
        });
    }
    let wait_for_archive = args
        .wait_for_archive
        .then(|| std::time::Duration::from_secs(args.archive_timeout));
    let store = store_for(&config).await?;
    let trust = config.signing.trust()?;
    let key = ops::pick_backup(store.as_ref(), &trust, database.as_ref(), &pick).await?;
    if let Some(dir) = &args.to_dir {
        let progress = progress_style(cli, &config);
        let written = ops::restore_to_dir(store, identities, &trust, &key, dir, wait_for_archive, progress).await?;
        if args.json {
            let body = serde_json::json!({
                "outcome": Outcome::Ok,
                "backup_id": key.backup_id.as_str(),
                "alias": key.alias.as_str(),
                "database": key.database.as_str(),
                "directory": dir,
                "files": written,
            });
            return print(&json::document(JsonDocument::RestoreToDir, &body)?);
        }
        let mut out = String::new();
        for path in written {
            out.push_str(&format!("{}\n", path.display()));
        }
        return print(&out);
    }
    let target = args.target.as_deref().map(database_name).transpose()?;
    let catalog = catalog_for(&config)?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = RestoreContext {
        store,
        config: &config,
        identities,
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        progress: progress_style(cli, &config),
        host: hostname(),
    };
    let req = RestoreDbRequest {
        database: database.unwrap_or_else(|| key.alias.clone()),
        pick: Pick::Id(key.backup_id.to_string()),
        target,
        switch_alias: args.switch_alias,
        overwrite_destination: args.overwrite_destination,
        wait_for_archive,
    };
    let grace = config.neo4j.admin.stop_grace;
    let outcome = until_interrupted("restore", grace, restore_db::restore_db(&ctx, &req)).await?;
    if args.json {
        let body = WithOutcome {
            outcome: Outcome::Ok,
            body: &outcome,
        };
        print(&json::document(JsonDocument::Restore, &body)?)
    } else {
        print(&restore_db::render(&outcome))
    }
}

/// `2026-11-24T02:00:00Z`, `2026-11-24 02:00:00` (UTC) or `2026-11-24`.
/// A time on the command line; a bare date means its end (`end_of_day`) or its start.
fn parse_time(key: &'static str, text: &str, end_of_day: bool) -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    let t = text.trim();
    let parsed = chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|n| Utc.from_utc_datetime(&n))
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| {
                    if end_of_day {
                        d.and_hms_opt(23, 59, 59)
                    } else {
                        d.and_hms_opt(0, 0, 0)
                    }
                })
                .map(|n| Utc.from_utc_datetime(&n))
        });
    parsed.ok_or_else(|| ConfigError::Invalid {
        key,
        message: format!("'{t}' is not a time: use 2026-11-24T02:00:00Z, '2026-11-24 02:00:00' (UTC) or 2026-11-24"),
    })
}

pub(super) async fn verify(cli: &Cli, args: &VerifyArgs) -> anyhow::Result<()> {
    use crate::monitor::run_metrics::{Job, JobRun};
    let config = load_config(cli)?;
    let outcome = verify_run(cli, &config, args).await;
    let (run, note) = match &outcome {
        Ok(results) => {
            let failed = results.iter().filter(|r| !r.ok()).count();
            let doc = json::value(JsonDocument::Verify, &ops::verify::json_body(results))?;
            let outcome = json::Outcome::of_counts(failed, results.len());
            (
                ops::verify::job_run(results),
                Notification::new("verify", outcome, hostname(), doc),
            )
        }
        Err(e) => (
            JobRun::failed_early(Job::Verify),
            Notification::not_started("verify", hostname(), format!("{e:#}")),
        ),
    };
    ops::announce::announce(&config, args.metrics_file.as_deref(), &run, note).await;
    let results = outcome?;
    let failed = results.iter().filter(|r| !r.ok()).count();
    if failed > 0 {
        return Err(OpsError::VerifyFailed {
            failed,
            total: results.len(),
        }
        .into());
    }
    Ok(())
}

/// Selects and verifies, and prints the results.
async fn verify_run(
    cli: &Cli,
    config: &crate::config::Config,
    args: &VerifyArgs,
) -> anyhow::Result<Vec<ops::verify::BackupResult>> {
    use crate::ops::verify::{self, VerifyContext, Which};
    let database = args.database.as_deref().map(str::parse::<DbName>).transpose()?;
    let which = match (&args.backup, args.all) {
        (Some(id), _) => Which::Id(id.clone()),
        (None, true) => Which::All,
        (None, false) => Which::Latest,
    };
    let identity_file = args.identity.clone().or(config.identity_file.clone());
    let identities = match &identity_file {
        Some(f) => Some(Arc::new(Identities::from_file(f)?)),
        None if args.deep => return Err(KeyError::NoIdentity.into()),
        None => None,
    };
    let store = store_for(config).await?;
    let trust = config.signing.trust()?;
    let selected = verify::select(store.as_ref(), &trust, database.as_ref(), &which).await?;
    if selected.keys.is_empty() && selected.unusable.is_empty() {
        return Err(OpsError::BackupNotFound {
            what: "to verify".into(),
            location: store.location(),
        }
        .into());
    }
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = VerifyContext {
        store,
        identities,
        trust,
        deep: args.deep.then(|| {
            (
                &admin as &dyn crate::neo4j::Neo4jAdmin,
                config.backup.staging_dir.clone(),
            )
        }),
    };
    let grace = config.neo4j.admin.stop_grace;
    let verifying = async { Ok::<_, OpsError>(verify::verify(&ctx, &selected.keys).await) };
    let mut results = until_interrupted("verify", grace, verifying).await?;
    results.extend(selected.unusable);
    // For `doctor`'s "last verify passed"; a host whose role may not write
    // reports/ still verifies.
    let record = ops::verify_record::VerifyRun::new(&results, &hostname(), chrono::Utc::now());
    if let Err(e) = ops::verify_record::store_verify_run(ctx.store.as_ref(), &record).await {
        tracing::warn!(error = %e, "the verify result was not recorded in the bucket; doctor will not see it");
    }
    if args.json {
        print(&json::document(JsonDocument::Verify, &verify::json_body(&results))?)?;
    } else {
        let failed = results.iter().filter(|r| !r.ok()).count();
        print_report(cli, failed == 0, &verify::render(&results))?;
    }
    Ok(results)
}

pub(super) async fn prune(cli: &Cli, args: &PruneArgs) -> anyhow::Result<()> {
    use crate::ops::prune::{self, PruneRequest};
    let config = load_config(cli)?;
    let req = PruneRequest {
        database: args.database.as_deref().map(str::parse::<DbName>).transpose()?,
        dry_run: args.dry_run,
        now: match &args.now {
            Some(t) => parse_time("--now", t, true)?,
            None => chrono::Utc::now(),
        },
        host: hostname(),
    };
    let store = store_for(&config).await;
    let report = match store {
        Ok(store) => prune::prune(store, &config, &req).await.map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    let (run, note) = match &report {
        Ok(r) => {
            let body = WithOutcome {
                outcome: r.outcome(),
                body: r,
            };
            let doc = json::value(JsonDocument::Prune, &body)?;
            (
                prune::job_run(r),
                Notification::new("prune", r.outcome(), hostname(), doc),
            )
        }
        Err(e) => (
            crate::monitor::run_metrics::JobRun::failed_early(crate::monitor::run_metrics::Job::Prune),
            Notification::not_started("prune", hostname(), format!("{e:#}")),
        ),
    };
    ops::announce::announce(&config, args.metrics_file.as_deref(), &run, note).await;
    let report = report?;
    if args.json {
        let body = WithOutcome {
            outcome: report.outcome(),
            body: &report,
        };
        print(&json::document(JsonDocument::Prune, &body)?)?;
    } else {
        print_report(cli, report.failures.is_empty(), &prune::render(&report))?;
    }
    if !report.failures.is_empty() {
        return Err(OpsError::PruneIncomplete {
            failed: report.failures.len(),
        }
        .into());
    }
    Ok(())
}

pub(super) async fn doctor(cli: &Cli, args: &DoctorArgs) -> anyhow::Result<()> {
    use crate::ops::doctor::{self, finding, DoctorContext, Severity};
    let config = load_config(cli)?;
    let store = store_for(&config).await?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let catalog = if args.no_neo4j {
        None
    } else {
        Some(catalog_for(&config))
    };
    let mut findings = Vec::new();
    let catalog = match catalog {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            findings.push(finding("bolt", Severity::Error, format!("{e:#}"), None));
            None
        }
        None => None,
    };
    let ctx = DoctorContext {
        store,
        config: &config,
        catalog: catalog.as_ref().map(|c| c as &dyn crate::neo4j::Neo4jCatalog),
        admin: (!args.no_neo4j).then_some(&admin as &dyn crate::neo4j::Neo4jAdmin),
        free_space: &StatvfsFreeSpace,
        max_backup_age: chrono::Duration::hours(args.max_age_hours.into()),
    };
    findings.extend(doctor::doctor(&ctx).await);
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    if args.json {
        let body = serde_json::json!({
            "outcome": if errors == 0 { Outcome::Ok } else { Outcome::Failed },
            "findings": findings,
        });
        print(&json::document(JsonDocument::Doctor, &body)?)?;
    } else {
        print(&doctor::render(&findings))?;
    }
    if errors > 0 {
        return Err(OpsError::Unhealthy { errors }.into());
    }
    Ok(())
}

pub(super) async fn lifecycle_suggest(cli: &Cli, json_only: bool) -> anyhow::Result<()> {
    use crate::ops::bucket_settings::{Known, Setting};
    use crate::retention::tier;
    let config = load_config(cli)?;
    let store = store_for(&config).await?;
    // Whether to expire noncurrent versions depends on it: never guessed.
    let versioned = Known::read(store.as_ref(), Setting::Versioning, &config.stated_bucket)
        .await
        .usable(Setting::Versioning)
        .map_err(|unread| OpsError::ProtectionUnknown {
            location: store.location(),
            consequence: "no lifecycle rules were suggested (expiring noncurrent versions depends on versioning)",
            unread: vec![unread],
        })?;
    if !config.retention.per_alias.is_empty() {
        tracing::warn!(
            "per-alias retention policies cannot be expressed by tag rules; the suggestion uses [retention]"
        );
    }
    let rules = tier::suggest(&config.retention.default, &store.bucket_prefix(), versioned);
    let text = serde_json::to_string_pretty(&rules)?;
    if json_only {
        return print(&json::document(JsonDocument::LifecycleSuggest, &rules)?);
    }
    print(&format!(
        "# S3 lifecycle rules implementing the retention policy server-side.\n\
         # graphvault tags each backup's objects {}=daily (or pinned); prune raises the tag\n\
         # to weekly/monthly/yearly for the backups that rule keeps. Pinned and pre-deploy\n\
         # backups have no expiration. Apply with:\n\
         #   aws s3api put-bucket-lifecycle-configuration --bucket BUCKET --lifecycle-configuration file://rules.json\n\
         # Trade-off: S3 does not know the newest backup of an alias; if backups stop for longer\n\
         # than the daily tier lives, those expire too. `graphvault doctor` flags stale backups first.\n\
         {text}\n",
        tier::TIER_TAG
    ))
}
