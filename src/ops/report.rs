//! `graphvault report --html FILE`: reads what the page needs (every
//! trusted manifest, judged against its alias's history, and the drill
//! reports in the bucket) and hands it to the renderer
//! (`src/monitor/html.rs`). Unsigned backups are left out, as from
//! "latest": a forged manifest must not draw a normal-looking line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::Config;
use crate::monitor::html::{self, AliasReport, BackupPoint, DrillPoint};
use crate::monitor::SampleKind;
use crate::store::ObjectStore;

use super::annotated::annotate;
use super::catalog::CatalogListing;
use super::OpsError;

/// The page for every alias of `listing`, generated now.
pub async fn html_report(
    store: &dyn ObjectStore,
    listing: &CatalogListing,
    config: &Config,
) -> Result<String, OpsError> {
    let allow = config.signing.allow_unsigned;
    let backups = annotate(store, listing, |_| true, &config.monitor, allow).await;
    let mut by_alias: BTreeMap<String, AliasReport> = BTreeMap::new();
    for b in backups.iter().filter(|b| b.signed || allow) {
        let Some(sample) = &b.sample else { continue };
        let entry = by_alias.entry(b.key.alias.to_string()).or_insert_with(|| AliasReport {
            alias: b.key.alias.to_string(),
            ..AliasReport::default()
        });
        entry.backups.push(BackupPoint {
            at: b.key.backup_id.time(),
            plain: sample.plain,
            stored: sample.stored,
            seconds: sample.seconds,
            full: sample.kind == SampleKind::Full,
            anomalies: b
                .judgement
                .as_ref()
                .map(|j| j.anomalies().iter().map(|a| a.kind.as_str().to_string()).collect())
                .unwrap_or_default(),
        });
    }
    for drill in super::drill::history(store).await? {
        for r in drill.results {
            if let Some(a) = by_alias.get_mut(&r.alias) {
                a.drills.push(DrillPoint {
                    at: drill.started_at,
                    recovery_seconds: r.recovery_seconds.max(0.0),
                    passed: r.passed,
                });
            }
        }
    }
    let mut aliases: Vec<AliasReport> = by_alias.into_values().collect();
    for a in &mut aliases {
        a.backups.sort_by_key(|b| b.at);
        a.drills.sort_by_key(|d| d.at);
    }
    let title = format!("graphvault report — {}", store.location());
    Ok(html::render(&title, chrono::Utc::now(), &aliases))
}

/// Writes the page to `path`, replacing it whole (a reader never sees half
/// a page). Mode 0644: it holds names, sizes and times, no secret.
pub fn write_page(path: &Path, page: &str) -> Result<(), OpsError> {
    crate::monitor::textfile::write(path, page).map_err(|e| OpsError::local_io("cannot write the report", path, e))
}
