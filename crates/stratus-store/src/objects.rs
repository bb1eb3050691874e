//! Object operations.

use std::io;

use stratus_core::{Action, EventKind};
use stratus_identity::Principal;
use stratus_meta::{ObjectHeaders, ObjectRecord, ObjectSummary, VersionSelector, WriteCondition};

use crate::versions::{Deleted, new_version_id};
use crate::{BodyStream, StagedBody, Store, StoreError, StoreResult, now_ms};

/// A write of one object, apart from its (already staged) body.
#[derive(Debug, Clone)]
pub struct ObjectWrite {
    pub bucket: String,
    pub key: String,
    pub headers: ObjectHeaders,
    pub condition: WriteCondition,
    /// `Put`, `Post` or `Copy`: the event name notifications carry.
    pub kind: EventKind,
}

/// S3's `x-amz-metadata-directive` and `x-amz-tagging-directive`: whether a copy takes its
/// metadata and tags from the request (`REPLACE`) instead of the source (`COPY`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyDirectives {
    pub replace_metadata: bool,
    pub replace_tags: bool,
}

/// An inclusive byte range already resolved against the object's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Exclusive lower bound in key byte order (from start-after, marker or a continuation token).
    pub after: Vec<u8>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectSummary>,
    pub common_prefixes: Vec<String>,
    /// Set when truncated: the bound to resume after.
    pub next_after: Option<Vec<u8>>,
}

/// Rows fetched per metadata query while listing.
const LIST_BATCH: usize = 1000;

fn md5_etag(md5: [u8; 16]) -> String {
    hex::encode(md5)
}

impl Store {
    /// Commits a staged body as an object (steps 2 and 3 of the durability protocol). In a
    /// versioned bucket it becomes the key's new current version; the record returned carries
    /// the version id it got (`None`: the null version).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `PreconditionFailed`, metadata failures.
    pub async fn put_object(
        &self,
        caller: &Principal,
        write: ObjectWrite,
        staged: StagedBody,
    ) -> StoreResult<ObjectRecord> {
        self.authorize(caller, &write.bucket, Action::Write).await?;
        self.check_lock_allowed(&write.bucket, &write.headers.lock)
            .await?;
        let mut record = ObjectRecord {
            bucket: write.bucket,
            key: write.key,
            size: staged.size(),
            etag: md5_etag(staged.md5()),
            last_modified_ms: now_ms(),
            headers: write.headers,
            body: staged.stored_body(),
            parts: None,
            version_id: Some(new_version_id()),
            delete_marker: false,
        };
        let event = self.pending_event(
            caller,
            write.kind,
            (&record.bucket, &record.key, record.size, &record.etag),
        );
        let garbage = self
            .meta
            .put_object(record.clone(), write.condition, event)
            .await?;
        staged.keep();
        record.version_id.clone_from(&garbage.version_id);
        self.after_commit(garbage).await;
        Ok(record)
    }

    /// The current object's metadata (HEAD).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `DeleteMarker`, `AccessDenied`.
    pub async fn head_object(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
    ) -> StoreResult<ObjectRecord> {
        self.head_object_version(caller, bucket, key, &VersionSelector::Current)
            .await
    }

    /// One version's metadata (HEAD with `versionId`).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`, `DeleteMarker`, `AccessDenied`.
    pub async fn head_object_version(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        version: &VersionSelector,
    ) -> StoreResult<ObjectRecord> {
        self.authorize(caller, bucket, Action::Read).await?;
        let record = self
            .meta
            .get_object_version(bucket, key, version.clone())
            .await?
            .ok_or(match version {
                VersionSelector::Current => StoreError::NoSuchKey,
                _ => StoreError::NoSuchVersion,
            })?;
        if record.delete_marker {
            return Err(StoreError::DeleteMarker {
                version_id: record.version_id,
                last_modified_ms: record.last_modified_ms,
                addressed: *version != VersionSelector::Current,
            });
        }
        Ok(record)
    }

    /// Streams `record`'s bytes in `range` (all of them when `None`).
    ///
    /// # Errors
    /// IO failures; `NotFound` when the object was replaced since `record` was read.
    pub async fn open_body(
        &self,
        record: &ObjectRecord,
        range: Option<ByteRange>,
    ) -> io::Result<BodyStream> {
        let range = range.unwrap_or(ByteRange {
            start: 0,
            end: record.size.saturating_sub(1),
        });
        if record.size == 0 {
            return Ok(Box::pin(futures::stream::empty()));
        }
        self.blobs
            .open_body(&record.body, range.start, range.end)
            .await
    }

    /// Reads the current object: its metadata and a stream of its bytes, both of the same
    /// version. `resolve_range` turns a requested range into bytes once the size is known.
    ///
    /// # Errors
    /// `NoSuchKey`, `AccessDenied`, whatever `resolve_range` returns, IO failures.
    pub async fn get_object<F, E>(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
        resolve_range: F,
    ) -> Result<(ObjectRecord, Option<ByteRange>, BodyStream), E>
    where
        F: Fn(&ObjectRecord) -> Result<Option<ByteRange>, E>,
        E: From<StoreError>,
    {
        self.get_object_version(
            caller,
            (bucket, key, &VersionSelector::Current),
            resolve_range,
        )
        .await
    }

    /// Reads one version of an object (`object`: bucket, key, version), as
    /// [`Store::get_object`] reads the current one.
    ///
    /// # Errors
    /// As [`Store::head_object_version`], whatever `resolve_range` returns, IO failures.
    pub async fn get_object_version<F, E>(
        &self,
        caller: &Principal,
        object: (&str, &str, &VersionSelector),
        resolve_range: F,
    ) -> Result<(ObjectRecord, Option<ByteRange>, BodyStream), E>
    where
        F: Fn(&ObjectRecord) -> Result<Option<ByteRange>, E>,
        E: From<StoreError>,
    {
        let (bucket, key, version) = object;
        // An overwrite may unlink the blobs between reading the row and opening them; the row
        // read again then names the new blobs. Two retries make the window vanishingly small.
        let mut attempts = 0;
        loop {
            let record = self
                .head_object_version(caller, bucket, key, version)
                .await?;
            let range = resolve_range(&record)?;
            match self.open_body(&record, range).await {
                Ok(body) => return Ok((record, range, body)),
                Err(error) if error.kind() == io::ErrorKind::NotFound && attempts < 2 => {
                    attempts += 1
                }
                Err(error) => return Err(StoreError::from(error).into()),
            }
        }
    }

    /// Deletes an object; deleting a missing key succeeds, as in S3. In a versioned bucket
    /// this adds a delete marker and keeps every version.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn delete_object(
        &self,
        caller: &Principal,
        bucket: &str,
        key: &str,
    ) -> StoreResult<Deleted> {
        self.authorize(caller, bucket, Action::Write).await?;
        let event = self.pending_event(caller, EventKind::Delete, (bucket, key, 0, ""));
        let garbage = self
            .meta
            .delete_object(bucket, key, new_version_id(), event)
            .await?;
        let deleted = Deleted::from(&garbage);
        self.after_commit(garbage).await;
        Ok(deleted)
    }

    /// Copies an object version, after `check_source` accepted it. The write's headers replace
    /// the source's metadata and tags as `directives` say (S3's `REPLACE`), else the source's are
    /// kept.
    ///
    /// # Errors
    /// As [`Store::get_object`] on the source and [`Store::put_object`] on the destination.
    pub async fn copy_object<F, E>(
        &self,
        caller: &Principal,
        source: (&str, &str, &VersionSelector),
        mut write: ObjectWrite,
        directives: CopyDirectives,
        check_source: F,
    ) -> Result<ObjectRecord, E>
    where
        F: Fn(&ObjectRecord) -> Result<(), E>,
        E: From<StoreError>,
    {
        self.authorize(caller, &write.bucket, Action::Write).await?;
        // The source's preconditions are checked on the very version that is read and copied.
        let (record, _, body) = self
            .get_object_version(caller, source, |record| check_source(record).map(|()| None))
            .await?;
        let requested = std::mem::take(&mut write.headers);
        write.headers = if directives.replace_metadata {
            requested.clone()
        } else {
            record.headers.clone()
        };
        write.headers.tags = if directives.replace_tags {
            requested.tags
        } else {
            record.headers.tags.clone()
        };
        // A lock and an ACL belong to a version, never copied: the copy gets the ones the
        // request asks for (or the bucket's default retention, and `private`).
        write.headers.lock = requested.lock;
        write.headers.acl = requested.acl;
        let staged = self.stage(body, true).await?;
        Ok(self.put_object(caller, write, staged).await?)
    }

    /// One page of a listing, with keys sharing a prefix up to the delimiter rolled up into
    /// common prefixes, as S3 does.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn list_objects(
        &self,
        caller: &Principal,
        request: ListRequest,
    ) -> StoreResult<ListPage> {
        self.authorize(caller, &request.bucket, Action::Read)
            .await?;
        let mut page = ListPage::default();
        let mut after = request.after.clone();
        let delimiter = request.delimiter.as_deref().filter(|d| !d.is_empty());
        'fill: loop {
            if page.objects.len() + page.common_prefixes.len() >= request.max_keys {
                let more = self
                    .meta
                    .list_objects(&request.bucket, &request.prefix, &after, 1)
                    .await?;
                if !more.is_empty() && request.max_keys > 0 {
                    page.next_after = Some(after);
                }
                break;
            }
            let batch = self
                .meta
                .list_objects(&request.bucket, &request.prefix, &after, LIST_BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            for object in batch {
                if page.objects.len() + page.common_prefixes.len() >= request.max_keys {
                    continue 'fill;
                }
                let rest = &object.key[request.prefix.len()..];
                if let Some(at) = delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
                    let common = object.key[..request.prefix.len() + at].to_owned();
                    // 0xFF never occurs in UTF-8, so this bound skips every key under `common`.
                    after = [common.as_bytes(), &[0xFF]].concat();
                    page.common_prefixes.push(common);
                    continue 'fill;
                }
                after = object.key.as_bytes().to_vec();
                page.objects.push(object);
            }
        }
        Ok(page)
    }
}
