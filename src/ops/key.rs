//! `graphvault key generate`: a new age identity for restore hosts.

use std::path::Path;

use crate::pipeline::{generate_identity, KeyError};

/// Writes a new identity (0600) and returns its public recipient.
pub fn generate_key(output: &Path) -> Result<String, KeyError> {
    generate_identity(output)
}
