"""Projects are tenants: keys of one project cannot see or touch another's buckets; roles limit keys."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from stratus_testlib import (
    Creds,
    error_code_of_xml,
    http_request,
    quoted_md5,
    raises_s3,
    run_stratus,
    unique_bucket,
)


def project_name(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def token_for(creds: Creds) -> str:
    """Bearer token of a key for the native API and the CLI: `<access key id>.<secret>`."""
    return creds.token or f"{creds.access_key_id}.{creds.secret_access_key}"


@pytest.fixture(scope="module")
def tenants(server):
    """Project A (member + read-only keys) with a bucket holding one object; project B (member)."""
    a_project, b_project = project_name("alpha"), project_name("beta")
    a = server.create_key(a_project, "member")
    a_ro = server.create_key(a_project, "read-only")
    b = server.create_key(b_project, "member")
    s3a, s3b = server.client(a), server.client(b)
    a_bucket, b_bucket = unique_bucket("alpha"), unique_bucket("beta")
    s3a.create_bucket(Bucket=a_bucket)
    s3b.create_bucket(Bucket=b_bucket)
    s3a.put_object(Bucket=a_bucket, Key="secret.txt", Body=b"alpha secret")
    s3b.put_object(Bucket=b_bucket, Key="mine.txt", Body=b"beta data")
    upload_id = s3a.create_multipart_upload(Bucket=a_bucket, Key="in-progress")["UploadId"]
    return dict(a=a, a_ro=a_ro, b=b, s3a=s3a, s3b=s3b, a_bucket=a_bucket, b_bucket=b_bucket, upload_id=upload_id)


def assert_denied(call) -> None:
    with raises_s3("AccessDenied", 403):
        call()


def test_other_project_cannot_read(tenants):
    s3b, ab = tenants["s3b"], tenants["a_bucket"]
    assert_denied(lambda: s3b.list_objects_v2(Bucket=ab))
    assert_denied(lambda: s3b.list_objects(Bucket=ab))
    assert_denied(lambda: s3b.list_object_versions(Bucket=ab))
    assert_denied(lambda: s3b.get_object(Bucket=ab, Key="secret.txt"))
    assert_denied(lambda: s3b.get_object(Bucket=ab, Key="secret.txt", Range="bytes=0-3"))
    assert_denied(lambda: s3b.get_bucket_location(Bucket=ab))
    assert_denied(lambda: s3b.get_bucket_notification_configuration(Bucket=ab))
    assert_denied(lambda: s3b.list_multipart_uploads(Bucket=ab))
    assert_denied(lambda: s3b.list_parts(Bucket=ab, Key="in-progress", UploadId=tenants["upload_id"]))
    with raises_s3("403", 403):
        s3b.head_bucket(Bucket=ab)
    with raises_s3("403", 403):
        s3b.head_object(Bucket=ab, Key="secret.txt")
    url = s3b.generate_presigned_url("get_object", Params={"Bucket": ab, "Key": "secret.txt"}, ExpiresIn=60)
    res = http_request(url)
    assert res.status == 403 and error_code_of_xml(res.body) == "AccessDenied"


def test_other_project_cannot_write(tenants):
    s3a, s3b, ab, bb = tenants["s3a"], tenants["s3b"], tenants["a_bucket"], tenants["b_bucket"]
    assert_denied(lambda: s3b.put_object(Bucket=ab, Key="secret.txt", Body=b"overwritten"))
    assert_denied(lambda: s3b.put_object(Bucket=ab, Key="planted", Body=b"x"))
    assert_denied(lambda: s3b.delete_object(Bucket=ab, Key="secret.txt"))
    assert_denied(lambda: s3b.delete_bucket(Bucket=ab))
    assert_denied(lambda: s3b.create_multipart_upload(Bucket=ab, Key="planted-mp"))
    assert_denied(lambda: s3b.upload_part(Bucket=ab, Key="in-progress", UploadId=tenants["upload_id"],
                                          PartNumber=1, Body=b"x"))
    assert_denied(lambda: s3b.abort_multipart_upload(Bucket=ab, Key="in-progress", UploadId=tenants["upload_id"]))
    assert_denied(lambda: s3b.put_bucket_notification_configuration(Bucket=ab, NotificationConfiguration={}))
    # Copies in either direction.
    assert_denied(lambda: s3b.copy_object(Bucket=bb, Key="stolen", CopySource={"Bucket": ab, "Key": "secret.txt"}))
    assert_denied(lambda: s3b.copy_object(Bucket=ab, Key="planted", CopySource={"Bucket": bb, "Key": "mine.txt"}))
    b_upload = s3b.create_multipart_upload(Bucket=bb, Key="assembled")["UploadId"]
    assert_denied(lambda: s3b.upload_part_copy(Bucket=bb, Key="assembled", UploadId=b_upload, PartNumber=1,
                                               CopySource={"Bucket": ab, "Key": "secret.txt"}))
    s3b.abort_multipart_upload(Bucket=bb, Key="assembled", UploadId=b_upload)
    # Batch delete: refused as a whole or key by key, but nothing is deleted.
    try:
        resp = s3b.delete_objects(Bucket=ab, Delete={"Objects": [{"Key": "secret.txt"}]})
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
    else:
        assert not resp.get("Deleted") and [e["Code"] for e in resp["Errors"]] == ["AccessDenied"]
    put_url = s3b.generate_presigned_url("put_object", Params={"Bucket": ab, "Key": "via-url"}, ExpiresIn=60)
    res = http_request(put_url, method="PUT", data=b"x", headers={"Content-Type": "text/plain"})
    assert res.status == 403 and error_code_of_xml(res.body) == "AccessDenied"
    # A's data is exactly as A left it.
    assert [o["Key"] for o in s3a.list_objects_v2(Bucket=ab)["Contents"]] == ["secret.txt"]
    assert s3a.get_object(Bucket=ab, Key="secret.txt")["Body"].read() == b"alpha secret"
    assert [u["UploadId"] for u in s3a.list_multipart_uploads(Bucket=ab)["Uploads"]] == [tenants["upload_id"]]
    assert [o["Key"] for o in s3b.list_objects_v2(Bucket=bb)["Contents"]] == ["mine.txt"]


def test_bucket_names_are_global(tenants):
    s3a, s3b = tenants["s3a"], tenants["s3b"]
    with raises_s3("BucketAlreadyExists", 409):
        s3b.create_bucket(Bucket=tenants["a_bucket"])
    # The owner re-creating it gets S3's us-east-1 answer: 200, nothing changed.
    s3a.create_bucket(Bucket=tenants["a_bucket"])
    assert s3a.get_object(Bucket=tenants["a_bucket"], Key="secret.txt")["Body"].read() == b"alpha secret"


def test_list_buckets_shows_only_own_project(server, tenants):
    a_names = {b["Name"] for b in tenants["s3a"].list_buckets()["Buckets"]}
    b_names = {b["Name"] for b in tenants["s3b"].list_buckets()["Buckets"]}
    assert a_names == {tenants["a_bucket"]}
    assert b_names == {tenants["b_bucket"]}
    ro_names = {b["Name"] for b in server.client(tenants["a_ro"]).list_buckets()["Buckets"]}
    assert ro_names == {tenants["a_bucket"]}


def test_read_only_role(server, tenants):
    ro, ab = server.client(tenants["a_ro"]), tenants["a_bucket"]
    assert ro.get_object(Bucket=ab, Key="secret.txt")["Body"].read() == b"alpha secret"
    assert ro.head_object(Bucket=ab, Key="secret.txt")["ETag"] == quoted_md5(b"alpha secret")
    assert [o["Key"] for o in ro.list_objects_v2(Bucket=ab)["Contents"]] == ["secret.txt"]
    ro.head_bucket(Bucket=ab)
    assert_denied(lambda: ro.put_object(Bucket=ab, Key="secret.txt", Body=b"changed"))
    assert_denied(lambda: ro.put_object(Bucket=ab, Key="new", Body=b"x"))
    assert_denied(lambda: ro.delete_object(Bucket=ab, Key="secret.txt"))
    assert_denied(lambda: ro.copy_object(Bucket=ab, Key="copy", CopySource={"Bucket": ab, "Key": "secret.txt"}))
    assert_denied(lambda: ro.create_multipart_upload(Bucket=ab, Key="mp"))
    assert_denied(lambda: ro.create_bucket(Bucket=unique_bucket("ro")))
    assert_denied(lambda: ro.delete_bucket(Bucket=ab))
    assert_denied(lambda: ro.put_bucket_notification_configuration(Bucket=ab, NotificationConfiguration={}))
    url = ro.generate_presigned_url("put_object", Params={"Bucket": ab, "Key": "via-url"}, ExpiresIn=60)
    res = http_request(url, method="PUT", data=b"x", headers={"Content-Type": "text/plain"})
    assert res.status == 403 and error_code_of_xml(res.body) == "AccessDenied"
    s3a = tenants["s3a"]
    assert [o["Key"] for o in s3a.list_objects_v2(Bucket=ab)["Contents"]] == ["secret.txt"]
    assert s3a.get_object(Bucket=ab, Key="secret.txt")["Body"].read() == b"alpha secret"


def keys_listing(server) -> list[dict]:
    data = json.loads(run_stratus("keys", "list", "--json", env=server.cli_env()).stdout)
    entries = data["keys"] if isinstance(data, dict) else data
    assert isinstance(entries, list) and all("access_key_id" in e for e in entries), data
    return entries


def test_member_cannot_manage_keys(server, tenants):
    for who in ("a", "a_ro"):
        env = server.cli_env(token=token_for(tenants[who]))
        for args in (["keys", "create", "--project", project_name("sneaky"), "--role", "admin", "--json"],
                     ["keys", "list", "--json"],
                     ["keys", "delete", tenants["b"].access_key_id]):
            proc = run_stratus(*args, env=env, check=False)
            assert proc.returncode != 0, (who, args, proc.stdout)
    listed = {e["access_key_id"] for e in keys_listing(server)}
    assert tenants["b"].access_key_id in listed
    tenants["s3b"].list_objects_v2(Bucket=tenants["b_bucket"])  # B's key still works


def test_admin_lists_and_deletes_keys(server):
    project = project_name("keys")
    doomed = server.create_key(project, "member")
    kept = server.create_key(project, "read-only")
    entries = {e["access_key_id"]: e for e in keys_listing(server)}
    assert entries[doomed.access_key_id]["project"] == project and entries[doomed.access_key_id]["role"] == "member"
    assert entries[kept.access_key_id]["role"] == "read-only"
    assert server.admin.access_key_id in entries
    listing_text = run_stratus("keys", "list", env=server.cli_env()).stdout
    assert doomed.access_key_id in listing_text
    assert doomed.secret_access_key not in listing_text  # secrets are shown once, at creation

    s3 = server.client(doomed)
    bucket = unique_bucket("doomed")
    s3.create_bucket(Bucket=bucket)
    run_stratus("keys", "delete", doomed.access_key_id, env=server.cli_env())
    assert doomed.access_key_id not in {e["access_key_id"] for e in keys_listing(server)}
    with raises_s3("InvalidAccessKeyId", 403):
        s3.list_objects_v2(Bucket=bucket)
    with raises_s3("InvalidAccessKeyId", 403):
        s3.put_object(Bucket=bucket, Key="after-delete", Body=b"x")
    # The project's other key still sees the bucket, untouched.
    survivor = server.client(kept)
    assert survivor.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_invalid_key_requests_fail(server):
    for args in (["keys", "create", "--project", "Not_Valid", "--json"],
                 ["keys", "create", "--project", project_name("x"), "--role", "root", "--json"]):
        assert run_stratus(*args, env=server.cli_env(), check=False).returncode != 0, args
    bad_token = server.cli_env(token="AKIANOTAKEY.nosecret")
    assert run_stratus("keys", "list", "--json", env=bad_token, check=False).returncode != 0
