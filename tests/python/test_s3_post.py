"""POST Object: browser form uploads with a SigV4-signed policy (boto3's generate_presigned_post,
sent as multipart/form-data by `requests`), and anonymous form uploads to a public-read-write
bucket. Every refused form (bad signature, expired policy, a field breaking a condition, a file
outside content-length-range) gets AWS's error and stores nothing."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET

import pytest
import requests

from stratus_testlib import error_code_of_xml, unique_bucket


def post(url: str, fields: dict, body: bytes = b"hello form", filename: str = "hello.txt", **kwargs):
    return requests.post(url, data=fields, files={"file": (filename, body)}, timeout=30, **kwargs)


def keys(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_signed_post_stores_the_file_with_its_fields(s3, bucket):
    form = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "alice", "success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                    {"x-amz-meta-owner": "alice"}, {"success_action_status": "201"},
                    ["content-length-range", 1, 1024]],
        ExpiresIn=600)
    res = post(form["url"], form["fields"], filename="note.txt")
    assert res.status_code == 201, res.text
    root = ET.fromstring(res.content)
    assert root.tag.endswith("PostResponse")
    ns = {"s3": root.tag.split("}")[0][1:]} if "}" in root.tag else {}
    find = (lambda name: root.findtext(f"s3:{name}", namespaces=ns)) if ns else root.findtext
    assert find("Key") == "uploads/note.txt" and find("Bucket") == bucket
    head = s3.head_object(Bucket=bucket, Key="uploads/note.txt")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"owner": "alice"}
    assert head["ETag"] == find("ETag")
    assert s3.get_object(Bucket=bucket, Key="uploads/note.txt")["Body"].read() == b"hello form"


def test_success_status_defaults_to_204_and_redirects_are_303(s3, bucket):
    form = s3.generate_presigned_post(bucket, "plain.txt", ExpiresIn=600)
    res = post(form["url"], form["fields"])
    assert res.status_code == 204 and res.content == b""
    form = s3.generate_presigned_post(
        bucket, "redirected.txt", Fields={"success_action_redirect": "http://example.com/done"},
        Conditions=[{"success_action_redirect": "http://example.com/done"}], ExpiresIn=600)
    res = post(form["url"], form["fields"], allow_redirects=False)
    assert res.status_code == 303
    location = res.headers["Location"]
    assert location.startswith("http://example.com/done?") and f"bucket={bucket}" in location
    etag = s3.head_object(Bucket=bucket, Key="redirected.txt")["ETag"].strip('"')
    assert location.endswith(f"key=redirected.txt&etag=%22{etag}%22"), location
    assert sorted(keys(s3, bucket)) == ["plain.txt", "redirected.txt"]


def test_a_tampered_policy_fails_its_signature(s3, bucket):
    form = s3.generate_presigned_post(bucket, "k.txt", ExpiresIn=600)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"].append(["starts-with", "$key", ""])
    fields = dict(form["fields"], policy=base64.b64encode(json.dumps(policy).encode()).decode())
    res = post(form["url"], fields)
    assert res.status_code == 403 and error_code_of_xml(res.content) == "SignatureDoesNotMatch"
    assert keys(s3, bucket) == []


def test_an_expired_policy_is_refused(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "late.txt", ExpiresIn=600)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    policy["expiration"] = past.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    # Re-signed with the SigV4 signing key, so only the expiration is wrong.
    creds = server.admin
    date = form["fields"]["x-amz-date"][:8]

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(sign(f"AWS4{creds.secret_access_key}".encode(), date), "us-east-1"), "s3"), "aws4_request")
    signature = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
    fields = dict(form["fields"], policy=encoded, **{"x-amz-signature": signature})
    res = post(form["url"], fields)
    assert res.status_code == 403, res.text
    assert error_code_of_xml(res.content) == "AccessDenied"
    assert b"Invalid according to Policy: Policy expired." in res.content
    assert keys(s3, bucket) == []


@pytest.mark.parametrize("change, code, status", [
    ({"key": "elsewhere/x.txt"}, "AccessDenied", 403),
    ({"Content-Type": "text/html"}, "AccessDenied", 403),
])
def test_a_field_breaking_a_condition_is_refused(s3, bucket, change, code, status):
    form = s3.generate_presigned_post(
        bucket, "uploads/x.txt", Fields={"Content-Type": "text/plain"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"}], ExpiresIn=600)
    res = post(form["url"], dict(form["fields"], **change))
    assert (res.status_code, error_code_of_xml(res.content)) == (status, code), res.text
    message = ET.fromstring(res.content).findtext("Message")
    assert message.startswith("Invalid according to Policy")
    assert "&" not in message, f"escaped twice: {message}"
    assert keys(s3, bucket) == []


@pytest.mark.parametrize("size, code", [(2048, "EntityTooLarge"), (1, "EntityTooSmall")])
def test_content_length_range_is_enforced(s3, bucket, size, code):
    form = s3.generate_presigned_post(bucket, "sized.bin", Conditions=[["content-length-range", 10, 1024]],
                                      ExpiresIn=600)
    res = post(form["url"], form["fields"], body=b"x" * size)
    assert (res.status_code, error_code_of_xml(res.content)) == (400, code), res.text
    assert keys(s3, bucket) == []


def test_a_field_outside_the_policy_is_refused(s3, bucket):
    form = s3.generate_presigned_post(bucket, "k.txt", ExpiresIn=600)
    res = post(form["url"], dict(form["fields"], **{"x-amz-meta-extra": "1"}))
    assert res.status_code == 403 and error_code_of_xml(res.content) == "AccessDenied"
    assert keys(s3, bucket) == []


def test_anonymous_post_needs_a_public_read_write_bucket(server, s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    url = f"{server.endpoint}/{name}"
    res = post(url, {"key": "anon.txt"})
    assert res.status_code == 403 and error_code_of_xml(res.content) == "AccessDenied"
    assert keys(s3, name) == []
    s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    res = post(url, {"key": "anon-${filename}", "Content-Type": "text/plain"}, filename="f.txt")
    assert res.status_code == 204, res.text
    assert s3.get_object(Bucket=name, Key="anon-f.txt")["ContentType"] == "text/plain"


def test_form_acl_makes_the_object_public_unless_blocked(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "pub.txt", Fields={"acl": "public-read"},
                                      Conditions=[{"acl": "public-read"}], ExpiresIn=600)
    assert post(form["url"], form["fields"]).status_code == 204
    assert requests.get(f"{server.endpoint}/{bucket}/pub.txt", timeout=10).content == b"hello form"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    form = s3.generate_presigned_post(bucket, "blocked.txt", Fields={"acl": "public-read"},
                                      Conditions=[{"acl": "public-read"}], ExpiresIn=600)
    res = post(form["url"], form["fields"])
    assert res.status_code == 403 and error_code_of_xml(res.content) == "AccessDenied"
    assert keys(s3, bucket) == ["pub.txt"]


TAGGING = ("<Tagging><TagSet><Tag><Key>team</Key><Value>a&amp;b</Value></Tag>"
           "<Tag><Key>empty</Key><Value></Value></Tag></TagSet></Tagging>")


def test_the_tagging_field_tags_the_object(s3, bucket):
    form = s3.generate_presigned_post(bucket, "tagged.txt", Fields={"tagging": TAGGING},
                                      Conditions=[{"tagging": TAGGING}], ExpiresIn=600)
    res = post(form["url"], form["fields"])
    assert res.status_code == 204, res.text
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged.txt")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("empty", ""), ("team", "a&b")]


def test_anonymous_post_with_tagging_to_a_public_read_write_bucket(server, s3):
    name = unique_bucket("pub")
    s3.create_bucket(Bucket=name, ACL="public-read-write")
    res = post(f"{server.endpoint}/{name}", {"key": "anon.txt", "tagging": TAGGING})
    assert res.status_code == 204, res.text
    assert len(s3.get_object_tagging(Bucket=name, Key="anon.txt")["TagSet"]) == 2


@pytest.mark.parametrize("tagging, code", [
    ("<Tagging><TagSet>", "MalformedXML"),
    ("<Tagging><TagSet>" + "".join(f"<Tag><Key>k{i}</Key><Value>v</Value></Tag>" for i in range(11))
     + "</TagSet></Tagging>", "BadRequest"),
])
def test_a_bad_tagging_field_is_refused_and_stores_nothing(s3, bucket, tagging, code):
    form = s3.generate_presigned_post(bucket, "bad.txt", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}], ExpiresIn=600)
    res = post(form["url"], form["fields"])
    assert res.status_code == 400, res.text
    assert error_code_of_xml(res.content) == code
    assert keys(s3, bucket) == []


def signed_v2_form(s3, bucket, expiration: str) -> dict:
    creds = s3._request_signer._credentials
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", ""]]}).encode())
    signature = base64.b64encode(hmac.new(creds.secret_key.encode(), policy, hashlib.sha1).digest())
    return {"key": "v2.txt", "AWSAccessKeyId": creds.access_key, "policy": policy, "signature": signature}


def test_a_policy_expiration_must_be_iso8601_utc(server, s3, bucket):
    url = f"{server.endpoint}/{bucket}"
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    res = post(url, signed_v2_form(s3, bucket, str(later)))
    assert res.status_code == 400, res.text
    assert error_code_of_xml(res.content) == "InvalidPolicyDocument"
    assert keys(s3, bucket) == []
    res = post(url, signed_v2_form(s3, bucket, later.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
    assert res.status_code == 204, res.text
    assert keys(s3, bucket) == ["v2.txt"]


def test_a_policy_without_a_signature_is_a_bad_request(server, s3, bucket):
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    form = signed_v2_form(s3, bucket, later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    del form["signature"]
    res = post(f"{server.endpoint}/{bucket}", form)
    assert res.status_code == 400, res.text
    assert error_code_of_xml(res.content) == "InvalidArgument"
    assert keys(s3, bucket) == []
