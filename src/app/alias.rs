//! `graphvault alias …`.

use crate::cli::{AliasCommand, Cli};
use crate::neo4j::cypher_names::{alias_name, database_name};
use crate::neo4j::Neo4jCatalog;
use crate::ops::{self, OpsError};

use super::{catalog_for, load_config, print};

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
                print(&format!("{}\n", serde_json::to_string_pretty(&aliases)?))
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
        AliasCommand::Switch { alias, target } => {
            let switch = ops::alias_switch(catalog, &alias_name(alias)?, &database_name(target)?).await?;
            let rollback = match &switch.previous {
                Some(prev) => format!("to roll back: graphvault alias switch {} {prev}", switch.alias),
                None => "the alias is new: there is nothing to roll back to".to_string(),
            };
            print(&format!(
                "alias {} now points at {} (was: {})\n{rollback}\n",
                switch.alias,
                switch.target,
                switch.previous.as_deref().unwrap_or("none")
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
