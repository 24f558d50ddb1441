//! A filesystem object store (`file:///path`), e.g. for a NAS mount.
//!
//! Objects are plain files under the root, so they open with stock tools too.
//! Every write goes to a hidden temporary file in the destination directory,
//! is fsynced, then renamed into place and the directory fsynced: an object is
//! there whole or not at all, also after a power cut. Multipart parts live under
//! `.graphvault-uploads/<upload-id>/` until completion (`fs_multipart.rs`). Names starting with `.`
//! are reserved for this bookkeeping and never listed. The store keeps no
//! checksum of its own (`head` reports none); parts and puts are checked
//! against their SHA-256 on arrival, as S3 does.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};

use super::fs_multipart;
use super::{ByteStream, ObjectInfo, ObjectStore, PartReceipt, PendingUpload, PutMode, StoreError};

const UPLOADS: &str = ".graphvault-uploads";
const READ_CHUNK: usize = 1 << 20;

/// Object store on a local or mounted filesystem.
#[derive(Clone, Debug)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// A store rooted at `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| StoreError::io("create store directory", &root, e))?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        let bad = |why: &str| StoreError::Permanent {
            op: "map key to path",
            detail: format!("key '{key}' {why}"),
        };
        if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
            return Err(bad("must be a relative file path"));
        }
        if key.split('/').any(|seg| seg.is_empty() || seg.starts_with('.')) {
            return Err(bad("has an empty, '.', '..' or hidden component"));
        }
        Ok(self.root.join(key))
    }

    async fn start_upload(&self, key: &str, part_size: Option<u64>) -> Result<String, StoreError> {
        self.path_of(key)?;
        let upload_id = random_token();
        let dir = self.upload_dir(&upload_id)?;
        let key = key.to_string();
        blocking(move || fs_multipart::create(&dir, &key, part_size).map(|()| upload_id)).await
    }

    fn upload_dir(&self, upload_id: &str) -> Result<PathBuf, StoreError> {
        if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StoreError::Permanent {
                op: "multipart upload",
                detail: format!("malformed upload id '{upload_id}'"),
            });
        }
        Ok(self.root.join(UPLOADS).join(upload_id))
    }
}

/// Runs blocking filesystem work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Permanent {
            op: "filesystem task",
            detail: e.to_string(),
        })?
}

fn random_token() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("fsync directory", dir, e))
}

/// Writes `fill`'s output to a hidden temp file next to `dest`, fsyncs it, and
/// moves it into place (refusing to replace an existing file in `CreateOnly`).
fn write_atomically(
    dest: &Path,
    key: &str,
    mode: PutMode,
    fill: impl FnOnce(&mut File) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| StoreError::io("create directory", dir, e))?;
    let tmp = dir.join(format!(".tmp-{}", random_token()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StoreError::io("create temp file", &tmp, e))?;
        fill(&mut file)?;
        file.sync_all().map_err(|e| StoreError::io("fsync", &tmp, e))?;
        match mode {
            PutMode::Overwrite => fs::rename(&tmp, dest).map_err(|e| StoreError::io("rename", dest, e)),
            PutMode::CreateOnly => match fs::hard_link(&tmp, dest) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(StoreError::PreconditionFailed { key: key.to_string() })
                }
                Err(e) => Err(StoreError::io("link", dest, e)),
            },
        }
    })();
    // After a rename the temp name is gone; after a link or failure it is removed.
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(dir)
}

fn check_sha256(key: &str, body: &[u8], sha256: &[u8; 32]) -> Result<(), StoreError> {
    let actual: [u8; 32] = Sha256::digest(body).into();
    if &actual == sha256 {
        Ok(())
    } else {
        Err(StoreError::ChecksumMismatch {
            key: key.to_string(),
            detail: format!("sent {}, body hashes to {}", hex::encode(sha256), hex::encode(actual)),
        })
    }
}

fn info_of(key: String, meta: &fs::Metadata) -> ObjectInfo {
    ObjectInfo {
        key,
        size: meta.len(),
        last_modified: meta.modified().ok().map(DateTime::<Utc>::from),
        storage_class: None,
        restore: None,
        checksum: None,
        etag: {
            use std::os::unix::fs::MetadataExt;
            Some(format!(
                "{:x}-{}.{}-{}",
                meta.ino(),
                meta.ctime(),
                meta.ctime_nsec(),
                meta.len()
            ))
        },
    }
}

fn not_found_or(key: &str, op: &'static str, path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StoreError::NotFound { key: key.to_string() }
    } else {
        StoreError::io(op, path, e)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<ObjectInfo>) -> Result<(), StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("list directory", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("list directory", dir, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| StoreError::io("stat", &path, e))?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(info_of(rel.to_string_lossy().into_owned(), &meta));
        }
    }
    Ok(())
}

fn tags_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tags.json"))
}

#[async_trait]
impl ObjectStore for FsStore {
    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }

    /// The time the filesystem gives a file written now: on a network
    /// share, the server's clock, which dates every other file too.
    async fn clock(&self) -> Result<DateTime<Utc>, StoreError> {
        let tmp = self.root.join(format!(".tmp-clock-{}", random_token()));
        let written = File::create(&tmp)
            .and_then(|f| f.metadata())
            .and_then(|m| m.modified())
            .map_err(|e| StoreError::io("create temp file", &tmp, e));
        let _ = fs::remove_file(&tmp);
        Ok(DateTime::<Utc>::from(written?))
    }

    async fn put(&self, key: &str, body: Bytes, sha256: [u8; 32], mode: PutMode) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let key = key.to_string();
        blocking(move || {
            check_sha256(&key, &body, &sha256)?;
            write_atomically(&path, &key, mode, |f| {
                f.write_all(&body).map_err(|e| StoreError::io("write", &path, e))
            })
        })
        .await
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        let path = self.path_of(key)?;
        let key = key.to_string();
        blocking(move || {
            let meta = fs::metadata(&path).map_err(|e| not_found_or(&key, "stat", &path, e))?;
            if !meta.is_file() {
                return Err(StoreError::NotFound { key });
            }
            Ok(info_of(key, &meta))
        })
        .await
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let path = self.path_of(key)?;
        let owned_key = key.to_string();
        let (file, start, end) = blocking(move || {
            let mut file = File::open(&path).map_err(|e| not_found_or(&owned_key, "open", &path, e))?;
            let len = file.metadata().map_err(|e| StoreError::io("stat", &path, e))?.len();
            let (start, end) = match range {
                Some(r) => (r.start.min(len), r.end.min(len)),
                None => (0, len),
            };
            file.seek(SeekFrom::Start(start))
                .map_err(|e| StoreError::io("seek", &path, e))?;
            Ok((file, start, end))
        })
        .await?;
        let key = key.to_string();
        let state = (Some(file), end - start);
        let stream = futures::stream::unfold(state, move |(file, remaining)| {
            let key = key.clone();
            async move {
                let mut file = file?;
                if remaining == 0 {
                    return None;
                }
                let want = remaining.min(READ_CHUNK as u64) as usize;
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; want];
                    let n = file.read(&mut buf)?;
                    buf.truncate(n);
                    Ok::<_, std::io::Error>((file, buf))
                })
                .await;
                match read {
                    Ok(Ok((_, buf))) if buf.is_empty() => Some((
                        Err(StoreError::Permanent {
                            op: "read",
                            detail: format!("'{key}' shrank while being read"),
                        }),
                        (None, 0),
                    )),
                    Ok(Ok((file, buf))) => {
                        let left = remaining - buf.len() as u64;
                        Some((Ok(Bytes::from(buf)), (Some(file), left)))
                    }
                    Ok(Err(e)) => Some((Err(StoreError::io("read", key.as_str(), e)), (None, 0))),
                    Err(e) => Some((
                        Err(StoreError::Permanent {
                            op: "read",
                            detail: e.to_string(),
                        }),
                        (None, 0),
                    )),
                }
            }
        });
        Ok(Box::pin(stream))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let root = self.root.clone();
        // Walk only the deepest directory the prefix names, then filter.
        let dir_part = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let start = if dir_part.is_empty() {
            root.clone()
        } else {
            self.path_of(dir_part)?
        };
        let prefix = prefix.to_string();
        blocking(move || {
            let mut out = Vec::new();
            walk(&root, &start, &mut out)?;
            out.retain(|o| o.key.starts_with(&prefix));
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = match prefix.strip_suffix('/') {
            None if prefix.is_empty() => self.root.clone(),
            Some(d) => self.path_of(d)?,
            None => return Ok(Vec::new()),
        };
        let prefix = prefix.to_string();
        blocking(move || {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(StoreError::io("list directory", &dir, e)),
            };
            let mut out = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| StoreError::io("list directory", &dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && !name.starts_with('.') {
                    out.push(format!("{prefix}{name}/"));
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        blocking(move || {
            let _ = fs::remove_file(tags_path(&path));
            match fs::remove_file(&path) {
                Ok(()) => sync_dir(path.parent().unwrap_or(Path::new("."))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::io("delete", &path, e)),
            }
        })
        .await
    }

    async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        self.start_upload(key, None).await
    }

    async fn create_multipart_sized(&self, key: &str, part_size: u64) -> Result<String, StoreError> {
        self.start_upload(key, Some(part_size)).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        sha256: [u8; 32],
    ) -> Result<PartReceipt, StoreError> {
        let dir = self.upload_dir(upload_id)?;
        let (key, upload_id) = (key.to_string(), upload_id.to_string());
        blocking(move || {
            if !dir.is_dir() {
                return Err(StoreError::NoSuchUpload { key, upload_id });
            }
            if part_number == 0 {
                return Err(StoreError::Permanent {
                    op: "upload part",
                    detail: format!("part numbers start at 1 (upload of '{key}')"),
                });
            }
            check_sha256(&key, &body, &sha256)?;
            fs_multipart::write_part(&dir, part_number, &body, &random_token())?;
            Ok(PartReceipt {
                part_number,
                etag: hex::encode(&sha256[..8]),
                sha256,
            })
        })
        .await
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[PartReceipt]) -> Result<(), StoreError> {
        let dest = self.path_of(key)?;
        let dir = self.upload_dir(upload_id)?;
        let (key, upload_id, parts) = (key.to_string(), upload_id.to_string(), parts.to_vec());
        blocking(move || {
            if !dir.is_dir() {
                return Err(StoreError::NoSuchUpload { key, upload_id });
            }
            // Each part's SHA-256 was checked when it was uploaded (as S3 does).
            match fs_multipart::in_place(&dir, &parts)? {
                Some((data, size)) => {
                    let parent = dest.parent().unwrap_or(Path::new("."));
                    fs::create_dir_all(parent).map_err(|e| StoreError::io("create directory", parent, e))?;
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&data)
                        .map_err(|e| StoreError::io("open upload data", &data, e))?;
                    file.set_len(size)
                        .and_then(|()| file.sync_all())
                        .map_err(|e| StoreError::io("fsync", &data, e))?;
                    fs::rename(&data, &dest).map_err(|e| StoreError::io("rename", &dest, e))?;
                    sync_dir(parent)?;
                }
                None => write_atomically(&dest, &key, PutMode::Overwrite, |out| {
                    fs_multipart::copy_parts(&dir, &parts, out)
                })?,
            }
            fs::remove_dir_all(&dir).map_err(|e| StoreError::io("remove upload directory", &dir, e))
        })
        .await
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<(), StoreError> {
        let dir = self.upload_dir(upload_id)?;
        blocking(move || match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io("abort upload", &dir, e)),
            _ => Ok(()),
        })
        .await
    }

    async fn list_multipart(&self, prefix: &str) -> Result<Vec<PendingUpload>, StoreError> {
        let uploads = self.root.join(UPLOADS);
        let prefix = prefix.to_string();
        blocking(move || {
            let mut out = Vec::new();
            let entries = match fs::read_dir(&uploads) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(StoreError::io("list uploads", &uploads, e)),
            };
            for entry in entries.flatten() {
                let Ok(key) = fs::read_to_string(entry.path().join("key")) else {
                    continue;
                };
                if key.starts_with(&prefix) {
                    let initiated = entry
                        .metadata()
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .map(DateTime::from);
                    out.push(PendingUpload {
                        key,
                        upload_id: entry.file_name().to_string_lossy().into_owned(),
                        initiated,
                    });
                }
            }
            out.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
            Ok(out)
        })
        .await
    }

    async fn put_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        self.head(key).await?;
        let json = serde_json::to_vec(tags).map_err(|e| StoreError::Permanent {
            op: "put tags",
            detail: e.to_string(),
        })?;
        let key = key.to_string();
        blocking(move || {
            let tp = tags_path(&path);
            write_atomically(&tp, &key, PutMode::Overwrite, |f| {
                f.write_all(&json).map_err(|e| StoreError::io("write tags", &tp, e))
            })
        })
        .await
    }

    async fn get_tags(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        let path = self.path_of(key)?;
        self.head(key).await?;
        blocking(move || {
            let tp = tags_path(&path);
            match fs::read(&tp) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Permanent {
                    op: "get tags",
                    detail: format!("{}: {e}", tp.display()),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(StoreError::io("read tags", &tp, e)),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root_or_touch_bookkeeping() {
        let store = FsStore::new(tempfile::tempdir().unwrap().path()).unwrap();
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            ".graphvault-uploads/x",
            "a/.tmp-1",
            "dir/",
        ] {
            assert!(store.path_of(bad).is_err(), "{bad:?}");
        }
        assert!(store.path_of("manifests/a/b.json").is_ok());
    }
}
