"""SQS end to end with boto3 (JSON 1.0 protocol), the query protocol and the aws CLI."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sqs_helpers import drain, queue_name, raises_sqs, sqs_client
from stratus_testlib import REGION, http_request


@pytest.fixture(scope="module")
def sqs(server):
    return sqs_client(server)


@pytest.fixture
def queue(sqs):
    return sqs.create_queue(QueueName=queue_name())["QueueUrl"]


def test_create_get_list_delete(sqs):
    name = queue_name("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"})["QueueUrl"]
    assert url.endswith("/" + name)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    # The same attributes again: the same URL; different ones: QueueNameExists.
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"})["QueueUrl"] == url
    with raises_sqs("QueueAlreadyExists"):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "8"})
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "7"
    assert attrs["QueueArn"].endswith(":" + name)
    assert int(attrs["CreatedTimestamp"]) > 1_600_000_000
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)  # no names: none, as SQS
    sqs.delete_queue(QueueUrl=url)
    with raises_sqs("AWS.SimpleQueueService.NonExistentQueue"):
        sqs.get_queue_url(QueueName=name)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name) or \
        url not in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]


def test_list_queues_pages(sqs):
    stem = queue_name("page")
    urls = [sqs.create_queue(QueueName=f"{stem}-{i}")["QueueUrl"] for i in range(5)]
    first = sqs.list_queues(QueueNamePrefix=stem, MaxResults=2)
    assert first["QueueUrls"] == urls[:2] and "NextToken" in first
    second = sqs.list_queues(QueueNamePrefix=stem, MaxResults=2, NextToken=first["NextToken"])
    assert second["QueueUrls"] == urls[2:4]
    third = sqs.list_queues(QueueNamePrefix=stem, MaxResults=2, NextToken=second["NextToken"])
    assert third["QueueUrls"] == urls[4:] and "NextToken" not in third


def test_send_receive_delete_with_attributes(sqs, queue):
    attributes = {
        "color": {"DataType": "String", "StringValue": "red"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
        "other.one": {"DataType": "String.custom", "StringValue": "x"},
    }
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello ünïcode", MessageAttributes=attributes)
    assert len(sent["MD5OfMessageBody"]) == 32 and "MD5OfMessageAttributes" in sent
    got = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"], AttributeNames=["All"],
                              WaitTimeSeconds=1)["Messages"]
    assert len(got) == 1
    message = got[0]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello ünïcode"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01binary"
    assert message["MessageAttributes"]["count"]["StringValue"] == "42"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["SenderId"] == sqs_access_key(sqs)
    assert int(message["Attributes"]["SentTimestamp"]) > 1_600_000_000_000
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0) or \
        sqs.receive_message(QueueUrl=queue).get("Messages") in (None, [])


def sqs_access_key(sqs) -> str:
    return sqs._request_signer._credentials.access_key


def test_message_attribute_name_filters(sqs, queue):
    attributes = {name: {"DataType": "String", "StringValue": name}
                  for name in ["a.one", "a.two", "b"]}
    sqs.send_message(QueueUrl=queue, MessageBody="filters", MessageAttributes=attributes)
    message = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["a.*"],
                                  MessageSystemAttributeNames=["SentTimestamp"])["Messages"][0]
    assert sorted(message["MessageAttributes"]) == ["a.one", "a.two"]
    assert list(message["Attributes"]) == ["SentTimestamp"]


def test_long_poll_returns_promptly_when_a_message_arrives(sqs, queue):
    result = {}

    def receive():
        started = time.monotonic()
        result["messages"] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5).get("Messages", [])
        result["elapsed"] = time.monotonic() - started

    waiter = threading.Thread(target=receive)
    waiter.start()
    time.sleep(0.5)
    sqs.send_message(QueueUrl=queue, MessageBody="wake up")
    waiter.join(10)
    assert [m["Body"] for m in result["messages"]] == ["wake up"]
    assert result["elapsed"] < 2.0, result["elapsed"]


def test_a_waiting_long_poll_claims_with_the_queues_current_visibility_timeout(sqs, queue):
    """Attributes changed while a receive waits apply to what it claims (a poller's long poll
    must not keep a message hidden for a visibility timeout the queue no longer has)."""
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "600"})
    result = {}
    waiter = threading.Thread(target=lambda: result.update(
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)))
    waiter.start()
    time.sleep(0.5)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=queue, MessageBody="short")
    waiter.join(15)
    assert [m["Body"] for m in result["Messages"]] == ["short"]
    again = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5, AttributeNames=["ApproximateReceiveCount"])
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again["Messages"]] == ["2"]


def test_long_poll_times_out_empty(sqs, queue):
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []) == []
    assert time.monotonic() - started >= 0.9


def test_visibility_timeout_expiry_and_receive_count(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="again")
    first = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
    second = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=3, AttributeNames=["All"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["Attributes"]["ApproximateFirstReceiveTimestamp"] == \
        first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    # The first handle is stale now: deleting with it succeeds but deletes nothing.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    with raises_sqs("InvalidParameterValue"):
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=second["ReceiptHandle"])
    # Deleting an already deleted message succeeds.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=second["ReceiptHandle"])


def test_change_message_visibility_and_batch(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    got = drain_no_delete(sqs, queue, 3, VisibilityTimeout=60)
    assert len(got) == 3
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    back = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert [m["MessageId"] for m in back] == [got[0]["MessageId"]]
    result = sqs.change_message_visibility_batch(QueueUrl=queue, Entries=[
        {"Id": "a", "ReceiptHandle": got[1]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": got[2]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "c", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in result["Successful"]) == ["a", "b"]
    assert [(e["Id"], e["Code"]) for e in result["Failed"]] == [("c", "ReceiptHandleIsInvalid")]
    again = drain_no_delete(sqs, queue, 2)
    assert sorted(m["MessageId"] for m in again) == sorted([got[1]["MessageId"], got[2]["MessageId"]])


def drain_no_delete(sqs, url, expected, **receive):
    got = []
    deadline = time.monotonic() + 10
    while len(got) < expected and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   **receive).get("Messages", [])
    return got


def test_delay_seconds_queue_and_message(sqs):
    url = sqs.create_queue(QueueName=queue_name("delay"), Attributes={"DelaySeconds": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert attrs["ApproximateNumberOfMessages"] == "1"
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first] == ["no delay"]
    started = time.monotonic()
    later = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in later] == ["queue delay"]
    assert time.monotonic() - started < 3


def test_batches(sqs, queue):
    result = sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": f"e{i}", "MessageBody": f"batch {i}"} for i in range(10)])
    assert len(result["Successful"]) == 10 and not result.get("Failed")
    got = drain_no_delete(sqs, queue, 10)
    assert sorted(m["Body"] for m in got) == sorted(f"batch {i}" for i in range(10))
    deleted = sqs.delete_message_batch(QueueUrl=queue, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    assert len(deleted["Successful"]) == 10
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_redrive_to_dead_letter_queue(sqs):
    dlq = sqs.create_queue(QueueName=queue_name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    src = sqs.create_queue(QueueName=queue_name("src"), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0, WaitTimeSeconds=1)["Messages"]
        assert got[0]["MessageId"] == sent["MessageId"]
    assert sqs.receive_message(QueueUrl=src).get("Messages", []) == []
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert [m["MessageId"] for m in moved] == [sent["MessageId"]]
    # Moved, not sent anew: its two receives on the source count, plus this one.
    assert moved[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


def test_purge_queue(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(5)])
    sqs.purge_queue(QueueUrl=queue)
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []


def test_set_queue_attributes_and_tags(sqs, queue):
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "99",
                                                         "MessageRetentionPeriod": "600"})
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout",
                                                                     "MessageRetentionPeriod"])["Attributes"]
    assert attrs == {"VisibilityTimeout": "99", "MessageRetentionPeriod": "600"}
    sqs.tag_queue(QueueUrl=queue, Tags={"team": "a", "env": "dev"})
    sqs.untag_queue(QueueUrl=queue, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"team": "a"}


def _signed_form(server, path: str, params: dict[str, str]) -> tuple[int, ET.Element]:
    admin = server.admin
    body = urllib.parse.urlencode({"Version": "2012-11-05", **params})
    request = AWSRequest(method="POST", url=server.endpoint + path, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(admin.access_key_id, admin.secret_access_key), "sqs", REGION).add_auth(request)
    res = http_request(server.endpoint + path, method="POST", data=body.encode(),
                       headers=dict(request.headers.items()))
    return res.status, ET.fromstring(res.body)


NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}


def test_query_protocol(server):
    name = queue_name("query")
    status, doc = _signed_form(server, "/", {"Action": "CreateQueue", "QueueName": name,
                                             "Attribute.1.Name": "VisibilityTimeout",
                                             "Attribute.1.Value": "5"})
    assert status == 200, ET.tostring(doc)
    url = doc.find("q:CreateQueueResult/q:QueueUrl", NS).text
    assert url.endswith("/" + name)
    status, doc = _signed_form(server, "/", {"Action": "GetQueueUrl", "QueueName": name})
    assert doc.find("q:GetQueueUrlResult/q:QueueUrl", NS).text == url
    status, doc = _signed_form(server, "/", {"Action": "ListQueues", "QueueNamePrefix": name})
    assert [e.text for e in doc.findall("q:ListQueuesResult/q:QueueUrl", NS)] == [url]
    path = urllib.parse.urlparse(url).path
    status, doc = _signed_form(server, path, {
        "Action": "SendMessage", "MessageBody": "via query",
        "MessageAttribute.1.Name": "k", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "v"})
    assert status == 200
    message_id = doc.find("q:SendMessageResult/q:MessageId", NS).text
    status, doc = _signed_form(server, "/", {"Action": "ReceiveMessage", "QueueUrl": url,
                                             "AttributeName.1": "All", "MessageAttributeName.1": "All"})
    message = doc.find("q:ReceiveMessageResult/q:Message", NS)
    assert message.find("q:MessageId", NS).text == message_id
    assert message.find("q:Body", NS).text == "via query"
    assert message.find("q:MessageAttribute/q:Value/q:StringValue", NS).text == "v"
    handle = message.find("q:ReceiptHandle", NS).text
    status, doc = _signed_form(server, "/", {"Action": "GetQueueAttributes", "QueueUrl": url,
                                             "AttributeName.1": "All"})
    attrs = {a.find("q:Name", NS).text: a.find("q:Value", NS).text
             for a in doc.findall("q:GetQueueAttributesResult/q:Attribute", NS)}
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1" and attrs["VisibilityTimeout"] == "5"
    status, doc = _signed_form(server, "/", {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle})
    assert status == 200 and doc.tag == f"{{{NS['q']}}}DeleteMessageResponse"
    status, doc = _signed_form(server, "/", {"Action": "DeleteQueue", "QueueUrl": url})
    assert status == 200
    status, doc = _signed_form(server, "/", {"Action": "GetQueueUrl", "QueueName": name})
    assert status == 400
    assert doc.find("q:Error/q:Code", NS).text == "AWS.SimpleQueueService.NonExistentQueue"
    assert doc.find("q:Error/q:Type", NS).text == "Sender"


def test_aws_cli(server, aws):
    name = queue_name("cli")
    url = aws.json("sqs", "create-queue", "--queue-name", name)["QueueUrl"]
    sent = aws.json("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    got = aws.json("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1")
    assert got["Messages"][0]["MessageId"] == sent["MessageId"]
    assert got["Messages"][0]["Body"] == "from the cli"
    aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", got["Messages"][0]["ReceiptHandle"])
    aws("sqs", "delete-queue", "--queue-url", url)


def test_drain_helper_counts(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    assert sorted(m["Body"] for m in drain(sqs, queue, 3)) == ["0", "1", "2"]
