//! Which databases a `graphvault backup` run backs up: every database an
//! alias points at (the blue/green layout `customerN → customerN-<unixts>`),
//! narrowed by `--database` / `--alias`. Pure, so it is table-tested.

use std::collections::BTreeMap;

use crate::neo4j::{AliasInfo, DatabaseInfo};

/// One database to back up, grouped in the bucket under `alias`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub alias: String,
    pub database: String,
    /// Further aliases pointing at the same database (backed up once).
    pub also_aliases: Vec<String>,
}

/// What the selection decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub targets: Vec<Target>,
    /// Databases no alias points at, left out (reported, not an error).
    pub unaliased: Vec<String>,
    /// Aliases pointing at a database the server does not list (reported).
    pub dangling: Vec<AliasInfo>,
    /// Selectors that matched nothing: the run refuses them as not found.
    pub unmatched: Vec<String>,
}

/// Selects targets. With no selectors: every local alias's database. With
/// `--database`/`--alias`: only those (a `--database` without an alias is
/// backed up under its own name).
pub fn select(
    aliases: &[AliasInfo],
    databases: &[DatabaseInfo],
    only_databases: &[String],
    only_aliases: &[String],
) -> Selection {
    let exists = |name: &str| databases.iter().any(|d| d.name == name);
    let mut by_db: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut dangling = Vec::new();
    for a in aliases.iter().filter(|a| a.location == "local") {
        if exists(&a.database) {
            by_db.entry(a.database.clone()).or_default().push(a.name.clone());
        } else {
            dangling.push(a.clone());
        }
    }
    for names in by_db.values_mut() {
        names.sort();
    }
    let target = |db: &str, names: &[String]| Target {
        alias: names[0].clone(),
        database: db.to_string(),
        also_aliases: names[1..].to_vec(),
    };

    let mut sel = Selection {
        dangling,
        ..Selection::default()
    };
    let narrowed = !only_databases.is_empty() || !only_aliases.is_empty();
    if !narrowed {
        sel.targets = by_db.iter().map(|(db, names)| target(db, names)).collect();
    }
    for db in only_databases {
        match by_db.get(db) {
            Some(names) => sel.targets.push(target(db, names)),
            None if exists(db) => sel.targets.push(Target {
                alias: db.clone(),
                database: db.clone(),
                also_aliases: Vec::new(),
            }),
            None => sel.unmatched.push(format!("database '{db}'")),
        }
    }
    for alias in only_aliases {
        let found = by_db.iter().find(|(_, names)| names.contains(alias));
        match found {
            Some((db, names)) => {
                let mut t = target(db, names);
                // Grouped under the alias the operator named.
                t.also_aliases = names.iter().filter(|n| *n != alias).cloned().collect();
                t.alias = alias.clone();
                sel.targets.push(t);
            }
            None => sel.unmatched.push(format!("alias '{alias}'")),
        }
    }
    let mut seen = std::collections::HashSet::new();
    sel.targets.retain(|t| seen.insert(t.database.clone()));
    sel.unaliased = databases
        .iter()
        .filter(|d| d.name != "system" && !by_db.contains_key(&d.name))
        .filter(|d| !sel.targets.iter().any(|t| t.database == d.name))
        .map(|d| d.name.clone())
        .collect();
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(name: &str, db: &str) -> AliasInfo {
        AliasInfo {
            name: name.into(),
            database: db.into(),
            location: "local".into(),
        }
    }

    fn db(name: &str) -> DatabaseInfo {
        DatabaseInfo {
            name: name.into(),
            current_status: "online".into(),
            requested_status: "online".into(),
            default: false,
            aliases: vec![],
            store_size: None,
            hosts: vec![],
        }
    }

    fn server() -> (Vec<AliasInfo>, Vec<DatabaseInfo>) {
        (
            vec![
                alias("customer1", "customer1-200"),
                alias("customer2", "customer2-300"),
                alias("customer2.reports", "customer2-300"),
                alias("customer3", "customer3-gone"),
            ],
            vec![
                db("system"),
                db("neo4j"),
                db("customer1-100"),
                db("customer1-200"),
                db("customer2-300"),
            ],
        )
    }

    fn pairs(sel: &Selection) -> Vec<(&str, &str)> {
        sel.targets
            .iter()
            .map(|t| (t.alias.as_str(), t.database.as_str()))
            .collect()
    }

    #[test]
    fn selection_follows_the_aliases() {
        let (a, d) = server();
        let s = |dbs: &[&str], aliases: &[&str]| {
            let dbs: Vec<String> = dbs.iter().map(|s| s.to_string()).collect();
            let aliases: Vec<String> = aliases.iter().map(|s| s.to_string()).collect();
            select(&a, &d, &dbs, &aliases)
        };
        for (dbs, aliases, expected, unmatched) in [
            (
                &[][..],
                &[][..],
                vec![("customer1", "customer1-200"), ("customer2", "customer2-300")],
                vec![],
            ),
            (&["customer1-200"], &[], vec![("customer1", "customer1-200")], vec![]),
            // An unaliased database named explicitly is backed up under its own name.
            (
                &["customer1-100"],
                &[],
                vec![("customer1-100", "customer1-100")],
                vec![],
            ),
            (
                &[],
                &["customer2.reports"],
                vec![("customer2.reports", "customer2-300")],
                vec![],
            ),
            // The same database named twice is backed up once.
            (
                &["customer2-300"],
                &["customer2"],
                vec![("customer2", "customer2-300")],
                vec![],
            ),
            (
                &["nope"],
                &["customer9"],
                vec![],
                vec!["database 'nope'", "alias 'customer9'"],
            ),
        ] {
            let sel = s(dbs, aliases);
            assert_eq!(pairs(&sel), expected, "{dbs:?} {aliases:?}");
            assert_eq!(sel.unmatched, unmatched, "{dbs:?} {aliases:?}");
        }
    }

    #[test]
    fn unaliased_and_dangling_are_reported() {
        let (a, d) = server();
        let sel = select(&a, &d, &[], &[]);
        assert_eq!(sel.unaliased, ["neo4j", "customer1-100"]);
        assert_eq!(sel.dangling, [alias("customer3", "customer3-gone")]);
        assert_eq!(sel.targets[1].also_aliases, ["customer2.reports"]);
    }
}
