//! From a storage URL to a ready store (with retries stacked on top).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::{FsStore, ObjectStore, RetryPolicy, RetryingStore, S3Settings, S3Store, StoreError};

/// A parsed `storage.url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `s3://bucket[/prefix]`
    S3 { bucket: String, prefix: String },
    /// `file:///absolute/path`
    File { root: PathBuf },
}

/// Why a storage URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("storage url '{url}' is not usable: {why}. Use s3://bucket/prefix or file:///absolute/path")]
pub struct InvalidStoreUrl {
    pub url: String,
    pub why: String,
}

impl FromStr for StoreUrl {
    type Err = InvalidStoreUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| InvalidStoreUrl {
            url: s.to_string(),
            why: why.to_string(),
        };
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && !bucket.starts_with(['-', '.'])
                && !bucket.ends_with(['-', '.']);
            if !valid_bucket {
                return Err(bad(
                    "the bucket name must be 3-63 lowercase letters, digits, '-' or '.'",
                ));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|seg| seg == "." || seg == "..") || prefix.contains("//") {
                return Err(bad("the prefix must not contain '.', '..' or empty segments"));
            }
            // AWS's "safe characters" for keys: anything else ('?', '#',
            // spaces, '%', …) is more likely a pasted query string or a typo
            // than a prefix, and some of it would be escaped on the wire.
            if let Some(c) = prefix.chars().find(|c| !is_safe_prefix_char(*c)) {
                return Err(bad(&format!(
                    "the prefix contains {c:?}; use letters, digits and ! - _ . * ' ( ) separated by '/'"
                )));
            }
            Ok(Self::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        } else if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad(
                    "a file URL needs an absolute path (three slashes: file:///srv/backups)",
                ));
            }
            Ok(Self::File {
                root: PathBuf::from(path),
            })
        } else {
            Err(bad("unknown scheme"))
        }
    }
}

impl StoreUrl {
    /// The URL one level up and this one's last segment (`s3://b/neo4j`,
    /// `prod` for `s3://b/neo4j/prod`); `None` at a bucket's or the
    /// filesystem's root.
    pub fn parent(&self) -> Option<(StoreUrl, String)> {
        match self {
            Self::S3 { bucket, prefix } if !prefix.is_empty() => {
                let (up, name) = prefix.rsplit_once('/').unwrap_or(("", prefix));
                Some((
                    Self::S3 {
                        bucket: bucket.clone(),
                        prefix: up.to_string(),
                    },
                    name.to_string(),
                ))
            }
            Self::S3 { .. } => None,
            Self::File { root } => {
                let name = root.file_name()?.to_string_lossy().into_owned();
                Some((
                    Self::File {
                        root: root.parent()?.to_path_buf(),
                    },
                    name,
                ))
            }
        }
    }
}

/// Whether `c` may appear in an S3 prefix (AWS's safe characters and `/`).
fn is_safe_prefix_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!-_.*'()/".contains(c)
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Self::File { root } => write!(f, "file://{}", root.display()),
        }
    }
}

/// Everything needed to open a store.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub url: StoreUrl,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub force_path_style: bool,
    pub connect_timeout: Duration,
    /// Keys asked for per ListObjectsV2 page (S3 answers at most 1,000).
    pub list_page_size: usize,
    pub attempt_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Opens the store a URL names, with the retry wrapper on top.
pub async fn open_store(settings: &StoreSettings) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let inner: Arc<dyn ObjectStore> = match &settings.url {
        StoreUrl::File { root } => Arc::new(FsStore::new(root)?),
        StoreUrl::S3 { bucket, prefix } => Arc::new(
            S3Store::connect(&S3Settings {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                endpoint: settings.endpoint.clone(),
                region: settings.region.clone(),
                force_path_style: settings.force_path_style,
                connect_timeout: settings.connect_timeout,
                attempt_timeout: settings.attempt_timeout,
                list_page_size: settings.list_page_size,
            })
            .await,
        ),
    };
    Ok(Arc::new(RetryingStore::new(inner, settings.retry.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls_parse() {
        assert_eq!(
            "s3://backups/neo4j/prod/".parse::<StoreUrl>().unwrap(),
            StoreUrl::S3 {
                bucket: "backups".into(),
                prefix: "neo4j/prod".into()
            }
        );
        assert_eq!(
            "s3://backups".parse::<StoreUrl>().unwrap(),
            StoreUrl::S3 {
                bucket: "backups".into(),
                prefix: "".into()
            }
        );
        assert_eq!(
            "file:///srv/backups".parse::<StoreUrl>().unwrap(),
            StoreUrl::File {
                root: "/srv/backups".into()
            }
        );
    }

    #[test]
    fn a_storage_url_knows_its_parent_and_name() {
        let parent = |u: &str| u.parse::<StoreUrl>().unwrap().parent().map(|(p, n)| (p.to_string(), n));
        assert_eq!(
            parent("s3://bkt/neo4j/prod"),
            Some(("s3://bkt/neo4j".into(), "prod".into()))
        );
        assert_eq!(parent("s3://bkt/gv"), Some(("s3://bkt".into(), "gv".into())));
        assert_eq!(parent("s3://bkt"), None);
        assert_eq!(parent("file:///srv/gv"), Some(("file:///srv".into(), "gv".into())));
        assert_eq!(parent("file:///"), None);
    }

    #[test]
    fn bad_storage_urls_say_what_to_write() {
        for bad in [
            "",
            "backups",
            "s3://",
            "s3://Upper",
            "s3://b/../x",
            "s3://bkt/gv?x=1",
            "s3://bkt/g v",
            "s3://bkt/gv#frag",
            "s3://bkt/100%",
            "s3://bkt/a\tb",
            "file://relative",
            "http://x",
        ] {
            let err = bad.parse::<StoreUrl>().unwrap_err();
            assert!(err.to_string().contains("s3://bucket/prefix"), "{bad}: {err}");
        }
        let err = "s3://bkt/gv?x=1".parse::<StoreUrl>().unwrap_err().to_string();
        assert!(err.contains("contains '?'") && err.contains("! - _ . * ' ( )"), "{err}");
        // Every safe character is accepted.
        assert!("s3://bkt/Neo4j_prod-1/a.b/(x)/it's!*".parse::<StoreUrl>().is_ok());
    }
}
