//! Keys, roles and tenancy across projects.

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{TestServer, code, http, status};

#[tokio::test]
async fn another_projects_key_can_neither_see_nor_touch_its_data() {
    let server = TestServer::start();
    let a = server.s3();
    a.create_bucket()
        .bucket("alpha-data")
        .send()
        .await
        .expect("create");
    a.put_object()
        .bucket("alpha-data")
        .key("secret.txt")
        .body(ByteStream::from_static(b"alpha"))
        .send()
        .await
        .expect("put");
    let (b_id, b_secret, b_token) = server.create_key("beta", "admin");
    let b = server.s3_with(&b_id, &b_secret);

    assert!(
        b.list_buckets()
            .send()
            .await
            .expect("list")
            .buckets()
            .is_empty(),
        "beta sees no buckets of alpha"
    );
    assert_eq!(
        code(b.list_objects_v2().bucket("alpha-data").send().await),
        "AccessDenied"
    );
    assert_eq!(
        code(
            b.get_object()
                .bucket("alpha-data")
                .key("secret.txt")
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        status(
            b.head_object()
                .bucket("alpha-data")
                .key("secret.txt")
                .send()
                .await
        ),
        403
    );
    assert_eq!(
        status(b.head_bucket().bucket("alpha-data").send().await),
        403
    );
    assert_eq!(
        code(
            b.put_object()
                .bucket("alpha-data")
                .key("x")
                .body(ByteStream::from_static(b"b"))
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        code(
            b.delete_object()
                .bucket("alpha-data")
                .key("secret.txt")
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        code(b.delete_bucket().bucket("alpha-data").send().await),
        "AccessDenied"
    );
    assert_eq!(
        code(b.create_bucket().bucket("alpha-data").send().await),
        "BucketAlreadyExists"
    );
    b.create_bucket()
        .bucket("beta-data")
        .send()
        .await
        .expect("beta's own bucket");
    assert_eq!(
        code(
            b.copy_object()
                .bucket("beta-data")
                .key("stolen")
                .copy_source("alpha-data/secret.txt")
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        code(
            b.create_multipart_upload()
                .bucket("alpha-data")
                .key("x")
                .send()
                .await
        ),
        "AccessDenied"
    );
    // Events of alpha's buckets are not visible to beta's admin either.
    let (status, _, body) = http(
        "GET",
        &format!("{}/v1/events", server.endpoint),
        &[("authorization", &format!("Bearer {b_token}"))],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("\"events\":[]"));

    let body = a
        .get_object()
        .bucket("alpha-data")
        .key("secret.txt")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("read");
    assert_eq!(
        body.into_bytes().as_ref(),
        b"alpha",
        "nothing of alpha changed"
    );
    let alpha_keys = a
        .list_objects_v2()
        .bucket("alpha-data")
        .send()
        .await
        .expect("list")
        .key_count();
    assert_eq!(alpha_keys, Some(1));
}

#[tokio::test]
async fn roles_limit_what_keys_may_do() {
    let server = TestServer::start();
    server
        .s3()
        .create_bucket()
        .bucket("shared")
        .send()
        .await
        .expect("create");
    server
        .s3()
        .put_object()
        .bucket("shared")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .expect("put");
    let (reader_id, reader_secret, _) = server.create_key("admin", "read-only");
    let reader = server.s3_with(&reader_id, &reader_secret);
    assert!(
        reader
            .get_object()
            .bucket("shared")
            .key("k")
            .send()
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            reader
                .put_object()
                .bucket("shared")
                .key("k")
                .body(ByteStream::from_static(b"w"))
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        code(
            reader
                .delete_object()
                .bucket("shared")
                .key("k")
                .send()
                .await
        ),
        "AccessDenied"
    );
    assert_eq!(
        code(reader.create_bucket().bucket("reader-bucket").send().await),
        "AccessDenied"
    );

    let (_, _, member_token) = server.create_key("team", "member");
    let denied = server.cli(
        &["keys", "create", "--project", "team", "--json"],
        Some(&member_token),
    );
    assert!(!denied.status.success(), "a member may not create keys");
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("admin"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    let bad_role = server.cli(
        &["keys", "create", "--project", "team", "--role", "root"],
        None,
    );
    assert!(!bad_role.status.success());
}

#[tokio::test]
async fn keys_can_be_listed_and_deleted() {
    let server = TestServer::start();
    let (id, secret, _) = server.create_key("gamma", "member");
    let listed = server.cli(&["keys", "list", "--json"], None);
    assert!(listed.status.success());
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let found = keys
        .as_array()
        .expect("array")
        .iter()
        .find(|k| k["access_key_id"] == id.as_str())
        .expect("new key listed");
    assert_eq!(found["project"], "gamma");
    assert!(
        found.get("secret_access_key").is_none(),
        "secrets are never listed"
    );
    assert!(
        server
            .s3_with(&id, &secret)
            .list_buckets()
            .send()
            .await
            .is_ok()
    );
    let deleted = server.cli(&["keys", "delete", &id], None);
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert_eq!(
        code(server.s3_with(&id, &secret).list_buckets().send().await),
        "InvalidAccessKeyId"
    );
}

#[test]
fn env_prints_exports_for_aws_tools_and_the_cli() {
    let mut server = TestServer::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratus"))
        .args(["env", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("env");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "STRATUS_ENDPOINT",
        "STRATUS_TOKEN",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("export {name}='"))),
            "missing {name} in {text}"
        );
    }
    assert!(text.contains(&server.endpoint) && text.contains(&server.access_key_id));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(server.data_dir().join("credentials"))
        .expect("credentials")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "credentials are private");
    assert!(server.stop());
    assert!(
        !server.data_dir().join("server.json").exists(),
        "a stopped server removes server.json"
    );
}
