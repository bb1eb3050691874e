"""SNS to SQS: a queue subscription receives the JSON envelope, or with RawMessageDelivery the
raw message and its attributes. Needs the SQS service (the `sqs` branch) merged."""

from __future__ import annotations

import json
import time

import boto3

from sns_helpers import sns_client, unique_topic
from stratus_testlib import REGION, client_config


def sqs_client(server):
    creds = server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client("sqs", endpoint_url=server.endpoint, config=client_config())


def receive_one(sqs, url: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)
        messages = received.get("Messages", [])
        if messages:
            return messages[0]
    raise AssertionError("no message arrived on the queue")


def test_queue_receives_envelope_then_raw(server):
    sns, sqs = sns_client(server), sqs_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    url = sqs.create_queue(QueueName=unique_topic("q"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]

    message_id = sns.publish(TopicArn=topic, Message="enveloped", Subject="s",
                             MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    envelope = json.loads(receive_one(sqs, url)["Body"])
    assert (envelope["Type"], envelope["MessageId"], envelope["TopicArn"]) == ("Notification", message_id, topic)
    assert (envelope["Message"], envelope["Subject"]) == ("enveloped", "s")
    assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sqs.purge_queue(QueueUrl=url)
    sns.publish(TopicArn=topic, Message="raw body",
                MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    raw = receive_one(sqs, url)
    assert raw["Body"] == "raw body"
    assert raw["MessageAttributes"]["k"] == {"DataType": "String", "StringValue": "v"}
