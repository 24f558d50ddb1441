//! Opening: stored object → age → zstd → file, verifying both SHA-256s.
//!
//! The download streams into a blocking thread that decrypts; a second one
//! hashes the stored bytes as they arrive and a third decompresses, hashes
//! and writes (a restore is CPU-bound on fast storage). Nothing
//! decides "good" until the whole object was read: the caller writes into a
//! temporary file and only moves it into place when this returns `Ok`.

use std::io::{self, Read, Write};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::hashing::{parse_sha256_hex, Fingerprint, HashingWriter};
use super::keys::Identities;
use super::ranged::{ranged_download, RangedSettings};
use crate::model::ArtifactRecord;
use crate::store::{ObjectStore, StoreError};

const WRITE_BUF: usize = 1 << 20;

/// Why an object could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("none of the configured identities can decrypt {key} (it was encrypted to: {recipients}); use the identity that matches one of those recipients")]
    WrongIdentity { key: String, recipients: String },
    #[error("integrity failure in {key}: {what}")]
    Integrity { key: String, what: String },
    #[error("cannot download {key}: {source}")]
    Store {
        key: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot write the restored artifact {name}: {source}")]
    Write {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("internal error while opening {key}: {detail}")]
    Internal { key: String, detail: String },
}

/// Blocking `Read` over chunks arriving from the async download; each chunk
/// is also handed (shared, not copied) to `tee`, the stored-bytes hasher.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
    tee: Option<std::sync::mpsc::SyncSender<Bytes>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    if let Some(tee) = &self.tee {
                        // A hasher that is gone has failed; the result says so.
                        let _ = tee.send(chunk.clone());
                    }
                    self.current = chunk
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

enum Decoded {
    Ok(Fingerprint),
    NoMatchingIdentity,
    Failed(String),
}

/// Compressed plaintext handed from the decrypting thread to the
/// decompressing one, this many bytes at a time, at most `CHUNKS_IN_FLIGHT`
/// chunks queued.
const CHUNK: usize = 1 << 20;
const CHUNKS_IN_FLIGHT: usize = 4;

/// Decrypts and decompresses into `out`; always returns the stored fingerprint
/// (draining the rest of the object after a failure, except for a wrong identity).
///
/// Three threads share the work: a scoped hasher hashes the stored bytes as
/// they arrive, this thread decrypts them, and a scoped helper decompresses,
/// hashes the artifact and writes it.
fn open_blocking<W: Write + Send>(
    mut reader: ChannelReader,
    identities: &Identities,
    drain_on_no_match: bool,
    out: W,
) -> (Option<Fingerprint>, Decoded, io::Result<()>) {
    std::thread::scope(|scope| {
        let (hash_tx, hash_rx) = std::sync::mpsc::sync_channel::<Bytes>(CHUNKS_IN_FLIGHT);
        reader.tee = Some(hash_tx);
        let hasher = scope.spawn(move || {
            let mut h = HashingWriter::new(io::sink());
            for chunk in hash_rx {
                h.write_all(&chunk).expect("a sink does not fail");
            }
            h.finish().1
        });
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let decompress = scope.spawn(move || decompress_and_write(ChunkReader::new(rx), out));
        let decrypted = decrypt_into(&mut reader, identities, &tx);
        drop(tx);
        let (decompressed, write_result) = decompress
            .join()
            .unwrap_or_else(|_| (Decoded::Failed("the decompressing thread panicked".into()), Ok(())));
        let decoded = match decrypted {
            Err(Decoded::NoMatchingIdentity) if !drain_on_no_match => {
                drop(reader);
                let _ = hasher.join();
                return (None, Decoded::NoMatchingIdentity, write_result);
            }
            Err(failed) => failed,
            Ok(()) => decompressed,
        };
        // Read to the end so the stored hash covers the whole object.
        let drained = io::copy(&mut reader, &mut io::sink());
        drop(reader);
        let stored = hasher.join().ok().filter(|_| drained.is_ok());
        (stored, decoded, write_result)
    })
}

/// Decrypts everything `stored` holds into chunks sent on `tx`. Stops early
/// (with `Ok`) when the receiver hung up: its own result says why.
fn decrypt_into<R: Read>(
    stored: &mut R,
    identities: &Identities,
    tx: &std::sync::mpsc::SyncSender<Vec<u8>>,
) -> Result<(), Decoded> {
    let decryptor = age::Decryptor::new(stored).map_err(|e| Decoded::Failed(e.to_string()))?;
    let mut plain = decryptor.decrypt(identities.iter()).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => Decoded::NoMatchingIdentity,
        other => Decoded::Failed(other.to_string()),
    })?;
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match plain.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Decoded::Failed(e.to_string())),
            }
        }
        if filled == 0 {
            return Ok(());
        }
        chunk.truncate(filled);
        if tx.send(chunk).is_err() {
            return Ok(());
        }
    }
}

/// Decompresses the chunks into `out`, hashing the artifact on the way.
fn decompress_and_write<W: Write>(chunks: ChunkReader, out: W) -> (Decoded, io::Result<()>) {
    let mut writer = HashingWriter::new(io::BufWriter::with_capacity(WRITE_BUF, out));
    let mut z = match zstd::stream::read::Decoder::new(chunks) {
        Ok(z) => z,
        Err(e) => return (Decoded::Failed(e.to_string()), Ok(())),
    };
    let mut buf = vec![0u8; WRITE_BUF];
    loop {
        let n = match z.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (Decoded::Failed(e.to_string()), Ok(())),
        };
        if let Err(e) = writer.write_all(&buf[..n]) {
            return (Decoded::Failed("writing stopped".into()), Err(e));
        }
    }
    let (buffered, fp) = writer.finish();
    let written = buffered.into_inner().map(|_| ()).map_err(|e| e.into_error());
    (Decoded::Ok(fp), written)
}

/// Blocking `Read` over the chunks the decrypting thread sends.
struct ChunkReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl ChunkReader {
    fn new(rx: std::sync::mpsc::Receiver<Vec<u8>>) -> Self {
        Self {
            rx,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Downloads `record`'s object and writes the artifact into `out`, checking
/// the stored size and SHA-256, then the plaintext size and SHA-256.
pub async fn open_from_store<W: Write + Send + 'static>(
    store: Arc<dyn ObjectStore>,
    record: &ArtifactRecord,
    recipients: &[String],
    identities: Arc<Identities>,
    out: W,
) -> Result<(), OpenError> {
    open_with_progress(store, record, recipients, identities, out, None).await
}

/// `open_from_store`, adding the stored bytes received to `progress`.
pub async fn open_with_progress<W: Write + Send + 'static>(
    store: Arc<dyn ObjectStore>,
    record: &ArtifactRecord,
    recipients: &[String],
    identities: Arc<Identities>,
    out: W,
    progress: Option<Arc<std::sync::atomic::AtomicU64>>,
) -> Result<(), OpenError> {
    let key = record.key.clone();
    let integrity = |what: String| OpenError::Integrity { key: key.clone(), what };
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    // The object must be the size the manifest says before a byte is fetched:
    // a truncated or replaced object is an integrity failure, not a range error.
    let info = store.head(&key).await.map_err(|source| OpenError::Store {
        key: key.clone(),
        source,
    })?;
    if info.size != record.stored_size {
        return Err(integrity(format!(
            "stored object is {} bytes, the manifest records {} (truncated or replaced)",
            info.size, record.stored_size
        )));
    }
    let mut stream = Box::pin(ranged_download(
        store.clone(),
        key.clone(),
        info.size,
        RangedSettings::default(),
    ));
    let feeder = async move {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if let Some(p) = &progress {
                p.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
        Ok::<(), StoreError>(())
    };
    let reader = ChannelReader {
        rx,
        current: Bytes::new(),
        tee: None,
    };
    let ids = identities.clone();
    // With an identity the manifest lists, "no matching key" can only mean a
    // damaged header: read on, so the stored checksum can say so.
    let ours = identities.belongs_to_any(recipients);
    let worker = tokio::task::spawn_blocking(move || open_blocking(reader, &ids, ours, out));
    let (fed, worked) = tokio::join!(feeder, worker);
    let (stored, decoded, written) = worked.map_err(|e| OpenError::Internal {
        key: key.clone(),
        detail: e.to_string(),
    })?;
    fed.map_err(|source| OpenError::Store {
        key: key.clone(),
        source,
    })?;

    let decoded = match decoded {
        Decoded::NoMatchingIdentity if ours => {
            Err("the age header does not open with the identity of a listed recipient (damaged header)".to_string())
        }
        Decoded::NoMatchingIdentity => {
            return Err(OpenError::WrongIdentity {
                key: key.clone(),
                recipients: recipients.join(", "),
            })
        }
        Decoded::Ok(fp) => Ok(fp),
        Decoded::Failed(why) => Err(why),
    };
    // The stored bytes are checked first: when they differ, that is the cause.
    let stored = stored.ok_or_else(|| integrity("the object could not be read to the end".into()))?;
    let expected_stored = parse_sha256_hex(&record.stored_sha256);
    if stored.size != record.stored_size {
        return Err(integrity(format!(
            "stored object is {} bytes, the manifest records {} (truncated or replaced)",
            stored.size, record.stored_size
        )));
    }
    if Some(stored.sha256) != expected_stored {
        return Err(integrity(format!(
            "stored object sha256 is {}, the manifest records {} (corrupted or replaced)",
            stored.sha256_hex(),
            record.stored_sha256
        )));
    }
    // The object is intact: a failed write (disk full) is a local problem.
    written.map_err(|source| OpenError::Write {
        name: record.name.clone(),
        source,
    })?;
    let plain = decoded.map_err(|why| integrity(format!("cannot decrypt or decompress: {why}")))?;
    if plain.size != record.size || Some(plain.sha256) != parse_sha256_hex(&record.sha256) {
        return Err(integrity(format!(
            "restored artifact has {} bytes with sha256 {}, the manifest records {} bytes with sha256 {}",
            plain.size,
            plain.sha256_hex(),
            record.size,
            record.sha256
        )));
    }
    Ok(())
}
