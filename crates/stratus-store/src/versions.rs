//! S3 versioning and Object Lock on top of the object operations: a bucket's versioning state,
//! deleting one version, ListObjectVersions, and the per-version retention, legal hold and tags.
//! Which version a write replaces and which a delete removes is decided by the repository inside
//! the write's transaction (`stratus_meta`'s `versions.rs`), so no race can break its invariants.

use stratus_core::{Action, EventKind};
use stratus_identity::Principal;
use stratus_meta::{
    BucketObjectLock, BucketRecord, BucketVersioning, Garbage, MetaError, ObjectHeaders,
    ObjectLock, ObjectVersionSummary, Retention, RetentionMode, VersionCursor, VersionSelector,
};

use crate::{Store, StoreError, StoreResult, now_ms};

/// A new version id: 32 random hex digits (S3's are opaque strings of the same length).
pub(crate) fn new_version_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// What a delete did, for `x-amz-version-id` and `x-amz-delete-marker`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The delete marker created, or the version removed (`None`: the null version or, in an
    /// unversioned bucket, no version at all).
    pub version_id: Option<String>,
    pub delete_marker: bool,
}

impl From<&Garbage> for Deleted {
    fn from(garbage: &Garbage) -> Self {
        Deleted {
            version_id: garbage.version_id.clone(),
            delete_marker: garbage.delete_marker,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct VersionListRequest {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// S3's `key-marker` and `version-id-marker`.
    pub after: VersionCursor,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct VersionPage {
    pub versions: Vec<ObjectVersionSummary>,
    pub common_prefixes: Vec<String>,
    /// Set when truncated: the last key (or common prefix) and version returned, S3's
    /// `NextKeyMarker` and `NextVersionIdMarker`.
    pub next_marker: Option<(String, Option<VersionSelector>)>,
}

/// Rows fetched per metadata query while listing versions.
const LIST_BATCH: usize = 1000;

impl Store {
    /// The bucket's record, for its versioning and Object Lock state.
    async fn bucket_record(
        &self,
        caller: &Principal,
        bucket: &str,
        action: Action,
    ) -> StoreResult<BucketRecord> {
        self.authorize(caller, bucket, action).await?;
        self.meta
            .get_bucket(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)
    }

    /// Enables or suspends versioning. A bucket with Object Lock stays enabled.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `InvalidBucketState`.
    pub async fn set_versioning(
        &self,
        caller: &Principal,
        bucket: &str,
        state: BucketVersioning,
    ) -> StoreResult<()> {
        let record = self.bucket_record(caller, bucket, Action::Write).await?;
        if state == BucketVersioning::Unversioned {
            return Err(StoreError::InvalidArgument(
                "versioning can be enabled or suspended, not turned off".into(),
            ));
        }
        if record.object_lock.is_some() && state != BucketVersioning::Enabled {
            return Err(StoreError::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.".into(),
            ));
        }
        Ok(self.meta.set_bucket_versioning(bucket, state).await?)
    }

    /// The bucket's versioning state and Object Lock configuration.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_versioning(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<(BucketVersioning, Option<BucketObjectLock>)> {
        let record = self.bucket_record(caller, bucket, Action::Read).await?;
        Ok((record.versioning, record.object_lock))
    }

    /// Refuses a write that asks for a retention or legal hold in a bucket without Object Lock,
    /// as S3 does (`InvalidRequest`), rather than storing a lock nothing would enforce. Checked
    /// before the write's transaction: lock is never turned off, so the answer cannot go stale.
    ///
    /// # Errors
    /// `InvalidRequest`, `NoSuchBucket`.
    pub(crate) async fn check_lock_allowed(
        &self,
        bucket: &str,
        lock: &ObjectLock,
    ) -> StoreResult<()> {
        if *lock == ObjectLock::default() {
            return Ok(());
        }
        let record = self
            .meta
            .get_bucket(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        if record.object_lock.is_none() {
            return Err(StoreError::InvalidRequest(
                "Bucket is missing Object Lock Configuration".into(),
            ));
        }
        Ok(())
    }

    /// Sets the bucket's Object Lock configuration (its default retention). Lock can be turned on
    /// for a bucket with versioning enabled, and never off.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `InvalidBucketState` when versioning is not enabled.
    pub async fn set_object_lock(
        &self,
        caller: &Principal,
        bucket: &str,
        config: BucketObjectLock,
    ) -> StoreResult<()> {
        let record = self.bucket_record(caller, bucket, Action::Write).await?;
        if record.versioning != BucketVersioning::Enabled {
            return Err(StoreError::InvalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
                    .into(),
            ));
        }
        if let Some(default) = config.default_retention
            && default.days.is_some() == default.years.is_some()
        {
            return Err(StoreError::InvalidArgument(
                "a default retention names either Days or Years".into(),
            ));
        }
        Ok(self.meta.set_bucket_object_lock(bucket, config).await?)
    }

    /// Deletes one version for good (DeleteObject with `versionId`), unless Object Lock keeps
    /// it; `bypass_governance` lifts a GOVERNANCE retention for callers who may write.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `ObjectLocked`.
    pub async fn delete_object_version(
        &self,
        caller: &Principal,
        object: (&str, &str, &VersionSelector),
        bypass_governance: bool,
    ) -> StoreResult<Deleted> {
        let (bucket, key, version) = object;
        self.authorize(caller, bucket, Action::Write).await?;
        let event = self.pending_event(caller, EventKind::Delete, (bucket, key, 0, ""));
        let garbage = self
            .meta
            .delete_object_version(
                bucket,
                key,
                version.clone(),
                (now_ms(), bypass_governance),
                event,
            )
            .await?;
        let deleted = Deleted::from(&garbage);
        self.after_commit(garbage).await;
        Ok(deleted)
    }

    /// One page of ListObjectVersions, keys sharing a prefix up to the delimiter rolled up.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn list_object_versions(
        &self,
        caller: &Principal,
        request: VersionListRequest,
    ) -> StoreResult<VersionPage> {
        self.authorize(caller, &request.bucket, Action::Read)
            .await?;
        let mut page = VersionPage::default();
        let mut after = request.after.clone();
        let mut last: Option<(String, Option<VersionSelector>)> = None;
        let delimiter = request.delimiter.as_deref().filter(|d| !d.is_empty());
        let full = |page: &VersionPage| {
            page.versions.len() + page.common_prefixes.len() >= request.max_keys
        };
        'fill: loop {
            let batch = self
                .meta
                .list_object_versions(&request.bucket, &request.prefix, after.clone(), LIST_BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            for version in batch {
                let rest = &version.key[request.prefix.len()..];
                if let Some(at) = delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
                    let common = version.key[..request.prefix.len() + at].to_owned();
                    if full(&page) {
                        page.next_marker = last;
                        break 'fill;
                    }
                    // 0xFF never occurs in UTF-8, so resuming after this bound skips `common`.
                    after = VersionCursor {
                        key: [common.as_bytes(), &[0xFF]].concat(),
                        version: None,
                    };
                    last = Some((common.clone(), None));
                    page.common_prefixes.push(common);
                    continue 'fill;
                }
                if full(&page) {
                    page.next_marker = last;
                    break 'fill;
                }
                let selector = match &version.version_id {
                    Some(id) => VersionSelector::Id(id.clone()),
                    None => VersionSelector::Null,
                };
                after = VersionCursor {
                    key: version.key.as_bytes().to_vec(),
                    version: Some(selector.clone()),
                };
                last = Some((version.key.clone(), Some(selector)));
                page.versions.push(version);
            }
        }
        Ok(page)
    }

    /// Sets (or, with `None`, removes) one version's retention. COMPLIANCE can only be
    /// extended; GOVERNANCE can be shortened, removed or changed only with
    /// `bypass_governance`.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`, `AccessDenied`, `ObjectLocked`,
    /// `InvalidRequest` when the bucket has no Object Lock.
    pub async fn set_retention(
        &self,
        caller: &Principal,
        object: (&str, &str, &VersionSelector),
        retention: Option<Retention>,
        bypass_governance: bool,
    ) -> StoreResult<Option<String>> {
        let (bucket, key, version) = object;
        self.require_object_lock(caller, bucket).await?;
        let now = now_ms();
        let edit: stratus_meta::HeaderEdit = Box::new(move |record| {
            let mut headers: ObjectHeaders = record.headers.clone();
            if let Some(current) = headers.lock.retention.filter(|r| r.retain_until_ms > now) {
                let weakened = match retention {
                    None => true,
                    Some(new) => {
                        new.mode != current.mode || new.retain_until_ms < current.retain_until_ms
                    }
                };
                let compliance = current.mode == RetentionMode::Compliance;
                if weakened && (compliance || !bypass_governance) {
                    return Err(MetaError::ObjectLocked(if compliance {
                        "a COMPLIANCE retention can only be extended"
                    } else {
                        "shortening a GOVERNANCE retention needs x-amz-bypass-governance-retention"
                    }));
                }
            }
            headers.lock.retention = retention;
            Ok(headers)
        });
        Ok(self
            .meta
            .edit_object_headers(bucket, key, version.clone(), edit)
            .await?)
    }

    /// Puts a version under a legal hold, or lifts it.
    ///
    /// # Errors
    /// As [`Store::set_retention`].
    pub async fn set_legal_hold(
        &self,
        caller: &Principal,
        object: (&str, &str, &VersionSelector),
        on: bool,
    ) -> StoreResult<Option<String>> {
        let (bucket, key, version) = object;
        self.require_object_lock(caller, bucket).await?;
        let edit: stratus_meta::HeaderEdit = Box::new(move |record| {
            let mut headers = record.headers.clone();
            headers.lock.legal_hold = on;
            Ok(headers)
        });
        Ok(self
            .meta
            .edit_object_headers(bucket, key, version.clone(), edit)
            .await?)
    }

    /// Replaces one version's tag set (an empty set deletes the tags).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`, `AccessDenied`.
    pub async fn set_object_tags(
        &self,
        caller: &Principal,
        object: (&str, &str, &VersionSelector),
        tags: Vec<(String, String)>,
    ) -> StoreResult<Option<String>> {
        let (bucket, key, version) = object;
        self.authorize(caller, bucket, Action::Write).await?;
        crate::validate_tags(&tags, crate::TagOwner::Object)?;
        let edit: stratus_meta::HeaderEdit = Box::new(move |record| {
            let mut headers = record.headers.clone();
            headers.tags = tags;
            Ok(headers)
        });
        Ok(self
            .meta
            .edit_object_headers(bucket, key, version.clone(), edit)
            .await?)
    }

    async fn require_object_lock(&self, caller: &Principal, bucket: &str) -> StoreResult<()> {
        let record = self.bucket_record(caller, bucket, Action::Write).await?;
        if record.object_lock.is_none() {
            return Err(StoreError::InvalidRequest(
                "Bucket is missing Object Lock Configuration".into(),
            ));
        }
        Ok(())
    }
}
