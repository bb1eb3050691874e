//! Conformance suite for the repository traits. Each check takes `&dyn ObjectRepository` (or
//! `&dyn IdentityRepository`) so every backend — SQLite now, PostgreSQL later — runs the same
//! functions; only the `#[tokio::test]` wrappers at the bottom are per backend.

use std::sync::Arc;

use stratus_core::{EventKind, NotificationRule, NotificationTarget, ObjectEvent, Role};
use stratus_meta::{
    BucketRecord, IdentityRepository, KeyRecord, MetaError, ObjectHeaders, ObjectRecord,
    ObjectRepository, PartRecord, PendingEvent, Segment, SqliteMeta, StoredBody, UploadRecord,
    WriteCondition,
};

fn bucket(name: &str, project: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        project: project.into(),
        created_ms: 1,
        notifications: Vec::new(),
    }
}

fn object(bucket: &str, key: &str, body: StoredBody, etag: &str) -> ObjectRecord {
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
    }
}

fn event(kind: EventKind, bucket: &str, key: &str, sequencer: u64) -> PendingEvent {
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
        },
        region: "us-east-1".into(),
    }
}

fn blob(id: &str, len: u64) -> StoredBody {
    StoredBody::Segments(vec![Segment {
        blob: id.into(),
        len,
    }])
}

async fn buckets_are_unique_across_projects(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("shared-name", "a"))
        .await
        .expect("create");
    match repo.create_bucket(bucket("shared-name", "b")).await {
        Err(MetaError::BucketOwnedBy { owner }) => assert_eq!(owner, "a"),
        other => panic!("expected BucketOwnedBy, got {other:?}"),
    }
    assert_eq!(repo.list_buckets("a").await.expect("list").len(), 1);
    assert!(repo.list_buckets("b").await.expect("list").is_empty());
}

async fn objects_replace_and_report_garbage(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("objects", "a"))
        .await
        .expect("create");
    let first = repo
        .put_object(
            object("objects", "k", blob("blob-1", 10), "e1"),
            WriteCondition::Always,
            event(EventKind::Put, "objects", "k", 1),
        )
        .await;
    assert!(first.expect("put").blobs.is_empty());
    let garbage = repo
        .put_object(
            object("objects", "k", StoredBody::Inline(b"x".to_vec()), "e2"),
            WriteCondition::Always,
            event(EventKind::Put, "objects", "k", 2),
        )
        .await
        .expect("overwrite");
    assert_eq!(garbage.blobs, ["blob-1"], "the overwritten blob is garbage");
    let stored = repo
        .get_object("objects", "k")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (stored.etag.as_str(), stored.body),
        ("e2", StoredBody::Inline(b"x".to_vec()))
    );
    let missing = repo
        .put_object(
            object("no-such-bucket", "k", StoredBody::Inline(Vec::new()), "e"),
            WriteCondition::Always,
            event(EventKind::Put, "no-such-bucket", "k", 3),
        )
        .await;
    assert!(matches!(missing, Err(MetaError::NotFound("bucket"))));
}

async fn conditional_writes_are_checked_in_the_transaction(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("conditional", "a"))
        .await
        .expect("create");
    let put = |etag: &'static str, condition| {
        repo.put_object(
            object("conditional", "k", StoredBody::Inline(Vec::new()), etag),
            condition,
            event(EventKind::Put, "conditional", "k", 9),
        )
    };
    assert!(matches!(
        put("x", WriteCondition::IfEtag("x".into())).await,
        Err(MetaError::NotFound(_))
    ));
    put("v1", WriteCondition::IfAbsent).await.expect("absent");
    assert!(matches!(
        put("v2", WriteCondition::IfAbsent).await,
        Err(MetaError::PreconditionFailed)
    ));
    assert!(matches!(
        put("v2", WriteCondition::IfEtag("other".into())).await,
        Err(MetaError::PreconditionFailed)
    ));
    put("v2", WriteCondition::IfEtag("v1".into()))
        .await
        .expect("matching etag");
    assert_eq!(
        repo.get_object("conditional", "k")
            .await
            .expect("get")
            .expect("exists")
            .etag,
        "v2"
    );
}

async fn listing_is_in_byte_order_within_bounds(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("listing", "a"))
        .await
        .expect("create");
    for (i, key) in ["b", "a/2", "a/1", "é", "a", "Z", "a0"].iter().enumerate() {
        repo.put_object(
            object("listing", key, StoredBody::Inline(Vec::new()), "e"),
            WriteCondition::Always,
            event(EventKind::Put, "listing", key, i as u64),
        )
        .await
        .expect("put");
    }
    let keys =
        |v: Vec<stratus_meta::ObjectSummary>| v.into_iter().map(|o| o.key).collect::<Vec<_>>();
    assert_eq!(
        keys(
            repo.list_objects("listing", "", b"", 100)
                .await
                .expect("list")
        ),
        ["Z", "a", "a/1", "a/2", "a0", "b", "é"]
    );
    assert_eq!(
        keys(
            repo.list_objects("listing", "a/", b"", 100)
                .await
                .expect("list")
        ),
        ["a/1", "a/2"]
    );
    assert_eq!(
        keys(
            repo.list_objects("listing", "a", b"a", 100)
                .await
                .expect("list")
        ),
        ["a/1", "a/2", "a0"],
        "after == prefix excludes it"
    );
    assert_eq!(
        keys(
            repo.list_objects("listing", "", b"a/\xff", 2)
                .await
                .expect("list")
        ),
        ["a0", "b"]
    );
}

async fn outbox_rows_commit_with_their_change_only(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("events", "a"))
        .await
        .expect("create");
    let rule = NotificationRule {
        id: "png".into(),
        target: NotificationTarget::Lambda("arn:fn".into()),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: None,
        suffix: Some(".png".into()),
    };
    repo.set_notifications("events", vec![rule])
        .await
        .expect("rules");
    let before = repo.pending_events(100).await.expect("events").len();
    repo.put_object(
        object("events", "a.png", StoredBody::Inline(Vec::new()), "e"),
        WriteCondition::Always,
        event(EventKind::Put, "events", "a.png", 100),
    )
    .await
    .expect("put");
    repo.put_object(
        object("events", "a.txt", StoredBody::Inline(Vec::new()), "e"),
        WriteCondition::Always,
        event(EventKind::Put, "events", "a.txt", 101),
    )
    .await
    .expect("put");
    // A failed conditional write must not leave its event behind.
    let refused = repo
        .put_object(
            object("events", "a.png", StoredBody::Inline(Vec::new()), "e"),
            WriteCondition::IfAbsent,
            event(EventKind::Put, "events", "a.png", 102),
        )
        .await;
    assert!(refused.is_err());
    let events = repo.pending_events(100).await.expect("events");
    assert_eq!(events.len() - before, 1);
    let last = events.last().expect("event");
    assert_eq!(
        (last.key.as_str(), last.event_name.as_str()),
        ("a.png", "s3:ObjectCreated:Put")
    );
    assert_eq!(last.payload["Records"][0]["s3"]["configurationId"], "png");
    assert!(repo.max_sequencer().await.expect("max") >= 100);
}

async fn multipart_completion_keeps_used_parts_only(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("mpu", "a"))
        .await
        .expect("create");
    let upload = UploadRecord {
        upload_id: "u1".into(),
        bucket: "mpu".into(),
        key: "k".into(),
        initiated_ms: 1,
        headers: ObjectHeaders::default(),
    };
    repo.create_upload(upload).await.expect("upload");
    for (number, id) in [(1, "p1"), (2, "p2"), (3, "p3")] {
        let part = PartRecord {
            part_number: number,
            blob: id.into(),
            size: 5,
            etag: "e".into(),
            last_modified_ms: 1,
        };
        repo.put_part("u1", part).await.expect("part");
    }
    let replaced = repo
        .put_part(
            "u1",
            PartRecord {
                part_number: 2,
                blob: "p2b".into(),
                size: 5,
                etag: "e".into(),
                last_modified_ms: 1,
            },
        )
        .await
        .expect("replace part");
    assert_eq!(replaced.blobs, ["p2"]);
    let referenced = repo.referenced_blobs().await.expect("referenced");
    assert!(referenced.contains("p1") && referenced.contains("p2b") && !referenced.contains("p2"));
    let body = StoredBody::Segments(vec![
        Segment {
            blob: "p1".into(),
            len: 5,
        },
        Segment {
            blob: "p2b".into(),
            len: 5,
        },
    ]);
    let garbage = repo
        .complete_upload(
            "u1",
            object("mpu", "k", body, "m-2"),
            event(EventKind::CompleteMultipartUpload, "mpu", "k", 200),
        )
        .await
        .expect("complete");
    assert_eq!(garbage.blobs, ["p3"], "the unused part is garbage");
    assert!(repo.get_upload("u1").await.expect("get").is_none());
    assert!(matches!(
        repo.abort_upload("u1").await,
        Err(MetaError::NotFound("upload"))
    ));
    assert!(matches!(
        repo.delete_bucket("mpu").await,
        Err(MetaError::BucketNotEmpty)
    ));
}

async fn concurrent_writes_all_commit(repo: Arc<dyn ObjectRepository>) {
    repo.create_bucket(bucket("concurrent", "a"))
        .await
        .expect("create");
    let writes = (0..200u64).map(|i| {
        let repo = Arc::clone(&repo);
        tokio::spawn(async move {
            let key = format!("k{i:03}");
            repo.put_object(
                object("concurrent", &key, StoredBody::Inline(vec![1]), "e"),
                WriteCondition::Always,
                event(EventKind::Put, "concurrent", &key, 1000 + i),
            )
            .await
        })
    });
    for write in writes.collect::<Vec<_>>() {
        write.await.expect("join").expect("put");
    }
    assert_eq!(
        repo.list_objects("concurrent", "", b"", 1000)
            .await
            .expect("list")
            .len(),
        200
    );
}

async fn keys_belong_to_projects(repo: &dyn IdentityRepository) {
    let key = |id: &str, project: &str| KeyRecord {
        access_key_id: id.into(),
        secret: "s".into(),
        project: project.into(),
        role: Role::Member,
        created_ms: 1,
    };
    repo.create_key(key("K1", "p")).await.expect("create");
    repo.create_key(key("K2", "q")).await.expect("create");
    assert!(matches!(
        repo.create_key(key("K1", "q")).await,
        Err(MetaError::KeyExists)
    ));
    assert_eq!(repo.list_keys(Some("p")).await.expect("list").len(), 1);
    assert_eq!(repo.list_keys(None).await.expect("list").len(), 2);
    assert!(repo.delete_key("K1").await.expect("delete"));
    assert!(!repo.delete_key("K1").await.expect("delete again"));
    assert!(repo.get_key("K1").await.expect("get").is_none());
}

fn sqlite() -> (tempfile::TempDir, Arc<SqliteMeta>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
    (dir, Arc::new(meta))
}

#[tokio::test]
async fn sqlite_object_repository_conforms() {
    let (_dir, meta) = sqlite();
    buckets_are_unique_across_projects(meta.as_ref()).await;
    objects_replace_and_report_garbage(meta.as_ref()).await;
    conditional_writes_are_checked_in_the_transaction(meta.as_ref()).await;
    listing_is_in_byte_order_within_bounds(meta.as_ref()).await;
    outbox_rows_commit_with_their_change_only(meta.as_ref()).await;
    multipart_completion_keeps_used_parts_only(meta.as_ref()).await;
    concurrent_writes_all_commit(meta).await;
}

#[tokio::test]
async fn sqlite_identity_repository_conforms() {
    let (_dir, meta) = sqlite();
    keys_belong_to_projects(meta.as_ref()).await;
}

#[tokio::test]
async fn sqlite_state_survives_reopening() {
    let (dir, meta) = sqlite();
    meta.create_bucket(bucket("kept", "a"))
        .await
        .expect("create");
    drop(meta);
    let reopened = SqliteMeta::open(&dir.path().join("meta.db")).expect("reopen");
    assert!(reopened.get_bucket("kept").await.expect("get").is_some());
}
