//! `graphvault alias …`: the operators' manage_aliases.py verbs, with checks.
//!
//! Every verb talks to the `system` database through `Neo4jCatalog`; the
//! checks (target exists and is online, nothing points at a database being
//! dropped) happen before anything changes.

use crate::model::DbName;
use crate::neo4j::{AliasInfo, Neo4jCatalog};

use super::OpsError;

/// All aliases, sorted by name.
pub async fn alias_list(catalog: &dyn Neo4jCatalog) -> Result<Vec<AliasInfo>, OpsError> {
    let mut aliases = catalog.aliases().await?;
    aliases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(aliases)
}

/// The database `alias` points at now, if the alias exists.
pub async fn current_target(catalog: &dyn Neo4jCatalog, alias: &DbName) -> Result<Option<String>, OpsError> {
    Ok(catalog
        .aliases()
        .await?
        .into_iter()
        .find(|a| a.name == alias.as_str())
        .map(|a| a.database))
}

/// The alias's current target.
pub async fn alias_target(catalog: &dyn Neo4jCatalog, alias: &DbName) -> Result<AliasInfo, OpsError> {
    catalog
        .aliases()
        .await?
        .into_iter()
        .find(|a| a.name == alias.as_str())
        .ok_or_else(|| OpsError::AliasNotFound {
            name: alias.to_string(),
        })
}

/// What a switch did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AliasSwitch {
    pub alias: String,
    /// None when the alias is new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    pub target: String,
}

/// Refuses a switch target that is missing or not online.
pub async fn check_switch_target(catalog: &dyn Neo4jCatalog, target: &DbName) -> Result<(), OpsError> {
    let db = catalog
        .database(target)
        .await?
        .ok_or_else(|| OpsError::DatabaseNotFound {
            name: target.to_string(),
        })?;
    if !db.is_online() {
        return Err(OpsError::DatabaseNotOnline {
            name: target.to_string(),
            status: db.current_status,
        });
    }
    Ok(())
}

/// Points `alias` at `target`, refusing a target that is missing or not online.
pub async fn alias_switch(
    catalog: &dyn Neo4jCatalog,
    alias: &DbName,
    target: &DbName,
) -> Result<AliasSwitch, OpsError> {
    check_switch_target(catalog, target).await?;
    let previous = catalog
        .aliases()
        .await?
        .into_iter()
        .find(|a| a.name == alias.as_str())
        .map(|a| a.database);
    catalog.set_alias(alias, target).await?;
    tracing::info!(alias = %alias, target = %target, previous = ?previous, "alias switched");
    Ok(AliasSwitch {
        alias: alias.to_string(),
        previous,
        target: target.to_string(),
    })
}

/// Drops a database, refusing while an alias points at it unless `force`,
/// which first drops those aliases (Neo4j itself refuses to drop a database
/// that an alias targets). `confirm` is asked after the checks, before
/// anything changes, with the aliases that would be dropped. Returns those.
pub async fn drop_database(
    catalog: &dyn Neo4jCatalog,
    name: &DbName,
    force: bool,
    destroy_data: bool,
    confirm: impl FnOnce(&[String]) -> Result<(), OpsError>,
) -> Result<Vec<String>, OpsError> {
    if catalog.database(name).await?.is_none() {
        return Err(OpsError::DatabaseNotFound { name: name.to_string() });
    }
    let pointing: Vec<String> = catalog
        .aliases()
        .await?
        .into_iter()
        .filter(|a| a.database == name.as_str())
        .map(|a| a.name)
        .collect();
    if !pointing.is_empty() && !force {
        return Err(OpsError::DatabaseInUse {
            name: name.to_string(),
            aliases: pointing.join(", "),
        });
    }
    confirm(&pointing)?;
    for alias in &pointing {
        catalog.drop_alias(&alias.parse()?).await?;
        tracing::warn!(alias = %alias, database = %name, "alias dropped (--force)");
    }
    catalog.drop_database(name, destroy_data).await?;
    tracing::warn!(database = %name, dropped_aliases = ?pointing, destroy_data, "database dropped");
    Ok(pointing)
}
