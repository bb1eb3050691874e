"""Lambda destinations that are queues and topics: a failed asynchronous invocation's record
arrives on the SQS queue named by OnFailure (directly, or through an SNS topic the queue is
subscribed to), read back with boto3's receive_message."""

from __future__ import annotations

import json

import pytest

from lambda_helpers import create_python_function, lambda_client
from sqs_helpers import new_queue
from stratus_testlib import unique_bucket

FAILING = "def handler(event, context):\n    raise ValueError('boom')\n"


@pytest.fixture
def lam(server):
    return lambda_client(server)



def receive_one(sqs, url: str) -> dict:
    messages = []
    for _ in range(6):
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=10).get("Messages", [])
        if messages:
            break
    assert len(messages) == 1, messages
    return messages[0]


def test_on_failure_to_a_queue(lam, sqs):
    url, arn = new_queue(sqs)
    failing = create_python_function(lam, FAILING)
    lam.put_function_event_invoke_config(FunctionName=failing, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    response = lam.invoke(FunctionName=failing, InvocationType="Event", Payload=b'{"order": 9}')
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    message = receive_one(sqs, url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"order": 9}
    assert record["responsePayload"]["errorMessage"] == "boom"
    # Once: nothing else arrives.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", []) == []


def test_on_failure_to_a_topic(lam, sqs, sns):
    url, queue_arn = new_queue(sqs)
    topic_arn = sns.create_topic(Name=unique_bucket("dt"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    failing = create_python_function(lam, FAILING)
    lam.put_function_event_invoke_config(FunctionName=failing, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": topic_arn}})
    lam.invoke(FunctionName=failing, InvocationType="Event", Payload=b'{"order": 10}')
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"order": 10}
