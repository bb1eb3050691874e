//! Multipart uploads through aws-sdk-s3.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use md5::{Digest, Md5};

use crate::harness::{TestServer, code, pattern};

const MIB: usize = 1024 * 1024;

fn completed(parts: &[(i32, String)]) -> CompletedMultipartUpload {
    let parts = parts
        .iter()
        .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
        .collect();
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build()
}

#[tokio::test]
async fn multipart_upload_assembles_parts_with_the_multipart_etag() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("mpu")
        .send()
        .await
        .expect("create");
    let upload = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("big")
        .content_type("video/mp4")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("upload id").to_owned();
    let bodies = [pattern(5 * MIB, 1), pattern(5 * MIB, 2), pattern(1234, 3)];
    let mut parts = Vec::new();
    // Upload out of order and re-upload part 2: the last upload of a number wins.
    for (number, body) in [
        (2, pattern(5 * MIB, 99)),
        (1, bodies[0].clone()),
        (3, bodies[2].clone()),
        (2, bodies[1].clone()),
    ] {
        let out = s3
            .upload_part()
            .bucket("mpu")
            .key("big")
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("part");
        parts.retain(|(n, _)| *n != number);
        parts.push((number, out.e_tag().expect("etag").to_owned()));
    }
    parts.sort();
    let listed = s3
        .list_parts()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(listed.parts().len(), 3);
    let uploads = s3
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .expect("list uploads");
    assert_eq!(uploads.uploads().len(), 1);

    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .expect("complete");
    let mut md5s = Md5::new();
    for body in &bodies {
        md5s.update(Md5::digest(body));
    }
    let expected = format!("\"{}-3\"", hex::encode(md5s.finalize()));
    assert_eq!(done.e_tag(), Some(expected.as_str()));
    let got = s3
        .get_object()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("video/mp4"));
    assert_eq!(got.e_tag(), Some(expected.as_str()));
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("read")
            .into_bytes()
            .as_ref(),
        bodies.concat().as_slice()
    );
    // A range spanning the boundary between parts 1 and 2.
    let start = 5 * MIB - 10;
    let range = s3
        .get_object()
        .bucket("mpu")
        .key("big")
        .range(format!("bytes={start}-{}", start + 19))
        .send()
        .await
        .expect("range");
    assert_eq!(
        range
            .body
            .collect()
            .await
            .expect("read")
            .into_bytes()
            .as_ref(),
        &bodies.concat()[start..start + 20]
    );
    assert_eq!(
        code(
            s3.list_parts()
                .bucket("mpu")
                .key("big")
                .upload_id(&id)
                .send()
                .await
        ),
        "NoSuchUpload"
    );
    assert!(
        s3.list_multipart_uploads()
            .bucket("mpu")
            .send()
            .await
            .expect("list")
            .uploads()
            .is_empty()
    );
}

#[tokio::test]
async fn multipart_errors() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("mpu-errors")
        .send()
        .await
        .expect("create");
    let id = s3
        .create_multipart_upload()
        .bucket("mpu-errors")
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let mut parts = Vec::new();
    for number in [1, 2] {
        let out = s3
            .upload_part()
            .bucket("mpu-errors")
            .key("k")
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(vec![1u8; 1024]))
            .send()
            .await
            .expect("part");
        parts.push((number, out.e_tag().expect("etag").to_owned()));
    }
    let complete = |parts: Vec<(i32, String)>| {
        s3.complete_multipart_upload()
            .bucket("mpu-errors")
            .key("k")
            .upload_id(&id)
            .multipart_upload(completed(&parts))
            .send()
    };
    assert_eq!(code(complete(parts.clone()).await), "EntityTooSmall");
    assert_eq!(
        code(complete(vec![parts[1].clone(), parts[0].clone()]).await),
        "InvalidPartOrder"
    );
    assert_eq!(
        code(complete(vec![(1, "\"00000000000000000000000000000000\"".into())]).await),
        "InvalidPart"
    );
    assert_eq!(
        code(complete(vec![(7, parts[0].1.clone())]).await),
        "InvalidPart"
    );
    // None of the failures consumed the upload; a valid single-part completion still works.
    complete(vec![parts[0].clone()])
        .await
        .expect("single part completes");
    assert_eq!(
        code(
            s3.upload_part()
                .bucket("mpu-errors")
                .key("k")
                .upload_id("no-such-upload")
                .part_number(1)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
        ),
        "NoSuchUpload"
    );
    assert_eq!(
        code(
            s3.abort_multipart_upload()
                .bucket("mpu-errors")
                .key("k")
                .upload_id(&id)
                .send()
                .await
        ),
        "NoSuchUpload"
    );
}

#[tokio::test]
async fn upload_part_copy_takes_byte_ranges_of_existing_objects() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("mpu-copy")
        .send()
        .await
        .expect("create");
    let source = pattern(6 * MIB, 5);
    s3.put_object()
        .bucket("mpu-copy")
        .key("src")
        .body(ByteStream::from(source.clone()))
        .send()
        .await
        .expect("put");
    let id = s3
        .create_multipart_upload()
        .bucket("mpu-copy")
        .key("dst")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let first = s3
        .upload_part_copy()
        .bucket("mpu-copy")
        .key("dst")
        .upload_id(&id)
        .part_number(1)
        .copy_source("mpu-copy/src")
        .send()
        .await
        .expect("copy part");
    let second = s3
        .upload_part_copy()
        .bucket("mpu-copy")
        .key("dst")
        .upload_id(&id)
        .part_number(2)
        .copy_source("mpu-copy/src")
        .copy_source_range("bytes=100-199")
        .send()
        .await
        .expect("copy range");
    let etag = |r: &aws_sdk_s3::operation::upload_part_copy::UploadPartCopyOutput| {
        r.copy_part_result()
            .and_then(|c| c.e_tag())
            .expect("etag")
            .to_owned()
    };
    let parts = vec![(1, etag(&first)), (2, etag(&second))];
    s3.complete_multipart_upload()
        .bucket("mpu-copy")
        .key("dst")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .expect("complete");
    let got = s3
        .get_object()
        .bucket("mpu-copy")
        .key("dst")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("read");
    assert_eq!(
        got.into_bytes().as_ref(),
        [&source[..], &source[100..200]].concat().as_slice()
    );
}
