//! Downloading an object as bounded, parallel ranged GETs, in order.
//!
//! The object is cut into ranges (4 MiB by default); up to `concurrency` of
//! them are fetched at once while the consumer decrypts the earlier ones, so
//! download, decryption, decompression, hashing and writing overlap. A range
//! whose body fails or ends early is resumed from the byte where it stopped,
//! with backoff, instead of starting the object over. Memory: at most
//! `concurrency` ranges are buffered.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use crate::store::{ObjectStore, StoreError};

/// How an object is downloaded.
#[derive(Clone, Copy, Debug)]
pub struct RangedSettings {
    pub range_size: u64,
    pub concurrency: usize,
    /// Attempts per range (resumptions included).
    pub attempts: u32,
}

impl Default for RangedSettings {
    fn default() -> Self {
        Self {
            range_size: 4 << 20,
            concurrency: 4,
            attempts: 5,
        }
    }
}

/// The object's bytes `0..size`, in order, fetched as parallel ranges.
pub fn ranged_download(
    store: Arc<dyn ObjectStore>,
    key: String,
    size: u64,
    settings: RangedSettings,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send {
    let step = settings.range_size.max(1);
    let starts = (0..size.div_ceil(step)).map(move |i| i * step);
    futures::stream::iter(starts)
        .map(move |start| {
            let end = (start + step).min(size);
            fetch_range(store.clone(), key.clone(), start, end, settings.attempts)
        })
        .buffered(settings.concurrency.max(1))
}

/// One range, resumed where it stopped after a failure.
async fn fetch_range(
    store: Arc<dyn ObjectStore>,
    key: String,
    start: u64,
    end: u64,
    attempts: u32,
) -> Result<Bytes, StoreError> {
    let len = (end - start) as usize;
    let mut buf = BytesMut::with_capacity(len);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let from = start + buf.len() as u64;
        let failure = match store.get(&key, Some(from..end)).await {
            Err(e) => e,
            Ok(mut body) => loop {
                match body.next().await {
                    Some(Ok(chunk)) => {
                        if buf.len() + chunk.len() > len {
                            return Err(StoreError::Transient {
                                op: "GetObject",
                                detail: format!("the store sent more than bytes {start}-{} of {key}", end - 1),
                            });
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Some(Err(e)) => break e,
                    None if buf.len() == len => return Ok(buf.freeze()),
                    None => {
                        break StoreError::Transient {
                            op: "GetObject",
                            detail: format!("the body of bytes {from}-{} ended early", end - 1),
                        }
                    }
                }
            },
        };
        if !failure.is_retryable() || attempt >= attempts {
            return Err(failure);
        }
        let resume_at = start + buf.len() as u64;
        tracing::warn!(key, resume_at, attempt, error = %failure, "download interrupted; resuming the range");
        tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
    }
}
