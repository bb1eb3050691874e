//! Bad input gets the S3 error AWS would return, and changes nothing.

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{TestServer, code};

#[tokio::test]
async fn bucket_errors() {
    let server = TestServer::start();
    let s3 = server.s3();
    assert_eq!(
        code(s3.create_bucket().bucket("Bad_Name").send().await),
        "InvalidBucketName"
    );
    assert_eq!(
        code(s3.create_bucket().bucket("ab").send().await),
        "InvalidBucketName"
    );
    s3.create_bucket()
        .bucket("mine")
        .send()
        .await
        .expect("create");
    // In us-east-1 S3 answers 200 to re-creating a bucket one owns (legacy compatibility).
    s3.create_bucket()
        .bucket("mine")
        .send()
        .await
        .expect("re-create in us-east-1");
    assert_eq!(
        code(s3.delete_bucket().bucket("missing-bucket").send().await),
        "NoSuchBucket"
    );
    assert_eq!(
        code(
            s3.put_object()
                .bucket("missing-bucket")
                .key("k")
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
        ),
        "NoSuchBucket"
    );
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["mine"], "failed creations left nothing behind");
}

#[tokio::test]
async fn object_errors_change_nothing() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("errs")
        .send()
        .await
        .expect("create");
    assert_eq!(
        code(s3.get_object().bucket("errs").key("missing").send().await),
        "NoSuchKey"
    );
    assert_eq!(
        code(s3.head_object().bucket("errs").key("missing").send().await),
        "NotFound"
    );
    let long_key = "k".repeat(1025);
    assert_eq!(
        code(
            s3.put_object()
                .bucket("errs")
                .key(&long_key)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
        ),
        "KeyTooLongError"
    );
    // Content-MD5 of other bytes.
    let wrong_md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    let bad = s3
        .put_object()
        .bucket("errs")
        .key("md5")
        .content_md5(wrong_md5)
        .body(ByteStream::from_static(b"not empty"))
        .send()
        .await;
    assert_eq!(code(bad), "BadDigest");
    let bad = s3
        .put_object()
        .bucket("errs")
        .key("md5")
        .content_md5("not-base64!")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(code(bad), "InvalidDigest");
    // A flexible checksum that does not match the body.
    let bad = s3
        .put_object()
        .bucket("errs")
        .key("crc")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"payload"))
        .send()
        .await;
    assert_eq!(code(bad), "BadDigest");
    // A large body with a wrong digest must not leave its blob behind either.
    let big = vec![7u8; 200_000];
    let bad = s3
        .put_object()
        .bucket("errs")
        .key("big")
        .content_md5(wrong_md5)
        .body(ByteStream::from(big))
        .send()
        .await;
    assert_eq!(code(bad), "BadDigest");
    let listed = s3
        .list_objects_v2()
        .bucket("errs")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.key_count(),
        Some(0),
        "rejected writes created no objects"
    );
    let blobs = std::fs::read_dir(server.data_dir().join("blobs"))
        .expect("blobs dir")
        .flatten()
        .filter(|d| d.file_name() != "tmp")
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .count();
    assert_eq!(blobs, 0, "rejected bodies were removed from disk");
}

#[tokio::test]
async fn signatures_and_keys_are_verified() {
    let server = TestServer::start();
    let wrong_secret = server.s3_with(
        &server.access_key_id,
        "0000000000000000000000000000000000000000",
    );
    assert_eq!(
        code(wrong_secret.list_buckets().send().await),
        "SignatureDoesNotMatch"
    );
    let unknown = server.s3_with("SKUNKNOWNUNKNOWN0000", "whatever");
    assert_eq!(
        code(unknown.list_buckets().send().await),
        "InvalidAccessKeyId"
    );
    assert_eq!(
        code(unknown.create_bucket().bucket("sneaky").send().await),
        "InvalidAccessKeyId"
    );
    assert_eq!(
        code(server.s3().head_bucket().bucket("sneaky").send().await),
        "NotFound"
    );
}

#[tokio::test]
async fn batch_delete_reports_each_key() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("batch")
        .send()
        .await
        .expect("create");
    for key in ["a", "b", "c"] {
        s3.put_object()
            .bucket("batch")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let ids: Vec<_> = ["a", "b", "never-existed"]
        .iter()
        .map(|k| {
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key(*k)
                .build()
                .expect("id")
        })
        .collect();
    let delete = aws_sdk_s3::types::Delete::builder()
        .set_objects(Some(ids))
        .build()
        .expect("delete");
    let out = s3
        .delete_objects()
        .bucket("batch")
        .delete(delete)
        .send()
        .await
        .expect("delete objects");
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["a", "b", "never-existed"]);
    assert!(out.errors().is_empty());
    let left: Vec<_> = s3
        .list_objects_v2()
        .bucket("batch")
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(left, ["c"]);
}
