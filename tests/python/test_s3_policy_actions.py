"""Bucket policies beyond public reads: more actions (tagging, PUT, multipart, ACLs), principals
naming a project (by canonical id or IAM ARN) or everyone, NotPrincipal denials, conditions on
request headers, listing parameters and existing object tags, and the owner's own requests
refused by an explicit Deny (never for the policy operations themselves). Each grant gives
exactly its action to exactly its principal: the refusals are asserted too. Real boto3 with two
projects' keys and unsigned clients against the real binary."""

from __future__ import annotations

import json

import pytest
from botocore import UNSIGNED

from isolation_helpers import error_code
from stratus_testlib import raises_s3, unique_bucket

DENIED = ("AccessDenied", 403)


@pytest.fixture(scope="module")
def anon(server):
    return server.client(signature_version=UNSIGNED)


@pytest.fixture(scope="module")
def alt(server):
    project = unique_bucket("alt")
    return server.client(server.create_key(project, "admin")), project


@pytest.fixture(scope="module")
def third(server):
    return server.client(server.create_key(unique_bucket("third"), "member"))


def put_policy(s3, bucket: str, *statements: dict) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(principal, action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


TAGS = {"TagSet": [{"Key": "security", "Value": "public"}]}


def test_tagging_actions_for_a_named_project_only(s3, bucket, alt, third, anon):
    alt_client, alt_id = alt
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_object(Bucket=bucket, Key="other", Body=b"v")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=TAGS)
    put_policy(s3, bucket, allow({"AWS": f"arn:aws:iam::{alt_id}:root"}, "s3:GetObjectTagging",
                                 f"arn:aws:s3:::{bucket}/k"))
    assert alt_client.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == TAGS["TagSet"]
    assert error_code(lambda: alt_client.get_object_tagging(Bucket=bucket, Key="other")) == DENIED
    assert error_code(lambda: alt_client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})) == DENIED
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="k")) == DENIED
    assert error_code(lambda: third.get_object_tagging(Bucket=bucket, Key="k")) == DENIED
    assert error_code(lambda: anon.get_object_tagging(Bucket=bucket, Key="k")) == DENIED

    put_policy(s3, bucket, allow({"AWS": [alt_id]}, ["s3:PutObjectTagging", "s3:DeleteObjectTagging"],
                                 f"arn:aws:s3:::{bucket}/*"))
    alt_client.put_object_tagging(Bucket=bucket, Key="other", Tagging=TAGS)
    alt_client.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert s3.get_object_tagging(Bucket=bucket, Key="other")["TagSet"] == TAGS["TagSet"]
    assert error_code(lambda: alt_client.get_object_tagging(Bucket=bucket, Key="other")) == DENIED


def test_put_with_a_condition_on_the_canned_acl(s3, bucket, alt):
    alt_client, alt_id = alt
    put_policy(s3, bucket, allow({"AWS": alt_id}, "s3:PutObject", f"arn:aws:s3:::{bucket}/*",
                                 Condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}))
    assert error_code(lambda: alt_client.put_object(Bucket=bucket, Key="plain", Body=b"x")) == DENIED
    assert error_code(lambda: alt_client.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")) == DENIED
    alt_client.put_object(Bucket=bucket, Key="ok", Body=b"x", ACL="bucket-owner-full-control")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["ok"]
    # PutObject grants no reads.
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="ok")) == DENIED


def test_multipart_upload_by_policy(s3, bucket, alt):
    alt_client, alt_id = alt
    put_policy(s3, bucket, allow({"AWS": alt_id}, "s3:PutObject", f"arn:aws:s3:::{bucket}"))
    assert error_code(lambda: alt_client.create_multipart_upload(Bucket=bucket, Key="mp")) == DENIED
    put_policy(s3, bucket, allow({"AWS": alt_id}, "s3:PutObject", f"arn:aws:s3:::{bucket}/mp"))
    upload = alt_client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = alt_client.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    assert error_code(lambda: alt_client.list_multipart_uploads(Bucket=bucket)) == DENIED
    alt_client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"part"


def test_existing_object_tag_condition(s3, bucket, anon):
    for key, value in (("pub", "public"), ("priv", "private")):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode(), Tagging=f"security={value}")
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"u")
    put_policy(s3, bucket, allow("*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                                 Condition={"StringEquals": {"s3:ExistingObjectTag/security": "public"}}))
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"pub"
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="priv")) == DENIED
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="untagged")) == DENIED


def test_list_prefix_condition_and_missing_keys(s3, bucket, alt):
    alt_client, alt_id = alt
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="private/b", Body=b"b")
    put_policy(s3, bucket, allow({"AWS": "*"}, "s3:ListBucket", f"arn:aws:s3:::{bucket}",
                                 Condition={"StringLike": {"s3:prefix": "public/*"}}))
    listed = alt_client.list_objects_v2(Bucket=bucket, Prefix="public/")
    assert [o["Key"] for o in listed["Contents"]] == ["public/a"]
    assert error_code(lambda: alt_client.list_objects_v2(Bucket=bucket)) == DENIED
    assert error_code(lambda: alt_client.list_objects_v2(Bucket=bucket, Prefix="private/")) == DENIED
    # Who may list under the prefix learns a key there is missing; elsewhere it is refused.
    assert error_code(lambda: alt_client.head_object(Bucket=bucket, Key="public/none"))[1] == 404
    assert error_code(lambda: alt_client.head_object(Bucket=bucket, Key="private/none"))[1] == 403
    # Listing is no read of the objects.
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="public/a")) == DENIED


def test_owner_deny_applies_to_the_owner_but_not_to_policy_operations(s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    put_policy(s3, bucket, {"Effect": "Deny", "Principal": "*", "Action": "s3:GetBucketPublicAccessBlock",
                            "Resource": f"arn:aws:s3:::{bucket}"})
    assert error_code(lambda: s3.get_public_access_block(Bucket=bucket)) == DENIED
    # The rest of the bucket is untouched, and the owner can still read and remove its policy.
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert "Deny" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]


def test_not_principal_deny_excludes_the_named_project(s3, bucket, alt, third):
    alt_client, alt_id = alt
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    put_policy(s3, bucket,
               allow({"AWS": "*"}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*"),
               {"Effect": "Deny", "NotPrincipal": {"AWS": alt_id}, "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*"})
    assert alt_client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert error_code(lambda: third.get_object(Bucket=bucket, Key="k")) == DENIED


def test_unknown_condition_keys_and_unevaluated_operators_grant_nothing(s3, bucket, anon):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    put_policy(s3, bucket,
               allow("*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                     Condition={"StringEquals": {"s3:no-such-key": "x"}}),
               allow("*", "s3:ListBucket", f"arn:aws:s3:::{bucket}",
                     Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}))
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="k")) == DENIED
    assert error_code(lambda: anon.list_objects_v2(Bucket=bucket)) == DENIED
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


def test_resources_of_any_bucket_pattern_are_accepted(s3, alt):
    alt_client, _ = alt
    names = [unique_bucket(), unique_bucket()]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        allow({"AWS": "*"}, "s3:ListBucket", ["arn:aws:s3:::*", "arn:aws:s3:::*/*"])]})
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"v")
        s3.put_bucket_policy(Bucket=name, Policy=policy)
        assert [o["Key"] for o in alt_client.list_objects(Bucket=name)["Contents"]] == ["k"]


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "NotPrincipal": {"AWS": "someone"}, "Action": "s3:GetObject", "Resource": "B/*"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::not-this-bucket/*"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "B/*",
     "Condition": {"StringEqualz": {"s3:prefix": "a"}}},
    {"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "s3:GetObject", "Resource": "B/*"},
])
def test_malformed_policies_are_refused_and_change_nothing(s3, bucket, statement):
    statement = json.loads(json.dumps(statement).replace('"B/', f'"arn:aws:s3:::{bucket}/'))
    with raises_s3("MalformedPolicy", 400):
        put_policy(s3, bucket, statement)
    with raises_s3("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=bucket)


def test_upload_part_copy_reads_a_source_another_project_grants(s3, bucket, alt):
    alt_client, alt_id = alt
    s3.put_object(Bucket=bucket, Key="public/src", Body=b"public source")
    s3.put_object(Bucket=bucket, Key="private/src", Body=b"private source")
    put_policy(s3, bucket, allow({"AWS": alt_id}, "s3:GetObject", f"arn:aws:s3:::{bucket}/public/*"))
    own = unique_bucket()
    alt_client.create_bucket(Bucket=own)
    upload = alt_client.create_multipart_upload(Bucket=own, Key="copy")["UploadId"]
    assert error_code(lambda: alt_client.upload_part_copy(
        Bucket=own, Key="copy", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "private/src"})) == DENIED
    part = alt_client.upload_part_copy(Bucket=own, Key="copy", UploadId=upload, PartNumber=1,
                                       CopySource={"Bucket": bucket, "Key": "public/src"})
    parts = alt_client.list_parts(Bucket=own, Key="copy", UploadId=upload)
    assert parts["Owner"]["ID"] == alt_id and parts["Initiator"]["ID"] == alt_id
    alt_client.complete_multipart_upload(Bucket=own, Key="copy", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert alt_client.get_object(Bucket=own, Key="copy")["Body"].read() == b"public source"
    # The grant reads the source, nothing else of the granting bucket.
    assert error_code(lambda: alt_client.list_objects_v2(Bucket=bucket)) == DENIED
