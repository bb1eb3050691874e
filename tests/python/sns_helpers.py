"""Helpers for the SNS tests: a boto3 SNS client and a local HTTP subscriber endpoint."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError

from stratus_testlib import REGION, Creds, client_config


def sns_client(server, creds: Creds | None = None):
    creds = creds or server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client("sns", endpoint_url=server.endpoint, config=client_config())


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def raises_sns(code: str, status: int):
    """Expects a botocore ClientError with SNS's error code and HTTP status."""
    with pytest.raises(ClientError) as info:
        yield info
    response = info.value.response
    actual = (response.get("Error", {}).get("Code"), response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert actual == (code, status), f"expected {code}/{status}, got {actual}: {response.get('Error')}"


class Endpoint:
    """An HTTP server on 127.0.0.1 recording every POST; `failures` answers 500 that many times first."""

    def __init__(self, failures: int = 0):
        self.received: list[dict] = []
        self.failures = failures
        self.attempts = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    outer.attempts += 1
                    fail = outer.failures > 0
                    if fail:
                        outer.failures -= 1
                    else:
                        outer.received.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                               "body": body.decode()})
                self.send_response(500 if fail else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {self.received}")

    def messages(self, kind: str) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.received
                    if r["headers"].get("x-amz-sns-message-type") == kind]

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def endpoint():
    made = Endpoint()
    yield made
    made.close()


def confirmed_http_subscription(sns, topic_arn: str, endpoint: Endpoint, attributes: dict | None = None) -> str:
    """Subscribes `endpoint` and confirms through the SubscribeURL, as a real subscriber would."""
    import urllib.request
    before = len(endpoint.messages("SubscriptionConfirmation"))
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint.url, Attributes=attributes or {})
    deadline = time.monotonic() + 20
    while len(endpoint.messages("SubscriptionConfirmation")) <= before:
        assert time.monotonic() < deadline, "no SubscriptionConfirmation arrived"
        time.sleep(0.05)
    confirmation = endpoint.messages("SubscriptionConfirmation")[-1]
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:
        assert response.status == 200
        body = response.read().decode()
    assert "<ConfirmSubscriptionResult>" in body
    return body.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
