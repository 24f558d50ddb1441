//! The upload half of sealing: sealed bytes cut into parts on the sealing
//! thread (`PartSink`), uploaded with bounded parallelism (`upload_parts`).
//!
//! The hashing is kept off the sealing thread, which also reads, feeds zstd
//! and encrypts: each part's SHA-256 (sent with the part, checked by the
//! store) is computed in the part's own blocking task, and the SHA-256 of
//! the whole object (recorded in the manifest) by one hasher thread that
//! sees the parts in order. On two cores that is the difference between
//! one busy core and two.

use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::hashing::Fingerprint;
use super::parts::MAX_PARTS;
use super::seal::SealError;
use crate::store::{ObjectStore, PartReceipt, PutMode};

pub(super) enum Msg {
    Part { number: u32, data: Bytes },
    Done,
}

/// The end of the sealing chain: cuts sealed bytes into parts and ships them.
pub(super) struct PartSink {
    tx: mpsc::Sender<Msg>,
    part_size: usize,
    buf: Vec<u8>,
    shipped: u32,
}

impl PartSink {
    pub(super) fn new(tx: mpsc::Sender<Msg>, part_size: usize) -> Self {
        Self {
            tx,
            part_size,
            buf: Vec::with_capacity(part_size),
            shipped: 0,
        }
    }

    fn ship(&mut self) -> io::Result<()> {
        if u64::from(self.shipped) >= MAX_PARTS {
            return Err(io::Error::other("the 10,000-part limit was reached"));
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.part_size));
        self.shipped += 1;
        let msg = Msg::Part {
            number: self.shipped,
            data: Bytes::from(data),
        };
        self.tx
            .blocking_send(msg)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }

    /// Ships the last part and the `Done` marker.
    pub(super) fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() || self.shipped == 0 {
            self.ship()?;
        }
        self.tx
            .blocking_send(Msg::Done)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

impl Write for PartSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (self.part_size - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == self.part_size {
            self.ship()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What was uploaded: the whole object's fingerprint and each part's SHA-256.
pub(super) struct Uploaded {
    pub stored: Fingerprint,
    pub digests: Vec<[u8; 32]>,
}

async fn sha256_off_thread(key: &str, data: Bytes) -> Result<(Bytes, [u8; 32]), SealError> {
    tokio::task::spawn_blocking(move || {
        let sha256 = Sha256::digest(&data).into();
        (data, sha256)
    })
    .await
    .map_err(|e| SealError::Internal {
        key: key.to_string(),
        detail: e.to_string(),
    })
}

/// Uploads parts as they come (one PUT when there is only one).
/// Every part but the last is `part_size` bytes (the store may place them).
pub(super) async fn upload_parts(
    store: Arc<dyn ObjectStore>,
    key: &str,
    mut rx: mpsc::Receiver<Msg>,
    part_size: u64,
    concurrency: usize,
) -> Result<Uploaded, SealError> {
    let interrupted = || SealError::Interrupted { key: key.to_string() };
    let store_err = |source| SealError::Store {
        key: key.to_string(),
        source,
    };
    // The whole object's hash, in part order, on its own thread.
    let (hash_tx, mut hash_rx) = mpsc::channel::<Bytes>(2);
    let hasher = tokio::task::spawn_blocking(move || {
        let (mut sha, mut size) = (Sha256::new(), 0u64);
        while let Some(data) = hash_rx.blocking_recv() {
            size += data.len() as u64;
            sha.update(&data);
        }
        Fingerprint {
            size,
            sha256: sha.finalize().into(),
        }
    });
    let stored = || async {
        hasher.await.map_err(|e| SealError::Internal {
            key: key.to_string(),
            detail: e.to_string(),
        })
    };

    let Some(Msg::Part { number: 1, data: first }) = rx.recv().await else {
        return Err(interrupted());
    };
    let _ = hash_tx.send(first.clone()).await;
    let second = match rx.recv().await {
        None => return Err(interrupted()),
        Some(Msg::Done) => {
            drop(hash_tx);
            let (first, sha256) = sha256_off_thread(key, first).await?;
            store
                .put(key, first, sha256, PutMode::Overwrite)
                .await
                .map_err(store_err)?;
            return Ok(Uploaded {
                stored: stored().await?,
                digests: vec![sha256],
            });
        }
        Some(part) => part,
    };

    let upload_id = store.create_multipart_sized(key, part_size).await.map_err(store_err)?;
    let mut tasks: JoinSet<Result<PartReceipt, SealError>> = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<_>, number: u32, data: Bytes| {
        let (store, key, id) = (store.clone(), key.to_string(), upload_id.clone());
        tasks.spawn(async move {
            let (data, sha256) = sha256_off_thread(&key, data).await?;
            store
                .upload_part(&key, &id, number, data, sha256)
                .await
                .map_err(|source| SealError::Store { key, source })
        });
    };
    let result: Result<Vec<[u8; 32]>, SealError> = async {
        spawn(&mut tasks, 1, first);
        if let Msg::Part { number, data } = second {
            let _ = hash_tx.send(data.clone()).await;
            spawn(&mut tasks, number, data);
        }
        let mut receipts = Vec::new();
        let mut done = false;
        while !(done && tasks.is_empty()) {
            tokio::select! {
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    let receipt = joined.map_err(|e| SealError::Internal { key: key.to_string(), detail: e.to_string() })?;
                    receipts.push(receipt?);
                }
                msg = rx.recv(), if !done && tasks.len() < concurrency => match msg {
                    Some(Msg::Part { number, data }) => {
                        let _ = hash_tx.send(data.clone()).await;
                        spawn(&mut tasks, number, data);
                    }
                    Some(Msg::Done) => done = true,
                    None => return Err(interrupted()),
                },
            }
        }
        receipts.sort_by_key(|r| r.part_number);
        store.complete_multipart(key, &upload_id, &receipts).await.map_err(store_err)?;
        Ok(receipts.iter().map(|r| r.sha256).collect())
    }
    .await;
    drop(hash_tx);

    match result {
        Ok(digests) => Ok(Uploaded {
            stored: stored().await?,
            digests,
        }),
        Err(e) => {
            tasks.abort_all();
            drop(rx);
            if let Err(abort) = store.abort_multipart(key, &upload_id).await {
                tracing::error!(key, upload_id, error = %abort, "could not abort the failed multipart upload: an AbortIncompleteMultipartUpload lifecycle rule, or `aws s3api abort-multipart-upload`, removes it");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_cut_from(total: usize, part_size: usize) -> Vec<usize> {
        let (tx, mut rx) = mpsc::channel(64);
        let mut sink = PartSink::new(tx, part_size);
        sink.write_all(&vec![7u8; total]).unwrap();
        sink.finish().unwrap();
        let mut sizes = Vec::new();
        let mut expected_number = 1;
        while let Msg::Part { number, data } = rx.try_recv().unwrap() {
            assert_eq!(number, expected_number);
            expected_number += 1;
            sizes.push(data.len());
        }
        sizes
    }

    #[test]
    fn parts_are_cut_exactly_at_the_part_size() {
        for (total, expected) in [
            (0, vec![0]),
            (1, vec![1]),
            (9, vec![9]),
            (10, vec![10]),
            (11, vec![10, 1]),
            (30, vec![10, 10, 10]),
            (31, vec![10, 10, 10, 1]),
        ] {
            assert_eq!(parts_cut_from(total, 10), expected, "total {total}");
        }
    }
}
