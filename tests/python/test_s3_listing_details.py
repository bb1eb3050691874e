"""Details of listings and object metadata that SDKs rely on: an empty delimiter is left out,
v1 always echoes Marker and names owners, v2 names them on FetchOwner, v1 echoes Prefix as
given; HEAD counts tags, Content-Encoding keeps its list, GetObjectAttributes names the version."""

from __future__ import annotations

import pytest

from stratus_testlib import raises_s3


@pytest.fixture
def filled(s3, bucket):
    for key in ("foo/bar", "foo/baz", "quux"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    return bucket


def owner_of_buckets(s3):
    return s3.list_buckets()["Owner"]


def test_empty_delimiter_is_no_delimiter(s3, filled):
    v1 = s3.list_objects(Bucket=filled, Delimiter="")
    v2 = s3.list_objects_v2(Bucket=filled, Delimiter="")
    for page in (v1, v2):
        assert "Delimiter" not in page
        assert [o["Key"] for o in page["Contents"]] == ["foo/bar", "foo/baz", "quux"]
        assert "CommonPrefixes" not in page


def test_v1_echoes_an_empty_marker(s3, filled):
    assert s3.list_objects(Bucket=filled)["Marker"] == ""
    assert s3.list_objects(Bucket=filled, Marker="foo/bar")["Marker"] == "foo/bar"


def test_v1_echoes_the_prefix_as_given(s3, filled):
    page = s3.list_objects(Bucket=filled, Prefix="\n")
    assert page["Prefix"] == "\n"
    assert "Contents" not in page


def test_owners_in_listings(s3, filled):
    owner = owner_of_buckets(s3)
    v1 = s3.list_objects(Bucket=filled)["Contents"]
    assert {(o["Owner"]["ID"], o["Owner"]["DisplayName"]) for o in v1} == {(owner["ID"], owner["DisplayName"])}
    plain = s3.list_objects_v2(Bucket=filled)["Contents"]
    assert all("Owner" not in o for o in plain)
    fetched = s3.list_objects_v2(Bucket=filled, FetchOwner=True)["Contents"]
    assert {o["Owner"]["ID"] for o in fetched} == {owner["ID"]}


def test_head_counts_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="plain")["ResponseMetadata"]["HTTPHeaders"]
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="a=1&b=2")
    head = s3.head_object(Bucket=bucket, Key="tagged")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3.get_object(Bucket=bucket, Key="tagged")["TagCount"] == 2


@pytest.mark.parametrize("sent, kept", [
    ("gzip", "gzip"),
    ("deflate, gzip", "deflate, gzip"),
    ("gzip, aws-chunked", "gzip"),
    ("aws-chunked, gzip", "gzip"),
    ("aws-chunked", None),
])
def test_content_encoding_keeps_its_list_without_aws_chunked(s3, bucket, sent, kept):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentEncoding=sent)
    assert s3.head_object(Bucket=bucket, Key="k").get("ContentEncoding") == kept


def test_object_attributes_name_the_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"foo")
    wanted = ["ETag", "ObjectSize"]
    current = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=wanted)
    assert current["VersionId"] == first["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"longer")
    old = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=first["VersionId"], ObjectAttributes=wanted)
    assert (old["VersionId"], old["ObjectSize"]) == (first["VersionId"], 3)
    new = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=wanted)
    assert (new["VersionId"], new["ObjectSize"]) == (second["VersionId"], 6)
    with raises_s3("NoSuchVersion", 404):
        s3.get_object_attributes(Bucket=bucket, Key="k", VersionId="nonexistent-version", ObjectAttributes=wanted)


def test_unversioned_attributes_carry_no_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"foo")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert "VersionId" not in got
