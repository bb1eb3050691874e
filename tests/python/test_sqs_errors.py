"""SQS bad input: every refusal answers SQS's own error code and changes nothing; tenancy: another
project's queues are invisible; roles limit keys."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from sqs_helpers import queue_name, raises_sqs, sqs_client


@pytest.fixture(scope="module")
def sqs(server):
    return sqs_client(server)


@pytest.fixture
def queue(sqs):
    return sqs.create_queue(QueueName=queue_name("err"))["QueueUrl"]


def count(sqs, url: str) -> dict[str, str]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {k: v for k, v in attrs.items() if k.startswith("ApproximateNumber")}


EMPTY = {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0",
         "ApproximateNumberOfMessagesDelayed": "0"}


@pytest.mark.parametrize("attributes, code", [
    ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
    ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
    ({"DelaySeconds": "901"}, "InvalidAttributeValue"),
    ({"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue"),
    ({"MaximumMessageSize": "1023"}, "InvalidAttributeValue"),
    ({"MaximumMessageSize": "abc"}, "InvalidAttributeValue"),
    ({"NoSuchAttribute": "1"}, "InvalidAttributeName"),
    ({"RedrivePolicy": "not json"}, "InvalidAttributeValue"),
    ({"RedrivePolicy": json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:x",
                                   "maxReceiveCount": 3})}, "InvalidAttributeValue"),
])
def test_bad_queue_attributes_create_nothing(sqs, attributes, code):
    name = queue_name("bad")
    with raises_sqs(code):
        sqs.create_queue(QueueName=name, Attributes=attributes)
    with raises_sqs("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.get_queue_url(QueueName=name)


def test_redrive_target_must_exist_and_count_in_range(sqs, queue):
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    missing = arn.rsplit(":", 1)[0] + ":" + queue_name("missing")
    name = queue_name("src")
    with raises_sqs("InvalidParameterValue"):
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": missing, "maxReceiveCount": 2})})
    with raises_sqs("InvalidAttributeValue"):
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": 1001})})
    with raises_sqs("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.get_queue_url(QueueName=name)


def test_bad_queue_names(sqs):
    for name in ["has space", "x" * 81, "", "bad!"]:
        # botocore refuses some before sending (ParamValidationError), the server the rest.
        with pytest.raises((ClientError, ParamValidationError)):
            sqs.create_queue(QueueName=name)
    with raises_sqs("InvalidParameterValue"):
        sqs.create_queue(QueueName="has space")


def test_set_attributes_refusals_change_nothing(sqs, queue):
    before = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    with raises_sqs("InvalidAttributeValue"):
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "901"})
    with raises_sqs("InvalidAttributeName"):
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Bogus": "1"})
    with raises_sqs("InvalidAttributeName"):
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Bogus"])
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"] == before


def test_bad_messages(sqs, queue):
    with raises_sqs("InvalidMessageContents"):
        sqs.send_message(QueueUrl=queue, MessageBody="bad \x01 char")
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue, MessageBody="x" * 262_145)
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue, MessageBody="x", DelaySeconds=901)
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "not a number"}})
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes={
            "AWS.reserved": {"DataType": "String", "StringValue": "v"}})
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageDeduplicationId="d")  # standard queue
    with raises_sqs("InvalidParameterValue"):
        sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=11)
    with raises_sqs("InvalidParameterValue"):
        sqs.receive_message(QueueUrl=queue, VisibilityTimeout=43_201)
    assert count(sqs, queue) == EMPTY


def test_bad_batches(sqs, queue):
    with raises_sqs("AWS.SimpleQueueService.TooManyEntriesInBatchRequest"):
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    with raises_sqs("AWS.SimpleQueueService.BatchEntryIdsNotDistinct"):
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
    with raises_sqs("AWS.SimpleQueueService.EmptyBatchRequest"):
        sqs.send_message_batch(QueueUrl=queue, Entries=[])
    with raises_sqs("AWS.SimpleQueueService.InvalidBatchEntryId"):
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "bad id!", "MessageBody": "x"}])
    with raises_sqs("AWS.SimpleQueueService.BatchRequestTooLong"):
        sqs.send_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(i), "MessageBody": "x" * 100_000} for i in range(3)])
    with raises_sqs("AWS.SimpleQueueService.EmptyBatchRequest"):
        sqs.delete_message_batch(QueueUrl=queue, Entries=[])
    assert count(sqs, queue) == EMPTY
    # One bad entry fails alone; the others are sent.
    result = sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": "good", "MessageBody": "fine"}, {"Id": "bad", "MessageBody": "\x02"}])
    assert [e["Id"] for e in result["Successful"]] == ["good"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in result["Failed"]] == \
        [("bad", "InvalidMessageContents", True)]
    assert count(sqs, queue)["ApproximateNumberOfMessages"] == "1"


def test_receipt_handles(sqs, queue):
    other = sqs.create_queue(QueueName=queue_name("other"))["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="elsewhere")
    handle = sqs.receive_message(QueueUrl=other)["Messages"][0]["ReceiptHandle"]
    with raises_sqs("ReceiptHandleIsInvalid"):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    with raises_sqs("ReceiptHandleIsInvalid"):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle")
    with raises_sqs("ReceiptHandleIsInvalid"):
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
    assert count(sqs, other)["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_unknown_queue(sqs, queue):
    missing = queue.rsplit("/", 1)[0] + "/" + queue_name("missing")
    for call in [lambda: sqs.send_message(QueueUrl=missing, MessageBody="x"),
                 lambda: sqs.receive_message(QueueUrl=missing),
                 lambda: sqs.purge_queue(QueueUrl=missing),
                 lambda: sqs.delete_queue(QueueUrl=missing),
                 lambda: sqs.get_queue_attributes(QueueUrl=missing)]:
        with raises_sqs("AWS.SimpleQueueService.NonExistentQueue") as info:
            call()
        assert info.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=queue_name("missing"))


def test_bad_signature_is_refused(server, queue):
    admin = server.admin
    from stratus_testlib import Creds
    wrong = Creds(admin.access_key_id, "wrong-secret", admin.project, admin.role, None)
    with raises_sqs("InvalidSignatureException"):
        sqs_client(server, wrong).send_message(QueueUrl=queue, MessageBody="x")


@pytest.fixture(scope="module")
def tenants(server):
    a_project, b_project = f"sqsa-{uuid.uuid4().hex[:8]}", f"sqsb-{uuid.uuid4().hex[:8]}"
    a = sqs_client(server, server.create_key(a_project, "member"))
    a_read = sqs_client(server, server.create_key(a_project, "read-only"))
    b = sqs_client(server, server.create_key(b_project, "member"))
    return a, a_read, b


def test_other_projects_cannot_see_or_touch_a_queue(tenants):
    a, _, b = tenants
    name = queue_name("jobs")
    url = a.create_queue(QueueName=name)["QueueUrl"]
    a.send_message(QueueUrl=url, MessageBody="secret")
    with raises_sqs("AWS.SimpleQueueService.NonExistentQueue"):
        b.get_queue_url(QueueName=name)
    assert url not in b.list_queues().get("QueueUrls", [])
    for call in [lambda: b.send_message(QueueUrl=url, MessageBody="intruder"),
                 lambda: b.receive_message(QueueUrl=url),
                 lambda: b.get_queue_attributes(QueueUrl=url),
                 lambda: b.purge_queue(QueueUrl=url),
                 lambda: b.delete_queue(QueueUrl=url)]:
        with raises_sqs("AWS.SimpleQueueService.NonExistentQueue"):
            call()
    # Each project may have its own queue of the same name.
    b_url = b.create_queue(QueueName=name)["QueueUrl"]
    assert b_url != url
    assert b.receive_message(QueueUrl=b_url).get("Messages", []) == []
    got = a.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["secret"]


def test_read_only_keys_cannot_write(tenants):
    a, a_read, _ = tenants
    url = a.create_queue(QueueName=queue_name("ro"))["QueueUrl"]
    assert url in a_read.list_queues()["QueueUrls"]
    assert a_read.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "0"
    with raises_sqs("AccessDenied"):
        a_read.send_message(QueueUrl=url, MessageBody="x")
    with raises_sqs("AccessDenied"):
        a_read.create_queue(QueueName=queue_name("ro"))
    with raises_sqs("AccessDenied"):
        a_read.delete_queue(QueueUrl=url)
    assert a.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "0"
