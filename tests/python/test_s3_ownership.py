"""S3 Object Ownership: Put/Get/DeleteBucketOwnershipControls and x-amz-object-ownership on
CreateBucket. Under BucketOwnerEnforced ACLs are disabled: they grant nothing, and a request that
sets any ACL but the owner's full control is refused (AccessControlListNotSupported) and changes
nothing, as AWS does. Real boto3 against the real binary."""

from __future__ import annotations

import pytest
from botocore import UNSIGNED

from isolation_helpers import error_code
from stratus_testlib import raises_s3, unique_bucket

ENFORCED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


@pytest.fixture(scope="module")
def anon(server):
    return server.client(signature_version=UNSIGNED)


def ownership(s3, bucket: str) -> str:
    return s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]


def test_ownership_controls_round_trip_and_delete(s3, bucket):
    with raises_s3("OwnershipControlsNotFoundError", 404):
        s3.get_bucket_ownership_controls(Bucket=bucket)
    for setting in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": setting}]})
        assert ownership(s3, bucket) == setting
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with raises_s3("OwnershipControlsNotFoundError", 404):
        s3.get_bucket_ownership_controls(Bucket=bucket)


def test_create_bucket_with_object_ownership(s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
    assert ownership(s3, name) == "BucketOwnerEnforced"
    refused = unique_bucket()
    with raises_s3("InvalidBucketAclWithObjectOwnership", 400):
        s3.create_bucket(Bucket=refused, ObjectOwnership="BucketOwnerEnforced", ACL="public-read")
    assert refused not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_enforcing_is_refused_while_the_bucket_acl_grants_others(s3, bucket):
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    with raises_s3("InvalidBucketAclWithObjectOwnership", 400):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=ENFORCED)
    with raises_s3("OwnershipControlsNotFoundError", 404):
        s3.get_bucket_ownership_controls(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=ENFORCED)
    assert ownership(s3, bucket) == "BucketOwnerEnforced"


def test_enforced_bucket_refuses_acls_and_ignores_stored_ones(s3, bucket, anon):
    s3.put_object(Bucket=bucket, Key="pub.txt", Body=b"p", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="pub.txt")["Body"].read() == b"p"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=ENFORCED)
    # The object's stored public-read grants nothing any more.
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="pub.txt")) == ("AccessDenied", 403)

    s3.put_object(Bucket=bucket, Key="ok1", Body=b"1")
    s3.put_object(Bucket=bucket, Key="ok2", Body=b"2", ACL="bucket-owner-full-control")
    for acl in ("private", "public-read"):
        with raises_s3("AccessControlListNotSupported", 400):
            s3.put_object(Bucket=bucket, Key=f"no-{acl}", Body=b"x", ACL=acl)
        with raises_s3("AccessControlListNotSupported", 400):
            s3.create_multipart_upload(Bucket=bucket, Key=f"mp-{acl}", ACL=acl)
        with raises_s3("AccessControlListNotSupported", 400):
            s3.copy_object(Bucket=bucket, Key=f"cp-{acl}", CopySource={"Bucket": bucket, "Key": "ok1"}, ACL=acl)
    # Setting an ACL fails whatever it grants; reading one still works.
    for acl in ("private", "public-read"):
        with raises_s3("AccessControlListNotSupported", 400):
            s3.put_bucket_acl(Bucket=bucket, ACL=acl)
        with raises_s3("AccessControlListNotSupported", 400):
            s3.put_object_acl(Bucket=bucket, Key="ok1", ACL=acl)
    assert len(s3.get_object_acl(Bucket=bucket, Key="ok1")["Grants"]) == 1
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["ok1", "ok2", "pub.txt"]
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1

    # Back to ObjectWriter: the stored ACL counts again.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert anon.get_object(Bucket=bucket, Key="pub.txt")["Body"].read() == b"p"


def test_policy_status_counts_public_acls_and_policies(s3, bucket):
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
