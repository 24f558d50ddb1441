//! `graphvault alias …`.

use crate::cli::{AliasCommand, Cli};
use crate::neo4j::cypher_names::{alias_name, database_name};
use crate::neo4j::Neo4jCatalog;
use crate::ops::{self, OpsError};

use super::backup::pre_deploy_backup;
use super::{catalog_for, hostname, load_config, print, store_for};

/// Asks on a terminal for the database name to be typed back; anything else,
/// or no terminal, is "not confirmed".
fn confirm(what: &str, name: &str) -> Result<(), OpsError> {
    use std::io::{BufRead, IsTerminal};
    let not_confirmed = || OpsError::NotConfirmed { what: what.to_string() };
    if !std::io::stdin().is_terminal() {
        return Err(not_confirmed());
    }
    eprint!("{what}: type the database name ({name}) to confirm: ");
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() || answer.trim() != name {
        return Err(not_confirmed());
    }
    Ok(())
}

pub(super) async fn alias(cli: &Cli, cmd: &AliasCommand) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let catalog = catalog_for(&config)?;
    let catalog: &dyn Neo4jCatalog = &catalog;
    match cmd {
        AliasCommand::List { json } => {
            let aliases = ops::alias_list(catalog).await?;
            if *json {
                let body = serde_json::json!({ "aliases": aliases });
                print(&crate::json::document(crate::json::JsonDocument::AliasList, &body)?)
            } else {
                let mut out = String::new();
                let width = aliases.iter().map(|a| a.name.len()).max().unwrap_or(5).max(5);
                out.push_str(&format!("{:<width$}  DATABASE\n", "ALIAS"));
                for a in &aliases {
                    out.push_str(&format!("{:<width$}  {}\n", a.name, a.database));
                }
                print(&out)
            }
        }
        AliasCommand::GetTarget { alias } => {
            let info = ops::alias_target(catalog, &alias_name(alias)?).await?;
            print(&format!("{}\n", info.database))
        }
        AliasCommand::Switch {
            alias,
            target,
            no_backup,
        } => {
            let (alias, target) = (alias_name(alias)?, database_name(target)?);
            ops::check_switch_target(catalog, &target).await?;
            let store = store_for(&config).await?;
            let current = ops::current_target(catalog, &alias).await?;
            // The runbook: back up the current target before a cutover, keep it forever.
            let backup_id = match &current {
                Some(db) if !*no_backup && db != target.as_str() => {
                    Some(pre_deploy_backup(cli, &config, store.clone(), catalog, db).await?)
                }
                _ => None,
            };
            let switch = ops::cutover::switch_and_record(
                store.as_ref(),
                catalog,
                &alias,
                &target,
                "switch",
                &hostname(),
                backup_id.clone(),
            )
            .await?;
            let mut out = format!(
                "alias {} now points at {} (was: {})\n",
                switch.alias,
                switch.target,
                switch.previous.as_deref().unwrap_or("none")
            );
            if let Some(id) = backup_id {
                out.push_str(&format!(
                    "pre-deploy backup of the previous target: {id} (kept forever)\n"
                ));
            }
            match &switch.previous {
                Some(prev) => out.push_str(&format!(
                    "to roll back: graphvault alias rollback {}   (or: graphvault alias switch {} {prev})\n",
                    switch.alias, switch.alias
                )),
                None => out.push_str("the alias is new: there is nothing to roll back to\n"),
            }
            print(&out)
        }
        AliasCommand::Rollback { alias } => {
            let store = store_for(&config).await?;
            let s = ops::cutover::rollback(store, catalog, &alias_name(alias)?, &hostname()).await?;
            print(&format!(
                "alias {} rolled back to {} (was: {})\n",
                s.alias,
                s.target,
                s.previous.as_deref().unwrap_or("none")
            ))
        }
        AliasCommand::DropDatabase {
            name,
            force,
            yes,
            destroy_data,
        } => {
            let db = database_name(name)?;
            let ask = |aliases: &[String]| {
                if *yes {
                    return Ok(());
                }
                let also = if aliases.is_empty() {
                    String::new()
                } else {
                    format!(" and alias(es) {}", aliases.join(", "))
                };
                confirm(&format!("drop database {db}{also}"), db.as_str())
            };
            let dropped = ops::drop_database(catalog, &db, *force, *destroy_data, ask).await?;
            let mut out = String::new();
            for alias in dropped {
                out.push_str(&format!("alias {alias} dropped (it pointed at {db})\n"));
            }
            out.push_str(&format!("database {db} dropped\n"));
            print(&out)
        }
    }
}
