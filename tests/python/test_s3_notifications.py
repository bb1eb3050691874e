"""Bucket notification configurations and the events they leave in the outbox (GET /v1/events,
which lists recent events with their delivery state). Delivery itself is tested in
test_bucket_triggers.py (functions) and test_s3_queue_notifications.py (queues and topics)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python_function, lambda_client
from stratus_testlib import MIB, account_id, aws_client, http_request, md5_hex, multipart_etag, raises_s3, unique_bucket

# Queue and topic destinations must be in the bucket's project: the admin key's, "admin".
ACCOUNT = account_id("admin")
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:removed-images"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:new-documents"
IMAGES_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:new-images"


def create_destinations(server):
    """The queue and topics CONFIG names: S3 refuses destinations that do not exist."""
    aws_client(server, "sqs").create_queue(QueueName="removed-images")
    sns = aws_client(server, "sns")
    for topic in ("new-documents", "new-images"):
        sns.create_topic(Name=topic)


@pytest.fixture(autouse=True)
def destinations(server):
    create_destinations(server)


def key_filter(**rules: str) -> dict:
    return {"Key": {"FilterRules": [{"Name": name, "Value": value} for name, value in rules.items()]}}


CONFIG = {
    "QueueConfigurations": [{"Id": "image-removals", "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectRemoved:*"],
                             "Filter": key_filter(prefix="images/")}],
    "TopicConfigurations": [{"Id": "pdf-puts", "TopicArn": TOPIC_ARN, "Events": ["s3:ObjectCreated:Put"],
                             "Filter": key_filter(suffix=".pdf")},
                            {"Id": "jpg-images", "TopicArn": IMAGES_TOPIC_ARN, "Events": ["s3:ObjectCreated:*"],
                             "Filter": key_filter(prefix="images/", suffix=".jpg")}],
}
ARN_FIELD = {"LambdaFunctionConfigurations": "LambdaFunctionArn", "QueueConfigurations": "QueueArn",
             "TopicConfigurations": "TopicArn"}


def normalized(config: dict) -> dict:
    """Comparable form: rule names case-folded, events sorted, response metadata dropped."""
    out = {}
    for section, arn_field in ARN_FIELD.items():
        rules = []
        for rule in config.get(section, []):
            filters = sorted((r["Name"].lower(), r["Value"])
                             for r in rule.get("Filter", {}).get("Key", {}).get("FilterRules", []))
            rules.append((rule.get("Id"), rule[arn_field], tuple(sorted(rule["Events"])), tuple(filters)))
        if rules:
            out[section] = sorted(rules)
    return out


def bucket_events(server, bucket: str) -> list[dict]:
    return [e for e in server.events() if e["bucket"] == bucket]


@pytest.fixture
def notified_bucket(s3, bucket):
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=CONFIG)
    return bucket


def test_configuration_round_trip(s3, bucket):
    empty = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert normalized(empty) == {}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=CONFIG)
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == normalized(CONFIG)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == {}


def test_lambda_destinations_must_exist(server, s3, bucket):
    function = create_python_function(lambda_client(server), "def handler(event, context):\n    return 1\n")
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"
    config = dict(CONFIG, LambdaFunctionConfigurations=[
        {"Id": "thumbs", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": key_filter(prefix="images/", suffix=".jpg")}])
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == normalized(config)
    for missing in (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-function", "not-an-arn"):
        bad = {"LambdaFunctionConfigurations": [
            {"Id": "x", "LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}]}
        with raises_s3("InvalidArgument", 400):
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=bad)
    # A refused configuration changes nothing.
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == normalized(config)


def test_configuration_errors(s3):
    missing = unique_bucket("nonotify")
    with raises_s3("NoSuchBucket", 404):
        s3.get_bucket_notification_configuration(Bucket=missing)
    with raises_s3("NoSuchBucket", 404):
        s3.put_bucket_notification_configuration(Bucket=missing, NotificationConfiguration=CONFIG)


def test_unknown_event_name_is_rejected(s3, bucket):
    bad = {"QueueConfigurations": [{"Id": "x", "QueueArn": QUEUE_ARN, "Events": ["s3:ObjectExploded:*"]}]}
    with pytest.raises(ClientError) as info:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=bad)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == {}


def check_record(event: dict, bucket: str, key: str, size: int | None, etag: str | None, rule_id: str) -> int:
    """Checks one outbox entry's AWS-shaped payload; returns its sequencer as an int."""
    [record] = event["payload"]["Records"]
    assert "s3:" + record["eventName"] == event["event_name"]
    assert record["eventSource"] == "aws:s3" and record["awsRegion"] == "us-east-1"
    assert record["eventVersion"].startswith("2.")
    when = dt.datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 600
    s3_part = record["s3"]
    assert s3_part["configurationId"] == rule_id
    assert s3_part["bucket"]["name"] == bucket
    assert s3_part["bucket"].get("arn", f"arn:aws:s3:::{bucket}") == f"arn:aws:s3:::{bucket}"
    obj = s3_part["object"]
    assert urllib.parse.unquote_plus(obj["key"]) == key, obj["key"]
    assert " " not in obj["key"]  # URL-encoded
    if size is not None:
        assert obj["size"] == size
    if etag is not None:
        assert obj["eTag"] == etag
    assert obj["sequencer"] and all(c in "0123456789ABCDEFabcdef" for c in obj["sequencer"])
    return int(obj["sequencer"], 16)


def test_events_follow_rules_and_filters(server, s3, notified_bucket):
    b = notified_bucket
    jpg, odd_key, pdf = b"jpeg bytes", b"spaces and plus", b"%PDF-1.7"
    s3.put_object(Bucket=b, Key="images/cat.jpg", Body=jpg)           # lambda: created
    s3.put_object(Bucket=b, Key="images/cat.png", Body=b"png")         # wrong suffix: nothing
    s3.put_object(Bucket=b, Key="other/dog.jpg", Body=b"dog")          # wrong prefix: nothing
    s3.put_object(Bucket=b, Key="docs/report.pdf", Body=pdf)           # topic: Put
    s3.put_object(Bucket=b, Key="images/my photo+1.jpg", Body=odd_key)  # lambda, key encoded
    s3.copy_object(Bucket=b, Key="images/copy.jpg", CopySource={"Bucket": b, "Key": "images/cat.jpg"})
    s3.copy_object(Bucket=b, Key="docs/copied.pdf", CopySource={"Bucket": b, "Key": "docs/report.pdf"})  # not Put
    upload_id = s3.create_multipart_upload(Bucket=b, Key="images/mp.jpg")["UploadId"]
    parts = [b"m" * (5 * MIB), b"tail"]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=b, Key="images/mp.jpg", UploadId=upload_id,
                                                      PartNumber=n, Body=data)["ETag"]}
            for n, data in enumerate(parts, start=1)]
    s3.complete_multipart_upload(Bucket=b, Key="images/mp.jpg", UploadId=upload_id,
                                 MultipartUpload={"Parts": done})
    s3.delete_object(Bucket=b, Key="images/cat.png")                   # queue: removed
    s3.delete_object(Bucket=b, Key="other/dog.jpg")                    # nothing
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "images/mp.jpg"}]})  # queue: removed

    events = bucket_events(server, b)
    got = sorted((e["key"], e["event_name"]) for e in events)
    assert got == sorted([
        ("images/cat.jpg", "s3:ObjectCreated:Put"),
        ("docs/report.pdf", "s3:ObjectCreated:Put"),
        ("images/my photo+1.jpg", "s3:ObjectCreated:Put"),
        ("images/copy.jpg", "s3:ObjectCreated:Copy"),
        ("images/mp.jpg", "s3:ObjectCreated:CompleteMultipartUpload"),
        ("images/cat.png", "s3:ObjectRemoved:Delete"),
        ("images/mp.jpg", "s3:ObjectRemoved:Delete"),
    ])
    assert len({e["id"] for e in events}) == len(events)
    by = {(e["key"], e["event_name"]): e for e in events}
    check_record(by["images/cat.jpg", "s3:ObjectCreated:Put"], b, "images/cat.jpg", len(jpg), md5_hex(jpg),
                 "jpg-images")
    check_record(by["docs/report.pdf", "s3:ObjectCreated:Put"], b, "docs/report.pdf", len(pdf), md5_hex(pdf),
                 "pdf-puts")
    check_record(by["images/my photo+1.jpg", "s3:ObjectCreated:Put"], b, "images/my photo+1.jpg",
                 len(odd_key), md5_hex(odd_key), "jpg-images")
    check_record(by["images/copy.jpg", "s3:ObjectCreated:Copy"], b, "images/copy.jpg", len(jpg), md5_hex(jpg),
                 "jpg-images")
    created = check_record(by["images/mp.jpg", "s3:ObjectCreated:CompleteMultipartUpload"], b, "images/mp.jpg",
                           sum(map(len, parts)), multipart_etag(parts).strip('"'), "jpg-images")
    removed = check_record(by["images/mp.jpg", "s3:ObjectRemoved:Delete"], b, "images/mp.jpg", None, None,
                           "image-removals")
    check_record(by["images/cat.png", "s3:ObjectRemoved:Delete"], b, "images/cat.png", None, None,
                 "image-removals")
    assert removed > created  # sequencers order events on the same key
    # Pending events are listed, not consumed.
    assert sorted(e["id"] for e in bucket_events(server, b)) == sorted(e["id"] for e in events)


def test_failed_writes_produce_no_events(server, s3, notified_bucket):
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with raises_s3("BadDigest", 400):
        s3.put_object(Bucket=notified_bucket, Key="images/bad.jpg", Body=b"x", ContentMD5=wrong_md5)
    with raises_s3("NoSuchKey", 404):
        s3.copy_object(Bucket=notified_bucket, Key="images/c.jpg",
                       CopySource={"Bucket": notified_bucket, "Key": "images/absent.jpg"})
    assert bucket_events(server, notified_bucket) == []


def test_removing_configuration_stops_events(server, s3, notified_bucket):
    s3.put_object(Bucket=notified_bucket, Key="images/before.jpg", Body=b"1")
    s3.put_bucket_notification_configuration(Bucket=notified_bucket, NotificationConfiguration={})
    s3.put_object(Bucket=notified_bucket, Key="images/after.jpg", Body=b"2")
    assert [e["key"] for e in bucket_events(server, notified_bucket)] == ["images/before.jpg"]


def test_unconfigured_bucket_has_no_events(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="images/x.jpg", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="images/x.jpg")
    assert bucket_events(server, bucket) == []


def test_events_endpoint_requires_token(server):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer a.b"}):
        res = http_request(server.endpoint + "/v1/events", headers=headers)
        assert res.status in (401, 403), (headers, res.status)
    health = http_request(server.endpoint + "/v1/health")
    assert health.status == 200 and health.json()["status"] == "ok"


def test_pending_events_survive_restarts(fresh_server):
    create_destinations(fresh_server)
    s3 = fresh_server.client()
    bucket = unique_bucket("durable")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=CONFIG)
    s3.put_object(Bucket=bucket, Key="images/before-stop.jpg", Body=b"1")
    before = bucket_events(fresh_server, bucket)
    assert [e["key"] for e in before] == ["images/before-stop.jpg"]
    fresh_server.restart()  # SIGTERM
    assert [e["id"] for e in bucket_events(fresh_server, bucket)] == [e["id"] for e in before]
    s3 = fresh_server.client()
    assert normalized(s3.get_bucket_notification_configuration(Bucket=bucket)) == normalized(CONFIG)
    s3.put_object(Bucket=bucket, Key="images/before-kill.jpg", Body=b"2")
    fresh_server.kill()
    fresh_server.start()
    keys = [e["key"] for e in bucket_events(fresh_server, bucket)]
    assert sorted(keys) == ["images/before-kill.jpg", "images/before-stop.jpg"]
