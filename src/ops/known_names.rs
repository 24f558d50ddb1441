//! The aliases and databases a store holds backups of, and what to tell an
//! operator who named one it does not hold: the closest names (a typo), or
//! all of them when there are few. A filter that matches nothing is an
//! error (exit 7) for every command, `list` and `stats` included, so a typo
//! never reads as "0 backup(s)".
//!
//! Pure: the names come from the one catalog listing a command makes anyway.

use std::collections::BTreeSet;

use crate::model::ManifestKey;

use super::OpsError;

/// Up to this many names are listed in full; more are summed up.
const LIST_ALL_UP_TO: usize = 8;
/// Suggestions offered at most.
const MAX_SUGGESTIONS: usize = 3;

/// Which names a filter is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// `--database`: an alias or a concrete database.
    AliasOrDatabase,
    /// `--alias`: only an alias.
    Alias,
}

impl NameKind {
    fn describe(self) -> &'static str {
        match self {
            Self::AliasOrDatabase => "alias or database",
            Self::Alias => "alias",
        }
    }
}

/// Every alias and database with a manifest in the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownNames {
    pub aliases: BTreeSet<String>,
    pub databases: BTreeSet<String>,
}

impl KnownNames {
    pub fn add(&mut self, key: &ManifestKey) {
        if !self.aliases.contains(key.alias.as_str()) {
            self.aliases.insert(key.alias.to_string());
        }
        if !self.databases.contains(key.database.as_str()) {
            self.databases.insert(key.database.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty()
    }

    fn holds(&self, kind: NameKind, name: &str) -> bool {
        self.aliases.contains(name) || (kind == NameKind::AliasOrDatabase && self.databases.contains(name))
    }

    /// `Ok` when `name` is an alias (or, for `AliasOrDatabase`, a database)
    /// with backups; otherwise the not-found error naming what exists.
    pub fn require(&self, kind: NameKind, name: &str, location: &str) -> Result<(), OpsError> {
        if self.holds(kind, name) {
            return Ok(());
        }
        Err(OpsError::UnknownName {
            kind: kind.describe(),
            name: name.to_string(),
            location: location.to_string(),
            hint: self.hint(kind, name),
        })
    }

    /// "did you mean …?" and the aliases there, or that there are none.
    pub fn hint(&self, kind: NameKind, name: &str) -> String {
        if self.is_empty() {
            return "it holds no backups yet (check storage.url if it should)".into();
        }
        let mut candidates: Vec<&str> = self.aliases.iter().map(String::as_str).collect();
        if kind == NameKind::AliasOrDatabase {
            candidates.extend(self.databases.iter().map(String::as_str));
        }
        let close = closest(name, &candidates);
        let mut out = String::new();
        if !close.is_empty() {
            let quoted: Vec<String> = close.iter().map(|c| format!("'{c}'")).collect();
            out.push_str(&format!("did you mean {}? ", quoted.join(" or ")));
        }
        let n = self.aliases.len();
        if n <= LIST_ALL_UP_TO {
            let all: Vec<&str> = self.aliases.iter().map(String::as_str).collect();
            out.push_str(&format!("Aliases with backups there: {}", all.join(", ")));
        } else {
            out.push_str(&format!(
                "{n} aliases have backups there; `graphvault stats` lists them"
            ));
        }
        out
    }
}

/// The names nearest to `asked` by edit distance, best first, among those
/// close enough to be a typo of it (at most a third of its length, at least 1,
/// away; or one being the other with something added at the end).
pub fn closest<'a>(asked: &str, names: &[&'a str]) -> Vec<&'a str> {
    let limit = (asked.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (distance(asked, n), *n))
        .filter(|(d, n)| *d <= limit || (!asked.is_empty() && (n.starts_with(asked) || asked.starts_with(n))))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, n)| n).collect()
}

/// Levenshtein distance over characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(aliases: &[&str], databases: &[&str]) -> KnownNames {
        KnownNames {
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            databases: databases.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        for (a, b, d) in [
            ("", "", 0),
            ("custmer1", "customer1", 1),
            ("customer1", "customer2", 1),
            ("kitten", "sitting", 3),
            ("", "abc", 3),
        ] {
            assert_eq!(distance(a, b), d, "{a} {b}");
            assert_eq!(distance(b, a), d, "{b} {a}");
        }
    }

    #[test]
    fn a_typo_of_an_alias_is_refused_with_the_closest_alias() {
        let known = names(&["customer1", "customer2", "billing"], &["customer1-1800000000"]);
        let err = known
            .require(NameKind::AliasOrDatabase, "custmer1", "s3://b/gv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no backup of alias or database 'custmer1' in s3://b/gv"),
            "{err}"
        );
        assert!(err.contains("did you mean 'customer1' or 'customer2'?"), "{err}");
        assert!(
            err.contains("Aliases with backups there: billing, customer1, customer2"),
            "{err}"
        );
        assert!(!err.contains("'billing'"), "{err}");
    }

    #[test]
    fn a_known_alias_or_database_passes_and_alias_only_filters_ignore_databases() {
        let known = names(&["customer1"], &["customer1-1800000000"]);
        assert!(known.require(NameKind::AliasOrDatabase, "customer1", "x").is_ok());
        assert!(known
            .require(NameKind::AliasOrDatabase, "customer1-1800000000", "x")
            .is_ok());
        assert!(known.require(NameKind::Alias, "customer1", "x").is_ok());
        let err = known.require(NameKind::Alias, "customer1-1800000000", "x").unwrap_err();
        assert!(err.to_string().contains("did you mean 'customer1'?"), "{err}");
    }

    #[test]
    fn many_aliases_are_summed_up_and_an_empty_store_says_so() {
        let many: Vec<String> = (0..20).map(|i| format!("tenant{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let hint = names(&refs, &[]).hint(NameKind::Alias, "zzz");
        assert_eq!(hint, "20 aliases have backups there; `graphvault stats` lists them");
        let hint = KnownNames::default().hint(NameKind::Alias, "customer1");
        assert!(hint.contains("no backups yet"), "{hint}");
    }

    #[test]
    fn only_names_close_to_the_one_asked_are_suggested() {
        assert_eq!(closest("prd", &["prod", "staging"]), vec!["prod"]);
        assert_eq!(closest("customer", &["customer1", "other"]), vec!["customer1"]);
        assert!(closest("x", &["customer1"]).is_empty());
    }
}
