//! The `[drill]` section: the validation queries a restore drill runs on
//! each restored database (`[[drill.check]]`).

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDrill {
    #[serde(default)]
    check: Vec<RawCheck>,
    count_tolerance_percent: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    /// The alias it applies to, or "*" for every alias.
    alias: String,
    /// Cypher run on the restored database.
    query: String,
    /// The first column of the first row must be at least this; without it
    /// the query must return rows.
    min: Option<i64>,
}

/// One validation query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrillCheck {
    pub alias: String,
    pub query: String,
    pub min: Option<i64>,
}

/// Validated `[drill]` settings.
#[derive(Clone, Debug, Default)]
pub struct DrillConfig {
    pub checks: Vec<DrillCheck>,
    /// How far the restored node and relationship counts may differ from
    /// those counted right after the backup (writes go on meanwhile).
    pub count_tolerance_percent: f64,
}

impl DrillConfig {
    pub fn checks_for<'a>(&'a self, alias: &'a str) -> impl Iterator<Item = &'a DrillCheck> + 'a {
        self.checks.iter().filter(move |c| c.alias == "*" || c.alias == alias)
    }
}

pub(super) fn from_raw(raw: RawDrill) -> Result<DrillConfig, ConfigError> {
    let mut checks = Vec::new();
    for c in raw.check {
        if c.query.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "drill.check.query",
                message: format!("the check for '{}' has an empty query", c.alias),
            });
        }
        checks.push(DrillCheck {
            alias: c.alias,
            query: c.query,
            min: c.min,
        });
    }
    let tolerance = raw.count_tolerance_percent.unwrap_or(5.0);
    if !(0.0..=100.0).contains(&tolerance) {
        return Err(ConfigError::Invalid {
            key: "drill.count_tolerance_percent",
            message: format!("{tolerance} is outside 0..=100"),
        });
    }
    Ok(DrillConfig {
        checks,
        count_tolerance_percent: tolerance,
    })
}
