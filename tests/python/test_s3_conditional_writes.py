"""Conditional writes (S3, 2024): If-None-Match / If-Match on PutObject and
CompleteMultipartUpload, checked inside the write's metadata transaction; retried completions;
304 answers that still name the object (boto3 against the real server)."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from stratus_testlib import multipart_etag, quoted_md5, raises_s3

PART = 5 * 1024 * 1024


def body_of(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_if_none_match_star_creates_only_a_missing_key(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    assert first["ETag"] == quoted_md5(b"one")
    with raises_s3("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert body_of(s3, bucket, "k") == b"one"


def test_if_none_match_etag_refuses_only_that_etag(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with raises_s3("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch=etag)
    assert body_of(s3, bucket, "k") == b"one"
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfNoneMatch='"0123456789abcdef0123456789abcdef"')
    assert body_of(s3, bucket, "k") == b"three"
    # With no object at all, no ETag can match.
    s3.put_object(Bucket=bucket, Key="fresh", Body=b"x", IfNoneMatch=etag)


def test_if_match_needs_the_current_etag(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with raises_s3("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert body_of(s3, bucket, "k") == b"one"
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)
    assert body_of(s3, bucket, "k") == b"two"
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfMatch="*")
    assert body_of(s3, bucket, "k") == b"three"


def test_if_match_on_a_missing_or_deleted_key_is_no_such_key(s3, bucket):
    for condition in ("*", '"0123456789abcdef0123456789abcdef"'):
        with raises_s3("NoSuchKey", 404):
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfMatch=condition)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k")["DeleteMarker"]
    with raises_s3("NoSuchKey", 404):
        s3.put_object(Bucket=bucket, Key="k", Body=b"y", IfMatch="*")
    # Nothing was written: the only versions are the first one and its delete marker.
    listing = s3.list_object_versions(Bucket=bucket, Prefix="k")
    assert len(listing.get("Versions", [])) == 1
    assert len(listing.get("DeleteMarkers", [])) == 1


def test_racing_writers_with_if_none_match_star_exactly_one_wins(s3, bucket):
    writers = 8
    barrier = threading.Barrier(writers)
    outcomes: list[tuple[int, object]] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        barrier.wait()
        try:
            s3.put_object(Bucket=bucket, Key="race", Body=f"writer {n}".encode(), IfNoneMatch="*")
            result: object = "won"
        except ClientError as err:
            result = (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"])
        with lock:
            outcomes.append((n, result))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, result in outcomes if result == "won"]
    assert len(winners) == 1, outcomes
    losers = {result for _, result in outcomes if result != "won"}
    assert losers <= {("PreconditionFailed", 412), ("ConditionalRequestConflict", 409)}, losers
    assert body_of(s3, bucket, "race") == f"writer {winners[0]}".encode()


def start_upload(s3, bucket, key, data: bytes):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data)["ETag"]
    return upload_id, [{"PartNumber": 1, "ETag": etag}]


def test_conditional_complete_multipart_upload(s3, bucket):
    upload_id, parts = start_upload(s3, bucket, "mp", b"first")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert done["ETag"] == multipart_etag([b"first"])

    upload_id, parts = start_upload(s3, bucket, "mp", b"second")
    with raises_s3("PreconditionFailed", 412):
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    with raises_s3("PreconditionFailed", 412):
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch='"00000000000000000000000000000000-1"')
    assert body_of(s3, bucket, "mp") == b"first"
    # A refused completion leaves the upload in place, so it can be completed on the right terms.
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [upload_id]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts}, IfMatch=done["ETag"])
    assert body_of(s3, bucket, "mp") == b"second"

    upload_id, parts = start_upload(s3, bucket, "absent", b"x")
    with raises_s3("NoSuchKey", 404):
        s3.complete_multipart_upload(Bucket=bucket, Key="absent", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch="*")


def test_retried_completion_answers_like_the_first(s3, bucket):
    first, second = b"a" * PART, b"tail"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = []
    for number, data in enumerate([first, second], start=1):
        etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=number, Body=data)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    assert again["ETag"] == done["ETag"] == multipart_etag([first, second])
    assert body_of(s3, bucket, "big") == first + second
    # A "retry" naming other parts, or another key, is not the same completion.
    with raises_s3("NoSuchUpload", 404):
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts[:1]})
    with raises_s3("NoSuchUpload", 404):
        s3.complete_multipart_upload(Bucket=bucket, Key="other", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    with raises_s3("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="other")


@pytest.mark.parametrize("condition", ["IfNoneMatch", "IfModifiedSince"])
def test_not_modified_names_the_object(s3, bucket, condition):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"body")
    head = s3.head_object(Bucket=bucket, Key="k")
    value = put["ETag"] if condition == "IfNoneMatch" else head["LastModified"]
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", **{condition: value})
    meta = info.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 304
    assert meta["HTTPHeaders"]["etag"] == put["ETag"]
    assert meta["HTTPHeaders"]["last-modified"] == head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
