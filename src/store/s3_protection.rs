//! The S3 calls behind `protection.rs`: versioning and object lock
//! configuration, per-object retention and legal hold, and deleting every
//! version of a key.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{BucketVersioningStatus, ObjectLockEnabled, ObjectLockLegalHoldStatus};

use super::protection::{LifecycleRule, Protection};
use super::s3::{to_chrono, S3Store};
use super::StoreError;

/// Whether an S3 error answer to a protection read means "not set" rather
/// than "could not be read", by the request and the error code:
/// - GetObjectLockConfiguration on a bucket created without object lock:
///   404 `ObjectLockConfigurationNotFoundError`;
/// - GetObjectRetention / GetObjectLegalHold of an object with none set:
///   404 `NoSuchObjectLockConfiguration`;
/// - GetObjectRetention / GetObjectLegalHold on a bucket without object lock:
///   400 `InvalidRequest` "Bucket is missing Object Lock Configuration" (S3
///   answers `InvalidRequest` to many other requests it refuses, so only
///   that message counts).
///
/// Everything else (access denied, 501, a 404 of another kind, an answer
/// that could not be parsed) is an error: a setting that could not be read is
/// never taken as "off".
fn not_configured(op: &str, code: Option<&str>, message: Option<&str>) -> bool {
    let lock_missing = || {
        message.is_some_and(|m| {
            let squeezed: String = m.chars().filter(|c| !c.is_whitespace()).collect();
            squeezed.to_ascii_lowercase().contains("missingobjectlockconfiguration")
        })
    };
    match (op, code) {
        ("GetObjectLockConfiguration", Some("ObjectLockConfigurationNotFoundError")) => true,
        ("GetObjectRetention" | "GetObjectLegalHold", Some("NoSuchObjectLockConfiguration")) => true,
        ("GetObjectRetention" | "GetObjectLegalHold", Some("InvalidRequest")) => lock_missing(),
        _ => false,
    }
}

impl S3Store {
    /// The answer, `None` where S3 said the protection is not set
    /// ([`not_configured`]), or the error.
    fn unless_not_configured<T, E>(
        &self,
        op: &'static str,
        key: &str,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Result<Option<T>, StoreError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(out) => Ok(Some(out)),
            Err(e) if not_configured(op, e.code(), e.message()) => Ok(None),
            Err(e) => Err(self.classify(op, key, e)),
        }
    }

    pub(super) async fn versioning_impl(&self) -> Result<bool, StoreError> {
        let v = self
            .client()
            .get_bucket_versioning()
            .bucket(self.bucket())
            .send()
            .await
            .map_err(|e| self.classify("GetBucketVersioning", "", e))?;
        // Suspended still keeps the versions written while it was enabled.
        Ok(matches!(
            v.status(),
            Some(BucketVersioningStatus::Enabled | BucketVersioningStatus::Suspended)
        ))
    }

    pub(super) async fn object_lock_impl(&self) -> Result<bool, StoreError> {
        let op = "GetObjectLockConfiguration";
        let result = self
            .client()
            .get_object_lock_configuration()
            .bucket(self.bucket())
            .send()
            .await;
        Ok(self.unless_not_configured(op, "", result)?.is_some_and(|out| {
            out.object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                .is_some_and(|e| *e == ObjectLockEnabled::Enabled)
        }))
    }

    pub(super) async fn protection_impl(&self, key: &str) -> Result<Protection, StoreError> {
        let full = self.full_key(key);
        let mut p = Protection::default();
        let result = self
            .client()
            .get_object_retention()
            .bucket(self.bucket())
            .key(&full)
            .send()
            .await;
        if let Some(r) = self
            .unless_not_configured("GetObjectRetention", key, result)?
            .and_then(|out| out.retention().cloned())
        {
            p.mode = r.mode().map(|m| m.as_str().to_string());
            p.retain_until = to_chrono(r.retain_until_date());
        }
        let result = self
            .client()
            .get_object_legal_hold()
            .bucket(self.bucket())
            .key(&full)
            .send()
            .await;
        p.legal_hold = self
            .unless_not_configured("GetObjectLegalHold", key, result)?
            .and_then(|out| out.legal_hold().and_then(|h| h.status()).cloned())
            .is_some_and(|s| s == ObjectLockLegalHoldStatus::On);
        Ok(p)
    }

    pub(super) async fn lifecycle_impl(&self) -> Result<Vec<LifecycleRule>, StoreError> {
        let out = match self
            .client()
            .get_bucket_lifecycle_configuration()
            .bucket(self.bucket())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = self.classify("GetBucketLifecycleConfiguration", "", e);
                if e.to_string().contains("NoSuchLifecycleConfiguration") || matches!(e, StoreError::NotFound { .. }) {
                    return Ok(Vec::new());
                }
                return Err(e);
            }
        };
        Ok(out
            .rules()
            .iter()
            .map(|r| LifecycleRule {
                id: r.id().unwrap_or_default().to_string(),
                enabled: r.status().as_str() == "Enabled",
                // The rule-level `Prefix` is deprecated in favour of `Filter`,
                // but older rules still use it.
                #[allow(deprecated)]
                prefix: r
                    .filter()
                    .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
                    .or(r.prefix())
                    .unwrap_or_default()
                    .to_string(),
                tags: r
                    .filter()
                    .map(|f| {
                        let mut t: Vec<(String, String)> = f
                            .tag()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .into_iter()
                            .collect();
                        if let Some(a) = f.and() {
                            t.extend(a.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
                        }
                        t
                    })
                    .unwrap_or_default(),
                expiration_days: r.expiration().and_then(|e| e.days()),
                transitions: r
                    .transitions()
                    .iter()
                    .filter_map(|t| Some((t.days()?, t.storage_class()?.as_str().to_string())))
                    .collect(),
                abort_incomplete_multipart_days: r
                    .abort_incomplete_multipart_upload()
                    .and_then(|a| a.days_after_initiation()),
                noncurrent_expiration_days: r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()),
            })
            .collect())
    }

    pub(super) async fn set_retention_impl(
        &self,
        key: &str,
        mode: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{ObjectLockRetention, ObjectLockRetentionMode};
        let retention = ObjectLockRetention::builder()
            .mode(ObjectLockRetentionMode::from(mode))
            .retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(until.timestamp()))
            .build();
        self.client()
            .put_object_retention()
            .bucket(self.bucket())
            .key(self.full_key(key))
            .retention(retention)
            .send()
            .await
            .map_err(|e| self.classify("PutObjectRetention", key, e))?;
        Ok(())
    }

    /// Deletes every version and delete marker of `key`; returns how many.
    pub(super) async fn delete_versions_impl(&self, key: &str) -> Result<usize, StoreError> {
        let full = self.full_key(key);
        let listed = self
            .client()
            .list_object_versions()
            .bucket(self.bucket())
            .prefix(&full)
            .send()
            .await
            .map_err(|e| self.classify("ListObjectVersions", key, e))?;
        let mut ids: Vec<String> = listed
            .versions()
            .iter()
            .filter(|v| v.key() == Some(full.as_str()))
            .filter_map(|v| v.version_id().map(String::from))
            .collect();
        ids.extend(
            listed
                .delete_markers()
                .iter()
                .filter(|m| m.key() == Some(full.as_str()))
                .filter_map(|m| m.version_id().map(String::from)),
        );
        for id in &ids {
            self.client()
                .delete_object()
                .bucket(self.bucket())
                .key(&full)
                .version_id(id)
                .send()
                .await
                .map_err(|e| self.classify("DeleteObject (version)", key, e))?;
        }
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::not_configured;

    #[test]
    fn only_the_answers_that_mean_not_set_read_as_off_and_every_other_failure_is_an_error() {
        let lock = "GetObjectLockConfiguration";
        let retention = "GetObjectRetention";
        let hold = "GetObjectLegalHold";
        let missing = Some("Bucket is missing Object Lock Configuration");
        let cases: &[(&str, Option<&str>, Option<&str>, bool)] = &[
            // Not set: S3's own answers.
            (lock, Some("ObjectLockConfigurationNotFoundError"), None, true),
            (retention, Some("NoSuchObjectLockConfiguration"), None, true),
            (hold, Some("NoSuchObjectLockConfiguration"), None, true),
            (retention, Some("InvalidRequest"), missing, true),
            (
                hold,
                Some("InvalidRequest"),
                Some("Bucket is missing ObjectLockConfiguration"),
                true,
            ),
            // Could not be read: never "off".
            (lock, Some("AccessDenied"), Some("Access Denied"), false),
            (lock, Some("NotImplemented"), None, false),
            (lock, Some("InvalidRequest"), missing, false),
            (lock, Some("NoSuchObjectLockConfiguration"), None, false),
            (lock, Some("NoSuchKey"), None, false),
            (lock, None, None, false),
            (
                retention,
                Some("InvalidRequest"),
                Some("Invalid version id specified"),
                false,
            ),
            (retention, Some("InvalidRequest"), None, false),
            (retention, Some("AccessDenied"), None, false),
            (retention, Some("NoSuchKey"), None, false),
            (hold, Some("ObjectLockConfigurationNotFoundError"), None, false),
            (hold, Some("MethodNotAllowed"), None, false),
            (
                "GetBucketVersioning",
                Some("ObjectLockConfigurationNotFoundError"),
                None,
                false,
            ),
        ];
        for (op, code, message, want) in cases {
            assert_eq!(not_configured(op, *code, *message), *want, "{op} {code:?} {message:?}");
        }
    }
}
