//! Early writeback: start writing dirty pages to disk while more data is
//! still being produced, so the `fsync` that ends a restore (or completes a
//! file-store upload) waits for little instead of the whole file. Linux
//! `sync_file_range(SYNC_FILE_RANGE_WRITE)` only queues the writeback; it
//! neither waits nor makes anything durable: the final `fsync` still does
//! that. Elsewhere it is a no-op.

use std::fs::File;
use std::io::{self, Write};

/// Bytes written between two writeback requests.
pub const WRITEBACK_EVERY: u64 = 8 << 20;

/// Asks the kernel to start writing `len` bytes at `offset` of `file` to
/// disk. Best effort: errors are ignored (the final fsync reports real ones).
pub fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is valid for the lifetime of `file`; the call
        // reads no memory of ours.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// A file written front to back that starts writeback every
/// [`WRITEBACK_EVERY`] bytes.
pub struct WritebackFile {
    file: File,
    written: u64,
    flushed_to: u64,
}

impl WritebackFile {
    pub fn new(file: File) -> Self {
        Self {
            file,
            written: 0,
            flushed_to: 0,
        }
    }
}

impl Write for WritebackFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.flushed_to >= WRITEBACK_EVERY {
            start_writeback(&self.file, self.flushed_to, self.written - self.flushed_to);
            self.flushed_to = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn what_is_written_is_what_the_file_holds() {
        let mut tmp = tempfile::tempfile().unwrap();
        let mut w = WritebackFile::new(tmp.try_clone().unwrap());
        let data: Vec<u8> = (0..(WRITEBACK_EVERY as usize * 2 + 12_345)).map(|i| i as u8).collect();
        for chunk in data.chunks(1 << 20) {
            w.write_all(chunk).unwrap();
        }
        w.flush().unwrap();
        let mut back = Vec::new();
        use std::io::Seek;
        tmp.rewind().unwrap();
        tmp.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }
}
