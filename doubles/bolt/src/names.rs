//! Names in commands: `$parameters` resolved, and Neo4j 5's rules for
//! database names and (looser) alias names (Operations Manual 5.x, "Naming
//! rules for databases" and "Naming rules for database aliases").

use crate::cypher::Name;
use crate::packstream::Value;
use crate::state::{failure, Failure, State, ARGUMENT};

impl State {
    pub(crate) fn resolve(name: &Name, params: &Value) -> Result<String, Failure> {
        match name {
            Name::Literal(s) => Ok(s.to_ascii_lowercase()),
            Name::Param(p) => params.get(p).as_str().map(str::to_ascii_lowercase).ok_or_else(|| {
                failure(
                    "Neo.ClientError.Statement.ParameterMissing",
                    format!("Expected parameter(s): {p}"),
                )
            }),
        }
    }

    /// Neo4j 5 database name rules (Operations Manual 5.x,
    /// `database-administration/standard-databases/naming-databases.adoc`):
    /// 3–63 characters, an ASCII letter first, then ASCII letters, digits,
    /// dots or dashes, not ending with a dot or dash; the `system` prefix
    /// is reserved (a leading `_`, also reserved, fails the first rule).
    pub(crate) fn check_database_name(name: &str) -> Result<(), Failure> {
        let ok = (3..=63).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !name.ends_with(['.', '-']);
        if !ok {
            return Err(failure(
                ARGUMENT,
                format!("Database name '{name}' contains illegal characters or has an illegal length. Use simple ascii characters, numbers, dots and dashes (3 to 63 characters), starting with a letter and not ending with a dot or dash."),
            ));
        }
        reserved(name, "Database")
    }

    /// Neo4j 5 alias name rules (Operations Manual 5.x,
    /// `database-administration/aliases/naming-aliases.adoc`): any valid
    /// (backtick-quoted if need be) identifier up to 65534 characters, not
    /// ending with a dot, not starting with `_` or `system`. Spaces, `_`,
    /// digits first and dots are allowed.
    pub(crate) fn check_alias_name(name: &str) -> Result<(), Failure> {
        if name.is_empty() || name.chars().count() > 65534 || name.ends_with('.') {
            return Err(failure(
                ARGUMENT,
                format!("Alias name '{name}' has an illegal length or ends with a dot (up to 65534 characters, not ending with '.')."),
            ));
        }
        reserved(name, "Alias")
    }
}

/// Names starting with `_` or `system` are reserved for internal use.
fn reserved(name: &str, what: &str) -> Result<(), Failure> {
    let prefix = if name.starts_with('_') {
        "_"
    } else if name.starts_with("system") {
        "system"
    } else {
        return Ok(());
    };
    Err(failure(
        ARGUMENT,
        format!("{what} name '{name}' is invalid, due to the prefix '{prefix}'."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_follow_the_5x_manual() {
        // Accepted: the manual's examples and the blue/green layout.
        for ok in [
            "main-db",
            "movies",
            "northwind-graph-2020",
            "customer1-1700000000",
            "a.b",
        ] {
            assert!(State::check_database_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "ab",
            &long,
            "trailing-",
            "trailing.",
            "9lives",
            "with_underscore",
            "_internal",
            "system-db",
            "my db",
        ] {
            assert!(State::check_database_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn alias_names_follow_the_5x_manual() {
        // The manual's own aliases ("films", "motion pictures", "movie
        // scripts", `my.alias.with.dots`) and identifiers with `_`/digits.
        let long = "a".repeat(65534);
        for ok in [
            "films",
            "motion pictures",
            "movie scripts",
            "my.alias.with.dots",
            "customer_1",
            "1st",
            "x",
            &long,
        ] {
            assert!(State::check_alias_name(ok).is_ok(), "{ok}");
        }
        let too_long = "a".repeat(65535);
        for bad in ["", "ends.with.dot.", "_internal", "system-alias", &too_long] {
            assert!(State::check_alias_name(bad).is_err(), "{bad}");
        }
    }
}
