"""Public access to buckets and objects: canned ACLs, the enforced subset of bucket policies,
Block Public Access, and what anonymous requests and other projects' keys get (exactly what is
granted, AccessDenied in S3's XML otherwise). Real boto3 (signed and UNSIGNED), raw HTTP and the
aws CLI against the real binary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from botocore import UNSIGNED

from isolation_helpers import error_code
from stratus_testlib import error_code_of_xml, http_request, raises_s3, unique_bucket

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture(scope="module")
def anon(server):
    return server.client(signature_version=UNSIGNED)


@pytest.fixture(scope="module")
def other(server):
    """A member key of another project."""
    return server.client(server.create_key(unique_bucket("other"), "member"))


def raw_get(server, bucket: str, key: str = "", method: str = "GET"):
    return http_request(f"{server.endpoint}/{bucket}/{key}", method=method)


def assert_denied(res):
    assert res.status == 403, (res.status, res.body)
    assert error_code_of_xml(res.body) == "AccessDenied"
    root = ET.fromstring(res.body)
    assert root.findtext("RequestId"), res.body


def grants_of(acl: dict) -> set[tuple[str, str]]:
    return {(g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]}


def test_anonymous_get_follows_the_object_acl_and_ignore_public_acls(server, s3, bucket, anon):
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"hello")
    assert_denied(raw_get(server, bucket, "doc.txt"))
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="doc.txt")) == ("AccessDenied", 403)

    s3.put_object_acl(Bucket=bucket, Key="doc.txt", ACL="public-read")
    res = raw_get(server, bucket, "doc.txt")
    assert (res.status, res.body) == (200, b"hello")
    assert anon.head_object(Bucket=bucket, Key="doc.txt")["ContentLength"] == 5
    project = s3.list_buckets()["Owner"]["ID"]
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="doc.txt")) == {
        (project, "FULL_CONTROL"), (ALL_USERS, "READ")}
    # The object's ACL grants no listing, and the bucket's private ACL none either.
    assert_denied(raw_get(server, bucket))

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert_denied(raw_get(server, bucket, "doc.txt"))
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                     "RestrictPublicBuckets": False}
    s3.delete_public_access_block(Bucket=bucket)
    with raises_s3("NoSuchPublicAccessBlockConfiguration", 404):
        s3.get_public_access_block(Bucket=bucket)
    assert raw_get(server, bucket, "doc.txt").status == 200


def test_public_read_bucket_lists_but_grants_no_writes(server, s3, anon, other):
    name = unique_bucket()
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="a.txt", Body=b"a")
    project = s3.list_buckets()["Owner"]["ID"]
    assert grants_of(s3.get_bucket_acl(Bucket=name)) == {(project, "FULL_CONTROL"), (ALL_USERS, "READ")}
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=name)["Contents"]] == ["a.txt"]
    assert [o["Key"] for o in anon.list_objects(Bucket=name)["Contents"]] == ["a.txt"]
    assert [o["Key"] for o in other.list_objects_v2(Bucket=name)["Contents"]] == ["a.txt"]
    # Listing is granted, reading a private object is not (AWS: object ACLs decide).
    assert_denied(raw_get(server, name, "a.txt"))
    # Writes: anonymous and another project's key are refused, nothing is stored.
    assert error_code(lambda: anon.put_object(Bucket=name, Key="b.txt", Body=b"x")) == ("AccessDenied", 403)
    assert error_code(lambda: other.put_object(Bucket=name, Key="b.txt", Body=b"x")) == ("AccessDenied", 403)
    assert error_code(lambda: other.delete_object(Bucket=name, Key="a.txt")) == ("AccessDenied", 403)
    assert error_code(lambda: other.put_bucket_acl(Bucket=name, ACL="public-read-write")) == ("AccessDenied", 403)
    assert error_code(lambda: anon.get_bucket_acl(Bucket=name)) == ("AccessDenied", 403)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["a.txt"]
    # Back to private: the listing is refused again.
    s3.put_bucket_acl(Bucket=name, ACL="private")
    assert grants_of(s3.get_bucket_acl(Bucket=name)) == {(project, "FULL_CONTROL")}
    assert error_code(lambda: anon.list_objects_v2(Bucket=name)) == ("AccessDenied", 403)


def test_public_read_write_bucket_takes_anonymous_and_foreign_writes(server, s3, anon, other):
    name = unique_bucket()
    s3.create_bucket(Bucket=name, ACL="public-read-write")
    anon.put_object(Bucket=name, Key="from-anon.txt", Body=b"anon")
    other.put_object(Bucket=name, Key="from-other.txt", Body=b"other")
    assert s3.get_object(Bucket=name, Key="from-anon.txt")["Body"].read() == b"anon"
    assert s3.get_object(Bucket=name, Key="from-other.txt")["Body"].read() == b"other"
    # A write grant is not a grant of the bucket's configuration.
    assert error_code(lambda: other.put_bucket_policy(Bucket=name, Policy="{}")) == ("AccessDenied", 403)
    assert error_code(lambda: other.delete_bucket(Bucket=name)) == ("AccessDenied", 403)


def test_authenticated_read_needs_a_key(server, s3, anon, other):
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="authenticated-read")
    s3.put_object(Bucket=name, Key="k", Body=b"v", ACL="authenticated-read")
    project = s3.list_buckets()["Owner"]["ID"]
    assert grants_of(s3.get_bucket_acl(Bucket=name)) == {(project, "FULL_CONTROL"), (AUTHENTICATED_USERS, "READ")}
    assert other.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    assert [o["Key"] for o in other.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
    assert error_code(lambda: anon.list_objects_v2(Bucket=name)) == ("AccessDenied", 403)
    assert_denied(raw_get(server, name, "k"))


def test_acl_as_a_grant_list_body(server, s3, bucket, anon):
    project = s3.list_buckets()["Owner"]["ID"]
    owner = {"ID": project, "DisplayName": project}
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": project}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == {(project, "FULL_CONTROL"), (ALL_USERS, "READ")}
    assert anon.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_bad_acls_change_nothing(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    res = http_request(f"{server.endpoint}/{bucket}?acl", method="PUT")  # unsigned: refused first
    assert_denied(res)
    with raises_s3("InvalidArgument", 400):
        s3.put_bucket_acl(Bucket=bucket, ACL="everyone-may")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    with raises_s3("AccessDenied", 403):
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    with raises_s3("AccessDenied", 403):
        s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    with raises_s3("AccessDenied", 403):
        s3.put_object(Bucket=bucket, Key="new", Body=b"x", ACL="public-read")
    project = s3.list_buckets()["Owner"]["ID"]
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == {(project, "FULL_CONTROL")}
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k")) == {(project, "FULL_CONTROL")}
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    # Private ACLs stay allowed.
    s3.put_object(Bucket=bucket, Key="new", Body=b"x", ACL="private")


def test_anonymous_requests_to_a_missing_bucket_or_other_operations(server, anon, s3, bucket):
    assert error_code(lambda: anon.list_objects_v2(Bucket=unique_bucket())) == ("NoSuchBucket", 404)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    for call in (lambda: anon.get_bucket_acl(Bucket=bucket),
                 lambda: anon.get_bucket_policy(Bucket=bucket),
                 lambda: anon.delete_bucket(Bucket=bucket),
                 lambda: anon.list_buckets()):
        assert error_code(call) == ("AccessDenied", 403)
    # READ on a bucket is also s3:ListBucketMultipartUploads in AWS's ACL-to-action mapping.
    assert "Uploads" not in anon.list_multipart_uploads(Bucket=bucket)


def policy(bucket: str, *statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_policy_grants_anonymous_reads_under_a_prefix(server, s3, bucket, anon, other):
    for key in ("pub/a.txt", "pub/secret.txt", "private/b.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    document = policy(bucket,
                      {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/pub/*"},
                      {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:GetObject"],
                       "Resource": [f"arn:aws:s3:::{bucket}/pub/secret*"]},
                      {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:ListBucket",
                       "Resource": f"arn:aws:s3:::{bucket}"})
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(document)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    assert raw_get(server, bucket, "pub/a.txt").body == b"pub/a.txt"
    assert other.get_object(Bucket=bucket, Key="pub/a.txt")["Body"].read() == b"pub/a.txt"
    assert_denied(raw_get(server, bucket, "pub/secret.txt"))
    assert_denied(raw_get(server, bucket, "private/b.txt"))
    assert anon.list_objects_v2(Bucket=bucket)["KeyCount"] == 3
    assert error_code(lambda: anon.put_object(Bucket=bucket, Key="pub/x", Body=b"x")) == ("AccessDenied", 403)

    # RestrictPublicBuckets makes the public policy ineffective for outsiders; the owner reads on.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert_denied(raw_get(server, bucket, "pub/a.txt"))
    assert s3.get_object(Bucket=bucket, Key="pub/a.txt")["Body"].read() == b"pub/a.txt"
    s3.delete_public_access_block(Bucket=bucket)

    s3.delete_bucket_policy(Bucket=bucket)
    with raises_s3("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=bucket)
    assert_denied(raw_get(server, bucket, "pub/a.txt"))


@pytest.mark.parametrize("document", [
    "not json",
    '{"Version": "2012-10-17"}',
    '{"Version": "2012-10-17", "Statement": [{"Principal": "*", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::BUCKET/*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
    '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::another-bucket/*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
    '"Action": "s3:GetObject"}]}',
])
def test_malformed_policies_are_refused_and_change_nothing(s3, bucket, document):
    kept = policy(bucket, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                           "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=kept)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    with raises_s3("MalformedPolicy", 400):
        s3.put_bucket_policy(Bucket=bucket, Policy=document.replace("BUCKET", bucket))
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == kept


def test_block_public_policy_refuses_public_policies(server, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    public = policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/*"})
    with raises_s3("AccessDenied", 403):
        s3.put_bucket_policy(Bucket=bucket, Policy=public)
    with raises_s3("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=bucket)


def test_configuration_goes_with_its_bucket(s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_bucket_policy(Bucket=name, Policy=policy(name, {
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}))
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    project = s3.list_buckets()["Owner"]["ID"]
    assert grants_of(s3.get_bucket_acl(Bucket=name)) == {(project, "FULL_CONTROL")}
    with raises_s3("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=name)


def test_aws_cli_put_bucket_acl(server, aws, cli_bucket):
    aws("s3api", "put-bucket-acl", "--bucket", cli_bucket, "--acl", "public-read")
    acl = aws.json("s3api", "get-bucket-acl", "--bucket", cli_bucket)
    assert {g["Grantee"].get("URI") for g in acl["Grants"]} == {None, ALL_USERS}
    res = http_request(f"{server.endpoint}/{cli_bucket}?list-type=2")
    assert res.status == 200 and b"<ListBucketResult" in res.body
