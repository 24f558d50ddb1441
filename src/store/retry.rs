//! `RetryingStore`: retries transient failures with exponential backoff and
//! full jitter; never retries permanent errors (access denied, not found…).
//!
//! Every retry is logged at WARN with the operation, key, attempt and error, so
//! an operator can see a flaky endpoint in the logs of a run that succeeded.
//! A `get` is retried while opening the stream; a stream that breaks later is
//! the reader's to handle (`pipeline/ranged.rs` resumes it with a ranged `get`).

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rand::Rng;

use super::{ByteStream, ObjectInfo, ObjectStore, PartReceipt, PendingUpload, PutMode, StoreError};

/// How often and how patiently to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 = no retry).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (0-based): uniform in [0, min(max, base·2^retry)].
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let nanos = cap.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// Wraps a store and retries its transient failures.
pub struct RetryingStore {
    inner: Arc<dyn ObjectStore>,
    policy: RetryPolicy,
}

impl RetryingStore {
    pub fn new(inner: Arc<dyn ObjectStore>, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    async fn run<T, F, Fut>(&self, op: &'static str, key: &str, mut f: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
        T: Send,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Err(e) if e.is_retryable() && attempt < self.policy.max_attempts => {
                    let delay = self.policy.delay(attempt - 1);
                    tracing::warn!(op, key, attempt, max_attempts = self.policy.max_attempts,
                        delay_ms = delay.as_millis() as u64, error = %e, "retrying store operation");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[async_trait]
impl ObjectStore for RetryingStore {
    fn location(&self) -> String {
        self.inner.location()
    }

    async fn put(&self, key: &str, body: Bytes, sha256: [u8; 32], mode: PutMode) -> Result<(), StoreError> {
        self.run("put", key, || self.inner.put(key, body.clone(), sha256, mode))
            .await
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        self.run("head", key, || self.inner.head(key)).await
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        self.run("get", key, || self.inner.get(key, range.clone())).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.run("list", prefix, || self.inner.list(prefix)).await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.run("folders", prefix, || self.inner.folders(prefix)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run("delete", key, || self.inner.delete(key)).await
    }

    async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        self.run("create_multipart", key, || self.inner.create_multipart(key))
            .await
    }

    async fn create_multipart_sized(&self, key: &str, part_size: u64) -> Result<String, StoreError> {
        self.run("create_multipart", key, || {
            self.inner.create_multipart_sized(key, part_size)
        })
        .await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        sha256: [u8; 32],
    ) -> Result<PartReceipt, StoreError> {
        self.run("upload_part", key, || {
            self.inner
                .upload_part(key, upload_id, part_number, body.clone(), sha256)
        })
        .await
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[PartReceipt]) -> Result<(), StoreError> {
        self.run("complete_multipart", key, || {
            self.inner.complete_multipart(key, upload_id, parts)
        })
        .await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        self.run("abort_multipart", key, || self.inner.abort_multipart(key, upload_id))
            .await
    }

    async fn list_multipart(&self, prefix: &str) -> Result<Vec<PendingUpload>, StoreError> {
        self.run("list_multipart", prefix, || self.inner.list_multipart(prefix))
            .await
    }

    async fn put_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        self.run("put_tags", key, || self.inner.put_tags(key, tags)).await
    }

    async fn get_tags(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.run("get_tags", key, || self.inner.get_tags(key)).await
    }

    async fn versioning(&self) -> Result<bool, StoreError> {
        self.run("versioning", "", || self.inner.versioning()).await
    }

    async fn object_lock(&self) -> Result<bool, StoreError> {
        self.run("object_lock", "", || self.inner.object_lock()).await
    }

    async fn protection(&self, key: &str) -> Result<super::Protection, StoreError> {
        self.run("protection", key, || self.inner.protection(key)).await
    }

    async fn delete_all_versions(&self, key: &str) -> Result<usize, StoreError> {
        self.run("delete_all_versions", key, || self.inner.delete_all_versions(key))
            .await
    }

    async fn lifecycle_rules(&self) -> Result<Vec<super::LifecycleRule>, StoreError> {
        self.run("lifecycle_rules", "", || self.inner.lifecycle_rules()).await
    }

    fn bucket_prefix(&self) -> String {
        self.inner.bucket_prefix()
    }

    async fn clock(&self) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
        self.run("clock", "", || self.inner.clock()).await
    }

    async fn set_retention(
        &self,
        key: &str,
        mode: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.run("set_retention", key, || self.inner.set_retention(key, mode, until))
            .await
    }

    async fn restore_archived(&self, key: &str, days: i32) -> Result<(), StoreError> {
        self.run("restore_archived", key, || self.inner.restore_archived(key, days))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_the_exponential_cap_and_the_maximum() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..200 {
            assert!(p.delay(0) <= Duration::from_millis(100));
            assert!(p.delay(2) <= Duration::from_millis(400));
            assert!(p.delay(30) <= Duration::from_secs(1));
        }
    }
}
