//! Alias cutover history in the bucket, so any host can roll back: every
//! switch graphvault makes (`alias switch`, `restore --switch-alias`,
//! `alias rollback`) goes through `switch_and_record`, which writes a small
//! create-only record `aliases/<alias>/<time>-<random>.json` naming the
//! previous and the new target and the pre-deploy backup taken just before.
//! A switch must never happen without its record: rollback reads only them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::DbName;
use crate::neo4j::Neo4jCatalog;
use crate::store::{get_all, ObjectStore};

use super::alias::{alias_switch, AliasSwitch};
use super::OpsError;

const FORMAT: &str = "graphvault-alias-switch";

/// One switch of an alias, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchRecord {
    pub format: String,
    pub version: u32,
    pub alias: String,
    pub previous: Option<String>,
    pub target: String,
    pub at: DateTime<Utc>,
    pub host: String,
    /// `switch`, `restore` (`restore --switch-alias`) or `rollback`.
    pub kind: String,
    /// The pinned pre-deploy backup of `previous` taken before the switch.
    pub backup_id: Option<String>,
}

fn prefix(alias: &str) -> String {
    format!("aliases/{alias}/")
}

fn store_err(store: &dyn ObjectStore) -> impl FnOnce(crate::store::StoreError) -> OpsError {
    let location = store.location();
    move |source| OpsError::Store { location, source }
}

/// Writes the record of a switch (never overwrites one).
pub async fn record_switch(
    store: &dyn ObjectStore,
    s: &AliasSwitch,
    kind: &str,
    host: &str,
    backup_id: Option<String>,
) -> Result<SwitchRecord, OpsError> {
    let rec = SwitchRecord {
        format: FORMAT.into(),
        version: 1,
        alias: s.alias.clone(),
        previous: s.previous.clone(),
        target: s.target.clone(),
        at: Utc::now(),
        host: host.to_string(),
        kind: kind.to_string(),
        backup_id,
    };
    let key = format!(
        "{}{}-{:06x}.json",
        prefix(&s.alias),
        rec.at.format("%Y%m%dT%H%M%S%.3fZ"),
        rand::random::<u32>() & 0xFF_FFFF
    );
    super::record::put_new_json(store, &key, &rec).await?;
    tracing::info!(key, alias = rec.alias, previous = ?rec.previous, target = rec.target, "alias switch recorded");
    Ok(rec)
}

/// The newest record of `alias`, if any.
pub async fn last_switch(store: &dyn ObjectStore, alias: &str) -> Result<Option<SwitchRecord>, OpsError> {
    let mut keys: Vec<String> = store
        .list(&prefix(alias))
        .await
        .map_err(store_err(store))?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k.ends_with(".json"))
        .collect();
    keys.sort();
    let Some(key) = keys.pop() else { return Ok(None) };
    let bytes = get_all(store, &key).await.map_err(store_err(store))?;
    let rec: SwitchRecord = serde_json::from_slice(&bytes).map_err(|e| OpsError::SwitchRecord {
        key: key.clone(),
        detail: e.to_string(),
    })?;
    Ok(Some(rec))
}

/// How to undo a switch that left no record (for messages).
pub(crate) fn go_back(alias: &str, previous: Option<&str>) -> String {
    match previous {
        Some(p) => format!("To go back: graphvault alias switch {alias} {p} --no-backup"),
        None => "The alias did not exist before.".into(),
    }
}

/// Points `alias` at `target` (refusing a target that is missing or not
/// online) and records the switch. When the record cannot be written the
/// alias has moved all the same: the error says so and how to go back.
pub async fn switch_and_record(
    store: &dyn ObjectStore,
    catalog: &dyn Neo4jCatalog,
    alias: &DbName,
    target: &DbName,
    kind: &str,
    host: &str,
    backup_id: Option<String>,
) -> Result<AliasSwitch, OpsError> {
    let s = alias_switch(catalog, alias, target).await?;
    if let Err(e) = record_switch(store, &s, kind, host, backup_id).await {
        return Err(OpsError::SwitchNotRecorded {
            alias: s.alias,
            target: s.target,
            previous: s.previous,
            source: Box::new(e),
        });
    }
    Ok(s)
}

/// Points `alias` back at the target it had before its last recorded switch.
pub async fn rollback(
    store: Arc<dyn ObjectStore>,
    catalog: &dyn Neo4jCatalog,
    alias: &DbName,
    host: &str,
) -> Result<AliasSwitch, OpsError> {
    let rec = last_switch(store.as_ref(), alias.as_str())
        .await?
        .ok_or_else(|| OpsError::NoRollback {
            alias: alias.to_string(),
            detail: "no switch of it is recorded in the bucket".into(),
        })?;
    let previous = rec.previous.clone().ok_or_else(|| OpsError::NoRollback {
        alias: alias.to_string(),
        detail: format!(
            "its last switch (to {}) created it: there was no earlier target",
            rec.target
        ),
    })?;
    let current = super::alias::current_target(catalog, alias).await?;
    if current.as_deref() != Some(rec.target.as_str()) {
        return Err(OpsError::NoRollback {
            alias: alias.to_string(),
            detail: format!(
                "it points at {} now, not at {} as the last recorded switch left it; switch explicitly with `graphvault alias switch`",
                current.as_deref().unwrap_or("nothing"),
                rec.target
            ),
        });
    }
    switch_and_record(
        store.as_ref(),
        catalog,
        alias,
        &previous.parse()?,
        "rollback",
        host,
        None,
    )
    .await
}
