"""Isolation through S3, with every role of project B against project A's bucket (test_tenancy.py
covers a member key in depth): `AccessDenied` for another project's bucket whatever the key, the
object or the operation, never `NoSuchKey` or `NoSuchUpload`, which would reveal what exists."""

from __future__ import annotations

import pytest

from isolation_helpers import clients, error_code, world
from stratus_testlib import error_code_of_xml, http_request

DENIED = ("AccessDenied", 403)


@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("isolation"))


def b_keys(w):
    return [w.b.admin, w.b.member, w.b.read_only]


def test_every_b_key_is_denied_a_bucket(server, w):
    for creds in b_keys(w):
        s3 = clients(server, creds)["s3"]
        assert w.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        for key in ("secret.txt", "no-such-key"):  # an existing and a missing key answer alike
            assert error_code(lambda: s3.get_object(Bucket=w.bucket, Key=key)) == DENIED
            assert error_code(lambda: s3.head_object(Bucket=w.bucket, Key=key)) == ("403", 403)
            assert error_code(lambda: s3.put_object(Bucket=w.bucket, Key=key, Body=b"x")) == DENIED
            assert error_code(lambda: s3.delete_object(Bucket=w.bucket, Key=key)) == DENIED
        for upload in (w.upload_id, "no-such-upload"):
            assert error_code(lambda: s3.list_parts(Bucket=w.bucket, Key="in-progress",
                                                    UploadId=upload)) == DENIED
            assert error_code(lambda: s3.upload_part(Bucket=w.bucket, Key="in-progress", UploadId=upload,
                                                     PartNumber=1, Body=b"x")) == DENIED
            assert error_code(lambda: s3.complete_multipart_upload(
                Bucket=w.bucket, Key="in-progress", UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})) == DENIED
        assert error_code(lambda: s3.list_multipart_uploads(Bucket=w.bucket)) == DENIED
        assert error_code(lambda: s3.list_objects(Bucket=w.bucket, Prefix="dir/")) == DENIED
        assert error_code(lambda: s3.list_objects_v2(Bucket=w.bucket, Prefix="dir/", Delimiter="/")) == DENIED
        assert error_code(lambda: s3.get_bucket_notification_configuration(Bucket=w.bucket)) == DENIED
        assert error_code(lambda: s3.put_bucket_notification_configuration(
            Bucket=w.bucket, NotificationConfiguration={})) == DENIED
        assert error_code(lambda: s3.head_bucket(Bucket=w.bucket)) == ("403", 403)
        assert error_code(lambda: s3.delete_bucket(Bucket=w.bucket)) == DENIED
        url = s3.generate_presigned_url("get_object", Params={"Bucket": w.bucket, "Key": "secret.txt"})
        res = http_request(url)
        assert res.status == 403 and error_code_of_xml(res.body) == "AccessDenied"
    # Copies from A's bucket into B's own are refused; B's bucket gains nothing.
    s3b = clients(server, w.b.member)["s3"]
    assert error_code(lambda: s3b.copy_object(Bucket=w.b_bucket, Key="stolen",
                                              CopySource={"Bucket": w.bucket, "Key": "secret.txt"})) == DENIED
    assert [o["Key"] for o in s3b.list_objects_v2(Bucket=w.b_bucket)["Contents"]] == ["mine.txt"]


def test_a_bucket_is_exactly_as_a_left_it(server, w):
    s3 = clients(server, w.a.read_only)["s3"]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=w.bucket)["Contents"]) == [
        "dir/nested.txt", "secret.txt"]
    assert s3.get_object(Bucket=w.bucket, Key="secret.txt")["Body"].read() == b"alpha secret"
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=w.bucket)["Uploads"]] == [w.upload_id]
    assert s3.list_parts(Bucket=w.bucket, Key="in-progress", UploadId=w.upload_id).get("Parts", []) == []
    rules = s3.get_bucket_notification_configuration(Bucket=w.bucket)
    assert [r["Id"] for r in rules["QueueConfigurations"]] == ["a-rule"]


def test_presigned_urls_of_a_keep_working(server, w):
    for creds in (w.a.admin, w.a.member, w.a.read_only):
        s3 = clients(server, creds)["s3"]
        url = s3.generate_presigned_url("get_object", Params={"Bucket": w.bucket, "Key": "secret.txt"})
        assert http_request(url).body == b"alpha secret"
    # A presigned PUT carries its signer's role: A's member may write, A's read-only key may not.
    member = clients(server, w.a.member)["s3"]
    url = member.generate_presigned_url("put_object", Params={"Bucket": w.bucket, "Key": "dir/by-url.txt"})
    assert http_request(url, method="PUT", data=b"via url").status == 200
    assert member.get_object(Bucket=w.bucket, Key="dir/by-url.txt")["Body"].read() == b"via url"
    member.delete_object(Bucket=w.bucket, Key="dir/by-url.txt")
    ro = clients(server, w.a.read_only)["s3"]
    url = ro.generate_presigned_url("put_object", Params={"Bucket": w.bucket, "Key": "dir/ro.txt"})
    res = http_request(url, method="PUT", data=b"x")
    assert res.status == 403 and error_code_of_xml(res.body) == "AccessDenied"
