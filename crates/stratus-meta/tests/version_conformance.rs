//! Conformance checks for S3 versioning in the object repository: which version a write keeps
//! or replaces, delete markers, deleting a version for good, the null version, Object Lock, and
//! what the garbage collector may remove. Written against `&dyn ObjectRepository`, so every
//! backend runs the same checks.

mod common;

use common::{bucket, event, object};
use stratus_core::EventKind;
use stratus_meta::{
    BucketVersioning, MetaError, ObjectLock, ObjectRepository, Retention, RetentionMode, Segment,
    SqliteMeta, StoredBody, VersionCursor, VersionSelector, WriteCondition,
};

fn blob(id: &str) -> StoredBody {
    StoredBody::Segments(vec![Segment {
        blob: id.into(),
        len: 10,
    }])
}

async fn put(
    repo: &dyn ObjectRepository,
    bucket: &str,
    blob_id: &str,
    version: &str,
) -> Option<String> {
    let mut record = object(bucket, "k", blob(blob_id), blob_id);
    record.version_id = Some(version.into());
    let garbage = repo
        .put_object(
            record,
            WriteCondition::Always,
            event(EventKind::Put, bucket, "k", 1),
        )
        .await
        .expect("put");
    assert!(
        garbage.blobs.is_empty(),
        "a versioned write frees nothing: {garbage:?}"
    );
    garbage.version_id
}

async fn versions(repo: &dyn ObjectRepository, bucket: &str) -> Vec<(Option<String>, bool, bool)> {
    repo.list_object_versions(bucket, "", VersionCursor::default(), 100)
        .await
        .expect("list")
        .into_iter()
        .map(|v| (v.version_id, v.is_latest, v.delete_marker))
        .collect()
}

async fn versions_are_kept_and_markers_hide_the_key(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("versioned", "a"))
        .await
        .expect("create");
    repo.set_bucket_versioning("versioned", BucketVersioning::Enabled)
        .await
        .expect("enable");
    assert_eq!(
        put(repo, "versioned", "b1", "v1").await.as_deref(),
        Some("v1")
    );
    assert_eq!(
        put(repo, "versioned", "b2", "v2").await.as_deref(),
        Some("v2")
    );
    let referenced = repo.referenced_blobs().await.expect("blobs");
    assert!(referenced.contains("b1") && referenced.contains("b2"));

    let marker = repo
        .delete_object(
            "versioned",
            "k",
            "m1".into(),
            event(EventKind::Delete, "versioned", "k", 2),
        )
        .await
        .expect("delete");
    assert!(marker.delete_marker && marker.blobs.is_empty());
    assert!(
        repo.get_object("versioned", "k")
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(
        versions(repo, "versioned").await,
        [
            (Some("m1".into()), true, true),
            (Some("v2".into()), false, false),
            (Some("v1".into()), false, false)
        ]
    );
    // Removing the marker for good makes v2 current again; removing v2 then makes v1 current
    // and frees v2's blob.
    repo.delete_object_version(
        "versioned",
        "k",
        VersionSelector::Id("m1".into()),
        (0, false),
        event(EventKind::Delete, "versioned", "k", 3),
    )
    .await
    .expect("unmark");
    assert_eq!(
        repo.get_object("versioned", "k")
            .await
            .expect("get")
            .expect("current")
            .etag,
        "b2"
    );
    let freed = repo
        .delete_object_version(
            "versioned",
            "k",
            VersionSelector::Id("v2".into()),
            (0, false),
            event(EventKind::Delete, "versioned", "k", 4),
        )
        .await
        .expect("remove v2");
    assert_eq!(freed.blobs, ["b2"]);
    assert_eq!(
        repo.get_object("versioned", "k")
            .await
            .expect("get")
            .expect("current")
            .etag,
        "b1"
    );
    match repo.delete_bucket("versioned").await {
        Err(MetaError::BucketNotEmpty) => {}
        other => panic!("a bucket with versions is not empty: {other:?}"),
    }
}

async fn suspended_writes_replace_only_the_null_version(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("suspended", "a"))
        .await
        .expect("create");
    put(repo, "suspended", "null-1", "ignored").await;
    repo.set_bucket_versioning("suspended", BucketVersioning::Enabled)
        .await
        .expect("enable");
    put(repo, "suspended", "kept", "v1").await;
    repo.set_bucket_versioning("suspended", BucketVersioning::Suspended)
        .await
        .expect("suspend");
    let mut record = object("suspended", "k", blob("null-2"), "null-2");
    record.version_id = Some("ignored".into());
    let garbage = repo
        .put_object(
            record,
            WriteCondition::Always,
            event(EventKind::Put, "suspended", "k", 5),
        )
        .await
        .expect("put");
    assert_eq!(
        garbage.version_id, None,
        "a suspended bucket writes the null version"
    );
    assert_eq!(
        garbage.blobs,
        ["null-1"],
        "the old null version is replaced"
    );
    assert_eq!(
        versions(repo, "suspended").await,
        [(None, true, false), (Some("v1".into()), false, false)]
    );
}

async fn locked_versions_cannot_be_removed(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("locked", "a"))
        .await
        .expect("create");
    repo.set_bucket_versioning("locked", BucketVersioning::Enabled)
        .await
        .expect("enable");
    let mut record = object("locked", "k", blob("l1"), "l1");
    record.version_id = Some("v1".into());
    record.headers.lock = ObjectLock {
        retention: Some(Retention {
            mode: RetentionMode::Governance,
            retain_until_ms: 1_000,
        }),
        legal_hold: false,
    };
    repo.put_object(
        record,
        WriteCondition::Always,
        event(EventKind::Put, "locked", "k", 6),
    )
    .await
    .expect("put");
    let removal = |now, bypass| {
        repo.delete_object_version(
            "locked",
            "k",
            VersionSelector::Id("v1".into()),
            (now, bypass),
            event(EventKind::Delete, "locked", "k", 7),
        )
    };
    assert!(matches!(
        removal(999, false).await,
        Err(MetaError::ObjectLocked(_))
    ));
    assert!(
        repo.get_object("locked", "k").await.expect("get").is_some(),
        "nothing changed"
    );
    removal(999, true)
        .await
        .expect("GOVERNANCE yields to a bypass");
    assert!(repo.get_object("locked", "k").await.expect("get").is_none());
}

fn sqlite() -> (tempfile::TempDir, SqliteMeta) {
    let dir = tempfile::tempdir().expect("temp dir");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
    (dir, meta)
}

#[tokio::test]
async fn sqlite_versions_are_kept_and_markers_hide_the_key() {
    let (_dir, repo) = sqlite();
    versions_are_kept_and_markers_hide_the_key(&repo).await;
}

#[tokio::test]
async fn sqlite_suspended_writes_replace_only_the_null_version() {
    let (_dir, repo) = sqlite();
    suspended_writes_replace_only_the_null_version(&repo).await;
}

#[tokio::test]
async fn sqlite_locked_versions_cannot_be_removed() {
    let (_dir, repo) = sqlite();
    locked_versions_cannot_be_removed(&repo).await;
}
