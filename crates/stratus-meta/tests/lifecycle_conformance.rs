//! Conformance checks for [`LifecycleRepository`]: the sweeper's expiration acts only on the
//! version it judged due, and otherwise exactly as a client's delete; plus the listing of the
//! buckets that have a lifecycle configuration.

mod common;

use common::{bucket, event, put_sized};
use stratus_core::EventKind;
use stratus_meta::{
    BucketConfigKind, BucketVersioning, ObjectRepository, SqliteMeta, VersionCursor,
};

async fn current_of(repo: &dyn ObjectRepository, bucket: &str) -> (Option<String>, i64) {
    let record = repo
        .get_object(bucket, "k")
        .await
        .expect("get")
        .expect("current version");
    (record.version_id, record.last_modified_ms)
}

async fn only_the_expected_version_expires(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("plain", "p"))
        .await
        .expect("bucket");
    put_sized(repo, "plain", "k", 3).await.expect("put");
    let (version, modified) = current_of(repo, "plain").await;
    // A newer write than the one judged due (another last modification) is left alone.
    let stale = repo
        .expire_current_if(
            "plain",
            "k",
            (version.clone(), modified - 1),
            "m1".into(),
            event(EventKind::LifecycleExpirationDelete, "plain", "k", 2),
        )
        .await
        .expect("stale expectation");
    assert!(stale.is_none());
    assert!(repo.get_object("plain", "k").await.expect("get").is_some());
    let done = repo
        .expire_current_if(
            "plain",
            "k",
            (version, modified),
            "m2".into(),
            event(EventKind::LifecycleExpirationDelete, "plain", "k", 3),
        )
        .await
        .expect("expire");
    assert!(done.is_some_and(|g| !g.delete_marker));
    assert!(repo.get_object("plain", "k").await.expect("get").is_none());
}

async fn a_versioned_expiry_leaves_a_marker(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("kept", "p"))
        .await
        .expect("bucket");
    repo.set_bucket_versioning("kept", BucketVersioning::Enabled)
        .await
        .expect("versioning");
    put_sized(repo, "kept", "k", 3).await.expect("put");
    let expected = current_of(repo, "kept").await;
    let garbage = repo
        .expire_current_if(
            "kept",
            "k",
            expected.clone(),
            "marker".into(),
            event(EventKind::LifecycleExpirationDelete, "kept", "k", 2),
        )
        .await
        .expect("expire")
        .expect("expired");
    assert!(garbage.delete_marker && garbage.blobs.is_empty());
    // The marker is current now: a second expiry of the same version does nothing.
    let again = repo
        .expire_current_if(
            "kept",
            "k",
            expected,
            "marker2".into(),
            event(EventKind::LifecycleExpirationDelete, "kept", "k", 3),
        )
        .await
        .expect("idempotent");
    assert!(again.is_none());
    let versions = repo
        .list_object_versions("kept", "", VersionCursor::default(), 10)
        .await
        .expect("list");
    assert_eq!(versions.len(), 2);
    assert!(versions[0].delete_marker && versions[0].is_latest);
}

async fn buckets_with_a_lifecycle_are_listed(repo: &dyn ObjectRepository) {
    for name in ["lc-b", "lc-a", "lc-none"] {
        repo.create_bucket(bucket(name, "p")).await.expect("bucket");
    }
    for name in ["lc-b", "lc-a"] {
        repo.set_bucket_config(name, BucketConfigKind::Lifecycle, Some(format!("[{name}]")))
            .await
            .expect("config");
    }
    repo.set_bucket_config("lc-none", BucketConfigKind::Cors, Some("[]".into()))
        .await
        .expect("other kind");
    let listed = repo
        .buckets_with_config(BucketConfigKind::Lifecycle)
        .await
        .expect("list");
    assert_eq!(
        listed,
        vec![
            ("lc-a".to_owned(), "[lc-a]".to_owned()),
            ("lc-b".to_owned(), "[lc-b]".to_owned())
        ]
    );
}

fn sqlite() -> (tempfile::TempDir, SqliteMeta) {
    let dir = tempfile::tempdir().expect("temp dir");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
    (dir, meta)
}

#[tokio::test]
async fn sqlite_only_the_expected_version_expires() {
    let (_dir, repo) = sqlite();
    only_the_expected_version_expires(&repo).await;
}

#[tokio::test]
async fn sqlite_a_versioned_expiry_leaves_a_marker() {
    let (_dir, repo) = sqlite();
    a_versioned_expiry_leaves_a_marker(&repo).await;
}

#[tokio::test]
async fn sqlite_buckets_with_a_lifecycle_are_listed() {
    let (_dir, repo) = sqlite();
    buckets_with_a_lifecycle_are_listed(&repo).await;
}
