//! Sealing: artifact file → zstd → age → multipart upload, in one streaming pass.
//!
//! Layout of the work:
//! - one blocking thread reads the file, hashes the plaintext, feeds the zstd
//!   encoder (multi-threaded), whose output goes through age into a `PartSink`
//!   that cuts the sealed bytes into parts;
//! - the async side (`upload.rs`) hashes and uploads parts with bounded
//!   parallelism, and hashes the whole sealed object on a thread of its own.
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

use tokio::sync::mpsc;

use super::hashing::{Fingerprint, HashingReader};
use super::keys::Recipients;
use super::parts::{part_size_for, MAX_OBJECT_SIZE};
use super::upload::{upload_parts, PartSink, Uploaded};
use crate::model::ArtifactRecord;
use crate::store::{ObjectStore, StoreError, StoredChecksum};

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

struct SealJob {
    path: PathBuf,
    size: u64,
    recipients: Arc<Recipients>,
    settings: SealSettings,
    progress: Option<Arc<AtomicU64>>,
}

/// The blocking half: returns the plaintext's fingerprint and the level.
fn seal_blocking(job: SealJob, sink: PartSink) -> Result<(Fingerprint, i32), SealError> {
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
    sink.finish().map_err(compress)?;
    Ok((plain, level))
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
    let uploading = upload_parts(store.clone(), key, rx, part_size, settings.concurrency.max(1));
    let (sealed, uploaded) = tokio::join!(sealing, uploading);
    let sealed = sealed.map_err(|e| SealError::Internal {
        key: key.to_string(),
        detail: e.to_string(),
    })?;

    let (plain, level, Uploaded { stored, digests }) = match (sealed, uploaded) {
        (Ok((plain, level)), Ok(uploaded)) => (plain, level, uploaded),
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
