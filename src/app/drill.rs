//! `graphvault drill` and `graphvault drill history`.

use std::sync::Arc;

use crate::cli::{Cli, DrillArgs, DrillCommand};
use crate::neo4j::ProcessAdmin;
use crate::ops::backup_run::StatvfsFreeSpace;
use crate::ops::drill::{self, DrillContext, DrillReport, DrillRequest};
use crate::ops::OpsError;
use crate::pipeline::{Identities, KeyError};

use super::{catalog_for, hostname, load_config, print, print_report, store_for};

pub(super) async fn drill(cli: &Cli, args: &DrillArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let store = store_for(&config).await?;
    if let Some(DrillCommand::History { json }) = &args.history {
        let reports = drill::history(store.as_ref()).await?;
        return print(&history_text(&reports, *json)?);
    }
    let identity = config.identity_file.clone().ok_or(KeyError::NoIdentity)?;
    let identities = Arc::new(Identities::from_file(&identity)?);
    let catalog = catalog_for(&config)?;
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = DrillContext {
        store: store.clone(),
        config: &config,
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
        write("json", serde_json::to_string_pretty(&report)?)?;
    }
    if let Some(path) = &args.metrics_file {
        if let Err(e) = write_metrics(path, &report) {
            tracing::error!(error = %e, "drill metrics not written");
        }
    }
    notify(&config, &report).await;
    if args.json {
        print(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
    } else {
        print_report(cli, report.failed() == 0, &report.markdown())?;
    }
    let failed = report.failed();
    if failed > 0 {
        return Err(OpsError::DrillFailed {
            failed,
            total: report.results.len(),
        }
        .into());
    }
    Ok(())
}

fn history_text(reports: &[DrillReport], json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(reports)?));
    }
    let mut out = String::from("STARTED (UTC)        HOST             ALIASES  FAILED  MAX RECOVERY (s)\n");
    for r in reports {
        let max = r.results.iter().map(|x| x.recovery_seconds).fold(0.0, f64::max);
        out.push_str(&format!(
            "{}  {:<15}  {:>7}  {:>6}  {:>16.1}\n",
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.host,
            r.results.len(),
            r.failed(),
            max
        ));
    }
    out.push_str(&format!("{} drill(s)\n", reports.len()));
    Ok(out)
}

/// Prometheus textfile metrics of the drill (replaced atomically).
fn write_metrics(path: &std::path::Path, r: &DrillReport) -> std::io::Result<()> {
    let mut text = String::from(
        "# HELP graphvault_drill_success 1 if the alias's last drill passed.\n# TYPE graphvault_drill_success gauge\n",
    );
    for x in &r.results {
        text.push_str(&format!(
            "graphvault_drill_success{{alias=\"{}\"}} {}\n",
            x.alias,
            u8::from(x.passed)
        ));
    }
    text.push_str("# HELP graphvault_drill_recovery_seconds Measured recovery time of the last drill.\n# TYPE graphvault_drill_recovery_seconds gauge\n");
    for x in &r.results {
        text.push_str(&format!(
            "graphvault_drill_recovery_seconds{{alias=\"{}\"}} {:.3}\n",
            x.alias, x.recovery_seconds
        ));
    }
    text.push_str(&format!(
        "# HELP graphvault_drill_timestamp_seconds When the last drill ended.\n# TYPE graphvault_drill_timestamp_seconds gauge\ngraphvault_drill_timestamp_seconds {}\n",
        r.finished_at.timestamp()
    ));
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".graphvault-drill").tempfile_in(dir)?;
    std::fs::write(tmp.path(), text)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

async fn notify(config: &crate::config::Config, r: &DrillReport) {
    if !crate::notify::wanted(&config.notify, r.failed() == 0) {
        return;
    }
    let mut payload = serde_json::to_value(r).unwrap_or_default();
    payload["event"] = "drill".into();
    payload["outcome"] = if r.failed() == 0 { "ok" } else { "failed" }.into();
    if let Err(e) = crate::notify::send(&config.notify, &payload).await {
        tracing::error!(error = %e, "webhook notification not delivered");
    }
}
