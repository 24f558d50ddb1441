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

/// Checks Neo4j 5's database naming rules (Operations Manual 5.x, "Naming
/// rules for databases"): 3-63 characters, ASCII letters, digits, `.` and
/// `-`, starting with a letter, not ending with `.` or `-`, not `system…`.
pub fn database_name(name: &str) -> Result<DbName, InvalidNeo4jName> {
    let bad = |why| InvalidNeo4jName {
        name: name.to_string(),
        what: "database",
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
    if name.ends_with(['.', '-']) {
        return Err(bad("it must not end with '.' or '-'"));
    }
    reserved(name, bad)
}

/// Checks an alias name: Neo4j's alias rules (Operations Manual 5.x,
/// "Naming rules for database aliases": any identifier, not ending with
/// `.`, not starting with `_` or `system`) narrowed to what can name a
/// backup group in the bucket: 1-63 ASCII letters, digits, `.`, `-` and
/// `_`, starting with a letter. Neo4j also accepts quoted names with spaces
/// or other characters; graphvault cannot store those and `backup` skips
/// them with a note.
pub fn alias_name(name: &str) -> Result<DbName, InvalidNeo4jName> {
    let bad = |why| InvalidNeo4jName {
        name: name.to_string(),
        what: "alias",
        why,
    };
    if !(1..=63).contains(&name.len()) {
        return Err(bad("graphvault handles alias names of 1 to 63 characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad("graphvault handles alias names starting with an ASCII letter"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(bad(
            "graphvault handles alias names of ASCII letters, digits, '.', '-' and '_' (they name folders in the bucket)",
        ));
    }
    if name.ends_with('.') {
        return Err(bad("it must not end with '.'"));
    }
    reserved(name, bad)
}

/// Names starting with `system` are reserved by Neo4j (a leading `_`, also
/// reserved, is already refused by the first-character rule).
fn reserved(name: &str, bad: impl Fn(&'static str) -> InvalidNeo4jName) -> Result<DbName, InvalidNeo4jName> {
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

    /// Alias names from the Operations Manual 5.x that fit the blue/green
    /// layout are accepted; the others are refused with the reason.
    #[test]
    fn alias_names_follow_neo4j_rules_within_what_a_bucket_folder_allows() {
        for ok in [
            "films",
            "customer_1",
            "c",
            "my.alias.with.dots",
            "customer1-blue",
            &"a".repeat(63),
        ] {
            assert!(alias_name(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("motion pictures", "ASCII letters, digits"),
            ("1st", "starting with an ASCII letter"),
            ("_internal", "starting with an ASCII letter"),
            ("ends.with.dot.", "must not end with '.'"),
            ("system-alias", "reserved"),
            (&"a".repeat(64), "1 to 63"),
        ] {
            let err = alias_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
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
            ("trailing-", "must not end"),
            ("trailing.", "must not end"),
        ] {
            let err = database_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
