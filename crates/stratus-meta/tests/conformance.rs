//! Conformance suite for the repository traits. Each check takes `&dyn ObjectRepository` (or
//! `&dyn IdentityRepository`, `&dyn FunctionRepository`) so every backend — SQLite now, PostgreSQL later — runs the same
//! functions; only the `#[tokio::test]` wrappers at the bottom are per backend.

mod common;

use std::sync::Arc;

use common::{bucket, event, object};
use stratus_core::{
    AppFunction, AppResources, EventKind, FunctionConfig, NotificationRule, NotificationTarget,
    Role,
};
use stratus_meta::{
    AppRecord, AppRepository, FunctionRecord, FunctionRepository, IdentityRepository,
    InvocationRecord, InvocationState, KeyRecord, MetaError, ObjectHeaders, ObjectRepository,
    PartRecord, ScheduleRecord, Segment, SqliteMeta, StoredBody, UploadRecord, VersionRecord,
    WriteCondition,
};

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
    assert!(matches!(
        put("x", WriteCondition::IfPresent).await,
        Err(MetaError::NotFound(_))
    ));
    put("v1", WriteCondition::IfAbsent).await.expect("absent");
    assert!(matches!(
        put("v2", WriteCondition::UnlessEtag("v1".into())).await,
        Err(MetaError::PreconditionFailed)
    ));
    put("v1", WriteCondition::UnlessEtag("other".into()))
        .await
        .expect("another etag");
    put("v1", WriteCondition::IfPresent).await.expect("present");
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

/// Bucket names are reusable by any project once deleted: a deleted bucket's events go with it,
/// so they never show up as the history of the next bucket of that name.
async fn deleting_a_bucket_removes_its_events(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("reused", "a"))
        .await
        .expect("create");
    let rule = NotificationRule {
        id: "all".into(),
        target: NotificationTarget::Queue("arn:aws:sqs:us-east-1:1:q".into()),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: None,
        suffix: None,
    };
    repo.set_notifications("reused", vec![rule])
        .await
        .expect("rules");
    repo.put_object(
        object("reused", "private.txt", StoredBody::Inline(Vec::new()), "e"),
        WriteCondition::Always,
        event(EventKind::Put, "reused", "private.txt", 200),
    )
    .await
    .expect("put");
    let of_bucket = |events: Vec<stratus_meta::OutboxRecord>| {
        events.into_iter().filter(|e| e.bucket == "reused").count()
    };
    assert_eq!(
        of_bucket(repo.recent_events(1000).await.expect("events")),
        1
    );
    repo.delete_object(
        "reused",
        "private.txt",
        "v".into(),
        event(EventKind::Delete, "reused", "private.txt", 201),
    )
    .await
    .expect("delete object");
    repo.delete_bucket("reused").await.expect("delete bucket");
    repo.create_bucket(bucket("reused", "b"))
        .await
        .expect("recreate");
    assert_eq!(
        of_bucket(repo.recent_events(1000).await.expect("events")),
        0
    );
    assert_eq!(
        of_bucket(repo.pending_events(1000).await.expect("events")),
        0
    );
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
    // The completion is remembered, so that a retry can be answered as the first.
    let done = repo
        .completed_upload("u1")
        .await
        .expect("read")
        .expect("remembered");
    assert_eq!(
        (done.bucket.as_str(), done.key.as_str(), done.etag.as_str()),
        ("mpu", "k", "m-2")
    );
    assert!(repo.completed_upload("u2").await.expect("read").is_none());
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

/// Applications are per project: the same name in two projects is two applications.
async fn apps_are_replaced_whole_and_scoped_to_projects(
    apps: &dyn AppRepository,
    identity: &dyn IdentityRepository,
) {
    for (id, project) in [("AK-P", "p"), ("AK-Q", "q")] {
        identity
            .create_key(KeyRecord {
                access_key_id: id.into(),
                secret: "s".into(),
                project: project.into(),
                role: Role::Member,
                created_ms: 1,
            })
            .await
            .expect("create key");
    }
    let app = |project: &str, buckets: &[&str], digest: &str| AppRecord {
        project: project.into(),
        name: "pipe".into(),
        resources: AppResources {
            buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
            functions: vec![AppFunction {
                name: "ocr".into(),
                triggers: Vec::new(),
                outputs: vec!["text".into()],
            }],
        },
        manifest_digest: digest.into(),
        updated_ms: 1,
    };
    apps.put_app(app("p", &["scans"], "d1")).await.expect("put");
    apps.put_app(app("q", &[], "dq"))
        .await
        .expect("put other project");
    apps.put_app(app("p", &["scans", "text"], "d2"))
        .await
        .expect("replace");
    let stored = apps
        .get_app("p", "pipe")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored, app("p", &["scans", "text"], "d2"));
    assert_eq!(apps.list_apps("p").await.expect("list").len(), 1);
    assert!(apps.get_app("p", "other").await.expect("get").is_none());
    assert!(apps.delete_app("p", "pipe").await.expect("delete"));
    assert!(!apps.delete_app("p", "pipe").await.expect("delete again"));
    assert_eq!(
        apps.list_apps("q").await.expect("list")[0].manifest_digest,
        "dq"
    );
}

async fn create_function(repo: &dyn FunctionRepository, project: &str, name: &str) {
    let function = FunctionRecord {
        project: project.into(),
        name: name.into(),
        reserved_concurrency: None,
        created_ms: 1,
        execution_key: format!("AK-{name}"),
    };
    let latest = VersionRecord {
        project: project.into(),
        name: name.into(),
        version: "$LATEST".into(),
        config: FunctionConfig::new("python3.11", "app.handler"),
        code_sha256: "0".repeat(64),
        code_size: 1,
        last_modified_ms: 1,
        revision_id: "r1".into(),
    };
    repo.create_function(function, latest)
        .await
        .expect("create function");
}

fn schedule(
    id: &str,
    function: &str,
    position: u32,
    expression: &str,
    next: i64,
) -> ScheduleRecord {
    ScheduleRecord {
        id: id.into(),
        project: "p".into(),
        function: function.into(),
        position,
        expression: expression.into(),
        input: None,
        next_fire_ms: Some(next),
        created_ms: 5,
    }
}

fn queued(id: &str, function: &str) -> InvocationRecord {
    InvocationRecord {
        id: id.into(),
        project: "p".into(),
        function: function.into(),
        qualifier: "$LATEST".into(),
        payload: b"{}".to_vec(),
        state: InvocationState::Queued,
        attempts: 0,
        accepted_ms: 1_000,
        next_attempt_ms: 1_000,
        finished_ms: None,
        result: None,
        error: None,
        chain_depth: 0,
    }
}

async fn schedules_are_replaced_kept_and_deleted_with_their_function(
    repo: &dyn FunctionRepository,
) {
    assert!(matches!(
        repo.replace_schedules(
            "p",
            "missing",
            vec![schedule("s0", "missing", 0, "rate(1 day)", 9)]
        )
        .await,
        Err(MetaError::NotFound(_))
    ));
    create_function(repo, "p", "nightly").await;
    let first = vec![
        schedule("a", "nightly", 0, "rate(5 minutes)", 1_000),
        schedule("b", "nightly", 1, "cron(0 12 * * ? *)", 2_000),
    ];
    let stored = repo
        .replace_schedules("p", "nightly", first.clone())
        .await
        .expect("replace");
    assert_eq!(stored, first);
    assert_eq!(
        repo.list_schedules("p", "nightly").await.expect("list"),
        first
    );

    // A redeploy keeps the schedule whose expression is unchanged (id, next fire, creation),
    // takes its new input and position, and drops the one no longer listed.
    let mut moved = schedule("b2", "nightly", 0, "cron(0 12 * * ? *)", 99_000);
    moved.input = Some(r#"{"job":"nightly"}"#.into());
    let added = schedule("c", "nightly", 1, "rate(1 hour)", 3_000);
    let stored = repo
        .replace_schedules("p", "nightly", vec![moved.clone(), added.clone()])
        .await
        .expect("replace again");
    let kept = ScheduleRecord {
        id: "b".into(),
        next_fire_ms: Some(2_000),
        ..moved
    };
    assert_eq!(stored, vec![kept.clone(), added.clone()]);
    assert_eq!(
        repo.list_schedules("p", "nightly").await.expect("list"),
        vec![kept, added]
    );

    // Matching is one to one: of two equal expressions, one continues the old schedule.
    let twins = vec![
        schedule("t0", "nightly", 0, "rate(1 hour)", 7),
        schedule("t1", "nightly", 1, "rate(1 hour)", 8),
    ];
    let stored = repo
        .replace_schedules("p", "nightly", twins)
        .await
        .expect("twins");
    assert_eq!(stored[0].id, "c");
    assert_eq!(stored[1].id, "t1");
    assert_eq!(stored[1].next_fire_ms, Some(8));

    repo.delete_function("p", "nightly").await.expect("delete");
    assert!(
        repo.list_schedules("p", "nightly")
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        repo.due_schedules(i64::MAX, 10)
            .await
            .expect("due")
            .is_empty()
    );
    // A new function of the same name starts without the old schedules.
    create_function(repo, "p", "nightly").await;
    assert!(
        repo.list_schedules("p", "nightly")
            .await
            .expect("list")
            .is_empty()
    );
    repo.replace_schedules("p", "nightly", Vec::new())
        .await
        .expect("clear");
    repo.delete_function("p", "nightly")
        .await
        .expect("delete again");
}

async fn firing_advances_once_and_inserts_its_invocation_once(repo: &dyn FunctionRepository) {
    create_function(repo, "p", "tick").await;
    repo.replace_schedules(
        "p",
        "tick",
        vec![
            schedule("late", "tick", 0, "rate(1 minute)", 1_000),
            schedule("later", "tick", 1, "rate(2 minutes)", 5_000),
        ],
    )
    .await
    .expect("replace");
    assert!(repo.due_schedules(999, 10).await.expect("due").is_empty());
    let due = repo.due_schedules(5_000, 10).await.expect("due");
    assert_eq!(
        due.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["late", "later"]
    );
    assert_eq!(repo.due_schedules(5_000, 1).await.expect("due").len(), 1);

    assert!(
        repo.advance_schedule("late", 1_000, Some(61_000), Some(queued("fire-1", "tick")))
            .await
            .expect("fire")
    );
    let fired = repo
        .get_invocation("fire-1")
        .await
        .expect("get")
        .expect("inserted");
    assert_eq!(fired.state, InvocationState::Queued);
    let listed = repo.list_schedules("p", "tick").await.expect("list");
    assert_eq!(listed[0].next_fire_ms, Some(61_000));

    // A second firing of the same time (another process, or a retry) changes nothing.
    assert!(
        !repo
            .advance_schedule("late", 1_000, Some(61_000), Some(queued("fire-1b", "tick")))
            .await
            .expect("fire again")
    );
    assert!(repo.get_invocation("fire-1b").await.expect("get").is_none());
    assert!(
        !repo
            .advance_schedule("gone", 1_000, None, Some(queued("fire-x", "tick")))
            .await
            .expect("unknown schedule")
    );

    // An invocation that already exists (and ran) is never replaced by a fire with its id.
    let mut done = fired.clone();
    done.state = InvocationState::Succeeded;
    done.attempts = 1;
    repo.put_invocation(done).await.expect("finish");
    assert!(
        repo.advance_schedule("late", 61_000, None, Some(queued("fire-1", "tick")))
            .await
            .expect("fire")
    );
    let kept = repo
        .get_invocation("fire-1")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(kept.state, InvocationState::Succeeded);
    // A schedule that never fires again is never due.
    let due = repo.due_schedules(i64::MAX, 10).await.expect("due");
    assert_eq!(
        due.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["later"]
    );
    repo.delete_function("p", "tick").await.expect("delete");
}

async fn log_retention_is_set_replaced_removed_and_dies_with_its_function(
    repo: &dyn FunctionRepository,
) {
    assert!(matches!(
        repo.set_log_retention("p", "logged", Some(7)).await,
        Err(MetaError::NotFound(_))
    ));
    create_function(repo, "p", "logged").await;
    repo.set_log_retention("p", "logged", Some(7))
        .await
        .expect("set");
    repo.set_log_retention("p", "logged", Some(30))
        .await
        .expect("replace");
    assert_eq!(repo.log_retentions("p").await.expect("list")["logged"], 30);
    assert!(repo.log_retentions("q").await.expect("list").is_empty());
    assert_eq!(
        repo.all_log_retentions().await.expect("all"),
        [("p".to_owned(), "logged".to_owned(), 30)]
    );
    repo.set_log_retention("p", "logged", None)
        .await
        .expect("remove");
    assert!(repo.all_log_retentions().await.expect("all").is_empty());
    repo.set_log_retention("p", "logged", Some(1))
        .await
        .expect("set again");
    repo.delete_function("p", "logged").await.expect("delete");
    assert!(repo.all_log_retentions().await.expect("all").is_empty());
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
    deleting_a_bucket_removes_its_events(meta.as_ref()).await;
    multipart_completion_keeps_used_parts_only(meta.as_ref()).await;
    concurrent_writes_all_commit(meta).await;
}

#[tokio::test]
async fn sqlite_identity_repository_conforms() {
    let (_dir, meta) = sqlite();
    keys_belong_to_projects(meta.as_ref()).await;
}

#[tokio::test]
async fn sqlite_app_repository_conforms() {
    let (_dir, meta) = sqlite();
    apps_are_replaced_whole_and_scoped_to_projects(meta.as_ref(), meta.as_ref()).await;
}

#[tokio::test]
async fn sqlite_function_repository_conforms() {
    let (_dir, meta) = sqlite();
    schedules_are_replaced_kept_and_deleted_with_their_function(meta.as_ref()).await;
    firing_advances_once_and_inserts_its_invocation_once(meta.as_ref()).await;
    log_retention_is_set_replaced_removed_and_dies_with_its_function(meta.as_ref()).await;
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
