//! Fixtures the stratus-meta integration suites share (each `tests/*.rs` file is its own crate,
//! so not every suite uses every fixture).
#![allow(
    dead_code,
    reason = "each suite compiles this module on its own and uses only some fixtures; `expect` \
              would fail in the suites that happen to use them all"
)]

use stratus_core::{EventKind, ObjectEvent};
use stratus_meta::{
    BucketRecord, BucketVersioning, MetaError, ObjectHeaders, ObjectRecord, ObjectRepository,
    PendingEvent, StoredBody, WriteCondition,
};

pub fn bucket(name: &str, project: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        project: project.into(),
        created_ms: 1,
        notifications: Vec::new(),
        versioning: BucketVersioning::Unversioned,
        object_lock: None,
    }
}

pub fn object(bucket: &str, key: &str, body: StoredBody, etag: &str) -> ObjectRecord {
    let size = match &body {
        StoredBody::Inline(bytes) => bytes.len() as u64,
        StoredBody::Segments(segments) => segments.iter().map(|s| s.len).sum(),
    };
    ObjectRecord {
        bucket: bucket.into(),
        key: key.into(),
        size,
        etag: etag.into(),
        last_modified_ms: 2,
        headers: ObjectHeaders::default(),
        body,
        parts: None,
        version_id: None,
        delete_marker: false,
    }
}

pub fn event(kind: EventKind, bucket: &str, key: &str, sequencer: u64) -> PendingEvent {
    PendingEvent {
        event: ObjectEvent {
            kind,
            bucket: bucket.into(),
            key: key.into(),
            size: 1,
            etag: "e".into(),
            sequencer,
            time: time::OffsetDateTime::UNIX_EPOCH,
            principal: "AK".into(),
            chain_depth: 0,
            version_id: None,
        },
        region: "us-east-1".into(),
    }
}

/// An object of `size` bytes held inline, with etag `e`.
pub fn sized_object(bucket: &str, key: &str, size: usize) -> ObjectRecord {
    object(bucket, key, StoredBody::Inline(vec![b'x'; size]), "e")
}

/// Puts a `size`-byte object unconditionally, with its Put event.
pub async fn put_sized(
    repo: &dyn ObjectRepository,
    bucket: &str,
    key: &str,
    size: usize,
) -> Result<(), MetaError> {
    repo.put_object(
        sized_object(bucket, key, size),
        WriteCondition::Always,
        event(EventKind::Put, bucket, key, 1),
    )
    .await
    .map(|_| ())
}
