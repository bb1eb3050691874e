"""Checks scripts/sqs_json_client.py against boto3 on a live SQS endpoint, and its signatures
against botocore's signer: the benchmark measures a client that speaks exactly what boto3 speaks.

    .venv/bin/python scripts/sqs_client_check.py --endpoint http://127.0.0.1:PORT [--access-key K --secret-key S]

Raises AssertionError on the first difference.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from unittest import mock

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sqs_json_client import SigV4Signer, SqsError, SqsJsonClient

REGION = "us-east-1"


def check_signature() -> None:
    """Our Authorization header equals botocore's for the same request and instant."""
    body = b'{"QueueName":"jobs"}'
    ours = SigV4Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", REGION)
    headers = ours.headers("127.0.0.1:4566", "AmazonSQS.CreateQueue", body, amz_date="20250301T120000Z")
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={k: v for k, v in headers.items() if k not in ("Authorization", "X-Amz-Date")})
    signer = SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "sqs", REGION)
    with mock.patch("botocore.auth.get_current_datetime",
                    return_value=datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)):
        signer.add_auth(request)
    assert request.headers["Authorization"] == headers["Authorization"], (request.headers["Authorization"],
                                                                         headers["Authorization"])
    # The cached day key is the same derivation on the second request of a day.
    again = ours.headers("127.0.0.1:4566", "AmazonSQS.CreateQueue", body, amz_date="20250301T120000Z")
    assert again["Authorization"] == headers["Authorization"]


def boto3_sqs(endpoint: str, access_key: str, secret_key: str):
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                    region_name=REGION)
    return session.client("sqs", endpoint_url=endpoint,
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def check_against_boto3(endpoint: str, access_key: str, secret_key: str) -> None:
    check_signature()
    ours = SqsJsonClient(endpoint, access_key, secret_key)
    theirs = boto3_sqs(endpoint, access_key, secret_key)
    name = f"client-check-{uuid.uuid4().hex[:8]}"
    url = ours.call("CreateQueue", {"QueueName": name})["QueueUrl"]
    try:
        assert theirs.get_queue_url(QueueName=name)["QueueUrl"] == url

        # Ours sends, boto3 receives (botocore verifies the body and attribute digests itself).
        attributes = {"status": {"DataType": "String", "StringValue": "ok"},
                      "size": {"DataType": "Number", "StringValue": "42"}}
        sent = ours.call("SendMessage", {"QueueUrl": url, "MessageBody": "héllo", "MessageAttributes": attributes})
        assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest(), sent
        got = theirs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
        assert [(m["MessageId"], m["Body"], m["MessageAttributes"]) for m in got] == \
            [(sent["MessageId"], "héllo", attributes)], got
        assert got[0]["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
        ours.call("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": got[0]["ReceiptHandle"]})

        # boto3 sends a batch, ours receives and deletes it in a batch.
        bodies = [f"batch-{i}" for i in range(10)]
        answer = theirs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b}
                                                                  for i, b in enumerate(bodies)])
        assert len(answer["Successful"]) == 10 and not answer.get("Failed"), answer
        received = []
        for _ in range(20):
            page = ours.call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1})
            received += page.get("Messages", [])
            if len(received) >= 10:
                break
        assert sorted(m["Body"] for m in received) == bodies, received
        assert all(m["MD5OfBody"] == hashlib.md5(m["Body"].encode()).hexdigest() for m in received)
        deleted = ours.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]})
        assert len(deleted["Successful"]) == 10 and not deleted.get("Failed"), deleted
        counts = theirs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}, counts

        # The same error code as boto3 reports.
        try:
            theirs.get_queue_url(QueueName=f"{name}-missing")
            raise AssertionError("boto3: GetQueueUrl of a missing queue succeeded")
        except ClientError as err:
            expected = err.response["Error"]["Code"]
        try:
            ours.call("GetQueueUrl", {"QueueName": f"{name}-missing"})
            raise AssertionError("GetQueueUrl of a missing queue succeeded")
        except SqsError as err:
            assert (err.code, err.status) == (expected, 400), (err.code, err.status, expected)
    finally:
        ours.call("DeleteQueue", {"QueueUrl": url})
        ours.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key", default="test")
    parser.add_argument("--secret-key", default="test")
    args = parser.parse_args()
    check_against_boto3(args.endpoint, args.access_key, args.secret_key)
    print("sqs_json_client agrees with boto3 at", args.endpoint)
