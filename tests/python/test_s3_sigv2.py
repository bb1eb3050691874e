"""AWS Signature Version 2 (header and query-string presign), as boto3's `s3` signer speaks
it, verified against the same keys as SigV4."""

from __future__ import annotations

import time

import requests

from stratus_testlib import Creds, error_code_of_xml, http_request, raises_s3, unique_bucket


def v2(server, creds: Creds | None = None):
    return server.client(creds, signature_version="s3")


def test_sigv2_client_does_bucket_and_object_operations(server):
    s3 = v2(server)
    name = unique_bucket("v2")
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=name, Key="dir/k", Body=b"signed with v2", Metadata={"who": "v2"})
    got = s3.get_object(Bucket=name, Key="dir/k")
    assert got["Body"].read() == b"signed with v2"
    assert got["Metadata"] == {"who": "v2"}
    assert [o["Key"] for o in s3.list_objects(Bucket=name, Prefix="dir/")["Contents"]] == ["dir/k"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    # The same object through SigV4: one store, one set of keys.
    assert server.client().get_object(Bucket=name, Key="dir/k")["Body"].read() == b"signed with v2"


def test_a_wrong_secret_is_refused_and_creates_nothing(server):
    admin = server.admin
    wrong = Creds(admin.access_key_id, "x" * len(admin.secret_access_key))
    name = unique_bucket("v2")
    with raises_s3("SignatureDoesNotMatch", 403):
        v2(server, wrong).create_bucket(Bucket=name)
    assert name not in [b["Name"] for b in server.client().list_buckets()["Buckets"]]


def test_sigv2_presigned_urls(server):
    s3 = v2(server)
    name = unique_bucket("v2")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"original")
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in get_url and "Signature=" in get_url
    res = http_request(get_url)
    assert (res.status, res.body) == (200, b"original")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "k"}, ExpiresIn=300)
    # SigV2 signs the Content-Type; requests (unlike urllib) sends none for a bytes body.
    assert requests.put(put_url, data=b"via v2 url", timeout=30).status_code == 200
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"via v2 url"

    # A URL used for another key does not verify; an expired one is refused.
    res = http_request(get_url.replace("/k?", "/other?"))
    assert res.status == 403 and error_code_of_xml(res.body) == "SignatureDoesNotMatch"
    expired = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "k"}, ExpiresIn=1)
    time.sleep(2)
    res = requests.put(expired, data=b"too late", timeout=30)
    assert res.status_code == 403 and error_code_of_xml(res.content) == "AccessDenied"
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"via v2 url"
