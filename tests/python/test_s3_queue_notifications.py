"""S3 notifications to SQS queues and SNS topics: put_bucket_notification_configuration with
QueueConfigurations / TopicConfigurations, an upload, and the S3 event read back from the queue
with boto3.

Delivery needs the SQS and SNS services; until they are merged the server keeps these events in
its outbox and the delivery tests fail. The validation tests pass on their own."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import new_queue
from stratus_testlib import account_id, unique_bucket


def receive_all(sqs, url: str, expected: int) -> list[dict]:
    messages = []
    for _ in range(6):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", [])
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(messages) >= expected:
            break
    # Nothing beyond what was expected (filters, duplicates).
    messages += sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def prefix_suffix(prefix: str, suffix: str) -> dict:
    return {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}, {"Name": "suffix", "Value": suffix}]}}


def test_uploads_reach_the_queue_with_filters(s3, sqs, bucket):
    url, arn = new_queue(sqs)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "scans", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": prefix_suffix("in/", ".png")}]})
    s3.put_object(Bucket=bucket, Key="in/page one.png", Body=b"png")
    s3.put_object(Bucket=bucket, Key="in/page.jpg", Body=b"jpg")
    s3.put_object(Bucket=bucket, Key="out/page.png", Body=b"png")
    events = [e for e in receive_all(sqs, url, 1) if "Records" in e]
    assert len(events) == 1, events
    [record] = events[0]["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "in/page+one.png"
    assert record["s3"]["configurationId"] == "scans"


def test_uploads_reach_a_topic(s3, sqs, sns, bucket):
    url, queue_arn = new_queue(sqs)
    topic_arn = sns.create_topic(Name=unique_bucket("nt"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:Put"]}]})
    s3.put_object(Bucket=bucket, Key="doc.pdf", Body=b"pdf")
    [envelope] = [e for e in receive_all(sqs, url, 1) if e.get("Type") == "Notification"]
    assert envelope["Subject"] == "Amazon S3 Notification"
    [record] = json.loads(envelope["Message"])["Records"]
    assert record["s3"]["object"]["key"] == "doc.pdf"


def test_destinations_must_be_the_projects_queues_and_topics(server, s3, bucket, sqs):
    account = account_id(server.admin.project)
    _, queue = new_queue(sqs)
    foreign = account_id("someone-else")
    bad = [
        {"QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:us-east-1:{foreign}:q", "Events": ["s3:ObjectCreated:*"]}]},
        {"QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]},
        # A topic ARN in a queue configuration.
        {"QueueConfigurations": [{"QueueArn": f"arn:aws:sns:us-east-1:{account}:t", "Events": ["s3:ObjectCreated:*"]}]},
        {"TopicConfigurations": [{"TopicArn": f"arn:aws:sns:us-east-1:{foreign}:t", "Events": ["s3:ObjectCreated:*"]}]},
        # Well-formed ARNs of the project, but nothing by those names exists.
        {"QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:us-east-1:{account}:no-such-queue",
                                  "Events": ["s3:ObjectCreated:*"]}]},
        {"TopicConfigurations": [{"TopicArn": f"arn:aws:sns:us-east-1:{account}:no-such-topic",
                                  "Events": ["s3:ObjectCreated:*"]}]},
    ]
    good = {"QueueConfigurations": [{"Id": "kept", "QueueArn": queue,
                                     "Events": ["s3:ObjectCreated:*"]}]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=good)
    for config in bad:
        with pytest.raises(ClientError) as info:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
        error = info.value.response["Error"]
        assert error["Code"] == "InvalidArgument", error
        assert error["Message"].startswith("Unable to validate the following destination configurations")
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [c["Id"] for c in stored["QueueConfigurations"]] == ["kept"]
    assert "TopicConfigurations" not in stored
