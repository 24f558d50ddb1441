//! Sealing: artifact file → zstd → age → multipart upload, in one streaming pass.
//!
//! Layout of the work:
//! - one blocking thread reads the file, hashes the plaintext, feeds the zstd
//!   encoder (multi-threaded), whose output goes through age into a `PartSink`
//!   that hashes the sealed bytes and cuts them into parts;
//! - the async side uploads parts with bounded parallelism.
//!
//! Memory is bounded by `part_size × (concurrency + 2)` plus zstd's window:
//! one part being filled, one waiting in the channel, `concurrency` in flight.
//! Nothing is written to disk. The object is completed only after the sealing
//! thread reported success (a `Done` message); any failure aborts the multipart
//! upload, and after completion the size and checksum the store reports are
//! compared with what was sent. This module never writes a manifest.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::hashing::{Fingerprint, HashingReader};
use super::keys::Recipients;
use super::parts::{part_size_for, MAX_OBJECT_SIZE, MAX_PARTS};
use crate::model::ArtifactRecord;
use crate::store::{ObjectStore, PutMode, StoreError, StoredChecksum};

const READ_BUF: usize = 1 << 20;
const PROBE_SAMPLE: usize = 512 << 10;
/// A sample that zstd level 1 shrinks by less than this is "incompressible".
const INCOMPRESSIBLE_RATIO: f64 = 0.97;

/// How to seal and upload.
#[derive(Clone, Debug)]
pub struct SealSettings {
    /// zstd level for compressible input (1-19; negative levels are "fast").
    pub level: i32,
    /// zstd worker threads; 0 = one per CPU.
    pub threads: u32,
    /// zstd level used when a sample of the input does not compress.
    pub incompressible_level: i32,
    /// Part size asked for; raised for huge artifacts (see `parts`).
    pub part_size: u64,
    /// Parts uploaded at once.
    pub concurrency: usize,
}

impl Default for SealSettings {
    fn default() -> Self {
        Self {
            level: 3,
            threads: 0,
            incompressible_level: 1,
            part_size: 8 << 20,
            concurrency: 4,
        }
    }
}

/// What was stored: both fingerprints and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedObject {
    pub plain: Fingerprint,
    pub stored: Fingerprint,
    pub compression_level: i32,
    pub parts: u32,
    pub part_size: u64,
}

impl SealedObject {
    /// The manifest entry for this object, stored under `key` for artifact `name`.
    pub fn to_record(&self, name: &str, key: &str) -> ArtifactRecord {
        ArtifactRecord {
            name: name.to_string(),
            key: key.to_string(),
            size: self.plain.size,
            sha256: self.plain.sha256_hex(),
            stored_size: self.stored.size,
            stored_sha256: self.stored.sha256_hex(),
            compression_level: self.compression_level,
            parts: self.parts,
            part_size: self.part_size,
        }
    }
}

/// A failure while sealing or uploading one artifact.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read artifact {path}: {source}")]
    Source {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("artifact {path} is {size} bytes; a sealed object can be at most 5 TiB")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("artifact {path} changed while it was sealed ({expected} bytes at start, {actual} read): back it up again once neo4j-admin has finished writing it")]
    Changed { path: PathBuf, expected: u64, actual: u64 },
    #[error("cannot encrypt {path}: {detail}")]
    Encrypt { path: PathBuf, detail: String },
    #[error("cannot compress {path}: {source}")]
    Compress {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("upload of {key} failed: {source}")]
    Store {
        key: String,
        #[source]
        source: StoreError,
    },
    #[error("upload of {key} did not verify: {what}")]
    Verify { key: String, what: String },
    /// The sealing thread stopped without finishing (its own error says why).
    #[error("sealing of {key} stopped before the end")]
    Interrupted { key: String },
    #[error("internal error while sealing {key}: {detail}")]
    Internal { key: String, detail: String },
}

/// Picks the zstd level from how well a sample compressed at level 1.
pub fn choose_level(sample_ratio: Option<f64>, configured: i32, cheap: i32) -> i32 {
    match sample_ratio {
        Some(r) if r > INCOMPRESSIBLE_RATIO && cheap < configured => cheap,
        _ => configured,
    }
}

fn probe_ratio(file: &File, size: u64) -> io::Result<Option<f64>> {
    let mut plain = 0usize;
    let mut packed = 0usize;
    for offset in [0, size / 2] {
        let len = PROBE_SAMPLE.min(size.saturating_sub(offset) as usize);
        if len == 0 {
            continue;
        }
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, offset)?;
        plain += len;
        packed += zstd::bulk::compress(&buf, 1)?.len();
    }
    Ok((plain > 0).then(|| packed as f64 / plain as f64))
}

enum Msg {
    Part { number: u32, data: Bytes, sha256: [u8; 32] },
    Done,
}

/// The end of the sealing chain: hashes sealed bytes and ships full parts.
struct PartSink {
    tx: mpsc::Sender<Msg>,
    part_size: usize,
    buf: Vec<u8>,
    shipped: u32,
    hasher: Sha256,
    size: u64,
}

impl PartSink {
    fn new(tx: mpsc::Sender<Msg>, part_size: usize) -> Self {
        Self {
            tx,
            part_size,
            buf: Vec::with_capacity(part_size),
            shipped: 0,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn ship(&mut self) -> io::Result<()> {
        if u64::from(self.shipped) >= MAX_PARTS {
            return Err(io::Error::other("the 10,000-part limit was reached"));
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.part_size));
        let sha256 = Sha256::digest(&data).into();
        self.shipped += 1;
        let msg = Msg::Part {
            number: self.shipped,
            data: Bytes::from(data),
            sha256,
        };
        self.tx
            .blocking_send(msg)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }

    /// Ships the last part and the `Done` marker.
    fn finish(mut self) -> io::Result<Fingerprint> {
        if !self.buf.is_empty() || self.shipped == 0 {
            self.ship()?;
        }
        self.tx
            .blocking_send(Msg::Done)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))?;
        Ok(Fingerprint {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        })
    }
}

impl Write for PartSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (self.part_size - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        self.hasher.update(&data[..n]);
        self.size += n as u64;
        if self.buf.len() == self.part_size {
            self.ship()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct SealJob {
    path: PathBuf,
    size: u64,
    recipients: Arc<Recipients>,
    settings: SealSettings,
    progress: Option<Arc<AtomicU64>>,
}

/// The blocking half: returns plaintext and sealed fingerprints and the level.
fn seal_blocking(job: SealJob, sink: PartSink) -> Result<(Fingerprint, Fingerprint, i32), SealError> {
    let path = &job.path;
    let source = |source| SealError::Source {
        path: path.clone(),
        source,
    };
    let compress = |source| SealError::Compress {
        path: path.clone(),
        source,
    };
    let encrypt = |detail: String| SealError::Encrypt {
        path: path.clone(),
        detail,
    };
    let file = File::open(path).map_err(source)?;
    let s = &job.settings;
    let level = choose_level(
        probe_ratio(&file, job.size).map_err(source)?,
        s.level,
        s.incompressible_level,
    );

    let age_writer = job
        .recipients
        .encryptor()
        .map_err(|e| encrypt(e.to_string()))?
        .wrap_output(sink)
        .map_err(|e| encrypt(e.to_string()))?;
    let mut z = zstd::stream::write::Encoder::new(age_writer, level).map_err(compress)?;
    let threads = if s.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    } else {
        s.threads
    };
    z.include_checksum(true).map_err(compress)?;
    z.set_pledged_src_size(Some(job.size)).map_err(compress)?;
    if threads > 1 {
        z.multithread(threads).map_err(compress)?;
    }

    let mut reader = HashingReader::new(file);
    let mut buf = vec![0u8; READ_BUF];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(source(e)),
        };
        let read_so_far = reader.size();
        if read_so_far > job.size {
            return Err(SealError::Changed {
                path: path.clone(),
                expected: job.size,
                actual: read_so_far,
            });
        }
        z.write_all(&buf[..n]).map_err(compress)?;
        if let Some(p) = &job.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
    let plain = reader.finish();
    if plain.size != job.size {
        return Err(SealError::Changed {
            path: path.clone(),
            expected: job.size,
            actual: plain.size,
        });
    }
    let age_writer = z.finish().map_err(compress)?;
    let sink = age_writer.finish().map_err(|e| encrypt(e.to_string()))?;
    let stored = sink.finish().map_err(compress)?;
    Ok((plain, stored, level))
}

/// The async half: uploads parts as they come; returns the part digests.
async fn upload_parts(
    store: Arc<dyn ObjectStore>,
    key: &str,
    mut rx: mpsc::Receiver<Msg>,
    concurrency: usize,
) -> Result<Vec<[u8; 32]>, SealError> {
    let interrupted = || SealError::Interrupted { key: key.to_string() };
    let store_err = |source| SealError::Store {
        key: key.to_string(),
        source,
    };
    let Some(Msg::Part {
        number: 1,
        data: first,
        sha256: first_sha,
    }) = rx.recv().await
    else {
        return Err(interrupted());
    };
    let second = match rx.recv().await {
        None => return Err(interrupted()),
        Some(Msg::Done) => {
            store
                .put(key, first, first_sha, PutMode::Overwrite)
                .await
                .map_err(store_err)?;
            return Ok(vec![first_sha]);
        }
        Some(part) => part,
    };

    let upload_id = store.create_multipart(key).await.map_err(store_err)?;
    let mut tasks = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<_>, number: u32, data: Bytes, sha256: [u8; 32]| {
        let (store, key, id) = (store.clone(), key.to_string(), upload_id.clone());
        tasks.spawn(async move { store.upload_part(&key, &id, number, data, sha256).await });
    };
    let result: Result<Vec<[u8; 32]>, SealError> = async {
        spawn(&mut tasks, 1, first, first_sha);
        if let Msg::Part { number, data, sha256 } = second {
            spawn(&mut tasks, number, data, sha256);
        }
        let mut receipts = Vec::new();
        let mut done = false;
        while !(done && tasks.is_empty()) {
            tokio::select! {
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    let receipt = joined.map_err(|e| SealError::Internal { key: key.to_string(), detail: e.to_string() })?;
                    receipts.push(receipt.map_err(store_err)?);
                }
                msg = rx.recv(), if !done && tasks.len() < concurrency => match msg {
                    Some(Msg::Part { number, data, sha256 }) => spawn(&mut tasks, number, data, sha256),
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

    if result.is_err() {
        tasks.abort_all();
        drop(rx);
        if let Err(e) = store.abort_multipart(key, &upload_id).await {
            tracing::error!(key, upload_id, error = %e, "could not abort the failed multipart upload: an AbortIncompleteMultipartUpload lifecycle rule, or `aws s3api abort-multipart-upload`, removes it");
        }
    }
    result
}

/// Compares what the store reports with what was sent.
fn check_stored(
    key: &str,
    info_size: u64,
    info_sum: Option<&StoredChecksum>,
    stored: &Fingerprint,
    digests: &[[u8; 32]],
) -> Result<(), SealError> {
    let verify = |what: String| SealError::Verify {
        key: key.to_string(),
        what,
    };
    if info_size != stored.size {
        return Err(verify(format!(
            "the store reports {info_size} bytes, {} were sent",
            stored.size
        )));
    }
    if let Some(reported) = info_sum {
        let expected = match digests {
            [_] => StoredChecksum::Full(stored.sha256),
            _ => StoredChecksum::composite(digests),
        };
        if *reported != expected {
            return Err(verify(format!(
                "the store reports checksum {reported}, expected {expected}"
            )));
        }
    }
    Ok(())
}

/// Seals the file at `source` and stores it under `key`, verified.
pub async fn seal_to_store(
    store: Arc<dyn ObjectStore>,
    source: &Path,
    key: &str,
    recipients: Arc<Recipients>,
    settings: &SealSettings,
    progress: Option<Arc<AtomicU64>>,
) -> Result<SealedObject, SealError> {
    let size = tokio::fs::metadata(source)
        .await
        .map_err(|e| SealError::Source {
            path: source.to_path_buf(),
            source: e,
        })?
        .len();
    if size > MAX_OBJECT_SIZE {
        return Err(SealError::TooLarge {
            path: source.to_path_buf(),
            size,
        });
    }
    let part_size = part_size_for(size, settings.part_size);
    let (tx, rx) = mpsc::channel(1);
    let job = SealJob {
        path: source.to_path_buf(),
        size,
        recipients,
        settings: settings.clone(),
        progress,
    };
    let sink = PartSink::new(tx, part_size as usize);
    let sealing = tokio::task::spawn_blocking(move || seal_blocking(job, sink));
    let uploading = upload_parts(store.clone(), key, rx, settings.concurrency.max(1));
    let (sealed, uploaded) = tokio::join!(sealing, uploading);
    let sealed = sealed.map_err(|e| SealError::Internal {
        key: key.to_string(),
        detail: e.to_string(),
    })?;

    let (plain, stored, level, digests) = match (sealed, uploaded) {
        (Ok((plain, stored, level)), Ok(digests)) => (plain, stored, level, digests),
        (Err(seal_err), Err(SealError::Interrupted { .. })) => return Err(seal_err),
        (_, Err(upload_err)) => return Err(upload_err),
        (Err(seal_err), Ok(_)) => {
            let _ = store.delete(key).await;
            return Err(seal_err);
        }
    };

    let verified = match store.head(key).await {
        Ok(info) => check_stored(key, info.size, info.checksum.as_ref(), &stored, &digests),
        Err(source) => Err(SealError::Store {
            key: key.to_string(),
            source,
        }),
    };
    if let Err(e) = verified {
        let _ = store.delete(key).await;
        return Err(e);
    }
    Ok(SealedObject {
        plain,
        stored,
        compression_level: level,
        parts: digests.len() as u32,
        part_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incompressible_samples_get_the_cheap_level() {
        assert_eq!(choose_level(Some(1.001), 3, 1), 1);
        assert_eq!(choose_level(Some(0.98), 9, -1), -1);
        assert_eq!(choose_level(Some(0.5), 3, 1), 3);
        assert_eq!(choose_level(None, 3, 1), 3);
        // A configured level that is already cheap is kept.
        assert_eq!(choose_level(Some(1.0), 1, 3), 1);
    }

    fn parts_cut_from(total: usize, part_size: usize) -> Vec<usize> {
        let (tx, mut rx) = mpsc::channel(64);
        let mut sink = PartSink::new(tx, part_size);
        sink.write_all(&vec![7u8; total]).unwrap();
        let fp = sink.finish().unwrap();
        assert_eq!(fp.size, total as u64);
        let mut sizes = Vec::new();
        let mut expected_number = 1;
        while let Msg::Part { number, data, sha256 } = rx.try_recv().unwrap() {
            assert_eq!(number, expected_number);
            assert_eq!(sha256, <[u8; 32]>::from(Sha256::digest(&data)));
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

    #[test]
    fn reported_checksums_must_match_what_was_sent() {
        let stored = Fingerprint {
            size: 10,
            sha256: [1; 32],
        };
        assert!(check_stored("k", 10, Some(&StoredChecksum::Full([1; 32])), &stored, &[[1; 32]]).is_ok());
        assert!(check_stored("k", 10, None, &stored, &[[1; 32]]).is_ok());
        assert!(check_stored("k", 9, None, &stored, &[[1; 32]]).is_err());
        let parts = [[2; 32], [3; 32]];
        assert!(check_stored("k", 10, Some(&StoredChecksum::composite(&parts)), &stored, &parts).is_ok());
        assert!(check_stored("k", 10, Some(&StoredChecksum::Full([1; 32])), &stored, &parts).is_err());
    }
}
