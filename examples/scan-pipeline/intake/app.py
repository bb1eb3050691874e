"""Intake: each upload under scans/ that is a PNG or JPEG of at most MAX_BYTES becomes one job
message {"bucket", "key", "requested_at"} on the queue; anything else is logged and skipped
(a refusal is final, so it must not fail the invocation and be retried).

The queue decouples the upload from the OCR: uploads are acknowledged at once, the worker
drains the queue at its own pace in batches, and a job that keeps failing ends in the
dead-letter queue instead of being lost.
"""

import json
import os
import urllib.parse
from datetime import datetime, timezone

import boto3

MAX_BYTES = int(os.environ.get("MAX_BYTES", str(10 * 1024 * 1024)))
# File signatures: what the bytes say the file is, whatever its name claims.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}

s3 = boto3.client("s3")
sqs = boto3.client("sqs")
_queue_url = os.environ.get("QUEUE_URL")


def queue_url() -> str:
    global _queue_url
    if not _queue_url:
        _queue_url = sqs.get_queue_url(QueueName=os.environ.get("QUEUE_NAME", "scan-jobs"))["QueueUrl"]
    return _queue_url


def refusal(bucket: str, key: str, size: int) -> str | None:
    """Why this object is not a scan we accept, or None."""
    if size == 0:
        return "empty object"
    if size > MAX_BYTES:
        return f"{size} bytes is over the {MAX_BYTES}-byte limit"
    head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-15")["Body"].read()
    if not any(head.startswith(signature) for signature in SIGNATURES):
        return "not a PNG or JPEG image"
    return None


def handler(event, context):
    queued, refused = [], []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # Keys in S3 events are URL-encoded, with '+' for a space.
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        size = int(record["s3"]["object"].get("size", 0))
        reason = refusal(bucket, key, size)
        if reason:
            print(f"refused s3://{bucket}/{key}: {reason}")
            refused.append({"key": key, "reason": reason})
            continue
        job = {"bucket": bucket, "key": key, "requested_at": datetime.now(timezone.utc).isoformat()}
        sent = sqs.send_message(QueueUrl=queue_url(), MessageBody=json.dumps(job))
        print(f"queued s3://{bucket}/{key} as message {sent['MessageId']}")
        queued.append({"key": key, "message_id": sent["MessageId"]})
    return {"queued": queued, "refused": refused}
