//! Names in commands: `$parameters` resolved, and Neo4j 5's rules for
//! database and alias names (Operations Manual, "Database names").

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

    /// Neo4j 5 database name rules (aliases also allow dots, as databases do).
    pub(crate) fn check_name(name: &str, what: &str) -> Result<(), Failure> {
        let ok = (3..=63).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !name.ends_with('.');
        if !ok {
            return Err(failure(
                ARGUMENT,
                format!("{what} name '{name}' contains illegal characters or has an illegal length. Use simple ascii characters, numbers, dots and dashes (3 to 63 characters)."),
            ));
        }
        if name.starts_with("system") {
            return Err(failure(
                ARGUMENT,
                format!("{what} name '{name}' is invalid, due to the prefix 'system'."),
            ));
        }
        Ok(())
    }
}
