"""Bucket tagging through boto3: the tag set round-trips, S3's limits are enforced with InvalidTag
(and change nothing), and NoSuchTagSet answers a bucket without tags."""

from __future__ import annotations

import pytest

from stratus_testlib import raises_s3, unique_bucket

TAGS = [{"Key": "team", "Value": "data"}, {"Key": "cost-center", "Value": "42"}]


def test_tags_round_trip_and_go_with_the_bucket(s3, bucket):
    with raises_s3("NoSuchTagSet", 404):
        s3.get_bucket_tagging(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": TAGS})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == TAGS
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": TAGS[:1]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == TAGS[:1]
    s3.delete_bucket_tagging(Bucket=bucket)
    with raises_s3("NoSuchTagSet", 404):
        s3.get_bucket_tagging(Bucket=bucket)


@pytest.mark.parametrize("tags", [
    [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    [{"Key": "k" * 129, "Value": "v"}],
    [{"Key": "k", "Value": "v" * 257}],
    [{"Key": "same", "Value": "1"}, {"Key": "same", "Value": "2"}],
])
def test_invalid_tag_sets_are_refused_and_change_nothing(s3, bucket, tags):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": TAGS})
    with raises_s3("InvalidTag", 400):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == TAGS


def test_limits_themselves_are_allowed(s3, bucket):
    tags = [{"Key": f"{i:03d}" + "k" * 125, "Value": "v" * 256} for i in range(50)]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags


def test_another_project_cannot_tag(server, s3, bucket):
    other = server.client(server.create_key(unique_bucket("tagger"), "member"))
    with raises_s3("AccessDenied", 403):
        other.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": TAGS})
    with raises_s3("NoSuchTagSet", 404):
        s3.get_bucket_tagging(Bucket=bucket)
