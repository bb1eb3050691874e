//! `/v1/buckets`: buckets and their objects.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bucket {
    pub name: String,
    pub project: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BucketList {
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// One page of a listing; `next_after` is the `after` of the next page, null on the last.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ObjectList {
    pub objects: Vec<ObjectSummary>,
    pub next_after: Option<String>,
}

/// The answer to an upload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoredObject {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// A bucket's versioning and public-access state, as the console shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BucketSettings {
    /// `Off` (never enabled), `Enabled` or `Suspended`.
    pub versioning: String,
    /// Object Lock is on: versioning stays enabled and locked versions cannot be deleted.
    pub object_lock: bool,
    /// The bucket's canned ACL: `private`, `public-read`, `public-read-write` or
    /// `authenticated-read`; `custom` for a grant list that is none of them.
    pub acl: String,
    /// Whether anyone without a key can read objects: a public ACL or a public policy that
    /// Block Public Access does not override.
    pub public: bool,
    /// Whether Block Public Access refuses public ACLs on this bucket.
    pub public_acls_blocked: bool,
}

/// The body of `PUT /v1/buckets/{bucket}/versioning`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersioningChange {
    /// `Enabled` or `Suspended`.
    pub status: String,
}

/// The body of `PUT /v1/buckets/{bucket}/acl`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AclChange {
    /// A canned ACL: `private`, `public-read`, `public-read-write` or `authenticated-read`.
    pub acl: String,
}

/// One version of an object (or a delete marker).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    pub key: String,
    /// `null` for the version written while versioning was off or suspended.
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// One page of versions, newest first within a key; the next page starts after
/// `next_key_marker` / `next_version_marker` (both null on the last page).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    pub versions: Vec<VersionSummary>,
    pub next_key_marker: Option<String>,
    pub next_version_marker: Option<String>,
}

/// The body of `POST /v1/buckets/{bucket}/upload-form`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UploadFormRequest {
    /// Keys the form may write start with this (empty: any key).
    #[serde(default)]
    pub key_prefix: String,
    /// How long the form stays valid, in seconds (default 900, at most 604800: seven days).
    pub expires_in_s: Option<u64>,
    /// The largest file the form accepts, in bytes (default 5 GiB, S3's single-PUT limit).
    pub max_size: Option<u64>,
}

/// An S3 POST Object form (a "presigned POST"): send `multipart/form-data` to `url` with every
/// field of `fields`, a `key` starting with `key_prefix` (`${filename}` is replaced by the
/// uploaded file's name) and the file last, in a field named `file`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UploadForm {
    /// The S3 endpoint's bucket URL, relative to the server (`/BUCKET`).
    pub url: String,
    pub fields: std::collections::BTreeMap<String, String>,
    pub key_prefix: String,
    pub expires_ms: i64,
}
