//! Neo4j: the neo4j-admin runner (a child process) and the Bolt catalog
//! (aliases and databases on the `system` database).
//!
//! Both sit behind small traits (`Neo4jAdmin`, `Neo4jCatalog`) so commands can
//! be tested against the doubles in `doubles/` and, later, fault wrappers.

mod admin;
mod admin_cmd;
mod admin_error;
mod admin_process;
mod backup_outcome;
mod bolt;
mod bolt_error;
pub mod cypher_names;
mod process_group;
mod procfs;
mod run_record;
pub mod topology;

pub use admin::{AdminError, BackupOutput, Neo4jAdmin, ProcessAdmin};
pub use admin_cmd::{
    backup_args, finished_artifact, is_artifact_of, parse_version, restore_args, AdminSettings, AdminVersion,
    BackupRequest, BackupType, RestoreRequest,
};
pub use backup_outcome::BackupKind;
pub use bolt::{
    AliasInfo, BoltCatalog, BoltError, BoltSettings, Neo4jCatalog, Password, QueryCheck, NODE_COUNT_QUERY,
    RELATIONSHIP_COUNT_QUERY,
};
pub use process_group::end_all as stop_running_admins;
pub use run_record::{RecordError, RUNS_DIR};
pub use topology::{DatabaseInfo, Seeding, ServerInfo, Topology};
