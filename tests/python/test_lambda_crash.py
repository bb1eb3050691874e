"""Accepted asynchronous invocations survive a crash: accept events, SIGKILL the server, restart,
and every accepted event runs (each writes a marker object named by its id)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from lambda_helpers import create_python_function, lambda_client
from stratus_testlib import unique_bucket

MARKER = ("import boto3, time\n"
          "S3 = boto3.client('s3')\n"
          "def handler(event, context):\n"
          "    time.sleep(0.05)\n"
          "    S3.put_object(Bucket=event['bucket'], Key='markers/' + event['id'], Body=b'1')\n")


def test_accepted_events_run_after_sigkill(fresh_server):
    server = fresh_server
    client = lambda_client(server)
    s3 = server.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    name = create_python_function(client, MARKER, Timeout=30, MemorySize=256)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    def send(i: int) -> str | None:
        try:
            response = client.invoke(FunctionName=name, InvocationType="Event",
                                     Payload=json.dumps({"bucket": bucket, "id": f"e{i:03d}"}))
        except Exception:  # the server died under us: not accepted
            return None
        return f"e{i:03d}" if response["StatusCode"] == 202 else None

    with ThreadPoolExecutor(4) as pool:
        accepted = [i for i in pool.map(send, range(40)) if i]
    server.kill()
    assert len(accepted) == 40
    server.start()
    s3 = server.client()
    deadline = time.monotonic() + 90
    seen: set[str] = set()
    while time.monotonic() < deadline and not set(accepted) <= seen:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="markers/"):
            seen |= {obj["Key"].removeprefix("markers/") for obj in page.get("Contents", [])}
        time.sleep(0.5)
    assert set(accepted) <= seen, f"lost events: {sorted(set(accepted) - seen)}"
