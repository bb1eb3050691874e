"""Lambda event source mappings from SQS queues, driven by boto3 end to end: a function consumes
a queue in batches, partial batch failures and function errors leave messages to come back and,
through the queue's redrive policy, end in its dead-letter queue; bad input gets Lambda's errors
and changes nothing; another project's mappings are invisible."""

from __future__ import annotations

import json
import time

import pytest

from lambda_helpers import lambda_client, raises_lambda
from sqs_helpers import queue_arn
from stratus_testlib import aws_client, unique_bucket
from trigger_helpers import deploy_handler, keys

# Writes one object per processed message (its body is the key); bodies starting with "bad" are
# reported as failed items, and a body "crash" makes the whole invocation fail.
CONSUMER = '''
import json, os
import s3mini

def handler(event, context):
    failures = []
    for record in event["Records"]:
        body = record["body"]
        assert record["eventSource"] == "aws:sqs"
        if body == "crash":
            raise RuntimeError("asked to crash")
        if body.startswith("bad"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        meta = {"count": record["attributes"]["ApproximateReceiveCount"],
                "batch": len(event["Records"]), "arn": record["eventSourceARN"],
                "attrs": record["messageAttributes"]}
        s3mini.request("PUT", os.environ["OUT_BUCKET"], "done/" + body, json.dumps(meta).encode())
    return {"batchItemFailures": failures}
'''


def sqs_client(server, creds=None):
    return aws_client(server, "sqs", creds)


def visible_count(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def wait_until(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def setup(server, s3, tmp_path):
    """A bucket for results, a queue with a dead-letter queue (maxReceiveCount 2, visibility 2 s)
    and the consumer function deployed."""
    sqs, lam = sqs_client(server), lambda_client(server)
    bucket = unique_bucket("esm")
    s3.create_bucket(Bucket=bucket)
    suffix = bucket.split("-")[-1]
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    url = sqs.create_queue(QueueName=f"jobs-{suffix}", Attributes={
        "VisibilityTimeout": "2",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": "2"}),
    })["QueueUrl"]
    name = f"consumer-{suffix}"
    deploy_handler(server, tmp_path, name, CONSUMER, f"environment:\n  OUT_BUCKET: {bucket}\n")
    return {"sqs": sqs, "lambda": lam, "s3": s3, "bucket": bucket, "url": url, "dlq": dlq,
            "arn": queue_arn(sqs, url), "function": name}


def test_a_function_consumes_every_message_in_batches(setup):
    sqs, lam, s3 = setup["sqs"], setup["lambda"], setup["s3"]
    mapping = lam.create_event_source_mapping(EventSourceArn=setup["arn"], FunctionName=setup["function"],
                                              BatchSize=10, MaximumBatchingWindowInSeconds=1)
    assert mapping["State"] in ("Creating", "Enabled")
    assert mapping["FunctionArn"].endswith(f":function:{setup['function']}")
    assert mapping["BatchSize"] == 10 and mapping["EventSourceArn"] == setup["arn"]
    bodies = [f"m{i:03d}" for i in range(25)]
    for start in range(0, 25, 10):
        sqs.send_message_batch(QueueUrl=setup["url"], Entries=[
            {"Id": str(i), "MessageBody": body,
             "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "job"}}}
            for i, body in enumerate(bodies[start:start + 10])])
    done = wait_until(lambda: len(keys(s3, setup["bucket"], "done/")) == 25 and keys(s3, setup["bucket"], "done/"),
                      what="25 processed messages")
    assert sorted(k.removeprefix("done/") for k in done) == bodies
    first = json.loads(s3.get_object(Bucket=setup["bucket"], Key="done/m000")["Body"].read())
    assert first["arn"] == setup["arn"] and first["attrs"]["kind"]["stringValue"] == "job"
    # Batching: with a one-second window, 25 messages sent at once do not take 25 invocations.
    batches = {json.loads(s3.get_object(Bucket=setup["bucket"], Key=k)["Body"].read())["batch"] for k in done}
    assert max(batches) > 1, batches
    wait_until(lambda: visible_count(sqs, setup["url"]) == 0, what="queue drained")
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["LastProcessingResult"] == "OK" and got["State"] == "Enabled"
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_partial_batch_failures_go_to_the_dead_letter_queue(setup):
    sqs, lam, s3 = setup["sqs"], setup["lambda"], setup["s3"]
    mapping = lam.create_event_source_mapping(EventSourceArn=setup["arn"], FunctionName=setup["function"],
                                              BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    sqs.send_message_batch(QueueUrl=setup["url"], Entries=[
        {"Id": "1", "MessageBody": "good-1"}, {"Id": "2", "MessageBody": "bad-1"},
        {"Id": "3", "MessageBody": "good-2"}])
    wait_until(lambda: len(keys(s3, setup["bucket"], "done/")) == 2, what="the good messages")
    # The failed item is received twice (maxReceiveCount 2), then moved to the dead-letter queue.
    def dead_letter():
        got = sqs.receive_message(QueueUrl=setup["dlq"], WaitTimeSeconds=1, AttributeNames=["All"])
        return got.get("Messages")
    moved = wait_until(dead_letter, timeout=60, what="the failed item in the DLQ")
    assert [m["Body"] for m in moved] == ["bad-1"]
    # The good ones were processed once: deleted, not retried.
    for key in ("done/good-1", "done/good-2"):
        meta = json.loads(s3.get_object(Bucket=setup["bucket"], Key=key)["Body"].read())
        assert meta["count"] == "1", meta
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_failing_invocation_leaves_the_whole_batch(setup):
    sqs, lam = setup["sqs"], setup["lambda"]
    mapping = lam.create_event_source_mapping(EventSourceArn=setup["arn"], FunctionName=setup["function"],
                                              BatchSize=1)
    sqs.send_message(QueueUrl=setup["url"], MessageBody="crash")
    def dead_letter():
        return sqs.receive_message(QueueUrl=setup["dlq"], WaitTimeSeconds=1).get("Messages")
    moved = wait_until(dead_letter, timeout=60, what="the crashing message in the DLQ")
    assert moved[0]["Body"] == "crash"
    got = wait_until(lambda: (m := lam.get_event_source_mapping(UUID=mapping["UUID"]))
                     and m["LastProcessingResult"].startswith("PROBLEM") and m, what="a PROBLEM result")
    assert "Function call failed" in got["LastProcessingResult"]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_disable_update_list_and_delete(setup):
    sqs, lam, s3 = setup["sqs"], setup["lambda"], setup["s3"]
    mapping = lam.create_event_source_mapping(EventSourceArn=setup["arn"], FunctionName=setup["function"],
                                              Enabled=False)
    assert mapping["State"] == "Disabled"
    sqs.send_message(QueueUrl=setup["url"], MessageBody="later")
    time.sleep(2)
    assert keys(s3, setup["bucket"], "done/") == []
    updated = lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True, BatchSize=5)
    assert updated["BatchSize"] == 5 and updated["State"] == "Enabled"
    wait_until(lambda: keys(s3, setup["bucket"], "done/") == ["done/later"], what="the message after enabling")
    listed = lam.list_event_source_mappings(EventSourceArn=setup["arn"])["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [mapping["UUID"]]
    by_function = lam.list_event_source_mappings(FunctionName=setup["function"])["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == [mapping["UUID"]]
    deleted = lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert deleted["State"] == "Deleting"
    with raises_lambda("ResourceNotFoundException", 404):
        lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert lam.list_event_source_mappings(EventSourceArn=setup["arn"])["EventSourceMappings"] == []


def test_bad_input_gets_lambdas_errors_and_changes_nothing(server, setup):
    sqs, lam = setup["sqs"], setup["lambda"]
    arn, function = setup["arn"], setup["function"]
    missing_queue = arn.rsplit(":", 1)[0] + ":no-such-queue"
    with raises_lambda("InvalidParameterValueException", 400):
        lam.create_event_source_mapping(EventSourceArn=missing_queue, FunctionName=function)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="no-such-function")
    with raises_lambda("InvalidParameterValueException", 400):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function, BatchSize=50)
    with raises_lambda("InvalidParameterValueException", 400):
        lam.create_event_source_mapping(EventSourceArn="arn:aws:kinesis:us-east-1:1:stream/s",
                                        FunctionName=function)
    with raises_lambda("InvalidParameterValueException", 400):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function,
                                        FilterCriteria={"Filters": [{"Pattern": "{}"}]})
    fifo = sqs.create_queue(QueueName=f"f-{setup['bucket'].split('-')[-1]}.fifo",
                            Attributes={"FifoQueue": "true"})["QueueUrl"]
    with raises_lambda("InvalidParameterValueException", 400):
        lam.create_event_source_mapping(EventSourceArn=queue_arn(sqs, fifo), FunctionName=function, BatchSize=11,
                                        MaximumBatchingWindowInSeconds=0)
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function, Enabled=False)
    with raises_lambda("ResourceConflictException", 409):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function)
    with raises_lambda("InvalidParameterValueException", 400):
        lam.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=20, MaximumBatchingWindowInSeconds=0)
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == 10
    # Another project sees nothing of it and cannot map this project's queue.
    other = lambda_client(server, server.create_key(f"p{setup['bucket'].split('-')[-1]}"))
    with raises_lambda("ResourceNotFoundException", 404):
        other.get_event_source_mapping(UUID=mapping["UUID"])
    with raises_lambda("ResourceNotFoundException", 404):
        other.delete_event_source_mapping(UUID=mapping["UUID"])
    assert other.list_event_source_mappings()["EventSourceMappings"] == []
    with raises_lambda("InvalidParameterValueException", 400):
        other.create_event_source_mapping(EventSourceArn=arn, FunctionName=function)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


# Consumes its own queue and sends the next number back to it: a loop only the chain-depth rule
# stops. boto3 inside the function forwards the invocation's trace header, which SQS keeps as the
# message's AWSTraceHeader.
LOOPER = '''
import os
import boto3
import s3mini

sqs = boto3.client("sqs")

def handler(event, context):
    for record in event["Records"]:
        n = int(record["body"])
        trace = record["attributes"].get("AWSTraceHeader", "")
        s3mini.request("PUT", os.environ["OUT_BUCKET"], f"loop/{n:02d}", trace.encode())
        sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=str(n + 1))
'''


def test_a_function_feeding_its_own_queue_stops_at_the_depth_limit(server, s3, tmp_path):
    sqs, lam = sqs_client(server), lambda_client(server)
    bucket = unique_bucket("loop")
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=f"loop-{bucket.split('-')[-1]}")["QueueUrl"]
    name = f"looper-{bucket.split('-')[-1]}"
    deploy_handler(server, tmp_path, name, LOOPER, f"environment:\n  OUT_BUCKET: {bucket}\n  QUEUE_URL: {url}\n")
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn(sqs, url), FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="1")
    wait_until(lambda: "loop/16" in keys(s3, bucket, "loop/"), timeout=90, what="sixteen hops")
    time.sleep(3)
    seen = keys(s3, bucket, "loop/")
    # Hop N ran at depth N; the message hop 16 sent would start depth 17 and is dropped.
    assert seen == [f"loop/{n:02d}" for n in range(1, 17)], seen
    assert "Lineage=" in s3.get_object(Bucket=bucket, Key="loop/02")["Body"].read().decode()
    wait_until(lambda: visible_count(sqs, url) == 0, what="the looping message dropped")
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert "PROBLEM" in got["LastProcessingResult"] or got["LastProcessingResult"] == "OK"


# Consumes S3 events from a queue and uploads the next object into the bucket that feeds the
# same queue: upload -> queue -> function -> upload, a loop only the chain depth stops. The
# depth travels in the upload's trace header, the outbox row, and the message's AWSTraceHeader.
UPLOAD_LOOPER = '''
import json, os
import s3mini

def handler(event, context):
    for record in event["Records"]:
        s3_event = json.loads(record["body"])
        for s3_record in s3_event.get("Records", []):
            n = int(s3_record["s3"]["object"]["key"].split("/")[-1])
            s3mini.request("PUT", os.environ["BUCKET"], f"loop/{n + 1:02d}", b"x")
'''


def test_an_upload_queue_function_loop_stops_at_the_depth_limit(server, s3, tmp_path):
    sqs, lam = sqs_client(server), lambda_client(server)
    bucket = unique_bucket("uloop")
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=f"uloop-{bucket.split('-')[-1]}")["QueueUrl"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue_arn(sqs, url), "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "loop/"}]}}}]})
    name = f"uploop-{bucket.split('-')[-1]}"
    deploy_handler(server, tmp_path, name, UPLOAD_LOOPER, f"environment:\n  BUCKET: {bucket}\n")
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn(sqs, url), FunctionName=name, BatchSize=1)
    s3.put_object(Bucket=bucket, Key="loop/01", Body=b"x")
    wait_until(lambda: "loop/17" in keys(s3, bucket, "loop/"), timeout=90, what="sixteen hops")
    time.sleep(3)
    # Invocation N (depth N) wrote loop/N+1; the message loop/17's upload caused would start
    # depth 17 and is dropped.
    assert keys(s3, bucket, "loop/") == [f"loop/{n:02d}" for n in range(1, 18)]
    wait_until(lambda: visible_count(sqs, url) == 0, what="the looping message dropped")
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
