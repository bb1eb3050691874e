"""examples/scan-pipeline end to end against a fresh server: an upload triggers scan-intake, which
queues a job on SQS; an event source mapping hands jobs to scan-worker (RapidOCR from PyPI),
which writes results/NAME.json and publishes to the SNS topic scan-done, whose HTTP subscriber
is examples/scan-pipeline/run.py itself.

Needs SQS, SNS (HTTP subscriptions) and SQS event source mappings, and the network for the
worker's first deploy (rapidocr-onnxruntime, ~430 MB, once per machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import boto3
import pytest

from stratus_testlib import (
    REGION,
    REPO_ROOT,
    STRATUS_BIN,
    StratusServer,
    base_subprocess_env,
    client_config,
    run_stratus,
)

EXAMPLE = REPO_ROOT / "examples" / "scan-pipeline"
BUCKET, QUEUE, DEAD_LETTERS, TOPIC, WORKER = "scan-pipeline", "scan-jobs", "scan-jobs-dlq", "scan-done", "scan-worker"
FIRST_LINES = ["SCAN PIPELINE", "Invoice 4417"]

pytestmark = [pytest.mark.slow, pytest.mark.pypi, pytest.mark.timeout(1500)]


def aws(server: StratusServer, service: str):
    creds = server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client(service, endpoint_url=server.endpoint, config=client_config(read_timeout=120))


def run_example(server: StratusServer, *lines: str) -> dict:
    """`run.py --json` as a user runs it: the environment `stratus env` prints, `stratus` on hand."""
    env = base_subprocess_env(**server.env_exports(), STRATUS_BIN=str(STRATUS_BIN))
    args = [arg for line in lines for arg in ("--text", line)]
    done = subprocess.run([sys.executable, str(EXAMPLE / "run.py"), "--json", "--timeout", "300", *args],
                          env=env, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"run.py exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan-pipeline")
    server = StratusServer(root / "data", root / "server.log").start()
    first = run_example(server, *FIRST_LINES)
    yield server, first
    server.kill()


def assert_read(text: str, expected_lines: list[str]) -> None:
    # PP-OCR's recogniser sometimes drops a space between words: compare without whitespace.
    squeezed = "".join(text.split()).lower()
    for line in expected_lines:
        assert "".join(line.split()).lower() in squeezed, f"{line!r} not in OCR text {text!r}"


def queue_url(server: StratusServer, name: str) -> str:
    return aws(server, "sqs").get_queue_url(QueueName=name)["QueueUrl"]


def queue_attributes(server: StratusServer, name: str) -> dict:
    return aws(server, "sqs").get_queue_attributes(QueueUrl=queue_url(server, name),
                                                   AttributeNames=["All"])["Attributes"]


def test_an_upload_comes_out_as_a_notification_and_a_result(pipeline):
    server, outcome = pipeline
    assert outcome["status"] == "done"
    message = outcome["message"]
    assert message["key"] == outcome["key"] and outcome["key"].startswith("scans/")
    assert message["result_key"] == "results/" + outcome["key"][len("scans/"):].removesuffix(".png") + ".json"
    assert_read(message["text"], FIRST_LINES)

    notification = outcome["notification"]
    assert notification["Type"] == "Notification"
    assert notification["TopicArn"] == outcome["topic_arn"] and notification["TopicArn"].endswith(f":{TOPIC}")
    assert notification["MessageAttributes"]["status"] == {"Type": "String", "Value": "done"}

    result = outcome["result"]
    assert result["source"] == f"s3://{BUCKET}/{outcome['key']}"
    assert_read(result["text"], FIRST_LINES)
    assert result["lines"] and "\n".join(line["text"] for line in result["lines"]) == result["text"]
    assert all(0.5 < line["confidence"] <= 1 for line in result["lines"]), result["lines"]
    assert result["timings_ms"]["ocr"] > 0 and result["requested_at"] <= result["finished_at"]
    # What the subscriber was told is what the bucket holds.
    stored = json.loads(aws(server, "s3").get_object(Bucket=BUCKET, Key=message["result_key"])["Body"].read())
    assert stored == result


def test_the_job_queue_has_a_dead_letter_queue_after_three_receives(pipeline):
    server, _ = pipeline
    attributes = queue_attributes(server, QUEUE)
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue_attributes(server, DEAD_LETTERS)["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 3
    assert int(attributes["VisibilityTimeout"]) >= 60, "at least the worker's timeout"


def test_the_worker_reads_the_queue_through_one_event_source_mapping(pipeline):
    server, outcome = pipeline
    mappings = aws(server, "lambda").list_event_source_mappings(FunctionName=WORKER)["EventSourceMappings"]
    assert len(mappings) == 1, mappings
    mapping = mappings[0]
    assert mapping["UUID"] == outcome["mapping"]
    assert mapping["EventSourceArn"] == queue_attributes(server, QUEUE)["QueueArn"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10, 1)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Enabled"


def test_intake_refuses_what_is_not_an_image(pipeline):
    server, _ = pipeline
    aws(server, "s3").put_object(Bucket=BUCKET, Key="scans/notes.png", Body=b"a text file named like a scan\n")
    deadline = time.monotonic() + 60
    while "refused s3://scan-pipeline/scans/notes.png: not a PNG or JPEG image" not in \
            run_stratus("logs", "scan-intake", env=server.cli_env()).stdout:
        assert time.monotonic() < deadline, "scan-intake never refused scans/notes.png"
        time.sleep(0.2)
    # Refused, so no job: nothing waits on either queue, and no result appears.
    time.sleep(2)
    for name in (QUEUE, DEAD_LETTERS):
        attributes = queue_attributes(server, name)
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) \
            == ("0", "0"), (name, attributes)
    listed = aws(server, "s3").list_objects_v2(Bucket=BUCKET, Prefix="results/notes")
    assert listed["KeyCount"] == 0


def test_a_job_that_keeps_failing_ends_in_the_dead_letter_queue(pipeline):
    server, _ = pipeline
    sqs = aws(server, "sqs")
    url = queue_url(server, QUEUE)
    # Short visibility, so three failed receives take seconds rather than minutes; run.py (the
    # next test) sets it back.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
    job = json.dumps({"bucket": BUCKET, "key": "scans/never-uploaded.png", "requested_at": "2025-01-01T00:00:00Z"})
    sent = sqs.send_message(QueueUrl=url, MessageBody=job)
    dead_url = queue_url(server, DEAD_LETTERS)
    deadline = time.monotonic() + 90
    while True:
        got = sqs.receive_message(QueueUrl=dead_url, WaitTimeSeconds=5, AttributeNames=["All"]).get("Messages", [])
        if got:
            break
        assert time.monotonic() < deadline, "the failing job never reached the dead-letter queue"
    assert [(m["MessageId"], m["Body"]) for m in got] == [(sent["MessageId"], job)]
    assert int(got[0]["Attributes"]["ApproximateReceiveCount"]) >= 3
    sqs.delete_message(QueueUrl=dead_url, ReceiptHandle=got[0]["ReceiptHandle"])
    log = run_stratus("logs", WORKER, env=server.cli_env()).stdout
    assert f"job {sent['MessageId']} failed (receive 3 of 3)" in log, log[-3000:]


def test_a_second_run_reuses_everything_and_leaves_no_subscriber(pipeline):
    server, first = pipeline
    second = run_example(server, "SECOND RUN", "Invoice 4418")
    assert second["status"] == "done" and second["key"] != first["key"]
    assert_read(second["result"]["text"], ["SECOND RUN", "Invoice 4418"])
    assert (second["queue_url"], second["topic_arn"], second["mapping"]) == \
        (first["queue_url"], first["topic_arn"], first["mapping"])
    assert int(queue_attributes(server, QUEUE)["VisibilityTimeout"]) == 120, "run.py restores its settings"

    queues = aws(server, "sqs").list_queues().get("QueueUrls", [])
    assert sorted(url.rsplit("/", 1)[-1] for url in queues) == [QUEUE, DEAD_LETTERS]
    topics = aws(server, "sns").list_topics()["Topics"]
    assert [t["TopicArn"] for t in topics] == [first["topic_arn"]]
    assert len(aws(server, "lambda").list_event_source_mappings(FunctionName=WORKER)["EventSourceMappings"]) == 1
    # Each run unsubscribes its own HTTP endpoint when it is done.
    subscriptions = aws(server, "sns").list_subscriptions_by_topic(TopicArn=first["topic_arn"])["Subscriptions"]
    assert subscriptions == [], subscriptions
