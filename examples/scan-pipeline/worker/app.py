"""Worker: consumes job messages from the `scan-jobs` queue through an event source mapping,
OCRs each image, writes results/NAME.json beside it and publishes a notification to the
`scan-done` topic (message attribute `status`: "done", or "failed" on a job's last attempt).

Jobs are independent, so a failed one must not make the others run again: the handler answers
ReportBatchItemFailures' {"batchItemFailures": [...]} naming only the failed messages, which
stay on the queue and come back after the visibility timeout; after the queue's maxReceiveCount
(3) a job moves to the dead-letter queue.
"""

import json
import os
import time
from datetime import datetime, timezone

import boto3

import ocr

RESULT_PREFIX = os.environ.get("RESULT_PREFIX", "results/")
MAX_RECEIVES = int(os.environ.get("MAX_RECEIVES", "3"))  # the queue's RedrivePolicy

ENGINE = ocr.load_engine()  # once per worker: later jobs pay only for inference
s3 = boto3.client("s3")
sns = boto3.client("sns")
_topic_arn = os.environ.get("TOPIC_ARN")


def topic_arn() -> str:
    global _topic_arn
    if not _topic_arn:
        suffix = ":" + os.environ.get("TOPIC_NAME", "scan-done")
        pages = sns.get_paginator("list_topics").paginate()
        found = [t["TopicArn"] for page in pages for t in page["Topics"] if t["TopicArn"].endswith(suffix)]
        if not found:
            raise RuntimeError(f"no SNS topic named {suffix[1:]}")
        _topic_arn = found[0]
    return _topic_arn


def result_key(key: str) -> str:
    stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{RESULT_PREFIX}{stem}.json"


def process(job: dict) -> dict:
    started = time.perf_counter()
    image = s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read()
    fetched = time.perf_counter()
    lines = ocr.recognise_lines(ENGINE, image)
    recognised = time.perf_counter()
    result = {
        "source": f"s3://{job['bucket']}/{job['key']}",
        "text": "\n".join(line["text"] for line in lines),
        "confidence": round(min((line["confidence"] for line in lines), default=0.0), 4),
        "lines": lines,
        "requested_at": job.get("requested_at"),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "timings_ms": {"download": round((fetched - started) * 1000, 1),
                       "ocr": round((recognised - fetched) * 1000, 1)},
    }
    target = result_key(job["key"])
    s3.put_object(Bucket=job["bucket"], Key=target, Body=json.dumps(result, indent=2).encode(),
                  ContentType="application/json")
    return {"bucket": job["bucket"], "key": job["key"], "result_key": target, "text": result["text"],
            "confidence": result["confidence"]}


def notify(status: str, message: dict) -> None:
    sns.publish(TopicArn=topic_arn(), Subject=f"scan {status}", Message=json.dumps(message),
                MessageAttributes={"status": {"DataType": "String", "StringValue": status}})


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            done = process(json.loads(record["body"]))
            # Redoing a job only rewrites the same result, so a failed publish fails the job.
            notify("done", done)
        except Exception as err:  # one bad job must not fail its batch-mates
            failures.append({"itemIdentifier": record["messageId"]})
            last_attempt(record, err)
            continue
        print(f"{done['key']} -> {done['result_key']}: {len(done['text'])} characters")
    return {"batchItemFailures": failures}


def last_attempt(record: dict, err: Exception) -> None:
    receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    print(f"job {record['messageId']} failed (receive {receives} of {MAX_RECEIVES}): {err!r}")
    if receives < MAX_RECEIVES:
        return
    # The queue moves it to the dead-letter queue instead of a fourth delivery: say so now.
    try:
        notify("failed", {"message_id": record["messageId"], "body": record["body"], "error": repr(err)})
    except Exception as notify_err:
        print(f"could not announce the failure of {record['messageId']}: {notify_err!r}")
