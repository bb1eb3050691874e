//! Multipart uploads. Parts are blob files; the completed object references them as segments,
//! so completion writes no bytes, only one metadata transaction.

use md5::{Digest, Md5};
use stratus_core::{Action, EventKind};
use stratus_identity::Principal;
use stratus_meta::{
    ObjectHeaders, ObjectRecord, PartRecord, Segment, StoredBody, UploadRecord, WriteCondition,
};

use crate::{StagedBody, Store, StoreError, StoreResult, now_ms};

/// Every part but the last must be at least this large (S3's rule).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3 numbers parts 1 to 10,000.
const MAX_PART_NUMBER: u32 = 10_000;

/// A part named in a CompleteMultipartUpload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub part_number: u32,
    /// With or without surrounding quotes.
    pub etag: String,
}

/// The multipart ETag: MD5 of the concatenated binary part MD5s, then `-` and the part count.
fn multipart_etag(parts: &[PartRecord]) -> String {
    etag_of_parts(parts.iter().map(|p| p.etag.as_str()))
}

/// The multipart ETag of parts with these ETags (hex MD5s, quotes allowed).
pub(crate) fn etag_of_parts<'a>(etags: impl ExactSizeIterator<Item = &'a str>) -> String {
    let count = etags.len();
    let mut md5 = Md5::new();
    for etag in etags {
        md5.update(hex::decode(etag.trim_matches('"')).unwrap_or_default());
    }
    format!("{}-{}", hex::encode(md5.finalize()), count)
}

impl Store {
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn create_upload(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
    ) -> StoreResult<UploadRecord> {
        self.authorize(caller, bucket, Action::Write).await?;
        self.check_lock_allowed(bucket, &headers.lock).await?;
        let upload = UploadRecord {
            upload_id: hex::encode(rand::random::<[u8; 16]>()),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            initiated_ms: now_ms(),
            headers,
        };
        self.meta.create_upload(upload.clone()).await?;
        Ok(upload)
    }

    /// The upload, checked to belong to `bucket`/`key` and to the caller's project.
    async fn upload_of(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        upload_id: &str,
        action: Action,
    ) -> StoreResult<UploadRecord> {
        self.authorize(caller, bucket, action).await?;
        let upload = self
            .meta
            .get_upload(upload_id)
            .await?
            .ok_or(StoreError::NoSuchUpload)?;
        if upload.bucket != bucket || upload.key != key {
            return Err(StoreError::NoSuchUpload);
        }
        Ok(upload)
    }

    /// Commits a staged part (staged with inline storage disabled).
    ///
    /// # Errors
    /// `NoSuchUpload`, `InvalidArgument` for a part number outside 1..=10000, `AccessDenied`.
    pub async fn upload_part(
        &self,
        caller: &Principal,
        target: (&str, &str, &str),
        part_number: u32,
        staged: StagedBody,
    ) -> StoreResult<PartRecord> {
        let (bucket, key, upload_id) = target;
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidArgument(format!(
                "part number must be an integer between 1 and {MAX_PART_NUMBER}"
            )));
        }
        self.upload_of(caller, bucket, key, upload_id, Action::Write)
            .await?;
        let blob = staged
            .blob_id()
            .ok_or_else(|| StoreError::InvalidArgument("a part must be staged as a blob".into()))?;
        let part = PartRecord {
            part_number,
            blob,
            size: staged.size(),
            etag: hex::encode(staged.md5()),
            last_modified_ms: now_ms(),
        };
        let garbage = self.meta.put_part(upload_id, part.clone()).await?;
        staged.keep();
        self.after_commit(garbage).await;
        Ok(part)
    }

    /// # Errors
    /// `NoSuchUpload`, `AccessDenied`.
    pub async fn list_parts(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<(UploadRecord, Vec<PartRecord>)> {
        let upload = self
            .upload_of(caller, bucket, key, upload_id, Action::Read)
            .await?;
        Ok((upload, self.meta.list_parts(upload_id).await?))
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn list_uploads(
        &self,
        caller: &Principal,
        bucket: &str,
        prefix: &str,
    ) -> StoreResult<Vec<UploadRecord>> {
        self.authorize(caller, bucket, Action::Read).await?;
        Ok(self.meta.list_uploads(bucket, prefix).await?)
    }

    /// # Errors
    /// `NoSuchUpload`, `AccessDenied`.
    pub async fn abort_upload(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StoreResult<()> {
        self.upload_of(caller, bucket, key, upload_id, Action::Write)
            .await?;
        let garbage = self.meta.abort_upload(upload_id).await?;
        self.after_commit(garbage).await;
        Ok(())
    }

    /// Assembles the listed parts into the object, atomically.
    ///
    /// # Errors
    /// `InvalidPartOrder`, `InvalidPart`, `EntityTooSmall`, `NoSuchUpload`, `AccessDenied`.
    pub async fn complete_upload(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        upload_id: &str,
        wanted: &[CompletedPart],
        condition: WriteCondition,
    ) -> StoreResult<ObjectRecord> {
        let upload = match self
            .upload_of(caller, bucket, key, upload_id, Action::Write)
            .await
        {
            Err(StoreError::NoSuchUpload) => {
                return self
                    .replay_completion(caller, (bucket, key, upload_id), wanted)
                    .await;
            }
            other => other?,
        };
        if wanted.is_empty() {
            return Err(StoreError::InvalidArgument(
                "you must specify at least one part".into(),
            ));
        }
        if wanted
            .windows(2)
            .any(|pair| pair[0].part_number >= pair[1].part_number)
        {
            return Err(StoreError::InvalidPartOrder);
        }
        let stored = self.meta.list_parts(upload_id).await?;
        let mut chosen = Vec::with_capacity(wanted.len());
        for want in wanted {
            let etag = want.etag.trim_matches('"');
            let part = stored
                .iter()
                .find(|p| p.part_number == want.part_number && p.etag == etag)
                .ok_or_else(|| {
                    StoreError::InvalidPart(format!(
                        "part {} was not uploaded with that ETag",
                        want.part_number
                    ))
                })?;
            chosen.push(part.clone());
        }
        if let Some(small) = chosen[..chosen.len() - 1]
            .iter()
            .find(|p| p.size < MIN_PART_SIZE)
        {
            return Err(StoreError::EntityTooSmall(small.part_number));
        }
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: chosen.iter().map(|p| p.size).sum(),
            etag: multipart_etag(&chosen),
            last_modified_ms: now_ms(),
            headers: upload.headers,
            body: StoredBody::Segments(
                chosen
                    .iter()
                    .map(|p| Segment {
                        blob: p.blob.clone(),
                        len: p.size,
                    })
                    .collect(),
            ),
            parts: u32::try_from(chosen.len()).ok(),
            version_id: Some(crate::versions::new_version_id()),
            delete_marker: false,
        };
        let event = self.pending_event(
            caller,
            EventKind::CompleteMultipartUpload,
            (bucket, key, record.size, &record.etag),
        );
        let mut record = record;
        let garbage = self
            .meta
            .complete_upload_if(upload_id, record.clone(), condition, event)
            .await?;
        record.version_id.clone_from(&garbage.version_id);
        self.after_commit(garbage).await;
        Ok(record)
    }
}
