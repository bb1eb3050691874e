//! The store's side of the durability protocol: staged bodies that never commit leave nothing,
//! orphans from a crash are collected at open, committed blobs are never collected.

use std::sync::Arc;

use bytes::Bytes;
use stratus_core::{BucketName, EventKind, Role};
use stratus_identity::Principal;
use stratus_meta::SqliteMeta;
use stratus_store::{BodyStream, ObjectHeaders, ObjectWrite, Store, WriteCondition};

fn body(bytes: Vec<u8>) -> BodyStream {
    Box::pin(futures::stream::iter([Ok(Bytes::from(bytes))]))
}

fn blob_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for fan in std::fs::read_dir(dir.join("blobs"))
        .expect("blobs")
        .flatten()
    {
        for file in std::fs::read_dir(fan.path()).expect("fan dir").flatten() {
            found.push(file.path());
        }
    }
    found
}

async fn open(dir: &std::path::Path) -> Store {
    let meta = Arc::new(SqliteMeta::open(&dir.join("meta.db")).expect("meta"));
    Store::open(dir, meta, "us-east-1").await.expect("store")
}

fn operator() -> Principal {
    Principal {
        access_key_id: "AK".into(),
        project: "admin".into(),
        role: Role::Admin,
        chain_depth: 0,
    }
}

#[tokio::test]
async fn uncommitted_and_orphaned_blobs_disappear_committed_ones_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let caller = operator();
    store
        .create_bucket(&caller, &BucketName::parse("kept").expect("name"))
        .await
        .expect("bucket");

    let committed = store
        .stage(body(vec![1; 100_000]), true)
        .await
        .expect("stage");
    let write = ObjectWrite {
        bucket: "kept".into(),
        key: "k".into(),
        headers: ObjectHeaders::default(),
        condition: WriteCondition::Always,
        kind: EventKind::Put,
    };
    store
        .put_object(&caller, write, committed)
        .await
        .expect("put");
    assert_eq!(blob_files(dir.path()).len(), 1);

    // A staged body whose write failed (dropped without commit) removes its own file.
    let abandoned = store
        .stage(body(vec![2; 100_000]), true)
        .await
        .expect("stage");
    assert_eq!(blob_files(dir.path()).len(), 2);
    drop(abandoned);
    assert_eq!(blob_files(dir.path()).len(), 1);

    // A crash between blob rename and commit leaves an orphan; a crash mid-write leaves a temp file.
    std::fs::write(
        dir.path()
            .join("blobs/ab/ab00000000000000000000000000000000"),
        b"orphan",
    )
    .expect("orphan");
    std::fs::write(dir.path().join("blobs/tmp/half-written"), b"partial").expect("tmp");
    drop(store);
    let store = open(dir.path()).await;
    let remaining = blob_files(dir.path());
    assert_eq!(
        remaining.len(),
        1,
        "only the committed blob survives: {remaining:?}"
    );
    let (record, _, _) = store
        .get_object::<_, stratus_store::StoreError>(&caller, "kept", "k", |_| Ok(None))
        .await
        .expect("committed object still readable");
    assert_eq!(record.size, 100_000);
}

#[tokio::test]
async fn small_bodies_never_touch_the_blob_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let staged = store
        .stage(body(vec![3; stratus_store::INLINE_MAX]), true)
        .await
        .expect("stage");
    assert_eq!(staged.size(), stratus_store::INLINE_MAX as u64);
    assert!(
        blob_files(dir.path()).is_empty(),
        "bodies up to INLINE_MAX stay inline"
    );
    let part = store
        .stage(body(vec![3; 10]), false)
        .await
        .expect("stage part");
    assert_eq!(
        blob_files(dir.path()).len(),
        1,
        "parts are always blob files"
    );
    drop(part);
}
