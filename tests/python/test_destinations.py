"""Lambda destinations end to end: an asynchronous invocation's outcome reaches the function
named by OnFailure / OnSuccess as Lambda's invocation record, once."""

from __future__ import annotations

import json
import time

import pytest

from lambda_helpers import ROLE, lambda_client, unique_name, zip_code
from stratus_testlib import account_id, unique_bucket
from trigger_helpers import S3MINI, keys, wait_for_object

# Stores each invocation record it receives as OUT_BUCKET/<requestId>-<condition>-<own request id>.json.
RECORDER = """
import json, os, s3mini

def handler(event, context):
    name = "%s-%s-%s.json" % (event["requestContext"]["requestId"], event["requestContext"]["condition"],
                              context.aws_request_id)
    s3mini.put(os.environ["OUT_BUCKET"], name, json.dumps(event).encode())
    return "recorded"
"""

FAILING = """
def handler(event, context):
    raise ValueError("boom: " + str(event.get("order")))
"""

SUCCEEDING = """
def handler(event, context):
    return {"sum": event["a"] + event["b"]}
"""


@pytest.fixture
def lam(server):
    return lambda_client(server)


@pytest.fixture
def out(s3):
    name = unique_bucket("dest")
    s3.create_bucket(Bucket=name)
    return name


def create(lam, source: str, **kwargs) -> str:
    name = unique_name("d")
    files = {"app.py": source, "s3mini.py": S3MINI.read_text()}
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_code(files)}, Timeout=30, **kwargs)
    return name


def function_arn(server, name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{account_id(server.admin.project)}:function:{name}"


def records_for(s3, out: str, request_id: str, timeout: float = 60.0) -> list[dict]:
    """Waits for the record of `request_id`, then a little longer to catch any duplicate."""
    deadline = time.monotonic() + timeout
    while not keys(s3, out, request_id):
        assert time.monotonic() < deadline, f"no invocation record for {request_id}"
        time.sleep(0.1)
    time.sleep(2.0)
    return [json.loads(wait_for_object(s3, out, key)) for key in keys(s3, out, request_id)]


def invoke_event(lam, name: str, payload: dict) -> str:
    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_on_failure_receives_the_record_once(server, s3, lam, out):
    recorder = create(lam, RECORDER, Environment={"Variables": {"OUT_BUCKET": out}})
    failing = create(lam, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=failing, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": function_arn(server, recorder)}})
    request_id = invoke_event(lam, failing, {"order": 7})

    [record] = records_for(s3, out, request_id)
    assert record["version"] == "1.0"
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"] == function_arn(server, failing) + ":$LATEST"
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responseContext"]["executedVersion"] == "$LATEST"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert "boom: 7" in record["responsePayload"]["errorMessage"]
    assert record["timestamp"].endswith("Z")


def test_retries_happen_before_the_failure_record(server, s3, lam, out):
    recorder = create(lam, RECORDER, Environment={"Variables": {"OUT_BUCKET": out}})
    failing = create(lam, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=failing, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": function_arn(server, recorder)}})
    request_id = invoke_event(lam, failing, {"order": 8})
    [record] = records_for(s3, out, request_id)
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_on_success_receives_the_response(server, s3, lam, out):
    recorder = create(lam, RECORDER, Environment={"Variables": {"OUT_BUCKET": out}})
    adder = create(lam, SUCCEEDING)
    lam.put_function_event_invoke_config(
        FunctionName=adder,
        DestinationConfig={"OnSuccess": {"Destination": function_arn(server, recorder)},
                           "OnFailure": {"Destination": function_arn(server, recorder)}})
    request_id = invoke_event(lam, adder, {"a": 2, "b": 3})
    [record] = records_for(s3, out, request_id)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"a": 2, "b": 3}
    assert record["responsePayload"] == {"sum": 5}
    assert "functionError" not in record["responseContext"]
    assert record["responseContext"]["statusCode"] == 200

