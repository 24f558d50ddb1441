//! Typed store errors, so retry logic and exit codes can reason about them.

/// An error from an object store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object '{key}' does not exist")]
    NotFound { key: String },

    #[error("bucket '{bucket}' does not exist: create it, or fix storage.url")]
    NoSuchBucket { bucket: String },

    #[error("object '{key}' already exists (conditional write refused)")]
    PreconditionFailed { key: String },

    #[error("access denied during {op}: {detail}. Check the credentials and the bucket policy")]
    AccessDenied { op: &'static str, detail: String },

    /// No credentials, or credentials the store refuses as such (unknown
    /// key, wrong secret, expired token). Not retried.
    #[error("{op}: {problem}. {fix}")]
    Credentials {
        op: &'static str,
        problem: String,
        fix: String,
    },

    #[error("the store rejected the body of '{key}' because its SHA-256 did not match: {detail}")]
    ChecksumMismatch { key: String, detail: String },

    #[error("multipart upload {upload_id} of '{key}' no longer exists")]
    NoSuchUpload { key: String, upload_id: String },

    /// The object sits in an archive storage class (GLACIER, DEEP_ARCHIVE)
    /// and must be restored (a temporary copy, hours) before it can be read.
    #[error("object '{key}' is in the {storage_class} archive and must be restored before it can be read (`graphvault restore` requests that; it takes hours)")]
    Archived { key: String, storage_class: String },

    /// No connection to the store at all (refused, DNS, TLS). Retried, since
    /// a store restarting looks the same.
    #[error("{op} could not reach the object store: {detail}. Check storage.endpoint (or storage.region on AWS), the network and any proxy")]
    Unreachable { op: &'static str, detail: String },

    /// Worth retrying: 5xx, throttling, timeouts, dropped connections.
    #[error("{op} failed (transient): {detail}")]
    Transient { op: &'static str, detail: String },

    /// The store does not implement a request graphvault relies on (HTTP 501
    /// `NotImplemented`, or a condition it was seen to ignore). Not retried.
    #[error("the store does not support {op}: {detail}. Use a store that implements it (docs/DESIGN.md, \"Leases and locks\", lists the S3 features graphvault relies on)")]
    Unsupported { op: &'static str, detail: String },

    /// Not worth retrying.
    #[error("{op} failed: {detail}")]
    Permanent { op: &'static str, detail: String },

    #[error("{op} on {path}: {source}")]
    Io {
        op: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the same request may succeed if sent again.
    pub fn is_retryable(&self) -> bool {
        match self {
            // A body corrupted on the wire is re-sent from memory.
            Self::Transient { .. } | Self::Unreachable { .. } | Self::ChecksumMismatch { .. } => true,
            Self::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub(crate) fn io(op: &'static str, path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
