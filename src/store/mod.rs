//! Object stores: the one trait graphvault talks to, and its implementations.
//!
//! The contract, which every implementation honours and `tests/store_conformance.rs`
//! checks against both the filesystem store and S3 on LocalStack:
//! - keys are relative to the store's root (its bucket prefix or directory) and
//!   use `/` as separator; the store never exposes objects outside its root;
//! - an object becomes visible whole or not at all (no reader ever sees half a
//!   PUT or an unfinished multipart upload);
//! - `put` and `upload_part` carry the SHA-256 of their body; the store rejects
//!   a body that does not match it (`ChecksumMismatch`);
//! - a `PutMode::CreateOnly` put is atomic: of concurrent create-only puts of
//!   one key exactly one succeeds and the others fail with
//!   `PreconditionFailed` (leases and manifest commits rely on it); a store
//!   that answers such a request with 501 fails with `Unsupported`;
//! - `head` reports the size and, where the backend keeps one, the checksum;
//! - `delete` of a missing key succeeds (deletes are idempotent);
//! - errors are typed so retry and exit codes can reason about them;
//! - `versioning`, `object_lock` and `protection` say "off" only when the
//!   store says the setting is not set; a failure to read one is an error,
//!   never "off" (prune deletes nothing on a guess).
//!
//! Behaviour shared by all stores (retries, fault injection) is stacked as
//! wrappers: `RetryingStore`, `FaultyStore`.

mod checksum;
mod clock;
mod error;
mod fault;
mod fs;
mod fs_multipart;
mod open;
mod protection;
mod retry;
mod s3;
mod s3_credentials;
mod s3_folders;
mod s3_protection;

use std::ops::Range;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;

pub use checksum::StoredChecksum;
pub use error::StoreError;
pub use fault::{Fault, FaultPlan, FaultyStore, Op};
pub use fs::FsStore;
pub use open::{open_store, InvalidStoreUrl, StoreSettings, StoreUrl};
pub use protection::{BucketFeatures, LifecycleRule, Protection};
pub use retry::{RetryPolicy, RetryingStore};
pub use s3::{S3Settings, S3Store};

/// A stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

/// What a store knows about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    pub last_modified: Option<DateTime<Utc>>,
    pub storage_class: Option<String>,
    /// S3's `x-amz-restore` for an archived object: `ongoing-request="true"`
    /// while a restore runs, `ongoing-request="false", expiry-date=…` once
    /// the temporary copy is readable. HEAD only.
    pub restore: Option<String>,
    /// The checksum the backend computed and kept (S3 with SHA-256 uploads);
    /// `None` where the backend keeps none (the filesystem store).
    pub checksum: Option<StoredChecksum>,
    /// Changes whenever the object is written again: S3's ETag; on the
    /// filesystem, inode, change time and size (ctime cannot be set back by
    /// a user). Caches of what an object said are keyed by it.
    pub etag: Option<String>,
}

/// Whether a `put` may replace an existing object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutMode {
    Overwrite,
    /// Fails with `PreconditionFailed` when the key exists (S3 `If-None-Match: *`).
    CreateOnly,
}

/// A part the store accepted; handed back to `complete_multipart`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartReceipt {
    pub part_number: u32,
    pub etag: String,
    pub sha256: [u8; 32],
}

/// A multipart upload that was started and neither completed nor aborted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<DateTime<Utc>>,
}

/// The storage interface. Implementations: [`S3Store`], [`FsStore`]; wrappers:
/// [`RetryingStore`], [`FaultyStore`].
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Human-readable location for messages, e.g. `s3://bucket/prefix`.
    fn location(&self) -> String;

    /// The store's own time now: the clock that dates its objects
    /// (`last_modified`, `initiated`). Leases and the age of unfinished
    /// uploads are judged by it, never by the local clock. An error when
    /// the store does not say (an S3 server sending no `Date` header).
    async fn clock(&self) -> Result<DateTime<Utc>, StoreError>;

    /// Stores a whole object whose SHA-256 is `sha256`.
    async fn put(&self, key: &str, body: Bytes, sha256: [u8; 32], mode: PutMode) -> Result<(), StoreError>;

    /// Size, time, class and checksum of an object; `NotFound` if absent.
    async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError>;

    /// Streams an object, or the byte range of it.
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError>;

    /// All objects whose key starts with `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError>;

    /// The "folders" directly under `prefix` (empty, or ending in `/`): each
    /// distinct key prefix up to the next `/`, ending in `/`, in key order
    /// (S3 `CommonPrefixes`). Tells what a prefix holds without listing
    /// every object under it.
    async fn folders(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Removes an object; succeeds when it is already gone.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Starts a multipart upload and returns its id.
    async fn create_multipart(&self, key: &str) -> Result<String, StoreError>;

    /// Starts a multipart upload whose parts, except the last, will all be
    /// exactly `part_size` bytes. A store may use that to place parts (the
    /// filesystem store writes them in place, so each byte is written once);
    /// by default it is `create_multipart`. Parts of other sizes still work.
    async fn create_multipart_sized(&self, key: &str, part_size: u64) -> Result<String, StoreError> {
        let _ = part_size;
        self.create_multipart(key).await
    }

    /// Uploads part `part_number` (1-based) of an upload.
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        sha256: [u8; 32],
    ) -> Result<PartReceipt, StoreError>;

    /// Makes the object visible from its parts (in part-number order).
    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[PartReceipt]) -> Result<(), StoreError>;

    /// Discards an upload and its parts.
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError>;

    /// Uploads under `prefix` that were started and never finished.
    async fn list_multipart(&self, prefix: &str) -> Result<Vec<PendingUpload>, StoreError>;

    /// Replaces the object's tags.
    async fn put_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StoreError>;

    /// Reads the object's tags.
    async fn get_tags(&self, key: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Whether the bucket keeps old versions (versioning enabled, or
    /// suspended); false for the filesystem. An answer that does not say is
    /// an error, never `false`.
    async fn versioning(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Whether object lock is enabled on the bucket; false for the
    /// filesystem. Only S3's "no object lock configuration" answer is
    /// `false`; any other failure is an error.
    async fn object_lock(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Retention and legal hold of one object (none for the filesystem).
    /// Only S3's "none set" answers mean unprotected; any other failure is
    /// an error.
    async fn protection(&self, key: &str) -> Result<Protection, StoreError> {
        let _ = key;
        Ok(Protection::default())
    }

    /// Sets object-lock retention (`GOVERNANCE` or `COMPLIANCE`) until a time;
    /// S3 refuses to shorten one. Stores without object lock refuse.
    async fn set_retention(&self, key: &str, mode: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        let _ = (mode, until);
        Err(StoreError::Unsupported {
            op: "PutObjectRetention",
            detail: format!("{} has no object lock ({key})", self.location()),
        })
    }

    /// The bucket's lifecycle rules (none for the filesystem).
    async fn lifecycle_rules(&self) -> Result<Vec<LifecycleRule>, StoreError> {
        Ok(Vec::new())
    }

    /// The key prefix this store works under inside its bucket ("" for none).
    fn bucket_prefix(&self) -> String {
        String::new()
    }

    /// Deletes every version of `key` (a versioned bucket keeps old versions
    /// after a plain delete); returns how many were removed.
    async fn delete_all_versions(&self, key: &str) -> Result<usize, StoreError> {
        self.delete(key).await.map(|_| 1)
    }

    /// Asks for a temporary readable copy of an archived object for `days`
    /// (S3 RestoreObject, Standard tier). Stores without archives refuse.
    async fn restore_archived(&self, key: &str, days: i32) -> Result<(), StoreError> {
        let _ = days;
        Err(StoreError::Unsupported {
            op: "RestoreObject",
            detail: format!("{} has no archive storage classes ({key})", self.location()),
        })
    }
}

/// Storage classes whose objects must be restored before a GET.
pub fn is_archive_class(class: &str) -> bool {
    matches!(class, "GLACIER" | "DEEP_ARCHIVE")
}

/// Reads a whole (small) object into memory, e.g. a manifest.
pub async fn get_all(store: &dyn ObjectStore, key: &str) -> Result<Bytes, StoreError> {
    use futures::TryStreamExt;
    let mut stream = store.get(key, None).await?;
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.try_next().await? {
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
