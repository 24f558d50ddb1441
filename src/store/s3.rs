//! S3-compatible object store on aws-sdk-s3.
//!
//! Works with AWS S3 and S3-compatible servers (LocalStack, MinIO, Ceph…):
//! custom endpoint, region, path-style addressing, and the standard AWS
//! credential chain (env, profile, web identity, instance metadata).
//!
//! Two deliberate SDK settings:
//! - request checksum calculation is "when required": the SDK's default CRC32
//!   trailers break some S3-compatible servers, and we send our own SHA-256 on
//!   every PUT and part anyway, which S3 verifies and keeps;
//! - the SDK's own retries are off: `RetryingStore` is the one retry policy, so
//!   retries are visible in our logs and consistent across backends.

use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Tag, Tagging};
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::clock::{DateRecorder, StoreClock};
use super::{ByteStream, ObjectInfo, ObjectStore, PartReceipt, PendingUpload, PutMode, StoreError, StoredChecksum};

/// Where and how to reach the bucket.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; may be empty.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub force_path_style: bool,
    pub connect_timeout: Duration,
    /// Upper bound for one attempt of one request (a part upload included).
    pub attempt_timeout: Duration,
    /// MaxKeys of each ListObjectsV2 page. AWS S3, MinIO and Ceph answer at
    /// most 1,000 keys whatever is asked; servers that allow more (LocalStack)
    /// answer a listing in fewer pages.
    pub list_page_size: usize,
}

/// Object store backed by an S3 bucket (under a key prefix).
#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    list_page_size: i32,
    /// The latest `Date` the bucket sent (`clock.rs`).
    clock: StoreClock,
}

const DEFAULT_REGION: &str = "us-east-1";

impl S3Store {
    /// Builds the client; does no network I/O.
    pub async fn connect(s: &S3Settings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &s.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let mut cfg = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(s.force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(s.connect_timeout)
                    .operation_attempt_timeout(s.attempt_timeout)
                    .build(),
            );
        if sdk.region().is_none() {
            cfg = cfg.region(Region::new(DEFAULT_REGION));
        }
        if let Some(endpoint) = &s.endpoint {
            cfg = cfg.endpoint_url(endpoint);
        }
        let clock = StoreClock::default();
        cfg = cfg.interceptor(DateRecorder(clock.clone()));
        Self {
            clock,
            client: Client::from_conf(cfg.build()),
            bucket: s.bucket.clone(),
            prefix: s.prefix.trim_matches('/').to_string(),
            list_page_size: i32::try_from(s.list_page_size.max(1)).unwrap_or(i32::MAX),
        }
    }

    /// The underlying client, for bucket-level calls outside the trait.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(super) fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    pub(super) fn relative_key(&self, full: &str) -> String {
        if self.prefix.is_empty() {
            full.to_string()
        } else {
            full.strip_prefix(&self.prefix)
                .and_then(|k| k.strip_prefix('/'))
                .unwrap_or(full)
                .to_string()
        }
    }

    pub(super) fn classify<E>(
        &self,
        op: &'static str,
        key: &str,
        err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Some(problem) = super::s3_credentials::credential_problem(op, &err) {
            return problem;
        }
        let detail = short_detail(&err);
        let key = key.to_string();
        match &err {
            SdkError::DispatchFailure(d) if d.is_io() => StoreError::Unreachable { op, detail },
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                StoreError::Transient { op, detail }
            }
            SdkError::ServiceError(se) => {
                let status = se.raw().status().as_u16();
                match (status, se.err().code().unwrap_or("")) {
                    (_, "NoSuchBucket") => StoreError::NoSuchBucket {
                        bucket: self.bucket.clone(),
                    },
                    (_, "NoSuchUpload") => StoreError::NoSuchUpload {
                        key,
                        upload_id: String::new(),
                    },
                    (_, "NoSuchKey" | "NotFound") | (404, _) => StoreError::NotFound { key },
                    (_, "InvalidObjectState") => StoreError::Archived {
                        key,
                        storage_class: "archive".into(),
                    },
                    (_, "PreconditionFailed") | (412, _) => StoreError::PreconditionFailed { key },
                    (_, "BadDigest" | "InvalidDigest" | "XAmzContentChecksumMismatch" | "InvalidChecksum") => {
                        StoreError::ChecksumMismatch { key, detail }
                    }
                    (
                        _,
                        "SlowDown" | "RequestTimeout" | "RequestTimeTooSkewed" | "InternalError" | "ServiceUnavailable",
                    ) => StoreError::Transient { op, detail },
                    // A store without conditional writes answers 501; retrying cannot help.
                    (501, _) | (_, "NotImplemented") => StoreError::Unsupported { op, detail },
                    // AWS: two conditional writes to one key at once; one of them wins and
                    // the other is to be retried (it then sees 412 if the winner created it).
                    (409, "ConditionalRequestConflict") => StoreError::Transient { op, detail },
                    (s, _) if s >= 500 || s == 429 => StoreError::Transient { op, detail },
                    (_, "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AllAccessDisabled")
                    | (403, _) => StoreError::AccessDenied { op, detail },
                    _ => StoreError::Permanent { op, detail },
                }
            }
            _ => StoreError::Permanent { op, detail },
        }
    }
}

/// What went wrong, in one line: for an answer from S3, its status, code and
/// message; otherwise the chain of causes (without the SDK's debug dump).
fn short_detail<E>(err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(se) = err {
        let status = se.raw().status().as_u16();
        return match (se.err().code(), se.err().message()) {
            (Some(code), Some(message)) => format!("HTTP {status} {code}: {message}"),
            (Some(code), None) => format!("HTTP {status} {code}"),
            _ => format!("HTTP {status}"),
        };
    }
    crate::error_text::join_causes(err)
}

pub(super) fn to_chrono(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn clock(&self) -> Result<DateTime<Utc>, StoreError> {
        if let Some(now) = self.clock.now() {
            return Ok(now);
        }
        // No response yet: ask for one key under locks/ (every role may list).
        self.client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.full_key("locks/"))
            .max_keys(1)
            .send()
            .await
            .map_err(|e| self.classify("ListObjectsV2", "locks/", e))?;
        self.clock.now().ok_or_else(|| StoreError::Unsupported {
            op: "Date header",
            detail: format!(
                "{} sends no Date header, so graphvault cannot read the store's clock to judge leases",
                self.location()
            ),
        })
    }

    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn put(&self, key: &str, body: Bytes, sha256: [u8; 32], mode: PutMode) -> Result<(), StoreError> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .checksum_sha256(B64.encode(sha256))
            .body(SdkByteStream::from(body));
        if mode == PutMode::CreateOnly {
            req = req.if_none_match("*");
        }
        // UNSIGNED-PAYLOAD: the signed x-amz-checksum-sha256 header already
        // makes S3 check every byte, so SigV4 need not hash the body again.
        req.customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(|e| self.classify("PutObject", key, e))?;
        Ok(())
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| self.classify("HeadObject", key, e))?;
        Ok(ObjectInfo {
            key: key.to_string(),
            size: out.content_length().unwrap_or(0).max(0) as u64,
            last_modified: to_chrono(out.last_modified()),
            storage_class: out.storage_class().map(|c| c.as_str().to_string()),
            restore: out.restore().map(str::to_string),
            checksum: out.checksum_sha256().and_then(StoredChecksum::parse_s3),
            etag: out.e_tag().map(str::to_string),
        })
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let mut req = self.client.get_object().bucket(&self.bucket).key(self.full_key(key));
        if let Some(r) = range {
            if r.is_empty() {
                return Ok(Box::pin(futures::stream::empty()));
            }
            req = req.range(format!("bytes={}-{}", r.start, r.end - 1));
        }
        let out = req.send().await.map_err(|e| self.classify("GetObject", key, e))?;
        let key = key.to_string();
        let stream = futures::stream::unfold(Some(out.body), move |body| {
            let key = key.clone();
            async move {
                let mut body = body?;
                match body.next().await? {
                    Ok(chunk) => Some((Ok(chunk), Some(body))),
                    Err(e) => Some((
                        Err(StoreError::Transient {
                            op: "GetObject body",
                            detail: format!("{key}: {}", DisplayErrorContext(&e)),
                        }),
                        None,
                    )),
                }
            }
        });
        Ok(Box::pin(stream))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.full_key(prefix))
                .max_keys(self.list_page_size)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| self.classify("ListObjectsV2", prefix, e))?;
            for obj in page.contents() {
                let Some(full) = obj.key() else { continue };
                out.push(ObjectInfo {
                    key: self.relative_key(full),
                    size: obj.size().unwrap_or(0).max(0) as u64,
                    last_modified: to_chrono(obj.last_modified()),
                    storage_class: obj.storage_class().map(|c| c.as_str().to_string()),
                    restore: None,
                    checksum: None,
                    etag: obj.e_tag().map(str::to_string),
                });
            }
            token = page.next_continuation_token().map(str::to_string);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.common_prefixes(prefix).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.classify("DeleteObject", key, e))?;
        Ok(())
    }

    async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await
            .map_err(|e| self.classify("CreateMultipartUpload", key, e))?;
        out.upload_id()
            .map(str::to_string)
            .ok_or_else(|| StoreError::Permanent {
                op: "CreateMultipartUpload",
                detail: format!("{key}: response had no upload id"),
            })
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        sha256: [u8; 32],
    ) -> Result<PartReceipt, StoreError> {
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .checksum_sha256(B64.encode(sha256))
            .body(SdkByteStream::from(body))
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(|e| self.classify("UploadPart", key, e))?;
        Ok(PartReceipt {
            part_number,
            etag: out.e_tag().unwrap_or_default().to_string(),
            sha256,
        })
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[PartReceipt]) -> Result<(), StoreError> {
        let parts = parts
            .iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(p.part_number as i32)
                    .e_tag(&p.etag)
                    .checksum_sha256(B64.encode(p.sha256))
                    .build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| self.classify("CompleteMultipartUpload", key, e))?;
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id)
            .send()
            .await
            .map_err(|e| self.classify("AbortMultipartUpload", key, e))
        {
            Ok(_) | Err(StoreError::NoSuchUpload { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list_multipart(&self, prefix: &str) -> Result<Vec<PendingUpload>, StoreError> {
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(self.full_key(prefix))
                .set_key_marker(key_marker)
                .set_upload_id_marker(id_marker)
                .send()
                .await
                .map_err(|e| self.classify("ListMultipartUploads", prefix, e))?;
            for u in page.uploads() {
                if let (Some(k), Some(id)) = (u.key(), u.upload_id()) {
                    out.push(PendingUpload {
                        key: self.relative_key(k),
                        upload_id: id.to_string(),
                        initiated: to_chrono(u.initiated()),
                    });
                }
            }
            if !page.is_truncated().unwrap_or(false) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            id_marker = page.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn put_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        let tag_set = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Permanent {
                op: "PutObjectTagging",
                detail: e.to_string(),
            })?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| StoreError::Permanent {
                op: "PutObjectTagging",
                detail: e.to_string(),
            })?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| self.classify("PutObjectTagging", key, e))?;
        Ok(())
    }

    async fn get_tags(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        let out = self
            .client
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.classify("GetObjectTagging", key, e))?;
        Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    async fn versioning(&self) -> Result<bool, StoreError> {
        self.versioning_impl().await
    }

    async fn object_lock(&self) -> Result<bool, StoreError> {
        self.object_lock_impl().await
    }

    async fn protection(&self, key: &str) -> Result<super::Protection, StoreError> {
        self.protection_impl(key).await
    }

    async fn delete_all_versions(&self, key: &str) -> Result<usize, StoreError> {
        self.delete_versions_impl(key).await
    }

    async fn lifecycle_rules(&self) -> Result<Vec<super::LifecycleRule>, StoreError> {
        self.lifecycle_impl().await
    }

    async fn set_retention(&self, key: &str, mode: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.set_retention_impl(key, mode, until).await
    }

    fn bucket_prefix(&self) -> String {
        self.prefix.clone()
    }

    async fn restore_archived(&self, key: &str, days: i32) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{GlacierJobParameters, RestoreRequest, Tier};
        let params = GlacierJobParameters::builder()
            .tier(Tier::Standard)
            .build()
            .map_err(|e| StoreError::Permanent {
                op: "RestoreObject",
                detail: e.to_string(),
            })?;
        let request = RestoreRequest::builder()
            .days(days)
            .glacier_job_parameters(params)
            .build();
        match self
            .client
            .restore_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .restore_request(request)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // A restore already in progress is what we wanted.
            Err(e) if format!("{e:?}").contains("RestoreAlreadyInProgress") => Ok(()),
            Err(e) => Err(self.classify("RestoreObject", key, e)),
        }
    }
}
