"""Helpers for the SQS tests: boto3 SQS clients for a server, unique queue names, error codes."""

from __future__ import annotations

import contextlib
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from stratus_testlib import REGION, Creds, client_config


def sqs_client(server, creds: Creds | None = None, **config):
    """A boto3 SQS client (JSON 1.0 protocol, as current botocore speaks) for `server`."""
    creds = creds or server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    config.setdefault("signature_version", "v4")
    return session.client("sqs", endpoint_url=server.endpoint, config=client_config(**config))


def queue_name(stem: str = "q", fifo: bool = False) -> str:
    name = f"{stem}-{uuid.uuid4().hex[:10]}"
    return name + ".fifo" if fifo else name


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def new_queue(sqs, stem: str = "q") -> tuple[str, str]:
    """A new standard queue: its URL and ARN."""
    url = sqs.create_queue(QueueName=queue_name(stem))["QueueUrl"]
    return url, queue_arn(sqs, url)


@contextlib.contextmanager
def raises_sqs(code: str):
    """Expects a ClientError whose (legacy, as botocore reports it) code is `code`."""
    with pytest.raises(ClientError) as info:
        yield info
    assert info.value.response["Error"]["Code"] == code, info.value.response


def drain(sqs, url: str, expected: int, timeout_s: float = 10.0, **receive) -> list[dict]:
    """Receives and deletes until `expected` messages came (or time runs out)."""
    import time

    got: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expected and time.monotonic() < deadline:
        res = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **receive)
        for message in res.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got
