//! `graphvault drill` and `graphvault drill history`.

use std::sync::Arc;

use crate::cli::{Cli, DrillArgs, DrillCommand};
use crate::monitor::run_metrics::{Job, JobRun};
use crate::neo4j::ProcessAdmin;
use crate::notify::Notification;
use crate::ops::backup_run::StatvfsFreeSpace;
use crate::ops::drill::{self, DrillContext, DrillReport, DrillRequest};
use crate::ops::OpsError;
use crate::pipeline::{Identities, KeyError};

use super::{catalog_for, hostname, load_config, print, print_report, store_for};

pub(super) async fn drill(cli: &Cli, args: &DrillArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let store = store_for(&config).await;
    if let Some(DrillCommand::History { json }) = &args.history {
        let reports = drill::history(store?.as_ref()).await?;
        return print(&history_text(&reports, *json)?);
    }
    let outcome = drill_run(&config, args, store).await;
    let (run, note) = match &outcome {
        Ok(report) => (
            report.job_run(),
            Notification::new("drill", report.outcome(), hostname(), report.to_json()),
        ),
        Err(e) => (
            JobRun::failed_early(Job::Drill),
            Notification::not_started("drill", hostname(), format!("{e:#}")),
        ),
    };
    crate::ops::announce::announce(&config, args.metrics_file.as_deref(), &run, note).await;
    let report = outcome?;
    if args.json {
        print(&crate::json::text(&report.to_json()))?;
    } else {
        print_report(cli, report.outcome() == crate::json::Outcome::Ok, &report.markdown())?;
    }
    let (failed, unchecked, total) = (report.failed(), report.unchecked(), report.results.len());
    if failed > 0 {
        return Err(OpsError::DrillFailed { failed, total }.into());
    }
    if unchecked > 0 {
        return Err(OpsError::DrillUnchecked { unchecked, total }.into());
    }
    Ok(())
}

/// Drills what `args` selects, stores the report in the bucket and writes
/// the `--report` files.
async fn drill_run(
    config: &crate::config::Config,
    args: &DrillArgs,
    store: anyhow::Result<Arc<dyn crate::store::ObjectStore>>,
) -> anyhow::Result<DrillReport> {
    let store = store?;
    let identity = config.identity_file.clone().ok_or(KeyError::NoIdentity)?;
    let identities = Arc::new(Identities::from_file(&identity)?);
    let catalog = catalog_for(config)?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = DrillContext {
        store: store.clone(),
        config,
        identities,
        catalog: &catalog,
        admin: &admin,
        free_space: &StatvfsFreeSpace,
        host: hostname(),
    };
    let req = DrillRequest {
        aliases: args.aliases.clone(),
        sample: args.sample,
        random_backup: args.backup == "random",
    };
    let report = drill::drill(&ctx, &req).await?;
    let key = drill::store_report(store.as_ref(), &report).await?;
    tracing::info!(key, "drill report stored in the bucket");
    if let Some(path) = &args.report {
        let write = |ext: &str, text: String| {
            let p = path.with_extension(ext);
            std::fs::write(&p, text).map_err(|e| OpsError::local_io("cannot write the drill report", p, e))
        };
        write("md", report.markdown())?;
        write("json", crate::json::text(&report.to_json()))?;
    }
    Ok(report)
}

fn history_text(reports: &[DrillReport], json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(crate::json::document(
            crate::json::JsonDocument::DrillHistory,
            &drill::history_body(reports),
        )?);
    }
    let mut out = String::from("STARTED (UTC)        HOST             ALIASES  FAILED  UNCHECKED  MAX RECOVERY (s)\n");
    for r in reports {
        let max = r.results.iter().map(|x| x.recovery_seconds).fold(0.0, f64::max);
        out.push_str(&format!(
            "{}  {:<15}  {:>7}  {:>6}  {:>9}  {:>16.1}\n",
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.host,
            r.results.len(),
            r.failed(),
            r.unchecked(),
            max
        ));
    }
    out.push_str(&format!("{} drill(s)\n", reports.len()));
    Ok(out)
}
