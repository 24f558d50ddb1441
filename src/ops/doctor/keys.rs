//! Doctor's key checks: the recipients parse, the signing key is readable by
//! this user and its public half is in `trusted_keys`, the identity file
//! loads, and on a restore host (identity configured) the identity opens the
//! newest backup of each alias whose manifest `trusted_keys` verifies. A
//! problem here is an error: the next backup or restore would fail on it.
//! Key material is never put in a finding (public keys only).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::model::ManifestKey;
use crate::pipeline::{check_header, HeaderCheck, Identities, KeyError, Recipients, HEADER_PROBE_BYTES};
use crate::signing::{SigningError, SigningKey};
use crate::store::{ObjectStore, StoreError};

use super::{finding, Finding, Severity};
use crate::ops::catalog::read_manifest;
use crate::ops::OpsError;

const CHECK: &str = "keys";

/// What was read of this host's keys (public halves only).
pub struct KeyFacts {
    /// How many recipients parsed; `None` when none are configured.
    pub recipients: Option<Result<usize, KeyError>>,
    /// The public key (`RW…`) of `[signing] key_file`; `None` without one.
    pub signing: Option<Result<String, SigningError>>,
    /// `[signing] trusted_keys`, as `RW…` text.
    pub trusted: Vec<String>,
    pub allow_unsigned: bool,
    /// `[encryption] identity_file` and whether it loads.
    pub identity: Option<(PathBuf, Result<(), KeyError>)>,
}

fn with_fix(mut f: Finding, fix: String) -> Finding {
    f.fix = Some(fix);
    f
}

/// Judges the keys of a host.
pub fn judge_keys(k: &KeyFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let backs_up = k.recipients.is_some() || k.signing.is_some();
    match &k.recipients {
        Some(Ok(n)) => out.push(finding(CHECK, Severity::Ok, format!("{n} recipient(s) parse"), None)),
        Some(Err(e)) => out.push(finding(
            CHECK,
            Severity::Error,
            format!("[encryption] recipients: {e}"),
            Some("fix [encryption] recipients: the age1… lines `graphvault key generate` printed on the restore hosts"),
        )),
        None if k.signing.is_some() => out.push(finding(
            CHECK,
            Severity::Error,
            KeyError::NoRecipients.to_string(),
            Some("set [encryption] recipients on this backup host"),
        )),
        None => {}
    }
    match &k.signing {
        Some(Err(e)) => out.push(finding(
            CHECK,
            Severity::Error,
            format!("[signing] key_file: {e}"),
            Some("make the key file readable by the user graphvault runs as, and by no one else (chown, chmod 600), or point key_file at the key `graphvault key generate-signing` wrote"),
        )),
        Some(Ok(public)) if k.trusted.contains(public) => out.push(finding(
            CHECK,
            Severity::Ok,
            "signing key readable; its public key is in trusted_keys",
            None,
        )),
        Some(Ok(public)) => out.push(with_fix(
            finding(
                CHECK,
                Severity::Error,
                format!("the public key of [signing] key_file ({public}) is not in [signing] trusted_keys: hosts that restore, verify, drill or prune refuse the manifests it signs"),
                None,
            ),
            format!("add \"{public}\" to [signing] trusted_keys on every host (this one too)"),
        )),
        None if backs_up && !k.allow_unsigned => out.push(finding(
            CHECK,
            Severity::Error,
            SigningError::NoSigningKey.to_string(),
            Some("set [signing] key_file on this backup host"),
        )),
        None if backs_up => out.push(finding(
            CHECK,
            Severity::Warning,
            "no [signing] key_file: backups are written unsigned (signing.allow_unsigned)",
            Some("make a signing key with `graphvault key generate-signing` and set [signing] key_file"),
        )),
        None => {}
    }
    if k.trusted.is_empty() && !k.allow_unsigned {
        out.push(finding(
            CHECK,
            Severity::Error,
            SigningError::NoTrustedKeys.to_string(),
            Some("set [signing] trusted_keys to the public key of the backup hosts' signing key"),
        ));
    }
    match &k.identity {
        Some((path, Err(e))) => out.push(with_fix(
            finding(CHECK, Severity::Error, format!("[encryption] identity_file: {e}"), None),
            format!(
                "put the age identity `graphvault key generate` wrote at {} (mode 0600, owned by the user graphvault runs as), or correct [encryption] identity_file",
                path.display()
            ),
        )),
        Some((path, Ok(()))) if backs_up => out.push(finding(
            CHECK,
            Severity::Warning,
            format!("an age identity ({}) lies on a host that also encrypts backups", path.display()),
            Some("keep identities on restore hosts only: the backup host needs just the recipients"),
        )),
        Some((path, Ok(()))) => out.push(finding(
            CHECK,
            Severity::Ok,
            format!("identity file {} loads", path.display()),
            None,
        )),
        None => {}
    }
    out
}

/// Reads this host's keys: the facts to judge, and the identities when they load.
pub fn read_keys(config: &Config) -> (KeyFacts, Option<Identities>) {
    let recipients =
        (!config.recipients.is_empty()).then(|| Recipients::parse(&config.recipients).map(|r| r.as_strings().len()));
    let signing = config
        .signing
        .key_file
        .as_ref()
        .map(|path| SigningKey::from_file(path).map(|k| k.public().to_base64()));
    let mut identities = None;
    let identity = config.identity_file.as_ref().map(|path| {
        let loaded = Identities::from_file(path).map(|ids| identities = Some(ids));
        (path.clone(), loaded)
    });
    let facts = KeyFacts {
        recipients,
        signing,
        trusted: config.signing.trusted_keys.iter().map(|k| k.to_base64()).collect(),
        allow_unsigned: config.signing.allow_unsigned,
        identity,
    };
    (facts, identities)
}

/// How the newest backup of one alias looks to this restore host.
#[derive(Debug)]
pub enum NewestCheck {
    Opens,
    /// The manifest does not verify with `trusted_keys`.
    Untrusted(String),
    /// Encrypted to these recipients, none of which is this identity.
    WrongIdentity(Vec<String>),
    Unreadable(String),
    Archived,
}

/// Judges, per alias, whether this host could restore its newest backup.
pub fn judge_newest_backups(checked: &BTreeMap<String, (String, NewestCheck)>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut opened = 0;
    for (alias, (id, c)) in checked {
        let (severity, message, fix) = match c {
            NewestCheck::Opens => {
                opened += 1;
                continue;
            }
            NewestCheck::Untrusted(why) => (
                Severity::Error,
                format!("newest backup of '{alias}' ({id}): its manifest does not verify with [signing] trusted_keys: {why}"),
                "put the public key of the backup host's signing key in [signing] trusted_keys (`graphvault key generate-signing` printed it; also the second line of its .pub file)".to_string(),
            ),
            NewestCheck::WrongIdentity(recipients) => (
                Severity::Error,
                format!(
                    "the identity cannot decrypt the newest backup of '{alias}' ({id}); it was encrypted to: {}",
                    recipients.join(", ")
                ),
                "use the identity of one of those recipients (`age-keygen -y FILE` prints an identity's recipient), or add this identity's recipient to [encryption] recipients on the backup hosts (for new backups)".to_string(),
            ),
            NewestCheck::Unreadable(why) => (
                Severity::Error,
                format!("newest backup of '{alias}' ({id}) cannot be read or opened: {why}"),
                format!("run `graphvault verify --backup {id}`"),
            ),
            NewestCheck::Archived => (
                Severity::Warning,
                format!("newest backup of '{alias}' ({id}) is in an archive storage class: the identity could not be tried on it"),
                "keep recent backups in an instant storage class".to_string(),
            ),
        };
        out.push(with_fix(finding("identity", severity, message, None), fix));
    }
    if opened > 0 {
        out.push(finding(
            "identity",
            Severity::Ok,
            format!(
                "the identity opens the newest backup of {opened} alias(es), each manifest verified with trusted_keys"
            ),
            None,
        ));
    }
    out
}

/// Tries the identity on the newest of `keys` (trusted ones) of each alias.
pub async fn check_newest_backups(
    store: &dyn ObjectStore,
    config: &Config,
    identities: &Identities,
    keys: &[ManifestKey],
) -> Vec<Finding> {
    let trust = match config.signing.trust() {
        Ok(t) => t,
        Err(e) => {
            return vec![finding(
                "identity",
                Severity::Error,
                format!("no backup could be checked: {e}"),
                Some("fix the [signing] problem reported above"),
            )]
        }
    };
    let mut newest: BTreeMap<String, &ManifestKey> = BTreeMap::new();
    for k in keys {
        newest.insert(k.alias.to_string(), k);
    }
    let mut checked = BTreeMap::new();
    for (alias, key) in newest {
        let c = match read_manifest(store, &trust, key).await {
            Err(e @ OpsError::Signing(_)) => NewestCheck::Untrusted(e.to_string()),
            Err(e) => NewestCheck::Unreadable(e.to_string()),
            Ok(m) => match m.artifacts.first() {
                None => NewestCheck::Unreadable("the manifest lists no artifacts".into()),
                Some(a) => match read_start(store, &a.key, a.stored_size).await {
                    Err(StoreError::Archived { .. }) => NewestCheck::Archived,
                    Err(e) => NewestCheck::Unreadable(format!("{}: {e}", a.key)),
                    Ok(start) => match check_header(&start, identities) {
                        HeaderCheck::Opens => NewestCheck::Opens,
                        HeaderCheck::NoMatchingIdentity => NewestCheck::WrongIdentity(m.encryption.recipients.clone()),
                        HeaderCheck::Unreadable(why) => NewestCheck::Unreadable(format!("{}: {why}", a.key)),
                    },
                },
            },
        };
        checked.insert(alias, (key.backup_id.to_string(), c));
    }
    judge_newest_backups(&checked)
}

/// The first bytes of an object: enough for its age header.
async fn read_start(store: &dyn ObjectStore, key: &str, size: u64) -> Result<Vec<u8>, StoreError> {
    use futures::TryStreamExt;
    let mut stream = store.get(key, Some(0..size.min(HEADER_PROBE_BYTES))).await?;
    let mut buf = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> KeyFacts {
        KeyFacts {
            recipients: Some(Ok(1)),
            signing: Some(Ok("RWpub".into())),
            trusted: vec!["RWpub".into()],
            allow_unsigned: false,
            identity: None,
        }
    }

    fn errors(k: &KeyFacts) -> Vec<String> {
        judge_keys(k)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn every_broken_key_is_an_error_naming_it() {
        let unreadable = || SigningError::KeyUnreadable {
            path: "/k".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let missing_identity = || KeyError::IdentityUnreadable {
            path: "/id".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let table: Vec<(KeyFacts, &str)> = vec![
            (
                KeyFacts {
                    recipients: Some(Err(KeyError::BadRecipient {
                        index: 1,
                        shown: "age1qq".into(),
                    })),
                    ..facts()
                },
                "recipient #1",
            ),
            (
                KeyFacts {
                    signing: Some(Err(unreadable())),
                    ..facts()
                },
                "signing key file /k cannot be read",
            ),
            (
                KeyFacts {
                    trusted: vec!["RWother".into()],
                    ..facts()
                },
                "(RWpub) is not in [signing] trusted_keys",
            ),
            (
                KeyFacts {
                    signing: None,
                    ..facts()
                },
                "backups must be signed",
            ),
            (
                KeyFacts {
                    recipients: None,
                    ..facts()
                },
                "no age recipients",
            ),
            (
                KeyFacts {
                    recipients: None,
                    signing: None,
                    trusted: vec![],
                    ..facts()
                },
                "no trusted signing keys",
            ),
            (
                KeyFacts {
                    recipients: None,
                    signing: None,
                    identity: Some(("/id".into(), Err(missing_identity()))),
                    ..facts()
                },
                "identity file /id cannot be read",
            ),
        ];
        for (k, want) in table {
            let e = errors(&k);
            assert!(e.len() == 1 && e[0].contains(want), "{want}: {e:?}");
        }
        assert!(errors(&facts()).is_empty());
        let restore_host = KeyFacts {
            recipients: None,
            signing: None,
            identity: Some(("/id".into(), Ok(()))),
            ..facts()
        };
        assert!(errors(&restore_host).is_empty());
        let unsigned = KeyFacts {
            signing: None,
            allow_unsigned: true,
            ..facts()
        };
        let worst = judge_keys(&unsigned).into_iter().map(|f| f.severity).max();
        assert_eq!(worst, Some(Severity::Warning));
    }

    #[test]
    fn a_backup_this_host_cannot_restore_is_an_error_and_archived_ones_a_warning() {
        let mut checked = BTreeMap::new();
        checked.insert("c1".to_string(), ("b1".to_string(), NewestCheck::Opens));
        checked.insert(
            "c2".to_string(),
            ("b2".to_string(), NewestCheck::WrongIdentity(vec!["age1x".into()])),
        );
        checked.insert("c3".to_string(), ("b3".to_string(), NewestCheck::Untrusted("x".into())));
        checked.insert("c4".to_string(), ("b4".to_string(), NewestCheck::Archived));
        let f = judge_newest_backups(&checked);
        let by = |s: Severity| f.iter().filter(|x| x.severity == s).count();
        assert_eq!(
            (by(Severity::Error), by(Severity::Warning), by(Severity::Ok)),
            (2, 1, 1),
            "{f:?}"
        );
        assert!(f.iter().any(|x| x.message.contains("encrypted to: age1x")));
    }
}
