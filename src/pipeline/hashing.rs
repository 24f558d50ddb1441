//! Readers and writers that hash and count what passes through them.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Size and SHA-256 of a byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub size: u64,
    pub sha256: [u8; 32],
}

impl Fingerprint {
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Reads the rest of the stream (hashing it) and returns the fingerprint.
    pub fn drain(mut self) -> io::Result<Fingerprint> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.finish())
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Fingerprint {
        Fingerprint {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    pub fn finish(self) -> (W, Fingerprint) {
        let fp = Fingerprint {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        };
        (self.inner, fp)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Parses a hex SHA-256 as recorded in manifests.
pub fn parse_sha256_hex(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}
