//! Validated names that end up in object keys: database/alias names and labels.
//!
//! Keys are built only from values that passed these checks, so no input can
//! smuggle a `/`, `..` or separator into the bucket layout. Neo4j's own naming
//! rules (checked again by the Bolt layer) are a subset of what is allowed here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("'{0}' is not a valid database or alias name: use 1-63 ASCII letters, digits, '.', '-' or '_', starting with a letter")]
    Database(String),
    #[error("'{0}' is not a valid label: use 1-32 lowercase letters, digits or '-', starting with a letter or digit")]
    Label(String),
}

/// A Neo4j database or alias name, safe to use as a key component.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DbName(String);

impl FromStr for DbName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=63).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(NameError::Database(s.to_string()))
        }
    }
}

/// A backup label such as `pinned` or `pre-deploy`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    /// Labels that retention keeps forever.
    pub const PINNED: &'static str = "pinned";
    pub const PRE_DEPLOY: &'static str = "pre-deploy";

    pub fn is_pinning(&self) -> bool {
        self.0 == Self::PINNED || self.0 == Self::PRE_DEPLOY
    }
}

impl FromStr for Label {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(NameError::Label(s.to_string()))
        }
    }
}

macro_rules! string_newtype {
    ($t:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $t {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_newtype!(DbName);
string_newtype!(Label);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blue_green_names_are_accepted() {
        for good in ["customer1", "customer1-1767741527", "neo4j", "a", "shop.eu_1"] {
            assert!(good.parse::<DbName>().is_ok(), "{good}");
        }
    }

    #[test]
    fn names_that_could_escape_a_key_are_refused() {
        for bad in ["", "../x", "a/b", "1abc", "a~b", "a b", "`x`", "a'b", &"x".repeat(64)] {
            assert!(bad.parse::<DbName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_are_lowercase_words() {
        assert!("pre-deploy".parse::<Label>().unwrap().is_pinning());
        assert!("pinned".parse::<Label>().unwrap().is_pinning());
        assert!(!"nightly".parse::<Label>().unwrap().is_pinning());
        for bad in ["", "Pinned", "a+b", "a,b", "-x", "a/b"] {
            assert!(bad.parse::<Label>().is_err(), "{bad}");
        }
    }
}
