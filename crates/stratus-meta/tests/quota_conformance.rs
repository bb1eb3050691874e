//! Conformance suite for the storage totals and quotas: each check takes the traits so every
//! backend runs the same functions; only the `#[tokio::test]` wrappers at the bottom are per
//! backend.

mod common;

use std::sync::Arc;

use common::{bucket, event, put_sized, sized_object};
use stratus_core::{EventKind, FunctionConfig};
use stratus_meta::{
    FunctionRecord, FunctionRepository, MetaError, ObjectHeaders, ObjectRepository, QuotaLimits,
    QuotaRepository, SqliteMeta, StoredUsage, UploadRecord, VersionRecord,
};

async fn usage_of(quotas: &dyn QuotaRepository, project: &str) -> StoredUsage {
    quotas
        .stored_usage(Some(project))
        .await
        .expect("usage")
        .into_iter()
        .next()
        .unwrap_or_default()
}

async fn totals_follow_writes_overwrites_and_deletes(
    objects: &dyn ObjectRepository,
    quotas: &dyn QuotaRepository,
) {
    objects
        .create_bucket(bucket("totals", "t"))
        .await
        .expect("bucket");
    put_sized(objects, "totals", "a", 10).await.expect("put a");
    put_sized(objects, "totals", "b", 5).await.expect("put b");
    put_sized(objects, "totals", "a", 4)
        .await
        .expect("overwrite a");
    let usage = usage_of(quotas, "t").await;
    assert_eq!((usage.storage_bytes, usage.objects), (9, 2));
    objects
        .delete_object(
            "totals",
            "b",
            "v".into(),
            event(EventKind::Delete, "totals", "b", 1),
        )
        .await
        .expect("delete");
    // Deleting a missing key changes nothing.
    objects
        .delete_object(
            "totals",
            "b",
            "v".into(),
            event(EventKind::Delete, "totals", "b", 1),
        )
        .await
        .expect("delete again");
    let usage = usage_of(quotas, "t").await;
    assert_eq!((usage.storage_bytes, usage.objects), (4, 1));
}

async fn limits_are_checked_in_the_write(
    objects: &dyn ObjectRepository,
    quotas: &dyn QuotaRepository,
) {
    objects
        .create_bucket(bucket("limited", "q"))
        .await
        .expect("bucket");
    let limits = QuotaLimits {
        max_storage_bytes: Some(100),
        max_objects: Some(2),
        ..QuotaLimits::default()
    };
    quotas.set_quota("q", limits).await.expect("set");
    assert_eq!(quotas.get_quota("q").await.expect("get"), limits);
    put_sized(objects, "limited", "a", 60).await.expect("fits");
    match put_sized(objects, "limited", "b", 41).await {
        Err(MetaError::QuotaExceeded {
            limit,
            current,
            requested,
            ..
        }) => assert_eq!((limit, current, requested), ("max_storage_bytes", 60, 101)),
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert!(
        objects
            .get_object("limited", "b")
            .await
            .expect("get")
            .is_none()
    );
    // An overwrite is charged the difference only.
    put_sized(objects, "limited", "a", 100)
        .await
        .expect("overwrite up to the limit");
    put_sized(objects, "limited", "a", 30)
        .await
        .expect("shrink");
    put_sized(objects, "limited", "b", 1)
        .await
        .expect("second object");
    assert!(matches!(
        put_sized(objects, "limited", "c", 1).await,
        Err(MetaError::QuotaExceeded {
            limit: "max_objects",
            ..
        })
    ));
    let usage = usage_of(quotas, "q").await;
    assert_eq!((usage.storage_bytes, usage.objects), (31, 2));

    // A multipart completion beyond the limit is refused and leaves the upload in place.
    let upload = UploadRecord {
        upload_id: "mpu-q".into(),
        bucket: "limited".into(),
        key: "big".into(),
        initiated_ms: 1,
        headers: ObjectHeaders::default(),
    };
    objects.create_upload(upload).await.expect("upload");
    quotas
        .set_quota(
            "q",
            QuotaLimits {
                max_storage_bytes: Some(100),
                ..QuotaLimits::default()
            },
        )
        .await
        .expect("lift object limit");
    let refused = objects
        .complete_upload(
            "mpu-q",
            sized_object("limited", "big", 80),
            event(EventKind::Put, "limited", "big", 1),
        )
        .await;
    assert!(
        matches!(refused, Err(MetaError::QuotaExceeded { .. })),
        "{refused:?}"
    );
    assert!(objects.get_upload("mpu-q").await.expect("get").is_some());
    objects
        .delete_object(
            "limited",
            "a",
            "v".into(),
            event(EventKind::Delete, "limited", "a", 1),
        )
        .await
        .expect("free space");
    objects
        .complete_upload(
            "mpu-q",
            sized_object("limited", "big", 80),
            event(EventKind::Put, "limited", "big", 1),
        )
        .await
        .expect("completes after freeing space");

    // Removing every limit removes the row.
    quotas
        .set_quota("q", QuotaLimits::default())
        .await
        .expect("unset");
    assert!(
        quotas
            .all_quotas()
            .await
            .expect("all")
            .iter()
            .all(|(p, _)| p != "q")
    );
}

async fn concurrent_writes_cannot_pass_the_limit_together(
    objects: Arc<dyn ObjectRepository>,
    quotas: &dyn QuotaRepository,
) {
    objects
        .create_bucket(bucket("race", "r"))
        .await
        .expect("bucket");
    quotas
        .set_quota(
            "r",
            QuotaLimits {
                max_storage_bytes: Some(1000),
                ..QuotaLimits::default()
            },
        )
        .await
        .expect("set");
    let writers: Vec<_> = (0..32)
        .map(|i| {
            let objects = Arc::clone(&objects);
            tokio::spawn(
                async move { put_sized(objects.as_ref(), "race", &format!("k{i}"), 100).await },
            )
        })
        .collect();
    let mut accepted = 0;
    for writer in writers {
        if writer.await.expect("join").is_ok() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 10);
    assert_eq!(usage_of(quotas, "r").await.storage_bytes, 1000);
}

async fn function_count_is_limited(
    functions: &dyn FunctionRepository,
    quotas: &dyn QuotaRepository,
) {
    quotas
        .set_quota(
            "f",
            QuotaLimits {
                max_functions: Some(1),
                ..QuotaLimits::default()
            },
        )
        .await
        .expect("set");
    let create = |name: &str| {
        let function = FunctionRecord {
            project: "f".into(),
            name: name.into(),
            reserved_concurrency: None,
            created_ms: 1,
            execution_key: format!("AK-{name}"),
        };
        let latest = VersionRecord {
            project: "f".into(),
            name: name.into(),
            version: "$LATEST".into(),
            config: FunctionConfig::new("python3.11", "app.handler"),
            code_sha256: "0".repeat(64),
            code_size: 1,
            last_modified_ms: 1,
            revision_id: "r1".into(),
        };
        functions.create_function(function, latest)
    };
    create("one").await.expect("first fits");
    assert!(matches!(
        create("two").await,
        Err(MetaError::QuotaExceeded {
            limit: "max_functions",
            max: 1,
            ..
        })
    ));
    assert!(matches!(
        create("one").await,
        Err(MetaError::AlreadyExists(_))
    ));
    assert_eq!(usage_of(quotas, "f").await.functions, 1);
    functions.delete_function("f", "one").await.expect("delete");
    create("two").await.expect("fits after a delete");
}

#[tokio::test]
async fn sqlite_quota_repository_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = Arc::new(SqliteMeta::open(&dir.path().join("meta.db")).expect("open"));
    totals_follow_writes_overwrites_and_deletes(meta.as_ref(), meta.as_ref()).await;
    limits_are_checked_in_the_write(meta.as_ref(), meta.as_ref()).await;
    concurrent_writes_cannot_pass_the_limit_together(meta.clone(), meta.as_ref()).await;
    function_count_is_limited(meta.as_ref(), meta.as_ref()).await;
}

#[tokio::test]
async fn totals_start_from_existing_objects_on_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("meta.db");
    {
        let meta = SqliteMeta::open(&path).expect("open");
        meta.create_bucket(bucket("old", "legacy"))
            .await
            .expect("bucket");
        put_sized(&meta, "old", "a", 7).await.expect("put");
        put_sized(&meta, "old", "b", 3).await.expect("put");
    }
    // A data directory from before quotas: no totals table yet.
    rusqlite::Connection::open(&path)
        .expect("raw open")
        .execute_batch("DROP TABLE project_storage")
        .expect("drop");
    let meta = SqliteMeta::open(&path).expect("reopen");
    let usage = usage_of(&meta, "legacy").await;
    assert_eq!((usage.storage_bytes, usage.objects), (10, 2));
}
