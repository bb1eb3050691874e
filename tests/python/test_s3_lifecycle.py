"""S3 bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration (round trip and every
validation error), the `x-amz-expiration` header, and the background sweeper that executes the
rules. Sweeper tests run a server whose lifecycle "day" is one second (`--lifecycle-day-seconds
1 --lifecycle-interval 1s`), so a 1-day rule acts within a few seconds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time

import pytest
from botocore.exceptions import ClientError

from stratus_testlib import StratusServer, aws_client, http_request, unique_bucket, wait_until

FAST = ("--lifecycle-day-seconds", "1", "--lifecycle-interval", "1s")


def error_of(exc: pytest.ExceptionInfo) -> tuple[int, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def rule(rule_id: str = "r1", prefix: str = "logs/", **actions) -> dict:
    body = {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}}
    body.update(actions or {"Expiration": {"Days": 1}})
    return body


def put_rules(s3, bucket: str, *rules: dict) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def keys_of(s3, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def versions_of(s3, bucket: str, key: str) -> tuple[list[dict], list[dict]]:
    page = s3.list_object_versions(Bucket=bucket, Prefix=key)
    versions = [v for v in page.get("Versions", []) if v["Key"] == key]
    markers = [m for m in page.get("DeleteMarkers", []) if m["Key"] == key]
    return versions, markers


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory):
    """A server whose lifecycle day is one second and whose sweeper runs every second."""
    root = tmp_path_factory.mktemp("lifecycle")
    srv = StratusServer(root / "data", root / "server.log", FAST).start()
    yield srv
    srv.kill()


@pytest.fixture
def fast_s3(fast_server):
    return fast_server.client()


def new_bucket(s3, versioned: bool = False, lock: bool = False) -> str:
    name = unique_bucket("lc")
    if lock:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    else:
        s3.create_bucket(Bucket=name)
    if versioned and not lock:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


# --- configuration ------------------------------------------------------------------------------

FULL_CONFIG = [
    {"ID": "legacy-prefix", "Prefix": "old/", "Status": "Enabled", "Expiration": {"Days": 30}},
    {"ID": "by-date", "Filter": {"Prefix": "dated/"}, "Status": "Disabled",
     "Expiration": {"Date": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)}},
    {"ID": "by-tag", "Filter": {"Tag": {"Key": "class", "Value": "tmp"}}, "Status": "Enabled",
     "Expiration": {"Days": 2}},
    {"ID": "by-and", "Status": "Enabled",
     "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
                        "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 3}},
    {"ID": "by-size", "Filter": {"ObjectSizeGreaterThan": 100}, "Status": "Enabled",
     "Expiration": {"Days": 7}},
    {"ID": "markers", "Filter": {}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
    {"ID": "uploads", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
    {"ID": "tiers", "Filter": {"Prefix": "cold/"}, "Status": "Enabled",
     "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
     "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}]},
]


def test_configuration_round_trips_every_filter_and_action(s3, bucket):
    put_rules(s3, bucket, *FULL_CONFIG)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == FULL_CONFIG


def test_rule_without_id_is_given_one(s3, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Prefix": "a/", "Status": "Enabled", "Expiration": {"Days": 1}}]})
    (got,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got["ID"] and got["Prefix"] == "a/"


def test_missing_configuration_is_404_and_delete_removes_it(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(exc) == (404, "NoSuchLifecycleConfiguration")
    # Deleting no configuration succeeds, as S3's does.
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    put_rules(s3, bucket, rule())
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(exc) == (404, "NoSuchLifecycleConfiguration")


def test_missing_bucket_is_no_such_bucket(s3):
    with pytest.raises(ClientError) as exc:
        put_rules(s3, unique_bucket("absent"), rule())
    assert error_of(exc) == (404, "NoSuchBucket")


INVALID = {
    "id-too-long": ([rule("x" * 256)], "InvalidArgument"),
    "duplicate-id": ([rule("same", "a/"), rule("same", "b/")], "InvalidArgument"),
    "status-lowercase": ([{**rule(), "Status": "enabled"}], "MalformedXML"),
    "expiration-days-0": ([rule(Expiration={"Days": 0})], "InvalidArgument"),
    "expiration-date-not-midnight": (
        [rule(Expiration={"Date": dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)})], "InvalidArgument"),
    "expiration-days-and-date": (
        [rule(Expiration={"Days": 1, "Date": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)})], "MalformedXML"),
    "marker-with-days": ([rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})], "MalformedXML"),
    "empty-expiration": ([rule(Expiration={})], "MalformedXML"),
    "noncurrent-days-0": ([rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})], "InvalidArgument"),
    "newer-noncurrent-0": (
        [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 0})], "InvalidArgument"),
    "newer-noncurrent-101": (
        [rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 101})],
        "InvalidArgument"),
    "abort-days-0": ([rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})], "InvalidArgument"),
    "abort-with-tag-filter": (
        [{"ID": "t", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}], "InvalidRequest"),
    "filter-and-prefix": ([{**rule(), "Prefix": "x/"}], "MalformedXML"),
    "neither-filter-nor-prefix": ([{"ID": "n", "Status": "Enabled", "Expiration": {"Days": 1}}], "MalformedXML"),
    "two-filter-conditions": (
        [{"ID": "t", "Status": "Enabled", "Filter": {"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}},
          "Expiration": {"Days": 1}}], "MalformedXML"),
    "size-bounds-crossed": (
        [{"ID": "s", "Status": "Enabled",
          "Filter": {"And": {"Prefix": "a/", "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 100}},
          "Expiration": {"Days": 1}}], "InvalidArgument"),
    "no-action": ([{"ID": "n", "Status": "Enabled", "Filter": {"Prefix": "a/"}}], "InvalidRequest"),
    "transition-ia-under-30-days": (
        [rule(Transitions=[{"Days": 10, "StorageClass": "STANDARD_IA"}])], "InvalidArgument"),
    "transition-unknown-class": ([rule(Transitions=[{"Days": 10, "StorageClass": "PLATINUM"}])], "MalformedXML"),
    "transition-date-not-midnight": (
        [rule(Transitions=[{"Date": dt.datetime(2031, 1, 1, 1, tzinfo=dt.UTC),
                            "StorageClass": "GLACIER"}])], "InvalidArgument"),
    "too-many-rules": ([rule(f"r{i}", f"p{i}/") for i in range(1001)], "MalformedXML"),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_configuration_is_refused_and_changes_nothing(s3, bucket, name):
    rules, code = INVALID[name]
    original = [rule("kept", "kept/")]
    put_rules(s3, bucket, *original)
    with pytest.raises(ClientError) as exc:
        put_rules(s3, bucket, *rules)
    assert error_of(exc) == (400, code)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == original


def test_other_projects_and_readers_cannot_touch_the_configuration(server, s3, bucket):
    put_rules(s3, bucket, rule())
    outsider = server.client(server.create_key("lc-outsider", "member"))
    for call in (lambda c: put_rules(c, bucket, rule("evil", "")),
                 lambda c: c.get_bucket_lifecycle_configuration(Bucket=bucket),
                 lambda c: c.delete_bucket_lifecycle(Bucket=bucket)):
        with pytest.raises(ClientError) as exc:
            call(outsider)
        assert error_of(exc) == (403, "AccessDenied")
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [rule()]


# --- x-amz-expiration ---------------------------------------------------------------------------

def expected_header(last_modified: dt.datetime, days: int, rule_id: str) -> str:
    midnight = dt.datetime.combine(last_modified.date(), dt.time(), tzinfo=dt.UTC)
    if midnight < last_modified:
        midnight += dt.timedelta(days=1)
    when = email.utils.format_datetime(midnight + dt.timedelta(days=days), usegmt=True)
    return f'expiry-date="{when}", rule-id="{rule_id}"'


def expiration_header(response: dict) -> str | None:
    return response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-expiration")


def test_expiration_header_on_put_head_and_get(s3, bucket):
    put_rules(s3, bucket, rule("soon", "h/", Expiration={"Days": 3}),
              rule("later", "h/", Expiration={"Date": dt.datetime(2099, 1, 1, tzinfo=dt.UTC)}),
              {**rule("off", "", Expiration={"Days": 1}), "Status": "Disabled"})
    put = s3.put_object(Bucket=bucket, Key="h/a", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="h/a")
    # Days count from the midnight after the last modification; the earliest rule wins.
    want = expected_header(head["LastModified"], 3, "soon")
    assert expiration_header(put) == want
    assert expiration_header(head) == want
    assert expiration_header(s3.get_object(Bucket=bucket, Key="h/a")) == want
    # No enabled rule selects this key; a read naming a version gets no header either.
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    assert expiration_header(s3.head_object(Bucket=bucket, Key="other")) is None
    assert expiration_header(s3.head_object(Bucket=bucket, Key="h/a", VersionId="null")) is None


def test_expiration_header_on_copy_and_multipart_completion(s3, bucket):
    put_rules(s3, bucket, rule("c", "c/", Expiration={"Days": 2}))
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    copied = s3.copy_object(Bucket=bucket, Key="c/copy", CopySource={"Bucket": bucket, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="c/copy")
    assert expiration_header(copied) == expected_header(head["LastModified"], 2, "c")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="c/mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="c/mp", UploadId=upload, PartNumber=1, Body=b"part")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c/mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=bucket, Key="c/mp")
    assert expiration_header(done) == expected_header(head["LastModified"], 2, "c")


def test_expiration_header_follows_tag_and_date_rules(s3, bucket):
    put_rules(s3, bucket, {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "1"}},
                           "Expiration": {"Date": dt.datetime(2099, 3, 1, tzinfo=dt.UTC)}})
    tagged = s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="tmp=1")
    assert expiration_header(tagged) == 'expiry-date="Sun, 01 Mar 2099 00:00:00 GMT", rule-id="tagged"'
    assert expiration_header(s3.put_object(Bucket=bucket, Key="u", Body=b"x", Tagging="tmp=2")) is None


# --- the sweeper ------------------------------------------------------------------------------

def test_current_versions_expire_in_an_unversioned_bucket(fast_s3):
    bucket = new_bucket(fast_s3)
    put_rules(fast_s3, bucket, rule("by-prefix", "tmp/"),
              {"ID": "by-tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "ttl", "Value": "short"}},
               "Expiration": {"Days": 1}})
    for key in ("tmp/a", "tmp/b", "keep/a"):
        fast_s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    fast_s3.put_object(Bucket=bucket, Key="keep/tagged", Body=b"data", Tagging="ttl=short")
    fast_s3.put_object(Bucket=bucket, Key="keep/other-tag", Body=b"data", Tagging="ttl=long")
    wait_until(lambda: keys_of(fast_s3, bucket) == {"keep/a", "keep/other-tag"}, timeout=10,
               what="matching objects expired")


def test_current_version_expiry_in_a_versioned_bucket_leaves_a_delete_marker(fast_s3):
    bucket = new_bucket(fast_s3, versioned=True)
    put_rules(fast_s3, bucket, rule("exp", "v/"))
    version = fast_s3.put_object(Bucket=bucket, Key="v/a", Body=b"data")["VersionId"]
    wait_until(lambda: versions_of(fast_s3, bucket, "v/a")[1], timeout=10, what="a delete marker")
    time.sleep(2.5)  # later passes must not stack more markers on the hidden key
    versions, markers = versions_of(fast_s3, bucket, "v/a")
    assert [v["VersionId"] for v in versions] == [version]
    assert len(markers) == 1 and markers[0]["IsLatest"]
    assert "v/a" not in keys_of(fast_s3, bucket)


def test_noncurrent_versions_expire_keeping_the_newest(fast_s3):
    bucket = new_bucket(fast_s3, versioned=True)
    ids = [fast_s3.put_object(Bucket=bucket, Key="n/a", Body=f"v{i}".encode())["VersionId"] for i in range(4)]
    put_rules(fast_s3, bucket, rule("noncur", "n/", NoncurrentVersionExpiration={
        "NoncurrentDays": 1, "NewerNoncurrentVersions": 1}))
    wait_until(lambda: len(versions_of(fast_s3, bucket, "n/a")[0]) == 2, timeout=10, what="old versions gone")
    time.sleep(2.5)  # the retained noncurrent version stays
    assert {v["VersionId"] for v in versions_of(fast_s3, bucket, "n/a")[0]} == {ids[3], ids[2]}
    assert fast_s3.get_object(Bucket=bucket, Key="n/a")["Body"].read() == b"v3"


def test_expired_delete_markers_are_removed(fast_s3):
    bucket = new_bucket(fast_s3, versioned=True)
    for key in ("dm/lonely", "dm/shadowing"):
        fast_s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        fast_s3.delete_object(Bucket=bucket, Key=key)
    lonely_version = versions_of(fast_s3, bucket, "dm/lonely")[0][0]["VersionId"]
    fast_s3.delete_object(Bucket=bucket, Key="dm/lonely", VersionId=lonely_version)
    put_rules(fast_s3, bucket, rule("markers", "dm/", Expiration={"ExpiredObjectDeleteMarker": True}))
    wait_until(lambda: versions_of(fast_s3, bucket, "dm/lonely") == ([], []), timeout=10,
               what="the lonely delete marker removed")
    # A marker that still hides a version is not expired.
    versions, markers = versions_of(fast_s3, bucket, "dm/shadowing")
    assert len(versions) == 1 and len(markers) == 1


def test_marker_expires_once_noncurrent_expiry_removed_what_it_hid(fast_s3):
    bucket = new_bucket(fast_s3, versioned=True)
    fast_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    fast_s3.delete_object(Bucket=bucket, Key="k")
    put_rules(fast_s3, bucket, rule("dm", "", Expiration={"ExpiredObjectDeleteMarker": True}),
              rule("noncur", "", NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    # First the hidden version goes (noncurrent for a day), then the marker is alone and goes.
    wait_until(lambda: versions_of(fast_s3, bucket, "k") == ([], []), timeout=10, what="key fully gone")
    with pytest.raises(ClientError) as exc:
        fast_s3.head_object(Bucket=bucket, Key="k")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "x-amz-delete-marker" not in exc.value.response["ResponseMetadata"]["HTTPHeaders"]


def test_incomplete_multipart_uploads_are_aborted(fast_s3):
    bucket = new_bucket(fast_s3)
    stale = fast_s3.create_multipart_upload(Bucket=bucket, Key="mp/a")["UploadId"]
    fast_s3.upload_part(Bucket=bucket, Key="mp/a", UploadId=stale, PartNumber=1, Body=b"part")
    kept = fast_s3.create_multipart_upload(Bucket=bucket, Key="other/b")["UploadId"]
    put_rules(fast_s3, bucket, rule("abort", "mp/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}))

    def uploads():
        return {u["UploadId"] for u in fast_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}

    wait_until(lambda: uploads() == {kept}, timeout=10, what="the stale upload aborted")
    with pytest.raises(ClientError) as exc:
        fast_s3.list_parts(Bucket=bucket, Key="mp/a", UploadId=stale)
    assert error_of(exc) == (404, "NoSuchUpload")


def test_object_lock_keeps_a_locked_version(fast_server, fast_s3):
    bucket = new_bucket(fast_s3, lock=True)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    locked = fast_s3.put_object(Bucket=bucket, Key="l/a", Body=b"locked", ObjectLockMode="GOVERNANCE",
                                ObjectLockRetainUntilDate=until)["VersionId"]
    unlocked = fast_s3.put_object(Bucket=bucket, Key="l/a", Body=b"free")["VersionId"]
    current = fast_s3.put_object(Bucket=bucket, Key="l/a", Body=b"current")["VersionId"]
    put_rules(fast_s3, bucket, rule("noncur", "l/", NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    wait_until(lambda: unlocked not in {v["VersionId"] for v in versions_of(fast_s3, bucket, "l/a")[0]},
               timeout=10, what="the unlocked version removed")
    time.sleep(2.5)
    assert {v["VersionId"] for v in versions_of(fast_s3, bucket, "l/a")[0]} == {current, locked}
    metrics = http_request(fast_server.endpoint + "/metrics",
                           headers={"Authorization": f"Bearer {fast_server.admin.token}"}).body.decode()
    assert 'stratus_s3_lifecycle_actions_total{action="skip-locked"}' in metrics
    assert 'stratus_s3_lifecycle_actions_total{action="expire-noncurrent"}' in metrics


def test_a_disabled_rule_does_nothing(fast_s3):
    bucket = new_bucket(fast_s3)
    put_rules(fast_s3, bucket, {**rule("off", ""), "Status": "Disabled"})
    fast_s3.put_object(Bucket=bucket, Key="stays", Body=b"x")
    time.sleep(3.5)  # three lifecycle days and passes
    assert keys_of(fast_s3, bucket) == {"stays"}


def test_expirations_emit_lifecycle_events(fast_server, fast_s3):
    sqs = aws_client(fast_server, "sqs")
    queue_url = sqs.create_queue(QueueName=unique_bucket("lc-events"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    notify = {"QueueConfigurations": [{"Id": "lc", "QueueArn": queue_arn,
                                       "Events": ["s3:LifecycleExpiration:*", "s3:ObjectRemoved:*"]}]}
    versioned, plain = new_bucket(fast_s3, versioned=True), new_bucket(fast_s3)
    for bucket in (versioned, plain):
        fast_s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notify)
        fast_s3.put_object(Bucket=bucket, Key="e/a", Body=b"x")
        put_rules(fast_s3, bucket, rule("exp", "e/"))
    seen: set[tuple[str, str]] = set()

    def received() -> bool:
        for msg in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1,
                                       MaxNumberOfMessages=10).get("Messages", []):
            for record in json.loads(msg["Body"]).get("Records", []):
                seen.add((record["s3"]["bucket"]["name"], record["eventName"]))
        return len(seen) >= 2

    wait_until(received, timeout=12, what="lifecycle events from both buckets")
    # A lifecycle expiration is not a client's ObjectRemoved.
    assert seen == {(versioned, "LifecycleExpiration:DeleteMarkerCreated"), (plain, "LifecycleExpiration:Delete")}


def test_sweeper_finishes_pending_work_after_a_crash(new_server):
    # A long interval: the only pass is the one each start runs, so the rule's work is pending
    # (due, not done) when the server is killed.
    srv = new_server("lc-crash", "--lifecycle-day-seconds", "1", "--lifecycle-interval", "1h").start()
    s3 = srv.client()
    bucket = new_bucket(s3)
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"r/{i}", Body=b"x")
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    put_rules(s3, bucket, rule("exp", "r/"))
    time.sleep(1.5)
    assert len(keys_of(s3, bucket)) == 6
    srv.kill()
    srv.start()
    s3 = srv.client()
    wait_until(lambda: keys_of(s3, bucket) == {"keep"}, timeout=10, what="the pending expirations done")
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [rule("exp", "r/")]
