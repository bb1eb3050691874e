"""SNS and SQS ids are what AWS hands out (random, version-4 UUIDs in canonical form), and the
query protocol's form bodies decode by the form rules (`+` a space, `%2B` a plus, a stray `%`
kept as it is)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sns_helpers import sns_client, unique_topic
from sqs_helpers import queue_arn, queue_name, sqs_client
from stratus_testlib import REGION, http_request, wait_until

SQS_NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}


def assert_uuid4(text: str) -> None:
    parsed = uuid.UUID(text)
    assert parsed.version == 4, text
    assert parsed.variant == uuid.RFC_4122, text
    assert str(parsed) == text, f"{text} is not in canonical (lowercase, hyphenated) form"


def request_id(response: dict) -> str:
    """The request id of a boto3 response; its header and its body must agree."""
    metadata = response["ResponseMetadata"]
    header = metadata["HTTPHeaders"]["x-amzn-requestid"]
    assert metadata["RequestId"] == header
    assert_uuid4(header)
    return header


def test_sns_request_and_message_ids_are_uuid4(server):
    sns = sns_client(server)
    created = sns.create_topic(Name=unique_topic("ids"))
    request_id(created)
    topic = created["TopicArn"]

    published = sns.publish(TopicArn=topic, Message="m")
    request_id(published)
    assert_uuid4(published["MessageId"])

    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "1"}, {"Id": "b", "Message": "2"}])
    ids = [entry["MessageId"] for entry in batch["Successful"]]
    assert len(ids) == 2 and ids[0] != ids[1]
    for message_id in ids:
        assert_uuid4(message_id)

    # Errors carry a request id too, the same in the header and the XML.
    try:
        sns.get_topic_attributes(TopicArn=topic + "-missing")
    except ClientError as error:
        request_id(error.response)
        assert error.response["Error"]["Code"] == "NotFound"
    else:
        raise AssertionError("an unknown topic must be NotFound")

    # Two requests never share an id.
    assert request_id(sns.list_topics()) != request_id(sns.list_topics())


def test_sqs_message_ids_are_uuid4(server):
    sqs = sqs_client(server)
    created = sqs.create_queue(QueueName=queue_name("ids"))
    request_id(created)
    url = created["QueueUrl"]

    sent = sqs.send_message(QueueUrl=url, MessageBody="one")
    request_id(sent)
    assert_uuid4(sent["MessageId"])
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "2"}, {"Id": "b", "MessageBody": "3"}])
    for entry in batch["Successful"]:
        assert_uuid4(entry["MessageId"])

    received = wait_until(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
                          .get("Messages"), what="messages")
    for message in received:
        assert_uuid4(message["MessageId"])


def signed_form(server, service: str, path: str, body: str):
    """POSTs `body` as written (no re-encoding), signed with SigV4 for `service`."""
    admin = server.admin
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    request = AWSRequest(method="POST", url=server.endpoint + path, data=body, headers=headers)
    SigV4Auth(Credentials(admin.access_key_id, admin.secret_access_key), service, REGION).add_auth(request)
    return http_request(server.endpoint + path, method="POST", data=body.encode(),
                        headers=dict(request.headers.items()))


def test_query_protocol_form_decoding(server):
    sqs = sqs_client(server)
    url = sqs.create_queue(QueueName=queue_name("form"))["QueueUrl"]
    path = "/" + url.split("/", 3)[3]

    # `+` is a space, `%2B` a plus, `%26`/`%3D` are data, a `%` without two hex digits stays.
    body = "Action=SendMessage&Version=2012-11-05&MessageBody=1+%2B+1+%3D+2+%26+100%+sure+%zz"
    res = signed_form(server, "sqs", path, body)
    assert res.status == 200, res.body
    doc = ET.fromstring(res.body)
    assert_uuid4(doc.find("q:SendMessageResult/q:MessageId", SQS_NS).text)
    assert_uuid4(doc.find("q:ResponseMetadata/q:RequestId", SQS_NS).text)
    message = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), what="the message")[0]
    assert message["Body"] == "1 + 1 = 2 & 100% sure %zz"

    # The same rules through SNS's form body, delivered raw to the queue.
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic("form"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url),
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    encoded_topic = topic.replace(":", "%3A")
    res = signed_form(server, "sns", "/",
                      f"Action=Publish&TopicArn={encoded_topic}&Message=a+b%2Bc%zz&Message=last+wins")
    assert res.status == 200, res.body
    delivered = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), what="the delivery")[0]
    assert delivered["Body"] == "last wins"
    res = signed_form(server, "sns", "/", f"Action=Publish&TopicArn={encoded_topic}&Message=a+b%2Bc%zz")
    assert res.status == 200, res.body
    sqs.delete_message(QueueUrl=url, ReceiptHandle=delivered["ReceiptHandle"])
    delivered = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), what="the delivery")[0]
    assert delivered["Body"] == "a b+c%zz"
