//! Whether an identity opens a stored object, from its first bytes only: the
//! age header names the recipients' stanzas and carries a MAC, so unwrapping
//! the file key and checking the MAC proves the identity fits without
//! downloading (or decrypting) the payload. Never reads more than it is given.

use super::keys::Identities;

/// Bytes of a stored object that always hold its whole age header (a header
/// is a few hundred bytes per recipient; ssh-rsa stanzas are the largest).
pub const HEADER_PROBE_BYTES: u64 = 64 * 1024;

/// What the header said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderCheck {
    /// One of the identities unwraps the file key and the header MAC checks.
    Opens,
    /// None of the identities matches a recipient stanza.
    NoMatchingIdentity,
    /// Not an age header, or a damaged one.
    Unreadable(String),
}

/// Checks the age header at the start of a stored object.
pub fn check_header(start: &[u8], identities: &Identities) -> HeaderCheck {
    let decryptor = match age::Decryptor::new(start) {
        Ok(d) => d,
        Err(e) => return HeaderCheck::Unreadable(e.to_string()),
    };
    match decryptor.decrypt(identities.iter()) {
        Ok(_) => HeaderCheck::Opens,
        Err(age::DecryptError::NoMatchingKeys) => HeaderCheck::NoMatchingIdentity,
        Err(e) => HeaderCheck::Unreadable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::pipeline::{generate_identity, Recipients};

    fn key(dir: &std::path::Path, name: &str) -> (Identities, String) {
        let path = dir.join(name);
        let recipient = generate_identity(&path).unwrap();
        (Identities::from_file(&path).unwrap(), recipient)
    }

    #[test]
    fn only_an_identity_of_a_recipient_opens_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, recipient) = key(dir.path(), "ours");
        let (stranger, _) = key(dir.path(), "stranger");
        let recipients = Recipients::parse(&[recipient]).unwrap();
        let mut sealed = Vec::new();
        let mut w = recipients.encryptor().unwrap().wrap_output(&mut sealed).unwrap();
        w.write_all(&[7u8; 200_000]).unwrap();
        w.finish().unwrap();
        let start = &sealed[..HEADER_PROBE_BYTES as usize];
        assert_eq!(check_header(start, &ours), HeaderCheck::Opens);
        assert_eq!(check_header(start, &stranger), HeaderCheck::NoMatchingIdentity);
        assert!(matches!(
            check_header(b"not age at all", &ours),
            HeaderCheck::Unreadable(_)
        ));
        let mut damaged = start.to_vec();
        let mac = sealed.windows(4).position(|w| w == b"--- ").unwrap() + 5;
        damaged[mac] ^= 1;
        assert!(
            matches!(check_header(&damaged, &ours), HeaderCheck::Unreadable(_)),
            "a damaged MAC is not 'opens'"
        );
    }
}
