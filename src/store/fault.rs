//! `FaultyStore`: injects failures into a real store, for tests.
//!
//! A `FaultPlan` says which call of which operation fails and how. Faults are
//! injected around the real store, so everything else (checksums, atomicity)
//! is the real thing: a `CorruptBody` fault flips a byte of the body *after*
//! its SHA-256 was computed, exactly like corruption on the wire, and the
//! store underneath must reject it.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::{ByteStream, ObjectInfo, ObjectStore, PartReceipt, PendingUpload, PutMode, StoreError};

/// The operations a fault can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Put,
    Head,
    Get,
    List,
    Delete,
    CreateMultipart,
    UploadPart,
    CompleteMultipart,
    AbortMultipart,
}

/// What happens to a targeted call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fails with a retryable error (like a 503 SlowDown).
    Transient,
    /// Fails with a non-retryable error (like a 403).
    Permanent,
    /// Flips one byte of the uploaded body (put / upload_part only).
    CorruptBody,
    /// Ends a `get` stream early, after half the first chunk.
    TruncateBody,
    /// The call takes effect but its response is lost (a retryable error is
    /// returned), like a connection dropped after the server committed.
    LostResponse,
    /// A create-only `put` overwrites anyway, like an S3-compatible store that
    /// ignores `If-None-Match` (put only).
    IgnoreCondition,
}

#[derive(Debug)]
struct Rule {
    op: Op,
    skip: u32,
    times: u32,
    fault: Fault,
}

/// Which calls fail, and a count of every call made.
#[derive(Debug, Default)]
pub struct FaultPlan {
    rules: Mutex<Vec<Rule>>,
    calls: Mutex<Vec<Op>>,
}

impl FaultPlan {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// After letting `skip` calls of `op` through, the next `times` fail with `fault`.
    pub fn inject(self: &Arc<Self>, op: Op, skip: u32, times: u32, fault: Fault) -> Arc<Self> {
        self.rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Rule { op, skip, times, fault });
        self.clone()
    }

    /// How many calls of `op` reached the wrapper (faulted ones included).
    pub fn calls(&self, op: Op) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|o| **o == op)
            .count()
    }

    fn next(&self, op: Op) -> Option<Fault> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(op);
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        for rule in rules.iter_mut().filter(|r| r.op == op) {
            if rule.skip > 0 {
                rule.skip -= 1;
                return None;
            }
            if rule.times > 0 {
                rule.times -= 1;
                return Some(rule.fault);
            }
        }
        None
    }
}

fn injected(op: Op, fault: Fault) -> Option<StoreError> {
    let detail = format!("injected fault in {op:?}");
    match fault {
        Fault::Transient => Some(StoreError::Transient { op: "fault", detail }),
        Fault::Permanent => Some(StoreError::Permanent { op: "fault", detail }),
        Fault::CorruptBody | Fault::TruncateBody | Fault::LostResponse | Fault::IgnoreCondition => None,
    }
}

fn corrupt(body: Bytes) -> Bytes {
    let mut b = BytesMut::from(&body[..]);
    if let Some(x) = b.get_mut(body.len() / 2) {
        *x ^= 0x01;
    }
    b.freeze()
}

/// A store whose calls fail according to a plan.
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    plan: Arc<FaultPlan>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, plan: Arc<FaultPlan>) -> Self {
        Self { inner, plan }
    }

    /// Applies the plan to a call: an error, a (maybe corrupted) body, or a pass.
    fn gate(&self, op: Op, body: Option<Bytes>) -> Result<(Option<Bytes>, Option<Fault>), StoreError> {
        match self.plan.next(op) {
            None => Ok((body, None)),
            Some(f) => match injected(op, f) {
                Some(err) => Err(err),
                None if f == Fault::CorruptBody => Ok((body.map(corrupt), Some(f))),
                None => Ok((body, Some(f))),
            },
        }
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    fn location(&self) -> String {
        self.inner.location()
    }

    async fn put(&self, key: &str, body: Bytes, sha256: [u8; 32], mode: PutMode) -> Result<(), StoreError> {
        let (body, fault) = self.gate(Op::Put, Some(body))?;
        let mode = if fault == Some(Fault::IgnoreCondition) {
            PutMode::Overwrite
        } else {
            mode
        };
        self.inner.put(key, body.unwrap_or_default(), sha256, mode).await?;
        match fault {
            Some(Fault::LostResponse) => Err(StoreError::Transient {
                op: "fault",
                detail: "injected lost response after Put".into(),
            }),
            _ => Ok(()),
        }
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        self.gate(Op::Head, None)?;
        self.inner.head(key).await
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let (_, fault) = self.gate(Op::Get, None)?;
        let stream = self.inner.get(key, range).await?;
        if fault != Some(Fault::TruncateBody) {
            return Ok(stream);
        }
        let truncated = stream.take(1).map(|chunk| chunk.map(|b| b.slice(..b.len() / 2)));
        Ok(Box::pin(truncated))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.gate(Op::List, None)?;
        self.inner.list(prefix).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.gate(Op::Delete, None)?;
        self.inner.delete(key).await
    }

    async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        self.gate(Op::CreateMultipart, None)?;
        self.inner.create_multipart(key).await
    }

    async fn create_multipart_sized(&self, key: &str, part_size: u64) -> Result<String, StoreError> {
        self.gate(Op::CreateMultipart, None)?;
        self.inner.create_multipart_sized(key, part_size).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        sha256: [u8; 32],
    ) -> Result<PartReceipt, StoreError> {
        let (body, _) = self.gate(Op::UploadPart, Some(body))?;
        self.inner
            .upload_part(key, upload_id, part_number, body.unwrap_or_default(), sha256)
            .await
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[PartReceipt]) -> Result<(), StoreError> {
        self.gate(Op::CompleteMultipart, None)?;
        self.inner.complete_multipart(key, upload_id, parts).await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        self.gate(Op::AbortMultipart, None)?;
        self.inner.abort_multipart(key, upload_id).await
    }

    async fn list_multipart(&self, prefix: &str) -> Result<Vec<PendingUpload>, StoreError> {
        self.inner.list_multipart(prefix).await
    }

    async fn put_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        self.inner.put_tags(key, tags).await
    }

    async fn get_tags(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.get_tags(key).await
    }

    async fn versioning(&self) -> Result<bool, StoreError> {
        self.inner.versioning().await
    }

    async fn object_lock(&self) -> Result<bool, StoreError> {
        self.inner.object_lock().await
    }

    async fn protection(&self, key: &str) -> Result<super::Protection, StoreError> {
        self.inner.protection(key).await
    }

    async fn delete_all_versions(&self, key: &str) -> Result<usize, StoreError> {
        self.gate(Op::Delete, None)?;
        self.inner.delete_all_versions(key).await
    }

    async fn lifecycle_rules(&self) -> Result<Vec<super::LifecycleRule>, StoreError> {
        self.inner.lifecycle_rules().await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.gate(Op::List, None)?;
        self.inner.folders(prefix).await
    }

    fn bucket_prefix(&self) -> String {
        self.inner.bucket_prefix()
    }

    async fn clock(&self) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
        self.inner.clock().await
    }

    async fn set_retention(
        &self,
        key: &str,
        mode: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.inner.set_retention(key, mode, until).await
    }

    async fn restore_archived(&self, key: &str, days: i32) -> Result<(), StoreError> {
        self.inner.restore_archived(key, days).await
    }
}
