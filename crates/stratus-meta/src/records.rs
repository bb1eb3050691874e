//! Plain rows exchanged with the repositories.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stratus_core::{NotificationRule, NotificationTarget, ObjectEvent, Role};

use crate::{BucketObjectLock, BucketVersioning, ObjectLock};

/// An access key and what it is bound to. The secret is stored in the clear because AWS
/// Signature V4 verification needs it to recompute the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub access_key_id: String,
    pub secret: String,
    pub project: String,
    pub role: Role,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    pub project: String,
    pub created_ms: i64,
    pub notifications: Vec<NotificationRule>,
    pub versioning: BucketVersioning,
    /// `Some` once Object Lock is enabled on the bucket.
    pub object_lock: Option<BucketObjectLock>,
}

/// A run of object bytes held in one immutable blob file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub blob: String,
    pub len: u64,
}

/// Where an object's bytes live: small bodies inside the metadata row (committed atomically with
/// it), larger ones as blob files, one segment per multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBody {
    Inline(Vec<u8>),
    Segments(Vec<Segment>),
}

impl StoredBody {
    /// Blob files this body references.
    #[must_use]
    pub fn blobs(&self) -> Vec<String> {
        match self {
            StoredBody::Inline(_) => Vec::new(),
            StoredBody::Segments(segments) => segments.iter().map(|s| s.blob.clone()).collect(),
        }
    }
}

/// The standard headers S3 stores with an object and returns on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-meta-*` values, keyed without the prefix.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_metadata: BTreeMap<String, String>,
    /// Verified checksums keyed by algorithm (`CRC32`, `SHA256`, ...), base64 as S3 returns them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
    /// The object's tag set, in the order it was given (S3 allows at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Object Lock retention and legal hold of this version.
    #[serde(default, skip_serializing_if = "ObjectLock::is_unlocked")]
    pub lock: ObjectLock,
    /// The object's canned ACL (`public-read`, ...); `None` is `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    /// For a multipart upload created with a checksum algorithm, and the object it completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart_checksum: Option<MultipartChecksum>,
}

/// The checksum a multipart upload was created with (CreateMultipartUpload's
/// `ChecksumAlgorithm` and `ChecksumType`) and, once completed, each part's checksum, which
/// GetObjectAttributes lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: String,
    /// `COMPOSITE` or `FULL_OBJECT`.
    pub kind: String,
    /// The completed object's parts in order: (part number, base64 checksum of the part).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(u32, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes: hex MD5, or `md5-of-md5s-N` for multipart objects.
    pub etag: String,
    pub last_modified_ms: i64,
    pub headers: ObjectHeaders,
    pub body: StoredBody,
    /// Number of parts for a multipart object.
    pub parts: Option<u32>,
    /// The version's id; `None` is S3's `null` version (written while versioning was off or
    /// suspended). On a write, the id the version gets if the bucket has versioning enabled.
    pub version_id: Option<String>,
    /// A delete marker: a version without a body that makes its key read as absent.
    pub delete_marker: bool,
}

/// What listings return: no body, no headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// A conditional write, checked inside the write's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WriteCondition {
    #[default]
    Always,
    /// `If-None-Match: *`: only if no object exists under the key.
    IfAbsent,
    /// `If-Match: "etag"`: only if the current object has this ETag.
    IfEtag(String),
    /// `If-Match: *`: only if an object exists under the key.
    IfPresent,
    /// `If-None-Match: "etag"`: unless the current object has this ETag.
    UnlessEtag(String),
}

/// What a completed multipart upload left behind, so that a retried completion (a client that
/// lost the first answer) is answered as the first one was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedUpload {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    pub headers: ObjectHeaders,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub part_number: u32,
    pub blob: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// One event waiting in the outbox for its consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    pub seq: i64,
    /// Globally unique; consumers deduplicate on it.
    pub event_id: String,
    pub bucket: String,
    pub key: String,
    pub event_name: String,
    pub target: NotificationTarget,
    pub payload: serde_json::Value,
    pub created_ms: i64,
    /// When it was delivered or given up on; `None` while pending.
    pub consumed_ms: Option<i64>,
    /// Why it was given up on, when it was.
    pub failure: Option<String>,
    /// The event-chain depth of the write that caused it (see `stratus_core::lineage`).
    pub chain_depth: u32,
}

/// An object change plus the region events are stamped with; the repository matches it against
/// the bucket's rules inside the write transaction.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub event: ObjectEvent,
    pub region: String,
}

/// What a committed write leaves for the store to do: blob files it made unreachable (to delete)
/// and whether it queued asynchronous invocations (bucket triggers) or wrote outbox events for
/// queues and topics, so the dispatcher or the outbox relay is woken; and, for the answer, which
/// version it made or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Garbage {
    pub blobs: Vec<String>,
    pub invocations_queued: bool,
    pub outbox_written: bool,
    /// The version the write created or the delete removed (`None`: the `null` version), for
    /// the `x-amz-version-id` of the answer.
    pub version_id: Option<String>,
    /// The write created, or the delete removed, a delete marker.
    pub delete_marker: bool,
}
