//! Which databases a `graphvault backup` run backs up: every database an
//! alias points at (the blue/green layout `customerN → customerN-<unixts>`),
//! narrowed by `--database` / `--alias`. Aliases of composite databases and
//! aliases whose names cannot name a bucket folder are skipped with a
//! reason. Pure, so it is table-tested.

use std::collections::BTreeMap;

use crate::neo4j::cypher_names::alias_name;
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
    /// Aliases not used to group backups, each with the reason (reported).
    pub skipped_aliases: Vec<SkippedAlias>,
    /// Selectors that matched nothing: the run refuses them as not found.
    pub unmatched: Vec<String>,
}

/// An alias `backup` does not follow, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedAlias {
    pub name: String,
    pub reason: String,
}

/// Why an alias is not used to group backups (`None`: it is).
fn skip_reason(a: &AliasInfo) -> Option<String> {
    if let Some(composite) = &a.composite {
        return Some(format!(
            "constituent of the composite database '{composite}' (composite databases hold no data of their own; back up '{}' through a standard alias or with --database)",
            a.database
        ));
    }
    alias_name(&a.name).err().map(|e| e.to_string())
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
    let mut skipped_aliases = Vec::new();
    for a in aliases.iter().filter(|a| a.location == "local") {
        if let Some(reason) = skip_reason(a) {
            skipped_aliases.push(SkippedAlias {
                name: a.name.clone(),
                reason,
            });
        } else if exists(&a.database) {
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
        skipped_aliases,
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
            None => match sel.skipped_aliases.iter().find(|s| &s.name == alias) {
                Some(s) => sel.unmatched.push(format!("alias '{alias}' ({})", s.reason)),
                None => sel.unmatched.push(format!("alias '{alias}'")),
            },
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
            composite: None,
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

#[cfg(test)]
mod skipped_alias_tests {
    use super::*;

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

    fn alias(name: &str, composite: Option<&str>) -> AliasInfo {
        AliasInfo {
            name: name.into(),
            database: "shop-100".into(),
            location: "local".into(),
            composite: composite.map(Into::into),
        }
    }

    /// Alias names from the Operations Manual 5.x examples: those that fit a
    /// bucket folder group backups, composite constituents and quoted names
    /// with spaces are skipped with the reason.
    #[test]
    fn composite_aliases_and_names_graphvault_cannot_store_are_skipped_with_a_reason() {
        let aliases = [
            alias("shop_eu", None),
            alias("garden.flowers", Some("garden")),
            alias("motion pictures", None),
        ];
        let sel = select(&aliases, &[db("shop-100")], &[], &[]);
        assert_eq!(sel.targets.len(), 1);
        assert_eq!(sel.targets[0].alias, "shop_eu");
        let skipped: Vec<(&str, &str)> = sel
            .skipped_aliases
            .iter()
            .map(|s| (s.name.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(skipped[0].0, "garden.flowers");
        assert!(skipped[0].1.contains("composite database 'garden'"), "{}", skipped[0].1);
        assert_eq!(skipped[1].0, "motion pictures");
        assert!(skipped[1].1.contains("ASCII letters, digits"), "{}", skipped[1].1);
        // Naming a skipped alias says why it cannot be backed up.
        let sel = select(&aliases, &[db("shop-100")], &[], &["garden.flowers".into()]);
        assert_eq!(sel.unmatched.len(), 1);
        assert!(sel.unmatched[0].contains("composite database"), "{:?}", sel.unmatched);
    }
}
