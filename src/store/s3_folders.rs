//! The S3 call behind `ObjectStore::folders`: one ListObjectsV2 with a `/`
//! delimiter, whose `CommonPrefixes` are the folders.

use super::s3::S3Store;
use super::StoreError;

impl S3Store {
    /// The common prefixes directly under `prefix`, relative to the store's root.
    pub(super) async fn common_prefixes(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client()
                .list_objects_v2()
                .bucket(self.bucket())
                .prefix(self.full_key(prefix))
                .delimiter("/")
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| self.classify("ListObjectsV2", prefix, e))?;
            out.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix())
                    .map(|p| self.relative_key(p)),
            );
            token = page.next_continuation_token().map(str::to_string);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                break;
            }
        }
        Ok(out)
    }
}
