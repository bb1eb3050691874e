"""boto3 against the real server: buckets, objects, conditionals, ranges, copies, errors, auth."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
import types

import botocore.httpchecksum
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from stratus_testlib import (
    Creds,
    error_code_of_xml,
    http_request,
    md5_hex,
    pseudo_random_bytes,
    quoted_md5,
    raises_s3,
    unique_bucket,
)

NOW = dt.datetime.now(dt.UTC)
PAST = NOW - dt.timedelta(days=365)
FUTURE = NOW + dt.timedelta(days=365)


def get_body(s3, bucket, key, **kwargs) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


# --- buckets ----------------------------------------------------------------------------------
def test_bucket_lifecycle(s3):
    name = unique_bucket("life")
    created = s3.create_bucket(Bucket=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert name in names
    assert all("CreationDate" in b for b in listed["Buckets"])
    location = s3.get_bucket_location(Bucket=name)["LocationConstraint"]
    assert location in (None, "", "us-east-1")
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with raises_s3("404", 404):
        s3.head_bucket(Bucket=name)


@pytest.mark.parametrize("name", ["ab", "Upper-Case", "-leading", "trailing-", "a..b", "192.168.1.1",
                                  "under_score", "x" * 64])
def test_invalid_bucket_names(s3, name):
    with raises_s3("InvalidBucketName", 400):
        s3.create_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_valid_unusual_bucket_names(s3):
    for name in [unique_bucket("a.b"), "x" * 30 + unique_bucket("y")[:33]]:
        s3.create_bucket(Bucket=name)
        s3.head_bucket(Bucket=name)


def test_recreating_own_bucket_in_us_east_1_is_a_no_op(s3, bucket):
    # S3's legacy us-east-1 behaviour: 200, and the bucket keeps its objects.
    s3.put_object(Bucket=bucket, Key="keep", Body=b"still here")
    s3.create_bucket(Bucket=bucket)
    assert get_body(s3, bucket, "keep") == b"still here"


def test_delete_non_empty_bucket_fails_and_changes_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"data")
    with raises_s3("BucketNotEmpty", 409):
        s3.delete_bucket(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
    assert get_body(s3, bucket, "a/b") == b"data"
    s3.delete_object(Bucket=bucket, Key="a/b")
    s3.delete_bucket(Bucket=bucket)


def test_missing_bucket_errors(s3):
    name = unique_bucket("missing")
    calls = [
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.list_objects(Bucket=name),
        lambda: s3.get_object(Bucket=name, Key="k"),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.delete_bucket(Bucket=name),
        lambda: s3.get_bucket_location(Bucket=name),
        lambda: s3.create_multipart_upload(Bucket=name, Key="k"),
    ]
    for call in calls:
        with raises_s3("NoSuchBucket", 404):
            call()
    with raises_s3("404", 404):
        s3.head_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# --- objects ----------------------------------------------------------------------------------
def test_put_get_head_delete(s3, bucket):
    data = pseudo_random_bytes("basic", 10_000)
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data)
    assert put["ETag"] == quoted_md5(data)
    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == quoted_md5(data)
    assert got["ContentLength"] == len(data)
    assert abs((got["LastModified"] - dt.datetime.now(dt.UTC)).total_seconds()) < 300
    head = s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert head["ContentLength"] == len(data) and head["ETag"] == quoted_md5(data)
    assert head["LastModified"] == got["LastModified"]
    deleted = s3.delete_object(Bucket=bucket, Key="dir/obj.bin")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with raises_s3("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    with raises_s3("404", 404):
        s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    # Deleting what is not there succeeds, like S3.
    assert s3.delete_object(Bucket=bucket, Key="never-existed")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_empty_object_and_overwrite(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    s3.put_object(Bucket=bucket, Key="empty", Body=b"now full")
    assert get_body(s3, bucket, "empty") == b"now full"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["empty"]


def test_metadata_round_trip(s3, bucket):
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    headers = dict(ContentType="text/x-stratus; charset=utf-8", CacheControl="max-age=60, private",
                   ContentDisposition='attachment; filename="report.txt"', ContentEncoding="identity",
                   ContentLanguage="en-GB", Expires=expires)
    meta = {"color": "blue", "multi-word-name": "Value With Spaces", "number": "42"}
    s3.put_object(Bucket=bucket, Key="meta", Body=b"hello", Metadata=meta, **headers)
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        for name, value in headers.items():
            if name != "Expires":
                assert resp[name] == value, name
        assert resp["Metadata"] == meta
        expires_value = resp.get("Expires") or resp.get("ExpiresString")
        assert expires_value, resp.keys()
        if isinstance(expires_value, dt.datetime):
            assert expires_value == expires
        else:
            assert "2030" in expires_value


def test_default_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")  # boto3 sends no Content-Type
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert head.get("ContentType") in ("binary/octet-stream", "application/octet-stream"), head["ResponseMetadata"]
    assert head["Metadata"] == {}


def test_key_edge_cases_round_trip(server, s3, bucket):
    keys = ["../../etc/passwd", "../outside", "a/../b", "./dot", "/leading-slash", "double//slash", "trailing/",
            "with space", "plus+sign", "percent%2Fencoded", "question?mark", "hash#tag", "amp&eq=",
            "unicode/ünïcödé/日本語", "tab\tchar", "quote'\"", "semi;colon", "tilde~", "k" * 1024]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(keys):
        assert get_body(s3, bucket, key) == f"body {i}".encode(), key
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(f"body {i}")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    v1 = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert sorted(v1) == sorted(keys)
    # Keys are data: nothing named after them appears outside the data dir.
    root = server.data_dir.parent  # holds only the data dir and the server log
    assert sorted(p.name for p in root.iterdir()) == sorted([server.data_dir.name, server.log_path.name])
    for path in (root.parent / "etc", root.parent / "outside", root.parent.parent / "etc"):
        assert not path.exists(), path
    assert not list(server.data_dir.rglob("passwd")), "an object key was used as a file name"
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_key_too_long(s3, bucket):
    with raises_s3("KeyTooLongError", 400):
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    with raises_s3("KeyTooLongError", 400):
        s3.put_object(Bucket=bucket, Key="é" * 513, Body=b"x")  # 1026 UTF-8 bytes
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_bad_content_md5_is_rejected_and_changes_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with raises_s3("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5=wrong)
    with raises_s3("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="new", Body=b"replacement", ContentMD5=wrong)
    assert get_body(s3, bucket, "k") == b"original"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    right = base64.b64encode(hashlib.md5(b"replacement").digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5=right)
    assert get_body(s3, bucket, "k") == b"replacement"


def test_flexible_checksum_headers(s3, bucket):
    data = b"checksummed payload"
    for algorithm in ("CRC32", "SHA1", "SHA256"):  # the ones botocore computes without awscrt
        s3.put_object(Bucket=bucket, Key=f"sum-{algorithm}", Body=data, ChecksumAlgorithm=algorithm)
        assert get_body(s3, bucket, f"sum-{algorithm}") == data
    wrong_sha256 = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with raises_s3("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="bad-sum", Body=data, ChecksumSHA256=wrong_sha256)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad-sum")


def test_aws_chunked_trailer_upload(s3, bucket, monkeypatch):
    """boto3 over TLS streams PutObject/UploadPart as aws-chunked with a trailing checksum; force it."""
    monkeypatch.setattr(botocore.httpchecksum, "urlparse", lambda url: types.SimpleNamespace(scheme="https"))
    sent = []
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers)))
    data = pseudo_random_bytes("chunked", 300_000)
    put = s3.put_object(Bucket=bucket, Key="chunked", Body=data)
    encoding = sent[0].get("Content-Encoding", "") if sent else ""
    encoding = encoding.decode() if isinstance(encoding, bytes) else encoding
    assert "aws-chunked" in encoding, sent  # the forced trailer path is really taken
    assert put["ETag"] == quoted_md5(data)
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == data
    s3.put_object(Bucket=bucket, Key="chunked-empty", Body=b"")
    assert get_body(s3, bucket, "chunked-empty") == b""
    s3.put_object(Bucket=bucket, Key="chunked-gzip", Body=b"not really gzip", ContentEncoding="gzip")
    # aws-chunked is transfer framing, never stored as the object's Content-Encoding.
    assert got.get("ContentEncoding") in (None, ""), got.get("ContentEncoding")
    assert s3.head_object(Bucket=bucket, Key="chunked-gzip").get("ContentEncoding") == "gzip"


# --- conditionals and ranges ------------------------------------------------------------------
def test_conditional_get_and_head(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]  # whole seconds, as HTTP dates are
    assert get_body(s3, bucket, "c", IfMatch=etag) == b"conditional"
    assert get_body(s3, bucket, "c", IfNoneMatch='"0123456789abcdef0123456789abcdef"') == b"conditional"
    assert get_body(s3, bucket, "c", IfModifiedSince=PAST) == b"conditional"
    assert get_body(s3, bucket, "c", IfUnmodifiedSince=FUTURE) == b"conditional"
    with raises_s3("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    with raises_s3("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=PAST)
    with raises_s3("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    with raises_s3("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified)
    # Not modified since its own Last-Modified: the comparison is at one-second resolution.
    assert get_body(s3, bucket, "c", IfUnmodifiedSince=modified) == b"conditional"
    # HEAD: same rules, no body, so botocore reports the status as the code.
    with raises_s3("412", 412):
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    with raises_s3("304", 304):
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert s3.head_object(Bucket=bucket, Key="c", IfMatch=etag)["ETag"] == etag
    # RFC 7232 precedence: If-Match true wins over If-Unmodified-Since false.
    assert get_body(s3, bucket, "c", IfMatch=etag, IfUnmodifiedSince=PAST) == b"conditional"
    # If-None-Match false (304) wins over If-Modified-Since true.
    with raises_s3("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=PAST)


def test_range_gets(s3, bucket):
    data = bytes(range(256)) * 40  # 10240 bytes
    size = len(data)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=100-199": (100, 199),
        "bytes=10000-": (10000, size - 1),
        "bytes=-5": (size - 5, size - 1),
        "bytes=-20000": (0, size - 1),  # suffix longer than the object: whole object
        "bytes=10200-99999": (10200, size - 1),  # end past the end is clipped
        f"bytes={size - 1}-{size - 1}": (size - 1, size - 1),
    }
    for header, (first, last) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, header
        assert got["ContentRange"] == f"bytes {first}-{last}/{size}", header
        assert got["ContentLength"] == last - first + 1, header
        assert got["Body"].read() == data[first:last + 1], header
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}"):
        with raises_s3("InvalidRange", 416):
            s3.get_object(Bucket=bucket, Key="r", Range=header)
    whole = s3.get_object(Bucket=bucket, Key="r")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and whole["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-9")["ContentLength"] == 10


def test_range_on_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="e", Body=b"")
    with raises_s3("InvalidRange", 416):
        s3.get_object(Bucket=bucket, Key="e", Range="bytes=0-0")


# --- copy and batch delete --------------------------------------------------------------------
def test_copy_object(s3, bucket):
    other = unique_bucket("dst")
    s3.create_bucket(Bucket=other)
    data = pseudo_random_bytes("copy", 70_000)
    src_key = "src dir/ünï+code?.bin"
    s3.put_object(Bucket=bucket, Key=src_key, Body=data, ContentType="image/png", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=other, Key="dup", CopySource={"Bucket": bucket, "Key": src_key})
    assert copied["CopyObjectResult"]["ETag"] == quoted_md5(data)
    head = s3.head_object(Bucket=other, Key="dup")
    assert head["ContentType"] == "image/png" and head["Metadata"] == {"a": "1"}
    assert get_body(s3, other, "dup") == data
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": src_key},
                   MetadataDirective="REPLACE", ContentType="text/plain", Metadata={"b": "2"})
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"b": "2"}
    assert get_body(s3, bucket, "replaced") == data
    # Copy onto itself with REPLACE updates metadata in place.
    s3.copy_object(Bucket=bucket, Key=src_key, CopySource={"Bucket": bucket, "Key": src_key},
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    assert s3.head_object(Bucket=bucket, Key=src_key)["Metadata"] == {"c": "3"}
    assert get_body(s3, bucket, src_key) == data
    # Source unchanged after copies.
    assert get_body(s3, bucket, "replaced") == data


def test_copy_errors(s3, bucket):
    with raises_s3("NoSuchKey", 404):
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "absent"})
    with raises_s3("NoSuchBucket", 404):
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": unique_bucket("nope"), "Key": "a"})
    s3.put_object(Bucket=bucket, Key="src", Body=b"s")
    with raises_s3("NoSuchBucket", 404):
        s3.copy_object(Bucket=unique_bucket("nope"), Key="x", CopySource={"Bucket": bucket, "Key": "src"})
    with raises_s3("PreconditionFailed", 412):
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["src"]


def test_delete_objects_batch(s3, bucket):
    keys = [f"batch/{i:03d}" for i in range(25)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    victims = keys[:10] + ["batch/not-there"]
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in victims]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(victims)
    assert not resp.get("Errors")
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[10:15]], "Quiet": True})
    assert not quiet.get("Deleted") and not quiet.get("Errors")
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert remaining == keys[15:]


def test_malformed_xml(s3, bucket):
    s3.put_object(Bucket=bucket, Key="survivor", Body=b"x")

    def garble(request, **_):
        request.data = b"<Delete><Object><Key>survivor</Key></Obj"
        for name in list(request.headers.keys()):
            lower = name.lower()
            if lower.startswith("x-amz-checksum") or lower in ("content-md5", "x-amz-sdk-checksum-algorithm"):
                del request.headers[name]
        request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(request.data).digest()).decode()
        request.headers["Content-Length"] = str(len(request.data))

    s3.meta.events.register("before-sign.s3.DeleteObjects", garble)
    with raises_s3("MalformedXML", 400):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "survivor"}]})
    assert get_body(s3, bucket, "survivor") == b"x"


# --- versions (unversioned buckets) -----------------------------------------------------------
def test_versioning_on_unversioned_bucket(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="v/1", Body=b"one")
    s3.put_object(Bucket=bucket, Key="v/2", Body=b"two")
    resp = s3.list_object_versions(Bucket=bucket, Prefix="v/")
    versions = resp["Versions"]
    assert [v["Key"] for v in versions] == ["v/1", "v/2"]
    for v, body in zip(versions, (b"one", b"two"), strict=True):
        assert v["VersionId"] == "null" and v["IsLatest"] is True
        assert v["ETag"] == quoted_md5(body) and v["Size"] == len(body)
    assert not resp.get("DeleteMarkers")


# --- authentication ---------------------------------------------------------------------------
def test_wrong_secret_is_signature_mismatch(server, bucket):
    admin = server.admin
    # Change the last character to one it is not (a fixed "X" matched itself one run in 60).
    last = admin.secret_access_key[-1]
    wrong = admin.secret_access_key[:-1] + ("Y" if last == "X" else "X")
    bad = server.client(Creds(admin.access_key_id, wrong))
    with raises_s3("SignatureDoesNotMatch", 403):
        bad.list_objects_v2(Bucket=bucket)
    with raises_s3("SignatureDoesNotMatch", 403):
        bad.put_object(Bucket=bucket, Key="forged", Body=b"x")
    with raises_s3("SignatureDoesNotMatch", 403):
        bad.list_buckets()
    assert server.client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_unknown_access_key(server, bucket):
    ghost = server.client(Creds("AKIAUNKNOWN000000000", "x" * 40))
    with raises_s3("InvalidAccessKeyId", 403):
        ghost.list_buckets()
    with raises_s3("InvalidAccessKeyId", 403):
        ghost.put_object(Bucket=bucket, Key="ghost", Body=b"x")
    assert server.client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_anonymous_requests_are_denied(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    anon = server.client(Creds("unused", "unused"), signature_version=UNSIGNED)
    with raises_s3("AccessDenied", 403):
        anon.get_object(Bucket=bucket, Key="private")
    with raises_s3("AccessDenied", 403):
        anon.put_object(Bucket=bucket, Key="anon", Body=b"x")
    with raises_s3("AccessDenied", 403):
        anon.list_buckets()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["private"]


def test_md5_helper_sanity():
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"


# --- presigned URLs ---------------------------------------------------------------------------
def test_presigned_get_and_put(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared file.txt", Body=b"presigned content", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared file.txt"},
                                    ExpiresIn=300)
    got = http_request(url)
    assert got.status == 200 and got.body == b"presigned content"
    assert got.headers["content-type"] == "text/plain" and got.headers["etag"] == quoted_md5(b"presigned content")
    ranged = http_request(url, headers={"Range": "bytes=0-8"})
    assert ranged.status == 206 and ranged.body == b"presigned"

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded/via url"},
                                        ExpiresIn=300)
    data = pseudo_random_bytes("presigned-put", 50_000)
    put = http_request(put_url, method="PUT", data=data, headers={"Content-Type": "application/octet-stream"})
    assert put.status == 200, put.body
    assert put.headers["etag"] == quoted_md5(data)
    assert get_body(s3, bucket, "uploaded/via url") == data
    # A URL signed for one key does not work for another.
    tampered = put_url.replace("uploaded/via%20url", "uploaded/other")
    assert tampered != put_url
    denied = http_request(tampered, method="PUT", data=b"evil", headers={"Content-Type": "text/plain"})
    assert denied.status == 403 and error_code_of_xml(denied.body) == "SignatureDoesNotMatch"
    with raises_s3("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="uploaded/other")


def test_expired_presigned_urls_are_denied(s3, bucket):
    s3.put_object(Bucket=bucket, Key="soon-expired", Body=b"old")
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "soon-expired"},
                                        ExpiresIn=1)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "soon-expired"},
                                        ExpiresIn=1)
    time.sleep(2.5)
    got = http_request(get_url)
    assert got.status == 403 and error_code_of_xml(got.body) == "AccessDenied", got.body
    put = http_request(put_url, method="PUT", data=b"new", headers={"Content-Type": "text/plain"})
    assert put.status == 403 and error_code_of_xml(put.body) == "AccessDenied", put.body
    assert get_body(s3, bucket, "soon-expired") == b"old"


def test_presigned_url_with_wrong_secret(server, bucket):
    admin = server.admin
    forged = server.client(Creds(admin.access_key_id, "0" * len(admin.secret_access_key)))
    url = forged.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "x"}, ExpiresIn=60)
    res = http_request(url)
    assert res.status == 403 and error_code_of_xml(res.body) == "SignatureDoesNotMatch", res.body
