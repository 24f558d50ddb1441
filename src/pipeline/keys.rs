//! age recipients (public, on backup hosts) and identities (secret, on restore
//! hosts only).
//!
//! Recipients may be X25519 (`age1…`) or SSH public keys (`ssh-ed25519 …`,
//! `ssh-rsa …`). Identity files are refused when group or others can read
//! them, like ssh does, and key material is never logged or displayed.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;

/// Problems with keys: always names the key or file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no age recipients configured: set [encryption] recipients = [\"age1…\"] (run `graphvault key generate` to make a key pair)")]
    NoRecipients,
    #[error(
        "recipient #{index} ('{shown}') is not an age X25519 recipient (age1…) or an ssh-ed25519/ssh-rsa public key: copy the age1… line `graphvault key generate` printed on the restore host into [encryption] recipients"
    )]
    BadRecipient { index: usize, shown: String },
    /// Nothing of the value is shown: it is secret.
    #[error("recipient #{index} is not a recipient: this looks like an age secret key (identity); put the public key (age1…) here — `age-keygen -y IDENTITY_FILE` prints it — and keep the secret key on restore hosts only (if this config has been shared, make a new key pair)")]
    SecretKeyAsRecipient { index: usize },
    #[error("identity file {path} cannot be read: {source}")]
    IdentityUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("identity file {path} is readable by group or others (mode {mode:04o}): run `chmod 600 {path}`")]
    IdentityPermissions { path: PathBuf, mode: u32 },
    #[error("identity file {path} holds no usable age or unencrypted ssh identity{hint}")]
    IdentityInvalid { path: PathBuf, hint: String },
    #[error("no identity configured: set [encryption] identity_file (restore hosts only) or pass --identity FILE")]
    NoIdentity,
    #[error("{path} already exists: refusing to overwrite a key; choose another --output")]
    KeyExists { path: PathBuf },
    #[error("cannot write key file {path}: {source}")]
    KeyWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The public keys every backup is encrypted to.
pub struct Recipients {
    keys: Vec<Box<dyn age::Recipient + Send + Sync>>,
    text: Vec<String>,
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.text).finish()
    }
}

impl Recipients {
    /// Parses recipient strings (age1…, ssh-ed25519 …, ssh-rsa …).
    pub fn parse(list: &[String]) -> Result<Self, KeyError> {
        if list.is_empty() {
            return Err(KeyError::NoRecipients);
        }
        let mut keys: Vec<Box<dyn age::Recipient + Send + Sync>> = Vec::new();
        let mut text = Vec::new();
        for (i, raw) in list.iter().enumerate() {
            let s = raw.trim();
            if looks_secret(s) {
                return Err(KeyError::SecretKeyAsRecipient { index: i + 1 });
            }
            let bad = || KeyError::BadRecipient {
                index: i + 1,
                shown: shorten(s),
            };
            if s.starts_with("age1") {
                keys.push(Box::new(age::x25519::Recipient::from_str(s).map_err(|_| bad())?));
            } else if s.starts_with("ssh-") {
                keys.push(Box::new(age::ssh::Recipient::from_str(s).map_err(|_| bad())?));
            } else {
                return Err(bad());
            }
            text.push(s.to_string());
        }
        Ok(Self { keys, text })
    }

    /// The recipients as configured (public; recorded in manifests).
    pub fn as_strings(&self) -> &[String] {
        &self.text
    }

    pub(crate) fn encryptor(&self) -> Result<age::Encryptor, age::EncryptError> {
        age::Encryptor::with_recipients(self.keys.iter().map(|k| k.as_ref() as &dyn age::Recipient))
    }
}

/// Whether a would-be recipient is secret key material (an age identity,
/// in any casing, or a private key block), which must never be echoed.
fn looks_secret(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    upper.contains("AGE-SECRET-KEY") || upper.contains("PRIVATE KEY")
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 24 {
        format!("{}…", s.chars().take(24).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Secret keys that can open backups.
pub struct Identities {
    keys: Vec<Box<dyn age::Identity + Send + Sync>>,
    /// Public recipients of the X25519 identities (ssh ones are not derived).
    publics: Vec<String>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identities({} keys, redacted)", self.keys.len())
    }
}

impl Identities {
    /// Loads an age identity file (or an unencrypted OpenSSH private key),
    /// refusing one that group or others can read.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        use crate::secret_file::{read_secret_file, SecretFileError};
        let bytes = read_secret_file(path).map_err(|e| match e {
            SecretFileError::Unreadable(source) => KeyError::IdentityUnreadable {
                path: path.to_path_buf(),
                source,
            },
            SecretFileError::Exposed { mode } => KeyError::IdentityPermissions {
                path: path.to_path_buf(),
                mode,
            },
        })?;
        let invalid = |hint: &str| KeyError::IdentityInvalid {
            path: path.to_path_buf(),
            hint: hint.to_string(),
        };
        let text = String::from_utf8_lossy(&bytes);
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            let id = age::ssh::Identity::from_buffer(&bytes[..], Some(path.display().to_string()))
                .map_err(|_| invalid(" (the OpenSSH key could not be parsed)"))?;
            return match id {
                age::ssh::Identity::Unencrypted(_) => Ok(Self {
                    keys: vec![Box::new(id)],
                    publics: Vec::new(),
                }),
                age::ssh::Identity::Encrypted(_) => Err(invalid(
                    " (the ssh key is passphrase-protected: unattended restores need an age identity, see docs/FORMAT.md)",
                )),
                age::ssh::Identity::Unsupported(_) => Err(invalid(" (unsupported ssh key type)")),
            };
        }
        let mut keys: Vec<Box<dyn age::Identity + Send + Sync>> = Vec::new();
        let mut publics = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !line.starts_with("AGE-SECRET-KEY-") {
                return Err(invalid(&format!(
                    " (line {}: expected AGE-SECRET-KEY-…; plugin identities are not supported)",
                    n + 1
                )));
            }
            let id = age::x25519::Identity::from_str(line)
                .map_err(|_| invalid(&format!(" (line {} is not a valid AGE-SECRET-KEY)", n + 1)))?;
            publics.push(id.to_public().to_string());
            keys.push(Box::new(id));
        }
        if keys.is_empty() {
            return Err(invalid(" (expected a line starting with AGE-SECRET-KEY-)"));
        }
        Ok(Self { keys, publics })
    }

    /// Whether one of these identities belongs to one of `recipients`: then a
    /// header that does not open means corruption, not the wrong key.
    pub fn belongs_to_any(&self, recipients: &[String]) -> bool {
        self.publics.iter().any(|p| recipients.iter().any(|r| r.trim() == p))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.keys.iter().map(|k| k.as_ref() as &dyn age::Identity)
    }
}

/// Writes a new X25519 identity to `path` (mode 0600, never overwriting) and
/// returns its public recipient.
pub fn generate_identity(path: &Path) -> Result<String, KeyError> {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let write_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::KeyExists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::KeyWrite {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err)?;
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    );
    file.write_all(body.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(write_err)?;
    Ok(recipient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_identity_is_private_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.txt");
        let recipient = generate_identity(&path).unwrap();
        assert!(recipient.starts_with("age1"));
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        Identities::from_file(&path).unwrap();
        Recipients::parse(&[recipient]).unwrap();
        assert!(matches!(generate_identity(&path), Err(KeyError::KeyExists { .. })));
    }

    #[test]
    fn identity_readable_by_others_is_refused_with_chmod_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.txt");
        generate_identity(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Identities::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn bad_recipients_are_named_by_position_without_echoing_the_whole_string() {
        let err = Recipients::parse(&["age1qqqq".into()]).unwrap_err();
        assert!(err.to_string().contains("#1"), "{err}");
        let err = Recipients::parse(&[]).unwrap_err();
        assert!(err.to_string().contains("key generate"), "{err}");
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOU3DePHsDYyxGkYMCaeLOGgHcUbmqjRl/aEdVbcocoC test";
        let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCphFKuIWEzZmT0jJIcGjy4oPZEa3z5VE8iG/jGQK9op1/HkFb/hQaUuuuLSBpK3m7OyAOLoSd3KwkRHULate2kj2d13/4jdFOOSzcn6FaLQVwZKYP86RZmIRPB3N8cfRXHvWSIw+bYM+KL6pYm7bWfXFtptxhLzE3xm9hw+AD71bFszDEh8AS7jTSFlxjhOMEdSmPKAJ38qOMEcge2H5S+VT7vdaQShvLrRjOmyvTCaG+nPeaUO0zq0rrpUAsAJAWif77H+KxDDdv/WODPgiYdFsKR2Fj9XDGrAHLhMNVoI/4poNJAylw/l7Qz2Tzu/yfHKsuxyr9D2RgqtGj8Mz4H test";
        let both = Recipients::parse(&[ssh.into(), rsa.into()]).unwrap();
        assert_eq!(both.as_strings().len(), 2);
        both.encryptor().unwrap();
    }

    #[test]
    fn a_secret_key_in_recipients_is_named_but_never_echoed_even_partly() {
        let secret = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZVGQ3J7YN";
        let body = &secret["AGE-SECRET-KEY-1".len()..];
        for pasted in [
            secret.to_string(),
            secret.to_ascii_lowercase(),
            format!("  {secret}  "),
            format!("# created: 2026-11-24\n{secret}"),
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ".to_string(),
        ] {
            let err = Recipients::parse(std::slice::from_ref(&pasted)).unwrap_err();
            assert!(matches!(err, KeyError::SecretKeyAsRecipient { index: 1 }), "{err}");
            let text = format!("{err} {err:?}");
            assert!(text.contains("this looks like an age secret key"), "{text}");
            for window in body.as_bytes().windows(4) {
                let w = std::str::from_utf8(window).unwrap();
                assert!(!text.to_ascii_uppercase().contains(w), "{w} echoed: {text}");
            }
            assert!(!text.contains("b3Blbn"), "{text}");
        }
    }
}
