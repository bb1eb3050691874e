//! Conformance suite for [`BucketConfigRepository`]: configuration documents per bucket and
//! kind, removed with their bucket, and in-place header updates of current objects.

mod common;

use std::sync::Arc;

use common::{bucket, put_sized};
use stratus_meta::{BucketConfigKind, MetaError, ObjectRepository, SqliteMeta, VersionSelector};

async fn documents_are_kept_per_bucket_and_kind(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("site", "p"))
        .await
        .expect("bucket");
    repo.create_bucket(bucket("other", "p"))
        .await
        .expect("bucket");
    repo.set_bucket_config("site", BucketConfigKind::Cors, Some("[1]".into()))
        .await
        .expect("put");
    repo.set_bucket_config("site", BucketConfigKind::Cors, Some("[2]".into()))
        .await
        .expect("replace");
    repo.set_bucket_config("site", BucketConfigKind::Acl, Some("public-read".into()))
        .await
        .expect("put");
    let cors = repo.bucket_config("site", BucketConfigKind::Cors).await;
    assert_eq!(cors.expect("get").as_deref(), Some("[2]"));
    let other = repo.bucket_config("other", BucketConfigKind::Cors).await;
    assert_eq!(other.expect("get"), None);
    repo.set_bucket_config("site", BucketConfigKind::Cors, None)
        .await
        .expect("delete");
    let cors = repo.bucket_config("site", BucketConfigKind::Cors).await;
    assert_eq!(cors.expect("get"), None);
    let missing = repo
        .set_bucket_config("nope", BucketConfigKind::Acl, Some("private".into()))
        .await;
    assert!(matches!(missing, Err(MetaError::NotFound("bucket"))));
    // Deleting the bucket deletes its documents: a new bucket of that name starts bare.
    repo.delete_bucket("site").await.expect("delete bucket");
    repo.create_bucket(bucket("site", "q"))
        .await
        .expect("bucket");
    let acl = repo.bucket_config("site", BucketConfigKind::Acl).await;
    assert_eq!(acl.expect("get"), None);
}

async fn object_headers_change_in_place(repo: &dyn ObjectRepository) {
    repo.create_bucket(bucket("objs", "p"))
        .await
        .expect("bucket");
    put_sized(repo, "objs", "k", 3).await.expect("put");
    let edit: stratus_meta::HeaderEdit = Box::new(|record| {
        let mut headers = record.headers.clone();
        headers.acl = Some("public-read".into());
        Ok(headers)
    });
    repo.edit_object_headers("objs", "k", VersionSelector::Current, edit)
        .await
        .expect("update");
    let stored = repo
        .get_object("objs", "k")
        .await
        .expect("get")
        .expect("object");
    assert_eq!(
        (stored.headers.acl.as_deref(), stored.size),
        (Some("public-read"), 3)
    );
    let unchanged: stratus_meta::HeaderEdit = Box::new(|record| Ok(record.headers.clone()));
    let missing = repo
        .edit_object_headers("objs", "nope", VersionSelector::Current, unchanged)
        .await;
    assert!(matches!(missing, Err(MetaError::NotFound(_))));
}

#[tokio::test]
async fn sqlite_bucket_config_repository_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = Arc::new(SqliteMeta::open(&dir.path().join("meta.db")).expect("open"));
    documents_are_kept_per_bucket_and_kind(meta.as_ref()).await;
    object_headers_change_in_place(meta.as_ref()).await;
}
