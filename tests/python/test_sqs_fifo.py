"""FIFO queues: order per message group, a group blocked while a message is in flight,
deduplication (explicit ids and content-based), sequence numbers."""

from __future__ import annotations

import pytest

from sqs_helpers import queue_name, raises_sqs, sqs_client


@pytest.fixture(scope="module")
def sqs(server):
    return sqs_client(server)


@pytest.fixture
def fifo(sqs):
    return sqs.create_queue(QueueName=queue_name("f", fifo=True), Attributes={"FifoQueue": "true"})["QueueUrl"]


def test_order_per_group_and_group_blocking(sqs, fifo):
    for i in range(4):
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=fifo, MessageBody=f"{group}{i}", MessageGroupId=group,
                             MessageDeduplicationId=f"{group}-{i}")
    first = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=2, AttributeNames=["All"])["Messages"]
    bodies = [m["Body"] for m in first]
    assert bodies == ["a0", "b0"] or bodies == ["a0", "a1"], bodies
    # Everything of the groups with messages in flight is held back.
    rest = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages", [])
    held = {m["Body"][0] for m in first}
    assert all(m["Body"][0] not in held for m in rest), (bodies, [m["Body"] for m in rest])
    for message in first + rest:
        sqs.delete_message(QueueUrl=fifo, ReceiptHandle=message["ReceiptHandle"])
    received = [m["Body"] for m in first + rest]
    while len(received) < 8:
        batch = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert batch, received
        for message in batch:
            received.append(message["Body"])
            sqs.delete_message(QueueUrl=fifo, ReceiptHandle=message["ReceiptHandle"])
    for group in ("a", "b"):
        assert [b for b in received if b[0] == group] == [f"{group}{i}" for i in range(4)]


def test_in_flight_group_delivers_after_visibility_expires(sqs, fifo):
    for i in range(2):
        sqs.send_message(QueueUrl=fifo, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
    first = sqs.receive_message(QueueUrl=fifo, VisibilityTimeout=1)["Messages"]
    assert [m["Body"] for m in first] == ["m0"]
    assert sqs.receive_message(QueueUrl=fifo).get("Messages", []) == []
    again = sqs.receive_message(QueueUrl=fifo, WaitTimeSeconds=3, AttributeNames=["All"])["Messages"]
    assert again[0]["Body"] == "m0" and again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_deduplication_with_explicit_ids(sqs, fifo):
    one = sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="same")
    two = sqs.send_message(QueueUrl=fifo, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="same")
    assert one["MessageId"] == two["MessageId"]
    assert one["SequenceNumber"] == two["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["x"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == "same"
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    assert got[0]["Attributes"]["SequenceNumber"] == one["SequenceNumber"]
    # Deleting the message does not end the deduplication window.
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=fifo, MessageBody="z", MessageGroupId="g", MessageDeduplicationId="same")
    assert sqs.receive_message(QueueUrl=fifo).get("Messages", []) == []


def test_content_based_deduplication_and_sequence_numbers(sqs):
    url = sqs.create_queue(QueueName=queue_name("cbd", fifo=True),
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    a = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    c = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]
    assert int(c["SequenceNumber"]) > int(a["SequenceNumber"])
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "batch one", "MessageGroupId": "h"},
        {"Id": "2", "MessageBody": "batch two", "MessageGroupId": "h"}])
    seqs = [int(e["SequenceNumber"]) for e in sorted(batch["Successful"], key=lambda e: e["Id"])]
    assert seqs[0] < seqs[1]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "4"


def test_fifo_rules(sqs, fifo):
    with raises_sqs("MissingParameter") as info:
        sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageDeduplicationId="d")
    assert info.value.response["Error"]["Message"] == "The request must contain the parameter MessageGroupId."
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g")  # no dedup id, no CBD
    with raises_sqs("InvalidParameterValue"):
        sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                         DelaySeconds=1)
    with raises_sqs("InvalidParameterValue"):
        sqs.create_queue(QueueName=queue_name("notfifo"), Attributes={"FifoQueue": "true"})
    # A `.fifo` name is a FIFO queue's only; without FifoQueue it is not a valid standard name.
    dotted = queue_name("dotted", fifo=True)
    with raises_sqs("InvalidParameterValue"):
        sqs.create_queue(QueueName=dotted)
    assert not any(u.endswith("/" + dotted) for u in sqs.list_queues().get("QueueUrls", []))
    with raises_sqs("InvalidAttributeName"):
        sqs.create_queue(QueueName=queue_name("std"), Attributes={"ContentBasedDeduplication": "true"})
    attrs = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_fifo_redrive_needs_a_fifo_dead_letter_queue(sqs, fifo):
    standard = sqs.create_queue(QueueName=queue_name("stddlq"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with raises_sqs("InvalidParameterValue"):
        sqs.set_queue_attributes(QueueUrl=fifo, Attributes={
            "RedrivePolicy": f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":2}}'})
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
