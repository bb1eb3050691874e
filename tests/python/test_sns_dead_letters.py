"""SNS subscription dead-letter queues (RedrivePolicy): a message SNS cannot deliver, after its
retries or at once when the endpoint refuses it for good, lands in the subscription's SQS
dead-letter queue instead of being dropped; the policy must name a queue of the project."""

from __future__ import annotations

import json
import time

from sns_helpers import Endpoint, confirmed_http_subscription, raises_sns, sns_client, unique_topic
from sqs_helpers import new_queue
from stratus_testlib import account_id, aws_client


def receive_one(sqs, url: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"]).get("Messages")
        if got:
            return got[0]
    raise AssertionError("nothing reached the dead-letter queue")


def test_an_endpoint_that_keeps_failing_sends_to_the_dead_letter_queue(new_server):
    srv = new_server("snsdlq")
    srv.extra_env["STRATUS_SNS_RETRY_BASE"] = "10ms"  # ten attempts within about five seconds
    srv.start()
    sns, sqs = sns_client(srv), aws_client(srv, "sqs")
    failing = Endpoint()
    try:
        topic = sns.create_topic(Name=unique_topic())["TopicArn"]
        dlq_url, dlq_arn = new_queue(sqs, "snsdlq")
        arn = confirmed_http_subscription(sns, topic, failing)
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                        AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
        failing.failures = 1_000
        sns.publish(TopicArn=topic, Message="undeliverable", Subject="s")
        moved = receive_one(sqs, dlq_url)
        envelope = json.loads(moved["Body"])
        assert envelope["Type"] == "Notification" and envelope["Message"] == "undeliverable"
        assert envelope["TopicArn"] == topic
        assert failing.attempts > 3, "retried before giving up"
    finally:
        failing.close()


def test_a_missing_function_sends_raw_messages_to_the_dead_letter_queue(server, sqs):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    dlq_url, dlq_arn = new_queue(sqs, "lambdadlq")
    missing = f"arn:aws:lambda:us-east-1:{account_id(server.admin.project)}:function:no-such-function"
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=missing,
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    sns.publish(TopicArn=topic, Message="for nobody",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    moved = receive_one(sqs, dlq_url)
    assert json.loads(moved["Body"])["Message"] == "for nobody"


def test_the_redrive_policy_must_name_a_queue_of_the_project(server, sqs):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    foreign = f"arn:aws:sqs:us-east-1:{account_id('someone-else')}:q"
    for policy in (json.dumps({"deadLetterTargetArn": foreign}), json.dumps({"deadLetterTargetArn": "nope"}),
                   json.dumps({"maxReceiveCount": 3})):
        with raises_sns("InvalidParameter", 400):
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=new_queue(sqs)[1],
                          Attributes={"RedrivePolicy": policy})
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
