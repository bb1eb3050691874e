"""ACL grants beyond canned ACLs: explicit grants to another project (by its canonical id, the
project name ListBuckets' Owner.ID shows) or to S3's groups, through an AccessControlPolicy body
or the x-amz-grant-* headers. Each grant gives its grantee exactly its permission: the refusals
are asserted as much as the grants. Bad grants are refused with AWS's error and change nothing.
Real boto3 (two projects' keys and unsigned) against the real binary."""

from __future__ import annotations

import pytest
from botocore import UNSIGNED

from isolation_helpers import error_code
from stratus_testlib import raises_s3, unique_bucket

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture(scope="module")
def anon(server):
    return server.client(signature_version=UNSIGNED)


@pytest.fixture(scope="module")
def alt(server):
    """An admin key of another project, and that project's canonical id."""
    project = unique_bucket("alt")
    client = server.client(server.create_key(project, "admin"))
    assert client.list_buckets()["Owner"]["ID"] == project
    return client, project


@pytest.fixture(scope="module")
def third(server):
    """A key of a third project, granted nothing."""
    return server.client(server.create_key(unique_bucket("third"), "member"))


def owner_id(s3) -> str:
    return s3.list_buckets()["Owner"]["ID"]


def grants_of(acl: dict) -> list[tuple[str, str, str]]:
    return sorted((g["Grantee"]["Type"], g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"])
                  for g in acl["Grants"])


def policy_with(acl: dict, *grants: dict) -> dict:
    return {"Owner": acl["Owner"], "Grants": [*acl["Grants"], *grants]}


def user_grant(project: str, permission: str) -> dict:
    return {"Grantee": {"Type": "CanonicalUser", "ID": project}, "Permission": permission}


def test_grants_list_canonical_users_with_id_and_display_name(s3, bucket):
    me = owner_id(s3)
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"] == {"ID": me, "DisplayName": me}
    assert acl["Grants"] == [{"Grantee": {"Type": "CanonicalUser", "ID": me, "DisplayName": me},
                              "Permission": "FULL_CONTROL"}]


def test_object_read_grant_gives_the_other_project_read_and_nothing_more(s3, bucket, alt, third, anon):
    alt_client, alt_id = alt
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="shared.txt")) == ("AccessDenied", 403)

    acl = s3.get_object_acl(Bucket=bucket, Key="shared.txt")
    s3.put_object_acl(Bucket=bucket, Key="shared.txt", AccessControlPolicy=policy_with(
        acl, user_grant(alt_id, "READ")))
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="shared.txt")) == sorted([
        ("CanonicalUser", owner_id(s3), "FULL_CONTROL"), ("CanonicalUser", alt_id, "READ")])

    assert alt_client.get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"shared"
    # READ on one object: not on another, not on the bucket, not its ACL, no writes.
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="private.txt")) == ("AccessDenied", 403)
    assert error_code(lambda: alt_client.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert error_code(lambda: alt_client.get_object_acl(Bucket=bucket, Key="shared.txt")) == ("AccessDenied", 403)
    assert error_code(lambda: alt_client.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")) == (
        "AccessDenied", 403)
    # Nobody else gains anything.
    assert error_code(lambda: third.get_object(Bucket=bucket, Key="shared.txt")) == ("AccessDenied", 403)
    assert error_code(lambda: anon.get_object(Bucket=bucket, Key="shared.txt")) == ("AccessDenied", 403)
    assert s3.get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"shared"


def test_bucket_write_grant_lets_the_other_project_write_but_not_read(s3, bucket, alt, third):
    alt_client, alt_id = alt
    assert error_code(lambda: alt_client.put_object(Bucket=bucket, Key="in.txt", Body=b"x")) == (
        "AccessDenied", 403)
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f'id="{alt_id}"', GrantFullControl=f'id="{owner_id(s3)}"')
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == sorted([
        ("CanonicalUser", owner_id(s3), "FULL_CONTROL"), ("CanonicalUser", alt_id, "WRITE")])

    alt_client.put_object(Bucket=bucket, Key="in.txt", Body=b"from alt")
    assert s3.get_object(Bucket=bucket, Key="in.txt")["Body"].read() == b"from alt"
    assert error_code(lambda: alt_client.get_object(Bucket=bucket, Key="in.txt")) == ("AccessDenied", 403)
    assert error_code(lambda: alt_client.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert error_code(lambda: alt_client.get_bucket_acl(Bucket=bucket)) == ("AccessDenied", 403)
    assert error_code(lambda: third.put_object(Bucket=bucket, Key="t.txt", Body=b"x")) == ("AccessDenied", 403)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["in.txt"]


def test_acp_grants_let_the_other_project_read_and_change_the_acl(s3, bucket, alt, third):
    alt_client, alt_id = alt
    me = owner_id(s3)
    s3.put_bucket_acl(Bucket=bucket, GrantReadACP=f'id="{alt_id}"', GrantFullControl=f'id="{me}"')
    acl = alt_client.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == me
    assert error_code(lambda: alt_client.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessDenied", 403)
    assert error_code(lambda: third.get_bucket_acl(Bucket=bucket)) == ("AccessDenied", 403)

    s3.put_bucket_acl(Bucket=bucket, GrantWriteACP=f'id="{alt_id}"', GrantFullControl=f'id="{me}"')
    assert error_code(lambda: alt_client.get_bucket_acl(Bucket=bucket)) == ("AccessDenied", 403)
    alt_client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == sorted([
        ("CanonicalUser", me, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")])
    # WRITE_ACP went with the old ACL.
    assert error_code(lambda: alt_client.put_bucket_acl(Bucket=bucket, ACL="private")) == ("AccessDenied", 403)


def test_group_grant_by_header_on_put_object(s3, bucket, anon):
    s3.put_object(Bucket=bucket, Key="pub.txt", Body=b"p", GrantRead=f'uri="{ALL_USERS}"')
    assert anon.get_object(Bucket=bucket, Key="pub.txt")["Body"].read() == b"p"
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="pub.txt")) == [("Group", ALL_USERS, "READ")]


def test_revoke_all_leaves_an_empty_grant_list_and_the_owner_in_control(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": []})
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == []
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1


def test_bad_grants_are_refused_and_change_nothing(s3, bucket, alt):
    _, alt_id = alt
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    before = s3.get_bucket_acl(Bucket=bucket)
    owner = before["Owner"]
    with raises_s3("UnresolvableGrantByEmailAddress", 400):
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "nobody@example.invalid"},
             "Permission": "READ"}]})
    with raises_s3("InvalidArgument", 400):
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
            user_grant("no-such-project-" + alt_id, "READ")]})
    with raises_s3("InvalidArgument", 400):
        s3.put_bucket_acl(Bucket=bucket, GrantRead='id="no-such-project-x"')
    with raises_s3("InvalidArgument", 400):
        s3.put_object(Bucket=bucket, Key="never", Body=b"x", GrantRead='id="no-such-project-x"')
    with raises_s3("InvalidRequest", 400):
        s3.put_bucket_acl(Bucket=bucket, ACL="private", GrantRead=f'id="{alt_id}"')
    with raises_s3("InvalidArgument", 400):
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "Group", "URI": "http://example.com/not-a-group"}, "Permission": "READ"}]})
    after = s3.get_bucket_acl(Bucket=bucket)
    assert (after["Owner"], after["Grants"]) == (before["Owner"], before["Grants"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_copy_by_another_project_needs_read_of_the_source(s3, bucket, alt):
    alt_client, alt_id = alt
    me = owner_id(s3)
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.put_object(Bucket=bucket, Key="secret", Body=b"secret")
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f'id="{alt_id}"', GrantFullControl=f'id="{me}"')
    # WRITE on the bucket alone copies nothing: the source must be readable too.
    assert error_code(lambda: alt_client.copy_object(
        Bucket=bucket, Key="stolen", CopySource={"Bucket": bucket, "Key": "secret"})) == ("AccessDenied", 403)
    s3.put_object_acl(Bucket=bucket, Key="src", GrantRead=f'id="{alt_id}"', GrantFullControl=f'id="{me}"')
    alt_client.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"source"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["copy", "secret", "src"]
