//! Retention: which backups to keep. Selection is pure (`select`); acting on
//! a plan (prune) is done elsewhere and never decides anything itself.

pub mod chain;
mod policy;
mod select;
pub mod tier;

#[cfg(test)]
mod tests;

pub use policy::RetentionPolicy;
pub use select::{select, Decision, RetentionPlan};
