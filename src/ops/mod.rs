//! Commands, one file each. They take a validated `Config` and an open store,
//! do the work, and return typed errors; printing is left to the caller.

mod alias;
pub mod annotated;
pub mod announce;
pub mod archive;
mod backup_artifact;
pub mod backup_facts;
pub mod backup_run;
pub mod bucket_settings;
mod catalog;
mod chain;
mod cluster_seed;
pub mod cutover;
pub mod doctor;
pub mod drill;
pub mod interrupt;
mod key;
pub mod known_names;
mod latest;
mod list;
pub mod progress;
pub mod prune;
mod record;
pub mod report;
pub mod repository;
pub mod restore_db;
mod restore_to_dir;
mod stats;
pub mod verify;
pub mod verify_record;

use std::path::PathBuf;

pub use alias::{
    alias_list, alias_switch, alias_target, check_switch_target, current_target, drop_database, AliasSwitch,
};
pub use backup_artifact::{backup_artifacts, check_artifacts, ArtifactBackupRequest};
pub use catalog::{
    check_signature, find_backup, list_backups, list_with_signatures, read_manifest, read_manifest_unverified,
    BackupFilter, CatalogListing,
};
pub use chain::{pick_backup, resolve_chain, Pick};
pub use key::generate_key;
pub use list::{render_list, ListFormat, ListQuery};
pub use restore_to_dir::{download_verified, restore_to_dir};
pub use stats::render_stats;

use crate::model::{InvalidBackupId, ManifestError, NameError};
use crate::neo4j::cypher_names::InvalidNeo4jName;
use crate::neo4j::{AdminError, BoltError};
use crate::pipeline::{KeyError, OpenError, SealError};
use crate::store::StoreError;

/// Errors of the command layer (wrapping the layers below).
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// `what`: "with id …", "of 'alias'", "of 'alias' at or before …".
    #[error("no backup {what} in {location}: run `graphvault list` to see the backups there")]
    BackupNotFound { what: String, location: String },
    /// Backups exist, but none is trusted and complete (each was skipped,
    /// with a WARN log line saying why).
    #[error("no trusted, complete backup {what} in {location}: {skipped} backup(s) skipped (the newest, {newest}: {reason}); the warnings above name each. Check them with `graphvault verify --all`; back up again if none is good")]
    NoUsableBackup {
        what: String,
        location: String,
        skipped: usize,
        newest: String,
        reason: String,
    },
    #[error("artifact {path} cannot be backed up: {detail}. Give the path of a neo4j-admin backup file (<database>-YYYY-MM-DDTHH-MM-SS.backup)")]
    ArtifactMissing { path: PathBuf, detail: String },
    #[error("{path} already exists: restore into an empty directory, or move the file away first")]
    DestinationExists { path: PathBuf },
    #[error("{dir} has {available} free but restoring backup {backup_id} needs {needed}, the uncompressed size of its artifacts and of those of the backups it builds on. Nothing was downloaded: free space there or restore onto a larger disk")]
    NoRoom {
        dir: PathBuf,
        backup_id: String,
        available: backup_run::Bytes,
        needed: backup_run::Bytes,
    },
    #[error("{what} {path}: {source}")]
    LocalIo {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A filter (`--database`, `--alias`) naming nothing the store holds
    /// backups of (a typo, or the wrong store): `hint` names what exists.
    #[error("no backup of {kind} '{name}' in {location}: {hint}")]
    UnknownName {
        kind: &'static str,
        name: String,
        location: String,
        hint: String,
    },
    /// Nothing graphvault writes is under the storage URL, and a
    /// repository is close by (`repository.rs`): the URL is mistaken.
    #[error("{location} holds no graphvault repository (nothing graphvault writes is under it), but {} {}: fix storage.url", if nearby.len() == 1 { "this location holds one:" } else { "these locations hold one:" }, nearby.join(", "))]
    NoRepository { location: String, nearby: Vec<String> },
    #[error("alias '{name}' does not exist: `graphvault alias list` shows the aliases")]
    AliasNotFound { name: String },
    #[error("database '{name}' does not exist: `graphvault alias list` and SHOW DATABASES show what exists")]
    DatabaseNotFound { name: String },
    #[error(
        "database '{name}' is {status}, not online: start it (START DATABASE) or wait until it is online, then retry"
    )]
    DatabaseNotOnline { name: String, status: String },
    #[error("refusing to drop '{name}': alias(es) {aliases} point at it; switch them first (graphvault alias switch), or pass --force to drop those aliases too")]
    DatabaseInUse { name: String, aliases: String },
    #[error("{what} not confirmed: nothing was changed (pass --yes to skip the question in scripts)")]
    NotConfirmed { what: String },
    #[error(transparent)]
    Neo4jName(#[from] InvalidNeo4jName),
    #[error(transparent)]
    Bolt(#[from] BoltError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    BadBackupId(#[from] InvalidBackupId),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),
    #[error("{objects} object(s) of this backup are in an archive storage class (first: {first}); {requested} restore request(s) started{}. Run the same command again when they are readable (Standard tier: 3-5 hours for GLACIER, up to 12 for DEEP_ARCHIVE), or pass --wait-for-archive", if *waited { ", and the wait timed out" } else { "" })]
    ArchivePending {
        objects: usize,
        first: String,
        requested: usize,
        waited: bool,
    },
    #[error("{what} interrupted; what it started was cleaned up")]
    Interrupted { what: String },
    #[error("neo4j-admin made a differential backup of '{database}' ({artifact}) but staging holds no committed backup it can build on, so it was not stored (a differential without its parent cannot be restored); run `graphvault backup --type full --database {database}`")]
    DiffWithoutParent { database: String, artifact: PathBuf },
    #[error("{failed} of {total} restore drill(s) failed; the report names each and why")]
    DrillFailed { failed: usize, total: usize },
    #[error("{unchecked} of {total} restore drill(s) restored but checked nothing (no [[drill.check]] and no counts recorded at backup time): not passed; the report names each")]
    DrillUnchecked { unchecked: usize, total: usize },
    #[error("doctor found {errors} error(s); each is listed with its fix")]
    Unhealthy { errors: usize },
    #[error("prune could not delete {failed} object(s); the report lists them. Run prune again (it is idempotent)")]
    PruneIncomplete { failed: usize },
    /// The bucket's versioning or object lock could not be read and config
    /// does not state it: `consequence` says what was (not) done.
    #[error("{}", bucket_settings::refusal(.location, .consequence, .unread))]
    ProtectionUnknown {
        location: String,
        consequence: &'static str,
        unread: Vec<bucket_settings::Unread>,
    },
    #[error("alias switch record {key} is unreadable ({detail}); inspect it in the bucket")]
    SwitchRecord { key: String, detail: String },
    #[error("alias '{alias}' now points at {target}, but the switch could not be recorded in the bucket, so `graphvault alias rollback {alias}` will not find it: {source}. {}", cutover::go_back(.alias, .previous.as_deref()))]
    SwitchNotRecorded {
        alias: String,
        target: String,
        previous: Option<String>,
        #[source]
        source: Box<OpsError>,
    },
    #[error("cannot roll back alias '{alias}': {detail}")]
    NoRollback { alias: String, detail: String },
    #[error("database '{name}' already exists: restore into a new name (--as NAME, the default is <alias>-<unixts>) or pass --overwrite-destination to replace it")]
    TargetExists { name: String },
    #[error("refusing --overwrite-destination for '{name}' on a cluster: the Operations Manual calls restoring over a clustered database unsafe. Restore into a new name (the default) and switch the alias (--switch-alias)")]
    ClusterOverwrite { name: String },
    #[error("cannot seed the restored database on the cluster: {detail}. Set [neo4j] cluster_server to the id, name or Bolt address (as SHOW SERVERS shows it) of the Neo4j server on this host, where neo4j-admin restores")]
    ClusterSeed { detail: String },
    #[error("{failed} of {total} backup(s) failed verification; the report names each object and what differed")]
    VerifyFailed { failed: usize, total: usize },
    #[error("backup {backup} cannot be restored: {detail}; restore an older full backup, or another backup with `--backup ID`")]
    BrokenChain { backup: String, detail: String },
    #[error("nothing to back up: {what} not found on the server; `graphvault alias list` shows the aliases")]
    NothingToBackUp { what: String },
    #[error("{failed} of {total} database backup(s) failed; the summary names each and why")]
    SomeFailed { failed: usize, total: usize },
    #[error("every database backup ({total}) failed; the summary names each and why")]
    AllFailed { total: usize },
    #[error("every backup committed, but {anomalous} of {total} look wrong: size, compression ratio or time far from the alias's recent backups (the summary says which and by how much; the backups are kept; if a change is legitimate, it becomes the new normal after [monitor] min_history backups)")]
    Anomalous { anomalous: usize, total: usize },
    #[error(transparent)]
    Lease(#[from] crate::lease::LeaseError),
    #[error(transparent)]
    Lock(#[from] crate::lease::LockError),
    #[error(
        "the lease on {location} was lost (another run took over while this one stalled); nothing more was committed"
    )]
    LeaseLost { location: String },
    #[error(transparent)]
    Staging(#[from] backup_run::StagingError),
    #[error(transparent)]
    Preflight(#[from] backup_run::PreflightError),
    #[error("storage {location}: {source}")]
    Store {
        location: String,
        #[source]
        source: StoreError,
    },
}

impl OpsError {
    pub(crate) fn local_io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::LocalIo {
            what,
            path: path.into(),
            source,
        }
    }
}
