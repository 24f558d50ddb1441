//! The single table from errors to process exit codes (docs/EXIT_CODES.md).
//!
//! Scripts and monitoring depend on these numbers: never renumber, only add.

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::lease::{LeaseError, LockError};
use crate::model::{ManifestError, NameError};
use crate::neo4j::cypher_names::InvalidNeo4jName;
use crate::neo4j::{AdminError, BoltError, RecordError};
use crate::ops::backup_run::PreflightError;
use crate::ops::OpsError;
use crate::pipeline::{KeyError, OpenError, SealError};
use crate::signing::SigningError;
use crate::store::StoreError;

/// Documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Unexpected internal error (a bug: please report).
    Internal = 1,
    /// Bad command line, config or input value.
    Usage = 2,
    /// Some of the work succeeded, some failed.
    Partial = 3,
    /// Data did not verify: checksum, size or decryption mismatch.
    Integrity = 4,
    /// The object store failed or refused (unreachable, access denied, no bucket).
    Storage = 5,
    /// Keys: no/invalid recipients, unusable identity, or no identity matches.
    Key = 6,
    /// The backup (or object) asked for does not exist.
    NotFound = 7,
    /// A local file or directory problem (unreadable artifact, unwritable target).
    LocalIo = 8,
    /// Neo4j cannot be reached over Bolt, refused the credentials, or timed out.
    Neo4jUnavailable = 9,
    /// Neo4j or neo4j-admin refused or failed a command.
    Neo4jFailed = 10,
    /// A run over several databases where every one failed.
    AllFailed = 11,
    /// Another graphvault run holds the store's lease or the staging lock.
    Busy = 12,
    /// The backup is in an archive storage class; a restore of it was
    /// requested (or is running); try again when it is readable.
    Archived = 13,
    /// `doctor` found at least one error.
    Unhealthy = 14,
    /// The bucket's versioning or object lock could not be read (and config
    /// does not state it): prune deleted nothing.
    ProtectionUnknown = 15,
    /// `backup`: every backup committed, but at least one's size,
    /// compression ratio or time is far from its alias's recent history.
    Anomalous = 16,
    /// `drill`: every restore worked, but at least one alias had nothing to
    /// check it with (no `[[drill.check]]`, no counts recorded at backup time).
    Unchecked = 17,
}

impl Exit {
    /// Every code, in order: what docs/EXIT_CODES.md's table must list
    /// (tests/cli_meta.rs compares the two). A new variant fails to compile
    /// in `every_variant_is_in_all` until it is added here.
    pub const ALL: [Exit; 18] = [
        Exit::Ok,
        Exit::Internal,
        Exit::Usage,
        Exit::Partial,
        Exit::Integrity,
        Exit::Storage,
        Exit::Key,
        Exit::NotFound,
        Exit::LocalIo,
        Exit::Neo4jUnavailable,
        Exit::Neo4jFailed,
        Exit::AllFailed,
        Exit::Busy,
        Exit::Archived,
        Exit::Unhealthy,
        Exit::ProtectionUnknown,
        Exit::Anomalous,
        Exit::Unchecked,
    ];

    /// The name docs/EXIT_CODES.md gives it (the variant's).
    pub fn name(self) -> String {
        format!("{self:?}")
    }

    /// What it means, in a few words: the summary in `--help` and the
    /// EXIT STATUS section of the man pages (docs/EXIT_CODES.md has more).
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Internal => "internal error (a bug)",
            Exit::Usage => "bad usage/config/input",
            Exit::Partial => "partly failed",
            Exit::Integrity => "integrity (checksum/decryption mismatch, untrusted manifest)",
            Exit::Storage => "storage (unreachable, credentials, access denied, no bucket)",
            Exit::Key => "keys",
            Exit::NotFound => "not found (no such backup, or a name or prefix with no backups)",
            Exit::LocalIo => "local file",
            Exit::Neo4jUnavailable => "Neo4j unreachable",
            Exit::Neo4jFailed => "Neo4j/neo4j-admin failed",
            Exit::AllFailed => "all failed",
            Exit::Busy => "busy (another run holds the lease)",
            Exit::Archived => "archived (restore from archive requested)",
            Exit::Unhealthy => "doctor found errors",
            Exit::ProtectionUnknown => {
                "bucket protection unknown (prune deleted nothing: versioning or object lock unreadable)"
            }
            Exit::Anomalous => {
                "backup anomaly (every backup committed, but one's size or time is far from its recent history)"
            }
            Exit::Unchecked => "drill unchecked (restored, but no check or recorded count checked the data)",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

fn store(e: &StoreError) -> Exit {
    match e {
        StoreError::NotFound { .. } => Exit::NotFound,
        StoreError::Archived { .. } => Exit::Archived,
        _ => Exit::Storage,
    }
}

fn seal(e: &SealError) -> Exit {
    match e {
        SealError::Source { .. } | SealError::Changed { .. } => Exit::LocalIo,
        SealError::TooLarge { .. } => Exit::Usage,
        SealError::Encrypt { .. } => Exit::Key,
        SealError::Store { source, .. } => store(source),
        SealError::Verify { .. } => Exit::Integrity,
        SealError::Compress { .. } | SealError::Interrupted { .. } | SealError::Internal { .. } => Exit::Internal,
    }
}

fn open(e: &OpenError) -> Exit {
    match e {
        OpenError::WrongIdentity { .. } => Exit::Key,
        OpenError::Integrity { .. } => Exit::Integrity,
        OpenError::Store { source, .. } => store(source),
        OpenError::Write { .. } => Exit::LocalIo,
        OpenError::Internal { .. } => Exit::Internal,
    }
}

fn signing(e: &SigningError) -> Exit {
    match e {
        SigningError::Untrusted { .. } => Exit::Integrity,
        SigningError::NoSigningKey | SigningError::NoTrustedKeys => Exit::Usage,
        SigningError::KeyUnreadable { .. }
        | SigningError::KeyPermissions { .. }
        | SigningError::KeyInvalid { .. }
        | SigningError::KeyExists { .. }
        | SigningError::KeyWrite { .. }
        | SigningError::Sign { .. } => Exit::Key,
    }
}

fn lease(e: &LeaseError) -> Exit {
    match e {
        LeaseError::Held { .. } => Exit::Busy,
        LeaseError::Corrupt { .. } => Exit::Integrity,
        LeaseError::Store { source, .. } => store(source),
    }
}

fn bolt(e: &BoltError) -> Exit {
    match e {
        BoltError::Unreachable { .. } | BoltError::Unauthorized { .. } | BoltError::Timeout { .. } => {
            Exit::Neo4jUnavailable
        }
        BoltError::DatabaseNotFound { .. } => Exit::NotFound,
        BoltError::NotOnline { .. }
        | BoltError::Server { .. }
        | BoltError::Protocol { .. }
        | BoltError::BadSeed { .. } => Exit::Neo4jFailed,
    }
}

fn admin(e: &AdminError) -> Exit {
    match e {
        // Staging (where the run records live) is unwritable or holds an unreadable record.
        AdminError::Record(RecordError::Write { .. } | RecordError::Unreadable { .. }) => Exit::LocalIo,
        _ => Exit::Neo4jFailed,
    }
}

fn ops(e: &OpsError) -> Exit {
    match e {
        OpsError::AliasNotFound { .. } | OpsError::DatabaseNotFound { .. } => Exit::NotFound,
        OpsError::DatabaseNotOnline { .. } => Exit::Neo4jFailed,
        OpsError::DatabaseInUse { .. }
        | OpsError::NotConfirmed { .. }
        | OpsError::Neo4jName(_)
        | OpsError::TargetExists { .. }
        | OpsError::ClusterOverwrite { .. }
        | OpsError::ClusterSeed { .. } => Exit::Usage,
        OpsError::Bolt(e) => bolt(e),
        OpsError::Admin(e) => admin(e),
        OpsError::DiffWithoutParent { .. } => Exit::Neo4jFailed,
        OpsError::BackupNotFound { .. } | OpsError::UnknownName { .. } | OpsError::NoRepository { .. } => {
            Exit::NotFound
        }
        OpsError::ArtifactMissing { .. }
        | OpsError::DestinationExists { .. }
        | OpsError::NoRoom { .. }
        | OpsError::LocalIo { .. } => Exit::LocalIo,
        OpsError::Name(_) | OpsError::BadBackupId(_) => Exit::Usage,
        OpsError::Key(_) => Exit::Key,
        OpsError::Seal(e) => seal(e),
        OpsError::Open(e) => open(e),
        OpsError::Manifest(_) | OpsError::NoUsableBackup { .. } => Exit::Integrity,
        OpsError::Signing(e) => signing(e),
        OpsError::Store { source, .. } => store(source),
        OpsError::NothingToBackUp { .. } => Exit::NotFound,
        OpsError::BrokenChain { .. } | OpsError::VerifyFailed { .. } | OpsError::SwitchRecord { .. } => Exit::Integrity,
        OpsError::NoRollback { .. } => Exit::NotFound,
        OpsError::SwitchNotRecorded { source, .. } => ops(source),
        OpsError::ArchivePending { .. } => Exit::Archived,
        OpsError::Unhealthy { .. } => Exit::Unhealthy,
        OpsError::ProtectionUnknown { .. } => Exit::ProtectionUnknown,
        OpsError::Interrupted { .. } => Exit::Partial,
        OpsError::DrillFailed { failed, total } if failed == total => Exit::AllFailed,
        OpsError::DrillFailed { .. } => Exit::Partial,
        OpsError::DrillUnchecked { .. } => Exit::Unchecked,
        OpsError::SomeFailed { .. } | OpsError::PruneIncomplete { .. } => Exit::Partial,
        OpsError::Lock(LockError::Busy { .. }) | OpsError::LeaseLost { .. } => Exit::Busy,
        OpsError::Lease(e) => lease(e),
        OpsError::Lock(LockError::Io { .. }) => Exit::LocalIo,
        OpsError::AllFailed { .. } => Exit::AllFailed,
        OpsError::Anomalous { .. } => Exit::Anomalous,
        OpsError::Staging(_) => Exit::LocalIo,
        OpsError::Preflight(PreflightError::StoreWrite { source, .. }) => store(source),
        OpsError::Preflight(
            PreflightError::NoSpace(_) | PreflightError::Full { .. } | PreflightError::Staging { .. },
        ) => Exit::LocalIo,
    }
}

/// The message for an error that reached `main`: each cause in the chain
/// after the first, joined with ": ", unless the text so far already says
/// it (many messages quote their cause, which the chain repeats).
pub fn render(err: &anyhow::Error) -> String {
    crate::error_text::join_causes(err.as_ref())
}

/// The exit code for an error that reached `main`: the first error in the
/// chain that graphvault knows decides.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<OpsError>() {
            return ops(e);
        }
        if let Some(e) = cause.downcast_ref::<SealError>() {
            return seal(e);
        }
        if let Some(e) = cause.downcast_ref::<OpenError>() {
            return open(e);
        }
        if let Some(e) = cause.downcast_ref::<LeaseError>() {
            return lease(e);
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return store(e);
        }
        if let Some(e) = cause.downcast_ref::<BoltError>() {
            return bolt(e);
        }
        if let Some(e) = cause.downcast_ref::<AdminError>() {
            return admin(e);
        }
        if cause.is::<InvalidNeo4jName>() {
            return Exit::Usage;
        }
        if cause.is::<ConfigError>() || cause.is::<NameError>() || cause.is::<clap::Error>() {
            return Exit::Usage;
        }
        if cause.is::<KeyError>() {
            return Exit::Key;
        }
        if let Some(e) = cause.downcast_ref::<SigningError>() {
            return signing(e);
        }
        if cause.is::<ManifestError>() {
            return Exit::Integrity;
        }
    }
    Exit::Internal
}

#[cfg(test)]
mod tests {
    use super::{classify, render, Exit};
    use crate::ops::bucket_settings::{Setting, Unread};
    use crate::ops::OpsError;
    use crate::store::StoreError;

    #[test]
    fn every_documented_code_keeps_its_number() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Internal, 1),
            (Exit::Usage, 2),
            (Exit::Partial, 3),
            (Exit::Integrity, 4),
            (Exit::Storage, 5),
            (Exit::Key, 6),
            (Exit::NotFound, 7),
            (Exit::LocalIo, 8),
            (Exit::Neo4jUnavailable, 9),
            (Exit::Neo4jFailed, 10),
            (Exit::AllFailed, 11),
            (Exit::Busy, 12),
            (Exit::Archived, 13),
            (Exit::Unhealthy, 14),
            (Exit::ProtectionUnknown, 15),
            (Exit::Anomalous, 16),
            (Exit::Unchecked, 17),
        ];
        for (exit, code) in table {
            assert_eq!(exit as u8, code, "{exit:?}");
        }
    }

    #[test]
    fn every_variant_is_in_all() {
        // Exhaustive on purpose: a new code must be added to `Exit::ALL`
        // (and so to docs/EXIT_CODES.md) before this compiles again.
        let position = |e: Exit| match e {
            Exit::Ok
            | Exit::Internal
            | Exit::Usage
            | Exit::Partial
            | Exit::Integrity
            | Exit::Storage
            | Exit::Key
            | Exit::NotFound
            | Exit::LocalIo
            | Exit::Neo4jUnavailable
            | Exit::Neo4jFailed
            | Exit::AllFailed
            | Exit::Busy
            | Exit::Archived
            | Exit::Unhealthy
            | Exit::ProtectionUnknown
            | Exit::Anomalous
            | Exit::Unchecked => e as usize,
        };
        for (i, e) in Exit::ALL.into_iter().enumerate() {
            assert_eq!(position(e), i, "{e:?}");
        }
    }

    #[test]
    fn unreadable_bucket_protection_exits_15_even_when_access_was_denied() {
        let denied = StoreError::AccessDenied {
            op: "GetBucketVersioning",
            detail: "HTTP 403 AccessDenied".into(),
        };
        let err = anyhow::Error::new(OpsError::ProtectionUnknown {
            location: "s3://b".into(),
            consequence: "prune deleted nothing",
            unread: vec![Unread {
                setting: Setting::Versioning,
                error: denied,
            }],
        });
        assert_eq!(classify(&err), Exit::ProtectionUnknown);
    }

    #[test]
    fn neo4j_admin_errors_map_to_neo4j_or_local_codes() {
        use crate::neo4j::{AdminError, RecordError};
        let io = || std::io::Error::other("x");
        let table: Vec<(AdminError, Exit)> = vec![
            (
                AdminError::Failed {
                    command: "database backup".into(),
                    stderr: vec![],
                },
                Exit::Neo4jFailed,
            ),
            (
                AdminError::Killed {
                    command: "database backup".into(),
                    signal: 9,
                    stderr: vec![],
                },
                Exit::Neo4jFailed,
            ),
            (
                AdminError::UnknownBackupType {
                    database: "d".into(),
                    artifact: "a".into(),
                    detail: "x".into(),
                },
                Exit::Neo4jFailed,
            ),
            (
                AdminError::Unstoppable {
                    command: "database backup".into(),
                    pids: vec![7],
                },
                Exit::Neo4jFailed,
            ),
            (
                AdminError::Record(RecordError::Unstoppable { pgid: 7, pids: vec![8] }),
                Exit::Neo4jFailed,
            ),
            (
                AdminError::Record(RecordError::Write {
                    path: "p".into(),
                    source: io(),
                }),
                Exit::LocalIo,
            ),
            (
                AdminError::Record(RecordError::Unreadable {
                    path: "p".into(),
                    detail: "x".into(),
                }),
                Exit::LocalIo,
            ),
        ];
        for (e, code) in table {
            let text = e.to_string();
            assert_eq!(classify(&anyhow::Error::new(OpsError::Admin(e))), code, "{text}");
        }
        let orphan = OpsError::DiffWithoutParent {
            database: "d".into(),
            artifact: "a".into(),
        };
        assert_eq!(classify(&anyhow::Error::new(orphan)), Exit::Neo4jFailed);
    }

    /// The errors issue 17 added or re-routed, each with its documented code,
    /// whether it reaches `main` bare or wrapped in `OpsError`.
    #[test]
    fn forged_bucket_objects_and_secret_recipients_map_to_their_codes() {
        use crate::lease::{Holder, LeaseError};
        use crate::model::ManifestError;
        use crate::pipeline::KeyError;
        let held = || LeaseError::Held {
            location: "s3://b".into(),
            key: "locks/repository/00000000000000000001.json".into(),
            holder: Box::new(Holder {
                run_id: "r".into(),
                host: "h".into(),
                pid: 1,
                command: "backup".into(),
            }),
            free_at: chrono::Utc::now(),
            note: String::new(),
        };
        let corrupt = || LeaseError::Corrupt {
            key: "k".into(),
            detail: "d".into(),
        };
        let unsafe_name = || ManifestError::UnsafeArtifactName {
            key: "k".into(),
            name: "../x".into(),
        };
        let table: Vec<(anyhow::Error, Exit)> = vec![
            (anyhow::Error::new(held()), Exit::Busy),
            (anyhow::Error::new(OpsError::Lease(held())), Exit::Busy),
            (anyhow::Error::new(corrupt()), Exit::Integrity),
            (anyhow::Error::new(unsafe_name()), Exit::Integrity),
            (anyhow::Error::new(OpsError::Manifest(unsafe_name())), Exit::Integrity),
            (
                anyhow::Error::new(OpsError::NoUsableBackup {
                    what: "of 'customer1'".into(),
                    location: "s3://b".into(),
                    skipped: 1,
                    newest: "20261124T020000Z-3fa91c".into(),
                    reason: "it has no signature".into(),
                }),
                Exit::Integrity,
            ),
            (
                anyhow::Error::new(KeyError::SecretKeyAsRecipient { index: 1 }),
                Exit::Key,
            ),
        ];
        for (err, code) in table {
            assert_eq!(classify(&err), code, "{err}");
        }
    }

    #[test]
    fn drill_outcomes_and_unrecorded_switches_map_to_their_codes() {
        let unrecorded = OpsError::SwitchNotRecorded {
            alias: "customer1".into(),
            target: "customer1-2".into(),
            previous: Some("customer1-1".into()),
            source: Box::new(OpsError::Store {
                location: "s3://b".into(),
                source: StoreError::AccessDenied {
                    op: "PutObject",
                    detail: "403".into(),
                },
            }),
        };
        assert!(
            unrecorded
                .to_string()
                .contains("To go back: graphvault alias switch customer1 customer1-1 --no-backup"),
            "{unrecorded}"
        );
        let table = [
            (OpsError::DrillFailed { failed: 1, total: 2 }, Exit::Partial),
            (OpsError::DrillFailed { failed: 2, total: 2 }, Exit::AllFailed),
            (OpsError::DrillUnchecked { unchecked: 2, total: 2 }, Exit::Unchecked),
            (unrecorded, Exit::Storage),
        ];
        for (e, code) in table {
            let text = e.to_string();
            assert_eq!(classify(&anyhow::Error::new(e)), code, "{text}");
        }
    }

    #[test]
    fn backup_run_outcomes_map_to_their_codes() {
        let table = [
            (OpsError::SomeFailed { failed: 1, total: 2 }, Exit::Partial),
            (OpsError::AllFailed { total: 2 }, Exit::AllFailed),
            (OpsError::Anomalous { anomalous: 1, total: 2 }, Exit::Anomalous),
        ];
        for (e, code) in table {
            let text = e.to_string();
            assert_eq!(classify(&anyhow::Error::new(e)), code, "{text}");
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config file x.toml: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn a_cause_the_message_already_quotes_is_not_repeated() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let err = anyhow::Error::new(Quoting(io()));
        assert_eq!(
            render(&err),
            "cannot read config file x.toml: No such file or directory"
        );
        let err = anyhow::Error::new(io()).context("loading the config");
        assert_eq!(render(&err), "loading the config: No such file or directory");
    }
}
