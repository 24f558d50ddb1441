//! graphvault: a backup agent for Neo4j.
//!
//! A short tour, from the bottom up:
//! - [`model`]: backup ids, names, the object key layout and the manifest
//!   (pure data, no I/O);
//! - [`store`]: the `ObjectStore` trait, its S3 and filesystem implementations,
//!   and the retry and fault-injection wrappers;
//! - [`pipeline`]: the sealed format, zstd inside age, streamed with both
//!   SHA-256s computed on the way (`seal`) and checked on the way back (`open`);
//! - [`neo4j`]: the neo4j-admin runner and the Bolt catalog;
//! - [`ops`]: one module per command, on top of the above;
//! - [`signing`]: minisign signatures on manifests, and which keys are trusted;
//! - [`monitor`]: pure judgements on backups taken (size and duration
//!   anomalies, per-alias stats);
//! - [`notify`]: webhooks about runs;
//! - [`json`]: the JSON contract of every `--json` output and webhook
//!   (docs/JSON.md, docs/schemas/);
//! - [`config`], [`cli`], [`help_text`], [`exit`], [`telemetry`]: the edges the binary uses.
//!
//! `docs/DESIGN.md` explains write ordering and crash safety, `docs/FORMAT.md`
//! the bucket layout and how to restore without graphvault.

/// The version `--version` prints, the manifests record and webhooks send:
/// the crate version, plus the git revision when built from a checkout.
pub const VERSION: &str = if GIT_REV.is_empty() {
    env!("CARGO_PKG_VERSION")
} else {
    VERSION_WITH_REV
};
const GIT_REV: &str = env!("GRAPHVAULT_GIT_REV");
const VERSION_WITH_REV: &str = concat!(env!("CARGO_PKG_VERSION"), " (git ", env!("GRAPHVAULT_GIT_REV"), ")");

pub mod app;
pub mod cli;
pub mod config;
pub mod error_text;
pub mod exit;
pub mod help_text;
pub mod json;
pub mod lease;
pub mod model;
pub mod monitor;
pub mod neo4j;
pub mod notify;
pub mod ops;
pub mod pipeline;
pub mod retention;
pub mod secret_file;
pub mod signing;
pub mod store;
pub mod telemetry;
