//! The one vocabulary every JSON document uses for how something went
//! (docs/JSON.md, "Outcomes"): a backup run, a verify, a prune, a drill,
//! one database of a run, a webhook. Exit codes say the same thing in
//! numbers (docs/EXIT_CODES.md); this is the word for it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Everything asked for was done, and nothing looks wrong.
    Ok,
    /// Everything was done, but something looks wrong: a backup's size or
    /// time is far from its recent history. Kept; someone should look.
    Anomalous,
    /// Everything was done, but nothing was checked (a drill with no check
    /// to run): it says nothing about the data.
    Unchecked,
    /// Some of it was done, some failed.
    Partial,
    /// None of it was done (every item failed, or the run could not start).
    Failed,
}

impl Outcome {
    /// A run over `total` items of which `failed` failed (no items: `ok`).
    pub fn of_counts(failed: usize, total: usize) -> Self {
        match failed {
            0 => Self::Ok,
            n if n >= total => Self::Failed,
            _ => Self::Partial,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Anomalous => "anomalous",
            Self::Unchecked => "unchecked",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_ok_partial_or_failed_by_its_failures() {
        assert_eq!(Outcome::of_counts(0, 0), Outcome::Ok);
        assert_eq!(Outcome::of_counts(0, 3), Outcome::Ok);
        assert_eq!(Outcome::of_counts(1, 3), Outcome::Partial);
        assert_eq!(Outcome::of_counts(3, 3), Outcome::Failed);
    }

    #[test]
    fn the_word_is_the_serialized_form() {
        for o in [
            Outcome::Ok,
            Outcome::Anomalous,
            Outcome::Unchecked,
            Outcome::Partial,
            Outcome::Failed,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
