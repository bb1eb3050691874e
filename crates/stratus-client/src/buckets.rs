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
