"""The console's bucket settings through the native API (/v1/buckets/B/settings, /versioning,
/acl, /versions, objects' ?version_id, /upload-form), checked against what real S3 clients see:
boto3 for versioning, unsigned requests for public access, and a browser-style multipart POST
(requests) of the signed upload form to the S3 endpoint."""

from __future__ import annotations

import json
import time

import pytest
import requests

from stratus_testlib import http_request, unique_bucket


def call(server, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    return http_request(server.endpoint + path, method, data, headers)


@pytest.fixture
def project(server):
    """A project of its own (admin key), with an S3 client and a bucket."""
    creds = server.create_key(unique_bucket("settings"), "admin")
    s3 = server.client(creds)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    return creds, s3, bucket


def test_a_new_bucket_is_private_and_unversioned(server, project):
    creds, _, bucket = project
    got = call(server, creds.token, "GET", f"/v1/buckets/{bucket}/settings")
    assert got.status == 200, got.body
    assert got.json() == {"versioning": "Off", "object_lock": False, "acl": "private",
                          "public": False, "public_acls_blocked": False}


def test_versioning_changes_are_what_s3_reports(server, project):
    creds, s3, bucket = project
    got = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/versioning", {"status": "Enabled"})
    assert got.status == 200 and got.json()["versioning"] == "Enabled", got.body
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    for bad in ({"status": "Off"}, {"status": "enabled"}, {"state": "Enabled"}):
        refused = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/versioning", bad)
        assert refused.status == 400, (bad, refused.body)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    got = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/versioning", {"status": "Suspended"})
    assert got.json()["versioning"] == "Suspended"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versions_are_listed_in_pages_read_and_deleted_by_id(server, project):
    creds, s3, bucket = project
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="doc.txt", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    s3.delete_object(Bucket=bucket, Key="doc.txt")
    seen, query = [], "limit=1"
    for _ in range(10):
        page = call(server, creds.token, "GET", f"/v1/buckets/{bucket}/versions?{query}").json()
        seen.extend(page["versions"])
        if not page["next_key_marker"]:
            break
        query = f"limit=1&key_marker={page['next_key_marker']}&version_marker={page['next_version_marker']}"
    assert [v["delete_marker"] for v in seen] == [True, False, False, False]
    assert [v["version_id"] for v in seen[1:]] == ids[::-1]
    assert seen[0]["is_latest"] and not any(v["is_latest"] for v in seen[1:])
    oldest = http_request(f"{server.endpoint}/v1/buckets/{bucket}/objects/doc.txt?version_id={ids[0]}",
                          headers={"Authorization": f"Bearer {creds.token}"})
    assert (oldest.status, oldest.body) == (200, b"v0")
    gone = call(server, creds.token, "DELETE", f"/v1/buckets/{bucket}/objects/doc.txt?version_id={ids[0]}")
    assert gone.status == 204
    left = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert left == ids[:0:-1]
    assert call(server, creds.token, "GET", f"/v1/buckets/{bucket}/versions?limit=0").status == 400
    assert call(server, creds.token, "GET", f"/v1/buckets/{bucket}/versions?version_marker=x").status == 400


def test_making_a_bucket_public_lets_anyone_list_it_until_made_private(server, project):
    creds, s3, bucket = project
    s3.put_object(Bucket=bucket, Key="paper.pdf", Body=b"%PDF")
    anonymous = f"{server.endpoint}/{bucket}?list-type=2"
    assert http_request(anonymous).status == 403
    got = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/acl", {"acl": "public-read"})
    assert got.status == 200 and got.json()["public"] is True, got.body
    listed = http_request(anonymous)
    assert listed.status == 200 and b"<Key>paper.pdf</Key>" in listed.body
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"]
    bad = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/acl", {"acl": "world-writable"})
    assert bad.status == 400
    got = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/acl", {"acl": "private"})
    assert got.json()["public"] is False
    assert http_request(anonymous).status == 403


def test_block_public_access_refuses_a_public_acl_and_changes_nothing(server, project):
    creds, s3, bucket = project
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    assert call(server, creds.token, "GET", f"/v1/buckets/{bucket}/settings").json()["public_acls_blocked"]
    refused = call(server, creds.token, "PUT", f"/v1/buckets/{bucket}/acl", {"acl": "public-read"})
    assert refused.status == 403, refused.body
    assert "Block Public Access" in refused.json()["detail"]
    assert call(server, creds.token, "GET", f"/v1/buckets/{bucket}/settings").json()["acl"] == "private"


def post_form(server, form, key_name, body, content_type="text/plain"):
    fields = dict(form["fields"])
    fields["key"] = fields["key"].replace("${filename}", key_name) if key_name else fields["key"]
    fields["Content-Type"] = content_type
    return requests.post(server.endpoint + form["url"], data=fields,
                         files={"file": ("upload.txt", body, content_type)}, timeout=30)


def test_an_upload_form_stores_the_file_under_its_prefix(server, project):
    creds, s3, bucket = project
    got = call(server, creds.token, "POST", f"/v1/buckets/{bucket}/upload-form", {"key_prefix": "in/"})
    assert got.status == 200, got.body
    form = got.json()
    assert form["url"] == f"/{bucket}" and "secret" not in json.dumps(form).lower()
    assert creds.secret_access_key not in json.dumps(form)
    answer = post_form(server, form, None, b"from a browser")
    assert answer.status_code == 201, answer.text
    assert "<Key>in/upload.txt</Key>" in answer.text
    stored = s3.get_object(Bucket=bucket, Key="in/upload.txt")
    assert stored["Body"].read() == b"from a browser" and stored["ContentType"] == "text/plain"
    # The policy holds the key to its prefix: writing elsewhere is refused and stores nothing.
    fields = dict(form["fields"], key="elsewhere.txt")
    outside = requests.post(server.endpoint + form["url"], data=dict(fields, **{"Content-Type": "text/plain"}),
                            files={"file": ("x", b"no", "text/plain")}, timeout=30)
    assert outside.status_code == 403, outside.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="elsewhere")


def test_an_upload_form_expires_and_enforces_its_size_limit(server, project):
    creds, s3, bucket = project
    small = call(server, creds.token, "POST", f"/v1/buckets/{bucket}/upload-form", {"max_size": 4}).json()
    too_big = post_form(server, small, "big.txt", b"0123456789")
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text, too_big.text
    brief = call(server, creds.token, "POST", f"/v1/buckets/{bucket}/upload-form", {"expires_in_s": 1}).json()
    time.sleep(2.2)
    late = post_form(server, brief, "late.txt", b"late")
    assert late.status_code == 403, late.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    for bad in ({"expires_in_s": 0}, {"expires_in_s": 8 * 24 * 3600}, {"max_size": 0}, {"key_prefix": 3}):
        assert call(server, creds.token, "POST", f"/v1/buckets/{bucket}/upload-form", bad).status == 400, bad


def test_only_a_writer_of_the_bucket_gets_an_upload_form(server, project):
    creds, _, bucket = project
    reader = server.create_key(creds.project, "read-only")
    assert call(server, reader.token, "POST", f"/v1/buckets/{bucket}/upload-form", {}).status == 403
    stranger = server.create_key(unique_bucket("stranger"), "admin")
    assert call(server, stranger.token, "POST", f"/v1/buckets/{bucket}/upload-form", {}).status in (403, 404)
