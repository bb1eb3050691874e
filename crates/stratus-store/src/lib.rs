//! Buckets and objects. A write is acknowledged only once durable (ARCHITECTURE.md, durability
//! protocol):
//! 1. the body goes to a temporary file that is fsynced, renamed into `blobs/`, and whose
//!    directory is fsynced — or, for small bodies, into the metadata row itself;
//! 2. the object row and one outbox row per matching notification rule commit in one transaction
//!    (with the asynchronous invocation of each rule that names a function);
//! 3. only then does the caller answer.
//!
//! A crash before step 2 leaves an orphan blob, removed by [`Store::open`]'s garbage collection.
//! Blobs an overwrite or delete made unreachable are unlinked after the commit; a crash in between
//! leaves orphans for the same collector. Every method takes the calling [`Principal`] and enforces
//! tenancy itself, so no protocol front end can forget to.
//!
//! Files:
//! - `lib.rs` — `Store`: opening (the orphan collection), events and their wake-ups.
//! - `blobs.rs` — immutable blob files `blobs/xx/ID`: staging bodies (inline up to 32 KiB, else
//!   a file), streaming ranges out, collecting orphans.
//! - `bucket_config.rs` — bucket configuration documents (ACL, policy, Block Public Access,
//!   tags), validated; `acl.rs` canned ACLs and their grants; `bucket_policy.rs` policies and the
//!   subset enforced; `ownership.rs` S3 Object Ownership; `public_access.rs` the decision for anonymous and cross-project requests;
//!   `cors.rs` CORS rules and their matching; `website.rs` website configuration (and the rule
//!   that refuses looping routing rules); `lifecycle.rs` lifecycle rules, their filters and the
//!   `x-amz-expiration` date, `lifecycle_sweep.rs` the background pass that executes them.
//! - `buckets.rs`, `objects.rs`, `multipart.rs` — the operations; a completed multipart object
//!   references its parts' blobs as segments, so completion writes no bytes;
//!   `completed_uploads.rs` answers a retried completion as the first.
//! - `versions.rs` — S3 versioning and Object Lock: versions, delete markers, ListObjectVersions,
//!   retention, legal hold and tags of one version.

mod acl;
mod blobs;
mod bucket_config;
mod bucket_policy;
mod buckets;
mod completed_uploads;
mod cors;
mod lifecycle;
mod lifecycle_sweep;
mod multipart;
mod multipart_checksums;
mod objects;
mod ownership;
mod public_access;
mod versions;
mod website;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tokio::sync::Notify;

use stratus_core::{Action, EventKind, ObjectEvent};
use stratus_identity::Principal;
use stratus_meta::{Garbage, MetaError, ObjectRepository, PendingEvent};

pub use acl::{Acl, CannedAcl, Grant, Grantee, Permission};
pub use blobs::{BodyStream, StagedBody};
pub use bucket_config::{PublicAccessBlock, TagOwner, TagSet, validate_tags};
pub use bucket_policy::PolicyRequest;
pub use cors::{CorsRule, matching_rule, validate_cors};
pub use lifecycle::{
    AndFilter, Expiration, LifecycleRule, NoncurrentExpiration, NoncurrentTransition, RuleFilter,
    Transition, validate_lifecycle,
};
pub use lifecycle_sweep::{LifecycleClock, SweepReport};
pub use multipart::{CompletedPart, MIN_PART_SIZE};
pub use multipart_checksums::UploadChecksums;
pub use objects::{ByteRange, CopyDirectives, ListPage, ListRequest, ObjectWrite};
pub use ownership::ObjectOwnership;
pub use public_access::{ANONYMOUS, PublicOperation};
pub use stratus_meta::{
    BucketObjectLock, BucketRecord, BucketVersioning, DefaultRetention, ObjectHeaders, ObjectLock,
    ObjectRecord, ObjectVersionSummary, PartRecord, Retention, RetentionMode, UploadRecord,
    VersionCursor, VersionSelector, WriteCondition,
};
pub use versions::{Deleted, VersionListRequest, VersionPage};
pub use website::{RedirectAll, RoutingCondition, RoutingRedirect, RoutingRule, WebsiteConfig};

/// Bodies up to this size are stored inside the metadata row: one group-committed SQLite write
/// instead of three fsyncs (file, directory, database). Larger bodies stream to blob files.
pub const INLINE_MAX: usize = 32 * 1024;

/// The largest body one request may carry: S3's limit for a single PUT and for one part.
pub const MAX_BODY_BYTES: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the body exceeds the maximum allowed size")]
    EntityTooLarge,
    #[error("the specified bucket does not exist")]
    NoSuchBucket,
    #[error("the specified key does not exist")]
    NoSuchKey,
    #[error("the specified version does not exist")]
    NoSuchVersion,
    /// The addressed version is a delete marker: the current one (`addressed` false: the key
    /// reads as absent) or one named by its id (`addressed` true: S3 answers 405).
    #[error("the object is a delete marker")]
    DeleteMarker {
        version_id: Option<String>,
        last_modified_ms: i64,
        addressed: bool,
    },
    /// Object Lock keeps the version (retention or legal hold).
    #[error("{0}")]
    ObjectLocked(String),
    /// The bucket's state forbids the change (suspending versioning under Object Lock, ...).
    #[error("{0}")]
    InvalidBucketState(String),
    #[error("the bucket has no Object Lock configuration")]
    NoObjectLockConfiguration,
    /// A request S3 answers with `InvalidRequest`.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the specified multipart upload does not exist")]
    NoSuchUpload,
    #[error("the bucket name is taken by another project")]
    BucketAlreadyExists,
    #[error("you already own this bucket")]
    BucketAlreadyOwnedByYou,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("a precondition failed")]
    PreconditionFailed,
    #[error("invalid part: {0}")]
    InvalidPart(String),
    #[error("parts must be listed in ascending order")]
    InvalidPartOrder,
    #[error("part {0} is smaller than the minimum part size")]
    EntityTooSmall(u32),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the request body ended early: {0}")]
    IncompleteBody(String),
    /// The write would take the project past a storage quota; nothing was stored.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The bucket has no configuration of this kind; the S3 error code to answer
    /// (`NoSuchBucketPolicy`, `NoSuchTagSet`, ...).
    #[error("the bucket has no such configuration")]
    NoSuchConfiguration(&'static str),
    /// A configuration document was refused; `code` is the S3 error code (`MalformedPolicy`,
    /// `InvalidTag`, ...).
    #[error("{message}")]
    InvalidConfiguration { code: &'static str, message: String },
    #[error("storage io failed")]
    Io(#[from] std::io::Error),
    #[error("metadata failed")]
    Meta(#[source] MetaError),
}

impl From<MetaError> for StoreError {
    fn from(err: MetaError) -> Self {
        match err {
            MetaError::NotFound("bucket") => StoreError::NoSuchBucket,
            MetaError::NotFound("upload") => StoreError::NoSuchUpload,
            MetaError::NotFound("version") => StoreError::NoSuchVersion,
            MetaError::NotFound(_) => StoreError::NoSuchKey,
            MetaError::BucketNotEmpty => StoreError::BucketNotEmpty,
            MetaError::PreconditionFailed => StoreError::PreconditionFailed,
            MetaError::ObjectLocked(reason) => StoreError::ObjectLocked(reason.to_owned()),
            quota @ MetaError::QuotaExceeded { .. } => StoreError::QuotaExceeded(quota.to_string()),
            other => StoreError::Meta(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The object store of one server.
pub struct Store {
    meta: Arc<dyn ObjectRepository>,
    blobs: blobs::BlobDir,
    region: String,
    /// Bucket name to owning project; only this process writes buckets, so the cache stays exact.
    owners: RwLock<HashMap<String, String>>,
    sequencer: AtomicU64,
    /// Signalled after a commit that queued invocations (bucket triggers); the function
    /// dispatcher waits on it, so a triggered handler starts without polling delay.
    invocations_queued: OnceLock<Arc<Notify>>,
    /// Signalled after a commit that wrote outbox events for queues or topics; the outbox relay
    /// waits on it.
    outbox_written: OnceLock<Arc<Notify>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

use stratus_core::clock::now_ms;

impl Store {
    /// Opens the store in `data_dir` and removes blobs that no committed row references
    /// (left by a crash between writing a blob and committing its row).
    ///
    /// # Errors
    /// IO or metadata failures.
    pub async fn open(
        data_dir: &Path,
        meta: Arc<dyn ObjectRepository>,
        region: &str,
    ) -> StoreResult<Self> {
        let blobs = blobs::BlobDir::open(&data_dir.join("blobs"))?;
        let referenced = meta.referenced_blobs().await?;
        let removed = blobs.collect_garbage(referenced).await?;
        if removed > 0 {
            tracing::info!(
                removed,
                "removed orphaned blobs left by an interrupted write"
            );
        }
        // Sequencers must grow across restarts; wall-clock nanoseconds also keep them unique
        // when the outbox was empty.
        let wall = u64::try_from(now().unix_timestamp_nanos()).unwrap_or(0);
        let seed = meta.max_sequencer().await?.max(wall) + 1;
        Ok(Self {
            meta,
            blobs,
            region: region.to_owned(),
            owners: RwLock::new(HashMap::new()),
            sequencer: AtomicU64::new(seed),
            invocations_queued: OnceLock::new(),
            outbox_written: OnceLock::new(),
        })
    }

    /// Connects the store to whoever runs queued invocations (set once, by the composition root).
    pub fn notify_invocations_queued(&self, wake: Arc<Notify>) {
        let _ = self.invocations_queued.set(wake);
    }

    /// Connects the store to whoever delivers outbox events to queues and topics (set once, by
    /// the composition root).
    pub fn notify_outbox_written(&self, wake: Arc<Notify>) {
        let _ = self.outbox_written.set(wake);
    }

    #[must_use]
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Stages a request body (step 1 of the durability protocol). `inline_allowed` is false for
    /// multipart parts, which must be blob files so the completed object can reference them.
    ///
    /// # Errors
    /// IO failures and a broken body stream.
    pub async fn stage(&self, body: BodyStream, inline_allowed: bool) -> StoreResult<StagedBody> {
        self.blobs
            .stage(body, if inline_allowed { INLINE_MAX } else { 0 })
            .await
    }

    /// Checks that `caller` may perform `action` on `bucket`.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn authorize(
        &self,
        caller: &Principal,
        bucket: &str,
        action: Action,
    ) -> StoreResult<()> {
        let owner = self
            .owner_of(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        if owner != caller.project {
            return Err(StoreError::AccessDenied(format!(
                "bucket {bucket} belongs to another project"
            )));
        }
        if !caller.may(action) {
            return Err(StoreError::AccessDenied(format!(
                "role {} may not do this",
                caller.role
            )));
        }
        Ok(())
    }

    async fn owner_of(&self, bucket: &str) -> StoreResult<Option<String>> {
        if let Some(owner) = self.owners.read().ok().and_then(|o| o.get(bucket).cloned()) {
            return Ok(Some(owner));
        }
        let owner = self.meta.get_bucket(bucket).await?.map(|b| b.project);
        if let (Some(owner), Ok(mut owners)) = (&owner, self.owners.write()) {
            owners.insert(bucket.to_owned(), owner.clone());
        }
        Ok(owner)
    }

    fn pending_event(
        &self,
        caller: &Principal,
        kind: EventKind,
        object: (&str, &str, u64, &str),
    ) -> PendingEvent {
        let (bucket, key, size, etag) = object;
        PendingEvent {
            event: ObjectEvent {
                kind,
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                size,
                etag: etag.to_owned(),
                sequencer: self.sequencer.fetch_add(1, Ordering::Relaxed),
                time: now(),
                principal: caller.access_key_id.clone(),
                chain_depth: caller.chain_depth,
                version_id: None,
            },
            region: self.region.clone(),
        }
    }

    /// Follows up a committed write: wakes the dispatcher if it queued invocations, and unlinks
    /// blobs it made unreachable. Unlink failures only leave orphans for the start-up collector,
    /// so they are logged, not returned.
    async fn after_commit(&self, garbage: Garbage) {
        if garbage.invocations_queued
            && let Some(wake) = self.invocations_queued.get()
        {
            wake.notify_one();
        }
        if garbage.outbox_written
            && let Some(wake) = self.outbox_written.get()
        {
            wake.notify_one();
        }
        if !garbage.blobs.is_empty() {
            self.blobs.remove(garbage.blobs).await;
        }
    }

    /// Pending outbox events, for the read-only inspection endpoint.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn pending_events(
        &self,
        limit: usize,
    ) -> StoreResult<Vec<stratus_meta::OutboxRecord>> {
        Ok(self.meta.pending_events(limit).await?)
    }

    /// The newest `limit` outbox events with their delivery state, oldest first.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn recent_events(
        &self,
        limit: usize,
    ) -> StoreResult<Vec<stratus_meta::OutboxRecord>> {
        Ok(self.meta.recent_events(limit).await?)
    }

    /// Marks an outbox event consumed: delivered, or (with `failure`) given up on.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn consume_event(&self, event_id: &str, failure: Option<String>) -> StoreResult<()> {
        Ok(self.meta.consume_event(event_id, failure).await?)
    }

    /// The project a bucket belongs to; `None` once the bucket is deleted.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn bucket_project(&self, bucket: &str) -> StoreResult<Option<String>> {
        self.owner_of(bucket).await
    }
}
