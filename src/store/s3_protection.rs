//! The S3 calls behind `protection.rs`: versioning and object lock
//! configuration, per-object retention and legal hold, and deleting every
//! version of a key.

use aws_sdk_s3::types::{BucketVersioningStatus, ObjectLockEnabled, ObjectLockLegalHoldStatus};

use super::protection::{BucketFeatures, LifecycleRule, Protection};
use super::s3::{to_chrono, S3Store};
use super::StoreError;

/// S3 answers these when the feature is simply not configured.
fn not_configured(e: &StoreError) -> bool {
    let text = e.to_string();
    text.contains("ObjectLockConfigurationNotFound")
        || text.contains("NoSuchObjectLockConfiguration")
        || text.contains("InvalidRequest")
        || matches!(e, StoreError::NotFound { .. })
}

impl S3Store {
    pub(super) async fn features_impl(&self) -> Result<BucketFeatures, StoreError> {
        let v = self
            .client()
            .get_bucket_versioning()
            .bucket(self.bucket())
            .send()
            .await
            .map_err(|e| self.classify("GetBucketVersioning", "", e))?;
        let versioning = matches!(
            v.status(),
            Some(BucketVersioningStatus::Enabled | BucketVersioningStatus::Suspended)
        );
        let object_lock = match self
            .client()
            .get_object_lock_configuration()
            .bucket(self.bucket())
            .send()
            .await
        {
            Ok(out) => out
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                .is_some_and(|e| *e == ObjectLockEnabled::Enabled),
            Err(e) => {
                let e = self.classify("GetObjectLockConfiguration", "", e);
                if not_configured(&e) {
                    false
                } else {
                    return Err(e);
                }
            }
        };
        Ok(BucketFeatures {
            versioning,
            object_lock,
        })
    }

    pub(super) async fn protection_impl(&self, key: &str) -> Result<Protection, StoreError> {
        let full = self.full_key(key);
        let mut p = Protection::default();
        match self
            .client()
            .get_object_retention()
            .bucket(self.bucket())
            .key(&full)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(r) = out.retention() {
                    p.mode = r.mode().map(|m| m.as_str().to_string());
                    p.retain_until = to_chrono(r.retain_until_date());
                }
            }
            Err(e) => {
                let e = self.classify("GetObjectRetention", key, e);
                if !not_configured(&e) && !e.to_string().contains("NoSuchObjectLockConfiguration") {
                    return Err(e);
                }
            }
        }
        match self
            .client()
            .get_object_legal_hold()
            .bucket(self.bucket())
            .key(&full)
            .send()
            .await
        {
            Ok(out) => {
                p.legal_hold = out
                    .legal_hold()
                    .and_then(|h| h.status())
                    .is_some_and(|s| *s == ObjectLockLegalHoldStatus::On)
            }
            Err(e) => {
                let e = self.classify("GetObjectLegalHold", key, e);
                if !not_configured(&e) {
                    return Err(e);
                }
            }
        }
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
