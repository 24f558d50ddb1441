//! The bucket's versioning and object lock as the commands that act on them
//! (prune, `lifecycle suggest`, doctor) must know them: read from the
//! bucket, or, only where the bucket would not say, as config states them
//! (`[retention] assume_versioning`, `assume_object_lock`).
//!
//! It never guesses: a setting that was neither read nor stated is unknown,
//! never "off". Prune then deletes nothing (on a versioned bucket a plain
//! delete only hides a version that stays billed; with object lock, deletes
//! of retained objects are refused), see docs/RETENTION.md.

use crate::config::StatedBucket;
use crate::store::{BucketFeatures, ObjectStore, StoreError};

/// A bucket setting that changes how deletion works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Versioning,
    ObjectLock,
}

impl Setting {
    pub fn name(self) -> &'static str {
        match self {
            Self::Versioning => "versioning",
            Self::ObjectLock => "object lock",
        }
    }

    /// The IAM permission the S3 request that reads it needs.
    pub fn permission(self) -> &'static str {
        match self {
            Self::Versioning => "s3:GetBucketVersioning",
            Self::ObjectLock => "s3:GetBucketObjectLockConfiguration",
        }
    }

    /// The `[retention]` key that states it when it cannot be read.
    pub fn config_key(self) -> &'static str {
        match self {
            Self::Versioning => "assume_versioning",
            Self::ObjectLock => "assume_object_lock",
        }
    }

    fn stated(self, stated: &StatedBucket) -> Option<bool> {
        match self {
            Self::Versioning => stated.versioning,
            Self::ObjectLock => stated.object_lock,
        }
    }
}

/// What is known of one setting.
#[derive(Debug)]
pub enum Known {
    /// As the bucket answered.
    Read(bool),
    /// The bucket would not say (`cause`); config states it.
    Stated { value: bool, cause: StoreError },
    /// The bucket would not say, and config does not state it.
    Unknown(StoreError),
}

impl Known {
    /// The bucket's answer when there is one; config only in place of a
    /// failed read.
    pub fn decide(read: Result<bool, StoreError>, stated: Option<bool>) -> Self {
        match (read, stated) {
            (Ok(value), _) => Self::Read(value),
            (Err(cause), Some(value)) => Self::Stated { value, cause },
            (Err(cause), None) => Self::Unknown(cause),
        }
    }

    /// Reads `setting` from the bucket (config filling in a failed read).
    pub async fn read(store: &dyn ObjectStore, setting: Setting, stated: &StatedBucket) -> Self {
        let read = match setting {
            Setting::Versioning => store.versioning().await,
            Setting::ObjectLock => store.object_lock().await,
        };
        Self::decide(read, setting.stated(stated))
    }

    /// The value to act on; `None` while unknown.
    pub fn value(&self) -> Option<bool> {
        match self {
            Self::Read(v) | Self::Stated { value: v, .. } => Some(*v),
            Self::Unknown(_) => None,
        }
    }

    /// The value to act on, or what prevented reading it. A stated value is
    /// logged at WARN naming its key, each time it is used.
    pub fn usable(self, setting: Setting) -> Result<bool, Unread> {
        match self {
            Self::Read(v) => Ok(v),
            Self::Stated { value, cause } => {
                tracing::warn!(
                    key = format!("retention.{}", setting.config_key()),
                    value,
                    error = %cause,
                    "cannot read the bucket's {}; using the value config states",
                    setting.name()
                );
                Ok(value)
            }
            Self::Unknown(error) => Err(Unread { setting, error }),
        }
    }
}

/// A setting that was needed and could neither be read nor is stated.
#[derive(Debug)]
pub struct Unread {
    pub setting: Setting,
    pub error: StoreError,
}

/// Versioning and object lock, both known, or every one that is not.
pub async fn features(store: &dyn ObjectStore, stated: &StatedBucket) -> Result<BucketFeatures, Vec<Unread>> {
    let versioning = Known::read(store, Setting::Versioning, stated)
        .await
        .usable(Setting::Versioning);
    let object_lock = Known::read(store, Setting::ObjectLock, stated)
        .await
        .usable(Setting::ObjectLock);
    match (versioning, object_lock) {
        (Ok(versioning), Ok(object_lock)) => Ok(BucketFeatures {
            versioning,
            object_lock,
        }),
        (v, l) => Err([v.err(), l.err()].into_iter().flatten().collect()),
    }
}

/// The message of `OpsError::ProtectionUnknown`: what was done (nothing),
/// what could not be read and why, and the two ways to fix it.
pub fn refusal(location: &str, consequence: &str, unread: &[Unread]) -> String {
    let join = |parts: Vec<String>| parts.join(" and ");
    let names = join(unread.iter().map(|u| u.setting.name().to_string()).collect());
    let causes = unread
        .iter()
        .map(|u| u.error.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let permissions = join(unread.iter().map(|u| u.setting.permission().to_string()).collect());
    let keys = unread
        .iter()
        .map(|u| format!("{} = true|false", u.setting.config_key()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{consequence}: the {names} of {location} could not be read ({causes}). Fix: grant this role {permissions}, \
         or, if you know the bucket's settings, state them in config: [retention] {keys}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied() -> StoreError {
        StoreError::AccessDenied {
            op: "GetBucketVersioning",
            detail: "HTTP 403 AccessDenied".into(),
        }
    }

    #[test]
    fn config_fills_in_only_a_setting_the_bucket_would_not_say() {
        let cases = [
            (Ok(true), None, Some(true)),
            (Ok(false), Some(true), Some(false)),
            (Ok(true), Some(false), Some(true)),
            (Err(()), Some(true), Some(true)),
            (Err(()), Some(false), Some(false)),
            (Err(()), None, None),
        ];
        for (read, stated, want) in cases {
            let known = Known::decide(read.map_err(|_| denied()), stated);
            assert_eq!(known.value(), want, "{known:?} from {read:?} and {stated:?}");
            assert_eq!(known.usable(Setting::Versioning).ok(), want);
        }
    }

    #[test]
    fn the_refusal_names_the_request_the_cause_the_permission_and_the_key() {
        let unread = [
            Unread {
                setting: Setting::Versioning,
                error: denied(),
            },
            Unread {
                setting: Setting::ObjectLock,
                error: StoreError::Unsupported {
                    op: "GetObjectLockConfiguration",
                    detail: "HTTP 501 NotImplemented".into(),
                },
            },
        ];
        let text = refusal("s3://b/p", "prune deleted nothing", &unread);
        for want in [
            "prune deleted nothing: the versioning and object lock of s3://b/p could not be read",
            "GetBucketVersioning: HTTP 403 AccessDenied",
            "GetObjectLockConfiguration: HTTP 501 NotImplemented",
            "grant this role s3:GetBucketVersioning and s3:GetBucketObjectLockConfiguration",
            "[retention] assume_versioning = true|false, assume_object_lock = true|false",
        ] {
            assert!(text.contains(want), "{want:?} not in {text}");
        }
    }
}
