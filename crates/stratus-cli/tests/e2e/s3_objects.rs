//! Objects through aws-sdk-s3: bodies, headers, ranges, conditions, copies, listings, presigned URLs.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{TestServer, code, http, pattern};

async fn bucket(server: &TestServer, name: &str) -> aws_sdk_s3::Client {
    let s3 = server.s3();
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
    s3
}

#[tokio::test]
async fn bodies_of_every_size_round_trip_with_md5_etags() {
    let server = TestServer::start();
    let s3 = bucket(&server, "sizes").await;
    for (index, size) in [0usize, 1, 4096, 32 * 1024, 32 * 1024 + 1, 3 * 1024 * 1024]
        .into_iter()
        .enumerate()
    {
        let body = pattern(size, index as u64);
        let key = format!("object-{size}");
        let put = s3
            .put_object()
            .bucket("sizes")
            .key(&key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put");
        let expected_etag = format!("\"{}\"", hex_md5(&body));
        assert_eq!(
            put.e_tag(),
            Some(expected_etag.as_str()),
            "etag of {size}-byte body"
        );
        let got = s3
            .get_object()
            .bucket("sizes")
            .key(&key)
            .send()
            .await
            .expect("get");
        assert_eq!(got.content_length(), Some(size as i64));
        assert_eq!(
            got.body
                .collect()
                .await
                .expect("read")
                .into_bytes()
                .as_ref(),
            body.as_slice(),
            "{size}-byte body"
        );
    }
}

fn hex_md5(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

#[tokio::test]
async fn standard_headers_and_user_metadata_are_kept() {
    let server = TestServer::start();
    let s3 = bucket(&server, "headers").await;
    s3.put_object()
        .bucket("headers")
        .key("doc.json")
        .body(ByteStream::from_static(b"{}"))
        .content_type("application/json")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"doc.json\"")
        .content_language("en")
        .metadata("owner", "ada")
        .metadata("run-id", "42")
        .send()
        .await
        .expect("put");
    let head = s3
        .head_object()
        .bucket("headers")
        .key("doc.json")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(head.cache_control(), Some("max-age=60"));
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"doc.json\"")
    );
    assert_eq!(head.content_language(), Some("en"));
    let metadata = head.metadata().expect("metadata");
    assert_eq!(metadata.get("owner").map(String::as_str), Some("ada"));
    assert_eq!(metadata.get("run-id").map(String::as_str), Some("42"));
}

#[tokio::test]
async fn range_reads_return_206_slices_and_unsatisfiable_ranges_fail() {
    let server = TestServer::start();
    let s3 = bucket(&server, "ranges").await;
    // Large enough to live in a blob file, not inline.
    let body = pattern(100_000, 7);
    s3.put_object()
        .bucket("ranges")
        .key("k")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let cases = [
        ("bytes=0-9", 0, 9),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-5", 99_995, 99_999),
        ("bytes=50000-50000", 50_000, 50_000),
    ];
    for (range, first, last) in cases {
        let got = s3
            .get_object()
            .bucket("ranges")
            .key("k")
            .range(range)
            .send()
            .await
            .expect("range get");
        assert_eq!(
            got.content_range(),
            Some(format!("bytes {first}-{last}/100000").as_str()),
            "{range}"
        );
        assert_eq!(
            got.body
                .collect()
                .await
                .expect("read")
                .into_bytes()
                .as_ref(),
            &body[first..=last],
            "{range}"
        );
    }
    assert_eq!(
        code(
            s3.get_object()
                .bucket("ranges")
                .key("k")
                .range("bytes=200000-")
                .send()
                .await
        ),
        "InvalidRange"
    );
}

#[tokio::test]
async fn conditional_requests_follow_http_semantics() {
    let server = TestServer::start();
    let s3 = bucket(&server, "conditions").await;
    let put = s3
        .put_object()
        .bucket("conditions")
        .key("k")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .expect("put");
    let etag = put.e_tag().expect("etag").to_owned();
    assert!(
        s3.get_object()
            .bucket("conditions")
            .key("k")
            .if_match(&etag)
            .send()
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            s3.get_object()
                .bucket("conditions")
                .key("k")
                .if_match("\"nope\"")
                .send()
                .await
        ),
        "PreconditionFailed"
    );
    let not_modified = s3
        .get_object()
        .bucket("conditions")
        .key("k")
        .if_none_match(&etag)
        .send()
        .await;
    let status = not_modified
        .expect_err("304 surfaces as an error")
        .raw_response()
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(304));
    let future = aws_sdk_s3::primitives::DateTime::from_secs(4_000_000_000);
    let past = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
    assert!(
        s3.get_object()
            .bucket("conditions")
            .key("k")
            .if_modified_since(past)
            .send()
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            s3.get_object()
                .bucket("conditions")
                .key("k")
                .if_unmodified_since(past)
                .send()
                .await
        ),
        "PreconditionFailed"
    );
    assert!(
        s3.get_object()
            .bucket("conditions")
            .key("k")
            .if_unmodified_since(future)
            .send()
            .await
            .is_ok()
    );
    // Conditional writes: If-None-Match: * refuses to overwrite, and changes nothing.
    let refused = s3
        .put_object()
        .bucket("conditions")
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await;
    assert_eq!(code(refused), "PreconditionFailed");
    let body = s3
        .get_object()
        .bucket("conditions")
        .key("k")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("read");
    assert_eq!(body.into_bytes().as_ref(), b"v1");
}

#[tokio::test]
async fn copies_keep_or_replace_metadata() {
    let server = TestServer::start();
    let s3 = bucket(&server, "copies").await;
    let body = pattern(70_000, 3);
    s3.put_object()
        .bucket("copies")
        .key("src")
        .content_type("image/png")
        .metadata("a", "1")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    s3.copy_object()
        .bucket("copies")
        .key("kept")
        .copy_source("copies/src")
        .send()
        .await
        .expect("copy");
    let kept = s3
        .get_object()
        .bucket("copies")
        .key("kept")
        .send()
        .await
        .expect("get");
    assert_eq!(kept.content_type(), Some("image/png"));
    assert_eq!(
        kept.metadata().and_then(|m| m.get("a")).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        kept.body
            .collect()
            .await
            .expect("read")
            .into_bytes()
            .as_ref(),
        body.as_slice()
    );
    s3.copy_object()
        .bucket("copies")
        .key("replaced")
        .copy_source("copies/src")
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .content_type("text/plain")
        .send()
        .await
        .expect("copy replace");
    let replaced = s3
        .head_object()
        .bucket("copies")
        .key("replaced")
        .send()
        .await
        .expect("head");
    assert_eq!(replaced.content_type(), Some("text/plain"));
    assert!(replaced.metadata().is_none_or(|m| m.is_empty()));
    assert_eq!(
        code(
            s3.copy_object()
                .bucket("copies")
                .key("src")
                .copy_source("copies/src")
                .send()
                .await
        ),
        "InvalidRequest"
    );
}

#[tokio::test]
async fn listings_paginate_and_roll_up_common_prefixes() {
    let server = TestServer::start();
    let s3 = bucket(&server, "listing").await;
    let keys = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "other/x", "z"];
    for key in keys {
        s3.put_object()
            .bucket("listing")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("listing")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        assert!(page.key_count().unwrap_or(0) <= 2);
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
    }
    assert_eq!(seen, keys);
    let rolled = s3
        .list_objects_v2()
        .bucket("listing")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let prefixes: Vec<_> = rolled
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/", "other/"]);
    let files: Vec<_> = rolled.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(files, ["a.txt", "z"]);
    // Pages of size one through common prefixes never repeat an entry.
    let mut entries = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let page = s3
            .list_objects_v2()
            .bucket("listing")
            .delimiter("/")
            .max_keys(1)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        entries.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        entries.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(entries, ["a.txt", "dir/", "other/", "z"]);
    let under = s3
        .list_objects_v2()
        .bucket("listing")
        .prefix("dir/")
        .start_after("dir/1")
        .send()
        .await
        .expect("list");
    let under: Vec<_> = under.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(under, ["dir/2", "dir/sub/3"]);
    let v1 = s3
        .list_objects()
        .bucket("listing")
        .marker("dir/2")
        .send()
        .await
        .expect("list v1");
    let v1: Vec<_> = v1.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(v1, ["dir/sub/3", "other/x", "z"]);
    let versions = s3
        .list_object_versions()
        .bucket("listing")
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.versions().len(), keys.len());
    assert!(
        versions
            .versions()
            .iter()
            .all(|v| v.version_id() == Some("null") && v.is_latest() == Some(true))
    );
}

#[tokio::test]
async fn keys_are_data_never_paths() {
    let server = TestServer::start();
    let s3 = bucket(&server, "paths").await;
    for key in [
        "../../etc/passwd",
        "/leading",
        "a//b",
        "dots/../..",
        "ünïcødé ✓",
        "%2e%2e/x",
    ] {
        s3.put_object()
            .bucket("paths")
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .expect("put");
        let got = s3
            .get_object()
            .bucket("paths")
            .key(key)
            .send()
            .await
            .expect("get");
        assert_eq!(
            got.body
                .collect()
                .await
                .expect("read")
                .into_bytes()
                .as_ref(),
            key.as_bytes()
        );
    }
    let escaped = walk(server.data_dir().parent().expect("temp parent"))
        .into_iter()
        .filter(|p| p.ends_with("passwd"))
        .count();
    assert_eq!(escaped, 0, "no file named after a key may exist anywhere");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    let server = TestServer::start();
    let s3 = bucket(&server, "presign").await;
    let put = s3
        .put_object()
        .bucket("presign")
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).expect("config"))
        .await
        .expect("presign put");
    let (status, _, _) = http("PUT", put.uri(), &[], b"uploaded".to_vec()).await;
    assert_eq!(status, 200);
    let get = s3
        .get_object()
        .bucket("presign")
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).expect("config"))
        .await
        .expect("presign get");
    let (status, _, body) = http("GET", get.uri(), &[], Vec::new()).await;
    assert_eq!((status, body.as_slice()), (200, b"uploaded".as_slice()));
    let short = s3
        .get_object()
        .bucket("presign")
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(1)).expect("config"))
        .await
        .expect("presign");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, body) = http("GET", short.uri(), &[], Vec::new()).await;
    assert_eq!(status, 403);
    assert!(
        String::from_utf8_lossy(&body).contains("<Code>AccessDenied</Code>"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    let mut server = TestServer::start();
    let s3 = bucket(&server, "durable").await;
    let big = pattern(2 * 1024 * 1024, 11);
    s3.put_object()
        .bucket("durable")
        .key("small")
        .body(ByteStream::from_static(b"tiny"))
        .send()
        .await
        .expect("put");
    s3.put_object()
        .bucket("durable")
        .key("big")
        .body(ByteStream::from(big.clone()))
        .send()
        .await
        .expect("put");
    assert!(server.stop(), "SIGTERM must stop the server cleanly");
    let restarted = TestServer::start_in(server.data_dir());
    let s3 = restarted.s3();
    let small = s3
        .get_object()
        .bucket("durable")
        .key("small")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("read");
    assert_eq!(small.into_bytes().as_ref(), b"tiny");
    let got = s3
        .get_object()
        .bucket("durable")
        .key("big")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("read");
    assert_eq!(got.into_bytes().as_ref(), big.as_slice());
}
