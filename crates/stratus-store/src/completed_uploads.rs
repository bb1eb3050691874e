//! A retried CompleteMultipartUpload. A client that lost the answer to a completion retries it;
//! S3 answers the retry with the object the first completion wrote (same ETag, same version)
//! instead of `NoSuchUpload`, as long as the retry lists the same parts.

use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::{ObjectRecord, VersionSelector};

use crate::multipart::{CompletedPart, etag_of_parts};
use crate::{Store, StoreError, StoreResult};

impl Store {
    /// The object a completed upload wrote, when `wanted` lists the parts it was completed
    /// with and that object is still there; otherwise `NoSuchUpload`.
    pub(crate) async fn replay_completion(
        &self,
        caller: &Principal,
        target: (&str, &str, &str),
        wanted: &[CompletedPart],
    ) -> StoreResult<ObjectRecord> {
        let (bucket, key, upload_id) = target;
        self.authorize(caller, bucket, Action::Write).await?;
        let done = self
            .meta
            .completed_upload(upload_id)
            .await?
            .ok_or(StoreError::NoSuchUpload)?;
        let same_parts = etag_of_parts(wanted.iter().map(|p| p.etag.as_str())) == done.etag;
        if done.bucket != bucket || done.key != key || !same_parts {
            return Err(StoreError::NoSuchUpload);
        }
        let version = done
            .version_id
            .clone()
            .map_or(VersionSelector::Null, VersionSelector::Id);
        match self.meta.get_object_version(bucket, key, version).await? {
            Some(record) if record.etag == done.etag && !record.delete_marker => Ok(record),
            _ => Err(StoreError::NoSuchUpload),
        }
    }
}
