//! Neo4j naming rules and quoting for names spliced into admin Cypher.
//!
//! Admin commands (`CREATE DATABASE`, `ALTER ALIAS`…) take names, not
//! expressions, so names are validated against Neo4j's rules and always
//! backtick-quoted (blue/green names contain `-`). Nothing from input reaches
//! Cypher without passing `quoted`.

use crate::model::DbName;

/// Why a name cannot be used as a Neo4j database or alias name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{name}' is not a valid Neo4j {what} name: {why}")]
pub struct InvalidNeo4jName {
    pub name: String,
    pub what: &'static str,
    pub why: &'static str,
}

/// Checks Neo4j 5's database naming rules: 3-63 characters, ASCII letters,
/// digits, `.` and `-`, starting with a letter, not `system…` (reserved).
pub fn database_name(name: &str) -> Result<DbName, InvalidNeo4jName> {
    check(name, "database")
}

/// Alias names follow the same rules here (Neo4j also allows quoted oddities
/// that graphvault has no use for).
pub fn alias_name(name: &str) -> Result<DbName, InvalidNeo4jName> {
    check(name, "alias")
}

fn check(name: &str, what: &'static str) -> Result<DbName, InvalidNeo4jName> {
    let bad = |why| InvalidNeo4jName {
        name: name.to_string(),
        what,
        why,
    };
    if !(3..=63).contains(&name.len()) {
        return Err(bad("it must be 3 to 63 characters long"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad("it must start with an ASCII letter"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err(bad("only ASCII letters, digits, '.' and '-' are allowed"));
    }
    if name.to_ascii_lowercase().starts_with("system") {
        return Err(bad("names starting with 'system' are reserved by Neo4j"));
    }
    name.parse().map_err(|_| bad("it is not usable as a key component"))
}

/// The name as a backtick-quoted Cypher identifier (backticks doubled).
pub fn quoted(name: &DbName) -> String {
    format!("`{}`", name.as_str().replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blue_green_names_pass_and_are_backtick_quoted() {
        let n = database_name("customer1-1767741527").unwrap();
        assert_eq!(quoted(&n), "`customer1-1767741527`");
        assert_eq!(quoted(&alias_name("shop.eu").unwrap()), "`shop.eu`");
    }

    #[test]
    fn names_outside_neo4j_rules_are_refused_with_the_rule() {
        for (bad, why) in [
            ("ab", "3 to 63"),
            ("1abc", "start with"),
            ("a_b_c", "only ASCII"),
            ("a`b`c", "only ASCII"),
            ("x'); DROP DATABASE neo4j; //", "only ASCII"),
            ("systemx", "reserved"),
        ] {
            let err = database_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
