//! Multipart uploads of the filesystem store (`FsStore`), kept in
//! `.graphvault-uploads/<upload-id>/`:
//!
//! - `key`: the object key the upload is for;
//! - `part-size` (uploads started with a part size): every part but the last
//!   has this size, so part N is written in place into `data` at offset
//!   `(N - 1) × part-size`, and `slot-NNNNN` records its length. Completing
//!   such an upload truncates `data`, fsyncs it and moves it into place: each
//!   byte is written once;
//! - `part-NNNNN`: a part stored on its own (no part size given, or a part
//!   that does not fit its slot). Completing copies the parts into a new file.
//!
//! Parts are not fsynced: completion reads them back (page cache) and fsyncs
//! the object before it appears; after a crash the upload is abandoned and
//! aborted anyway.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{PartReceipt, StoreError};

const PART_SIZE: &str = "part-size";
const DATA: &str = "data";

fn separate(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("part-{number:05}"))
}

fn slot(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("slot-{number:05}"))
}

/// Writes `bytes` to `path` whole or not at all (temp file + rename).
fn write_small(dir: &Path, path: &Path, bytes: &[u8], token: &str) -> std::io::Result<()> {
    let tmp = dir.join(format!(".tmp-{token}"));
    let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Sets up the upload directory.
pub(super) fn create(dir: &Path, key: &str, part_size: Option<u64>) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|e| StoreError::io("create upload directory", dir, e))?;
    if let Some(size) = part_size.filter(|s| *s > 0) {
        fs::write(dir.join(PART_SIZE), size.to_string())
            .map_err(|e| StoreError::io("write upload part size", dir, e))?;
    }
    fs::write(dir.join("key"), key.as_bytes()).map_err(|e| StoreError::io("write upload key", dir, e))
}

fn part_size_of(dir: &Path) -> Option<u64> {
    fs::read_to_string(dir.join(PART_SIZE)).ok()?.trim().parse().ok()
}

/// Stores part `number`: in its slot of `data` when it fits, else on its own.
pub(super) fn write_part(dir: &Path, number: u32, body: &[u8], token: &str) -> Result<(), StoreError> {
    let fits = part_size_of(dir).filter(|size| body.len() as u64 <= *size);
    if let Some(size) = fits {
        let data = dir.join(DATA);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&data)
            .map_err(|e| StoreError::io("open upload data", &data, e))?;
        let offset = u64::from(number - 1) * size;
        file.write_all_at(body, offset)
            .map_err(|e| StoreError::io("write part", &data, e))?;
        // Unsynced until completion (which fsyncs): start writing it now so
        // that fsync has little left to wait for.
        crate::pipeline::start_writeback(&file, offset, body.len() as u64);
        let _ = fs::remove_file(separate(dir, number));
        let marker = slot(dir, number);
        write_small(dir, &marker, body.len().to_string().as_bytes(), token)
            .map_err(|e| StoreError::io("write part", &marker, e))
    } else {
        let path = separate(dir, number);
        write_small(dir, &path, body, token).map_err(|e| StoreError::io("write part", &path, e))?;
        let _ = fs::remove_file(slot(dir, number));
        Ok(())
    }
}

/// Where each listed part's bytes are: a range of `data`, or its own file.
enum Stored {
    Slot { offset: u64, len: u64 },
    Separate(PathBuf),
}

fn locate(dir: &Path, parts: &[PartReceipt]) -> Result<Vec<Stored>, StoreError> {
    let size = part_size_of(dir);
    parts
        .iter()
        .map(|p| {
            let marker = slot(dir, p.part_number);
            match (size, fs::read_to_string(&marker)) {
                (Some(size), Ok(len)) => Ok(Stored::Slot {
                    offset: u64::from(p.part_number - 1) * size,
                    len: len.trim().parse().map_err(|_| {
                        StoreError::io("read part", &marker, std::io::Error::other("damaged slot marker"))
                    })?,
                }),
                _ => Ok(Stored::Separate(separate(dir, p.part_number))),
            }
        })
        .collect()
}

/// Whether `data` already is the object: parts 1..=n in their slots, every
/// one but the last exactly the part size. Returns the object's size.
fn in_place_size(dir: &Path, stored: &[Stored]) -> Option<u64> {
    let size = part_size_of(dir)?;
    let mut total = 0;
    for (i, part) in stored.iter().enumerate() {
        let Stored::Slot { offset, len } = part else {
            return None;
        };
        let last = i + 1 == stored.len();
        if *offset != total || (!last && *len != size) {
            return None;
        }
        total += len;
    }
    Some(total)
}

/// The file that already is the object once truncated to the returned
/// size, if the parts lie in place (see the module doc).
pub(super) fn in_place(dir: &Path, parts: &[PartReceipt]) -> Result<Option<(PathBuf, u64)>, StoreError> {
    if parts.is_empty() {
        return Ok(None);
    }
    let stored = locate(dir, parts)?;
    Ok(in_place_size(dir, &stored).map(|size| (dir.join(DATA), size)))
}

/// Copies the listed parts, in order, into `out`.
pub(super) fn copy_parts(dir: &Path, parts: &[PartReceipt], out: &mut File) -> Result<(), StoreError> {
    let data_path = dir.join(DATA);
    for part in locate(dir, parts)? {
        match part {
            Stored::Separate(path) => {
                let mut body = File::open(&path).map_err(|e| StoreError::io("read part", &path, e))?;
                std::io::copy(&mut body, out).map_err(|e| StoreError::io("write", &path, e))?;
            }
            Stored::Slot { offset, len } => {
                let mut data = File::open(&data_path).map_err(|e| StoreError::io("read part", &data_path, e))?;
                data.seek(SeekFrom::Start(offset))
                    .map_err(|e| StoreError::io("read part", &data_path, e))?;
                std::io::copy(&mut data.take(len), out).map_err(|e| StoreError::io("write", &data_path, e))?;
            }
        }
    }
    Ok(())
}
