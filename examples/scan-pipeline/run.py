#!/usr/bin/env python3
"""Sets up the scan pipeline on a running server, sends one scan through it and prints what came
out: upload -> scan-intake -> SQS scan-jobs -> scan-worker (OCR) -> results/NAME.json + SNS
scan-done -> this script's HTTP subscriber.

    eval "$(stratus env)"                       # AWS_ENDPOINT_URL, keys, STRATUS_ENDPOINT/TOKEN
    python3 examples/scan-pipeline/run.py [--json] [--text "LINE" ...] [--timeout 300]

Idempotent: a second run finds the bucket, queues, topic, functions (redeployed unchanged) and
event source mapping in place and only sends a new scan. Progress goes to stderr; the
notification and the result to stdout (with --json, as one JSON document).
Needs boto3 and Pillow; `stratus` on PATH (or STRATUS_BIN) for the deploys.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
BUCKET = "scan-pipeline"
QUEUE = "scan-jobs"
DEAD_LETTERS = "scan-jobs-dlq"
TOPIC = "scan-done"
WORKER = "scan-worker"
MAX_RECEIVES = 3
VISIBILITY_S = 120  # at least the worker's timeout (60 s), as Lambda requires of a mapped queue
SUBSCRIBER_PATH = "/scan-pipeline/notifications"
# Straight to the endpoint: a proxy must not see the subscription handshake.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def say(text: str) -> None:
    print(f"scan-pipeline: {text}", file=sys.stderr, flush=True)


def clients() -> dict:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise SystemExit("scan-pipeline: AWS_ENDPOINT_URL is not set: eval \"$(stratus env)\" first")
    config = Config(region_name=os.environ.get("AWS_REGION", "us-east-1"), s3={"addressing_style": "path"},
                    retries={"max_attempts": 3, "mode": "standard"})
    return {name: boto3.client(name, endpoint_url=endpoint, config=config)
            for name in ("s3", "sqs", "sns", "lambda")}


def ensure_bucket(s3) -> None:
    try:
        s3.create_bucket(Bucket=BUCKET)
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def ensure_queue(sqs, name: str, attributes: dict) -> tuple[str, str]:
    """(url, arn) of queue `name` with `attributes`, created or brought up to date."""
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as err:
        # Same name, other attributes (an older run's settings): keep the queue, set ours.
        if err.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def deploy(function_dir: Path) -> None:
    stratus = os.environ.get("STRATUS_BIN") or shutil.which("stratus")
    if not stratus:
        raise SystemExit("scan-pipeline: no `stratus` on PATH (or set STRATUS_BIN)")
    say(f"deploying {function_dir.name} (the first deploy of the worker installs RapidOCR: minutes)")
    done = subprocess.run([stratus, "deploy", str(function_dir)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"scan-pipeline: stratus deploy {function_dir} failed:\n{done.stdout}{done.stderr}")


def ensure_mapping(lam, queue_arn: str) -> str:
    settings = dict(BatchSize=10, MaximumBatchingWindowInSeconds=1, FunctionResponseTypes=["ReportBatchItemFailures"])
    existing = lam.list_event_source_mappings(EventSourceArn=queue_arn, FunctionName=WORKER)["EventSourceMappings"]
    if existing:
        mapping = lam.update_event_source_mapping(UUID=existing[0]["UUID"], Enabled=True, **settings)
    else:
        mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=WORKER, **settings)
        say(f"mapped {QUEUE} -> {WORKER} ({mapping['UUID']})")
    deadline = time.monotonic() + 60
    while mapping["State"] != "Enabled":
        if time.monotonic() > deadline:
            raise SystemExit(f"scan-pipeline: event source mapping still {mapping['State']} after 60 s")
        time.sleep(0.5)
        mapping = lam.get_event_source_mapping(UUID=mapping["UUID"])
    return mapping["UUID"]


class Subscriber:
    """A local HTTP endpoint for the topic: confirms its subscription, collects notifications."""

    def __init__(self):
        self.notifications: list[dict] = []
        self.confirmed = threading.Event()
        self.arrived = threading.Condition()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                subscriber.receive(self.headers.get("x-amz-sns-message-type", ""), json.loads(body or b"{}"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}{SUBSCRIBER_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, kind: str, document: dict) -> None:
        kind = kind or document.get("Type", "")
        if kind == "SubscriptionConfirmation":
            # Visiting SubscribeURL is how an HTTP endpoint proves it wants the messages.
            with OPENER.open(document["SubscribeURL"], timeout=30) as answer:
                answer.read()
            self.confirmed.set()
        elif kind == "Notification":
            with self.arrived:
                self.notifications.append(document)
                self.arrived.notify_all()

    def wait_for(self, key: str, timeout: float) -> dict:
        def match():
            return next((n for n in self.notifications if json.loads(n["Message"]).get("key") == key), None)

        with self.arrived:
            if not self.arrived.wait_for(match, timeout=timeout):
                raise SystemExit(f"scan-pipeline: no notification for {key} within {timeout:.0f} s")
            return match()

    def close(self) -> None:
        self.server.shutdown()


def wait_confirmed(sns, subscription: str, subscriber: Subscriber, timeout: float = 30) -> None:
    """Until the subscription is confirmed: by our visit to its SubscribeURL, or by a server
    that confirms HTTP subscriptions itself (some emulators do)."""
    deadline = time.monotonic() + timeout
    while not subscriber.confirmed.wait(0.2):
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
        if attributes.get("PendingConfirmation") == "false":
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"scan-pipeline: subscription {subscription} not confirmed within {timeout:.0f} s")


def forget_old_subscribers(sns, topic_arn: str) -> None:
    """Earlier runs' subscribers (their ports are gone) would only collect failed deliveries."""
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    for page in pages:
        for sub in page["Subscriptions"]:
            if sub["Protocol"] == "http" and sub["Endpoint"].endswith(SUBSCRIBER_PATH) \
                    and sub["SubscriptionArn"].startswith("arn:"):
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


def render_scan(lines: list[str]) -> bytes:
    """A PNG of `lines` in Pillow's built-in font: a scan whose text we know."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=64)
    width = max(ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), line, font=font)[2] for line in lines)
    image = Image.new("L", (width + 80, 100 * len(lines) + 80), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 40 + number * 100), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", action="append", help="a line of the generated scan (repeatable)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the notification")
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON document")
    args = parser.parse_args()
    aws = clients()

    ensure_bucket(aws["s3"])
    _, dlq_arn = ensure_queue(aws["sqs"], DEAD_LETTERS, {})
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue_url, queue_arn = ensure_queue(aws["sqs"], QUEUE, {"VisibilityTimeout": str(VISIBILITY_S),
                                                            "RedrivePolicy": redrive})
    topic_arn = aws["sns"].create_topic(Name=TOPIC)["TopicArn"]  # idempotent by name
    say(f"queue {queue_url} (dead letters after {MAX_RECEIVES} receives: {DEAD_LETTERS}), topic {topic_arn}")
    deploy(HERE / "worker")
    deploy(HERE / "intake")
    mapping = ensure_mapping(aws["lambda"], queue_arn)

    forget_old_subscribers(aws["sns"], topic_arn)
    subscriber = Subscriber()
    subscription = aws["sns"].subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.endpoint,
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    try:
        wait_confirmed(aws["sns"], subscription, subscriber)
        say(f"subscribed {subscriber.endpoint}")

        lines = args.text or ["SCAN PIPELINE", f"Job {time.strftime('%H%M%S')}"]
        key = f"scans/scan-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.png"
        started = time.monotonic()
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=render_scan(lines), ContentType="image/png")
        say(f"uploaded s3://{BUCKET}/{key}; waiting for {TOPIC}")
        notification = subscriber.wait_for(key, args.timeout)
        elapsed = time.monotonic() - started
    finally:
        aws["sns"].unsubscribe(SubscriptionArn=subscription)
        subscriber.close()

    message = json.loads(notification["Message"])
    status = notification.get("MessageAttributes", {}).get("status", {}).get("Value")
    result = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=message["result_key"])["Body"].read())
    outcome = {"key": key, "lines": lines, "seconds": round(elapsed, 2), "status": status, "message": message,
               "notification": notification, "result": result, "queue_url": queue_url, "topic_arn": topic_arn,
               "mapping": mapping}
    if args.json:
        print(json.dumps(outcome, indent=2))
        return
    print(f"s3://{BUCKET}/{key} -> {TOPIC} ({status}) after {elapsed:.1f} s")
    print(f"notification: {notification['Message']}")
    print(f"s3://{BUCKET}/{message['result_key']}:")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
