"""Invoking functions through boto3: results, Lambda's failure contract (exception, timeout, out of
memory, import error), logs, limits, asynchronous events, the sandbox and warm reuse, and a
`provided` runtime driven by AWS's own runtime client (awslambdaric)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time

from lambda_helpers import ROLE, create_python_function, lambda_client, raises_lambda, unique_name, zip_code
from stratus_testlib import unique_bucket


def call(client, name, payload=None, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}),
                             **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def test_result_context_and_environment(server):
    client = lambda_client(server)
    source = (
        "import os\n"
        "def handler(event, context):\n"
        "    keys = ['AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',\n"
        "            '_HANDLER', 'LAMBDA_TASK_ROOT', 'AWS_REGION', 'AWS_LAMBDA_RUNTIME_API', 'GREETING']\n"
        "    return {'id': context.aws_request_id, 'name': context.function_name,\n"
        "            'arn': context.invoked_function_arn,\n"
        "            'memory': context.memory_limit_in_mb, 'remaining': context.get_remaining_time_in_millis(),\n"
        "            'group': context.log_group_name, 'env': {k: os.environ.get(k) for k in keys}, 'event': event}\n")
    name = create_python_function(client, source, Environment={"Variables": {"GREETING": "hi"}}, Timeout=5)
    response, result = call(client, name, {"n": 1})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert result["id"] == response["ResponseMetadata"]["RequestId"]
    assert result["name"] == name and result["arn"].endswith(f":function:{name}")
    assert result["memory"] == "128" and 0 < result["remaining"] <= 5000
    assert result["group"] == f"/aws/lambda/{name}" and result["event"] == {"n": 1}
    env = result["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST" and env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == "/var/task" and env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_RUNTIME_API"] and env["GREETING"] == "hi"


def test_tail_log_has_lambda_lines(server):
    client = lambda_client(server)
    name = create_python_function(client,
                                  "def handler(event, context):\n    print('working on', event['k'])\n    return 1\n")
    response, _ = call(client, name, {"k": "cat.png"}, LogType="Tail")
    rid = response["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {rid} Version: $LATEST" in log
    assert "working on cat.png" in log and f"END RequestId: {rid}" in log
    report = re.search(rf"REPORT RequestId: {rid}\tDuration: ([0-9.]+) ms\tBilled Duration: (\d+) ms\t"
                       r"Memory Size: 128 MB\tMax Memory Used: (\d+) MB\tInit Duration: ([0-9.]+) ms", log)
    assert report, log
    assert int(report.group(2)) >= float(report.group(1)) and int(report.group(3)) > 0
    warm, _ = call(client, name, {"k": "dog.png"}, LogType="Tail")
    assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode(), "second call is warm"


def test_handler_exception_is_unhandled_function_error(server):
    client = lambda_client(server)
    name = create_python_function(client,
                                  "def handler(event, context):\n    raise ValueError('bad input: ' + event['x'])\n")
    response, error = call(client, name, {"x": "q"})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "bad input: q"
    assert any("app.py" in frame for frame in error["stackTrace"])
    assert call(client, name, {"x": "again"})[1]["errorMessage"] == "bad input: again", "worker survives"


def test_import_error(server):
    client = lambda_client(server)
    name = create_python_function(client, "import no_such_module\ndef handler(e, c):\n    return 1\n")
    response, error = call(client, name)
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module" in error["errorMessage"]


def test_timeout_kills_and_replaces_the_worker(server):
    client = lambda_client(server)
    name = create_python_function(client, "import time\n"
                                  "def handler(event, context):\n    time.sleep(event['s'])\n    return 'done'\n",
                                  Timeout=1)
    started = time.monotonic()
    response, error = call(client, name, {"s": 30})
    assert time.monotonic() - started < 10, "the timeout must cut the call short"
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert call(client, name, {"s": 0})[1] == "done"


def test_out_of_memory_kills_and_replaces_the_worker(server):
    client = lambda_client(server)
    source = ("def handler(event, context):\n"
              "    if event.get('grow'):\n"
              "        blocks = [bytearray(16 * 1024 * 1024) for _ in range(40)]\n"
              "        return len(blocks)\n"
              "    return 'small'\n")
    name = create_python_function(client, source, MemorySize=128)
    response, error = call(client, name, {"grow": True})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.OutOfMemory", error
    assert call(client, name, {})[1] == "small"


def test_payload_limits_and_invocation_types(server):
    client = lambda_client(server)
    name = create_python_function(client, "def handler(e, c):\n    return len(e['data'])\n")
    with raises_lambda("RequestTooLargeException", 413):
        client.invoke(FunctionName=name, Payload=json.dumps({"data": "x" * (6 * 1024 * 1024 + 10)}))
    with raises_lambda("RequestTooLargeException", 413):
        client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"data": "x" * (1024 * 1024)}))
    # Just under the 1 MB Event limit is accepted.
    assert client.invoke(FunctionName=name, InvocationType="Event",
                         Payload=json.dumps({"data": "x" * 1_000_000}))["StatusCode"] == 202
    dry = client.invoke(FunctionName=name, InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    assert call(client, name, {"data": "x" * 1_000_000})[1] == 1_000_000


def test_event_invocation_runs_with_preconfigured_boto3(server):
    creds = server.create_key(unique_name("events"))
    client = lambda_client(server, creds)
    s3 = server.client(creds)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    source = ("import boto3\n"
              "def handler(event, context):\n"
              "    boto3.client('s3').put_object(Bucket=event['bucket'], Key='markers/' + event['id'],\n"
              "                                  Body=context.aws_request_id.encode())\n"
              "    return 'ok'\n")
    name = create_python_function(client, source, Timeout=30, MemorySize=256)
    response = client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=json.dumps({"bucket": bucket, "id": "e1"}))
    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="markers/").get("Contents", [])
        if listed:
            break
        time.sleep(0.2)
    body = s3.get_object(Bucket=bucket, Key="markers/e1")["Body"].read().decode()
    assert body == response["ResponseMetadata"]["RequestId"], "the event ran under its accepted id"


def test_sandbox_is_private_and_read_only(server):
    client = lambda_client(server)
    source = ("import os\n"
              "def handler(event, context):\n"
              "    try:\n"
              "        open(os.path.join(os.environ['LAMBDA_TASK_ROOT'], 'x'), 'w')\n"
              "        code_writable = True\n"
              "    except OSError:\n"
              "        code_writable = False\n"
              "    if event.get('write'):\n"
              "        open('/tmp/secret', 'w').write('mine')\n"
              "    return {'pid': os.getpid(), 'code_writable': code_writable, 'tmp': sorted(os.listdir('/tmp')),\n"
              "            'meta_db_visible': any(os.path.exists(p) for p in ['/root', '/work'])}\n")
    first = create_python_function(client, source)
    second = create_python_function(client, source)
    result = call(client, first, {"write": True})[1]
    assert result["pid"] < 10 and result["code_writable"] is False and result["tmp"] == ["secret"]
    other = call(client, second)[1]
    assert other["tmp"] == [], "another function cannot see the first one's /tmp"


def test_warm_worker_is_reused(server):
    client = lambda_client(server)
    source = ("import os\nCOUNT = 0\n"
              "def handler(e, c):\n    global COUNT\n    COUNT += 1\n    return [os.getpid(), COUNT]\n")
    name = create_python_function(client, source)
    assert call(client, name)[1][1] == 1
    assert call(client, name)[1][1] == 2


def test_reserved_concurrency_throttles_sync_calls(server):
    client = lambda_client(server)
    name = create_python_function(client,
                                  "import time\ndef handler(e, c):\n    time.sleep(e['s'])\n    return e['s']\n",
                                  Timeout=10)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    call(client, name, {"s": 0})  # warm up, so the slow call below is busy at once
    results = []
    slow = threading.Thread(target=lambda: results.append(call(client, name, {"s": 2})[1]))
    slow.start()
    time.sleep(0.5)
    with raises_lambda("TooManyRequestsException", 429):
        client.invoke(FunctionName=name, Payload=json.dumps({"s": 0}))
    slow.join(timeout=30)
    assert results == [2]


def test_provided_runtime_with_awslambdaric(server):
    """AWS's own Python runtime interface client as the `bootstrap` of a `provided` function."""
    client = lambda_client(server)
    bootstrap = "#!/bin/sh\nexec python3 -m awslambdaric app.handler\n"
    handler = "def handler(event, context):\n    return {'ric': True, 'id': context.aws_request_id, 'got': event}\n"
    name = unique_name("ric")
    client.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="app.handler",
                           Code={"ZipFile": zip_code({"bootstrap": bootstrap, "app.py": handler},
                                                     modes={"bootstrap": 0o755})})
    response, result = call(client, name, {"a": 1})
    assert "FunctionError" not in response, result
    assert result == {"ric": True, "id": response["ResponseMetadata"]["RequestId"], "got": {"a": 1}}
    failing = unique_name("ric")
    client.create_function(FunctionName=failing, Runtime="provided", Role=ROLE, Handler="app.handler",
                           Code={"ZipFile": zip_code({"bootstrap": bootstrap,
                                                      "app.py": "def handler(e, c):\n    raise KeyError('k')\n"},
                                                     modes={"bootstrap": 0o755})})
    response, error = call(client, failing)
    assert response["FunctionError"] == "Unhandled" and error["errorType"] == "KeyError"
