"""`GET /metrics`: parsed with prometheus_client's text parser (the real Prometheus format), and
every count compared with what the test made happen, as deltas between two scrapes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from lambda_helpers import create_python_function, lambda_client, unique_name
from stratus_testlib import REGION, aws_client, client_config, http_request, unique_bucket

SMALL_APP = Path(__file__).resolve().parents[2] / "examples" / "planner" / "small-app.yaml"

HANDLER = """
import time
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""


def scrape_text(server, token: str | None = None) -> str:
    token = token or server.admin.token
    res = http_request(server.endpoint + "/metrics", headers={"Authorization": f"Bearer {token}"})
    assert res.status == 200, res.body
    assert res.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return res.body.decode()


def scrape(server) -> dict[tuple[str, frozenset], float]:
    """Every sample as {(sample name, labels): value}."""
    values = {}
    for family in text_string_to_metric_families(scrape_text(server)):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before, after, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def invoke(client, name, payload):
    return client.invoke(FunctionName=name, Payload=json.dumps(payload))


def test_invocations_errors_cold_starts_and_durations_are_counted(server):
    client = lambda_client(server)
    name = create_python_function(client, HANDLER)
    project = server.admin.project
    fn = {"project": project, "function": name}
    before = scrape(server)
    for _ in range(3):
        assert "FunctionError" not in invoke(client, name, {})
    for _ in range(2):
        assert invoke(client, name, {"fail": True})["FunctionError"] == "Unhandled"
    after = scrape(server)
    assert delta(before, after, "stratus_function_invocations_total", outcome="success", **fn) == 3
    assert delta(before, after, "stratus_function_invocations_total", outcome="error", **fn) == 2
    assert delta(before, after, "stratus_function_errors_total", **fn) == 2
    # One worker served all five in turn: one cold start, then warm.
    assert delta(before, after, "stratus_function_cold_starts_total", **fn) == 1
    assert value(after, "stratus_function_duration_seconds_count", **fn) == 5
    buckets = sorted(
        ((float(dict(labels)["le"]), v) for (n, labels), v in after.items()
         if n == "stratus_function_duration_seconds_bucket" and dict(labels).get("function") == name),
    )
    counts = [v for _, v in buckets]
    assert buckets[-1] == (float("inf"), 5)
    assert counts == sorted(counts), "buckets must be cumulative"
    assert value(after, "stratus_function_duration_seconds_sum", **fn) > 0
    assert value(after, "stratus_function_concurrent_executions", **fn) == 0


def test_throttled_invocation_is_counted(server):
    # Without retries: botocore retries a throttle, and every refused attempt counts.
    creds = server.admin
    client = boto3.session.Session(
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        region_name=REGION,
    ).client("lambda", endpoint_url=server.endpoint,
             config=client_config(signature_version="v4", retries={"total_max_attempts": 1}))
    name = create_python_function(client, HANDLER)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    fn = {"project": server.admin.project, "function": name}
    before = scrape(server)
    with pytest.raises(ClientError) as info:
        invoke(client, name, {})
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    after = scrape(server)
    assert delta(before, after, "stratus_function_throttles_total", **fn) == 1
    assert delta(before, after, "stratus_function_invocations_total", outcome="success", **fn) == 0


def test_async_queue_depth_while_invocations_wait(server):
    client = lambda_client(server)
    name = create_python_function(client, HANDLER, Timeout=30)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    fn = {"project": server.admin.project, "function": name}
    for _ in range(4):
        response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"sleep": 1.5}))
        assert response["StatusCode"] == 202
    time.sleep(0.3)
    during = scrape(server)
    # One runs at a time (each 1.5 s): at least three are still waiting.
    assert value(during, "stratus_function_async_queue_depth", **fn) >= 3
    assert value(during, "stratus_function_async_oldest_age_seconds", **fn) >= 0.2
    deadline = time.monotonic() + 60
    while value(scrape(server), "stratus_function_async_queue_depth", **fn) > 0:
        assert time.monotonic() < deadline, "the backlog never drained"
        time.sleep(0.5)
    finished = scrape(server)
    assert value(finished, "stratus_function_invocations_total", outcome="success", **fn) == 4


def test_s3_requests_and_bytes_by_operation(server):
    s3 = server.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    before = scrape(server)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x" * 1000)
    s3.put_object(Bucket=bucket, Key="b", Body=b"y" * 500)
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"x" * 1000
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="missing")
    after = scrape(server)
    assert delta(before, after, "stratus_s3_requests_total", operation="PutObject", status_class="2xx") == 2
    assert delta(before, after, "stratus_s3_received_bytes_total", operation="PutObject") == 1500
    assert delta(before, after, "stratus_s3_requests_total", operation="GetObject", status_class="2xx") == 1
    assert delta(before, after, "stratus_s3_requests_total", operation="GetObject", status_class="4xx") == 1
    # The 404's XML error document counts as sent too; the object's 1000 bytes at least.
    assert delta(before, after, "stratus_s3_sent_bytes_total", operation="GetObject") >= 1000
    # No object keys or access keys in any label.
    text = scrape_text(server)
    assert bucket not in text and server.admin.access_key_id not in text


def test_sqs_sent_received_deleted_and_depths(server):
    sqs = aws_client(server, "sqs")
    queue = unique_name("q")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    labels = {"project": server.admin.project, "queue": queue}
    before = scrape(server)
    assert value(before, "stratus_sqs_messages_visible", **labels) == 0
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    received = []
    deadline = time.monotonic() + 10
    while len(received) < 3 and time.monotonic() < deadline:
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
    assert len(received) == 3
    for message in received[:2]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="late")
    after = scrape(server)
    assert delta(before, after, "stratus_sqs_messages_sent_total", **labels) == 4
    assert delta(before, after, "stratus_sqs_messages_received_total", **labels) == 3
    assert delta(before, after, "stratus_sqs_messages_deleted_total", **labels) == 2
    assert value(after, "stratus_sqs_messages_in_flight", **labels) == 1
    assert value(after, "stratus_sqs_messages_visible", **labels) == 1


def test_plan_endpoint_answers_and_is_counted(server):
    token = server.admin.token
    before = scrape(server)
    res = http_request(server.endpoint + "/v1/plan", "POST", SMALL_APP.read_bytes(),
                       {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"})
    assert res.status == 200, res.body
    plan = res.json()
    assert plan["feasible"] is True and plan["total_cost"] > 0
    assert set(plan["components"]) and all(c["partitions"] for c in plan["components"].values())
    bad = http_request(server.endpoint + "/v1/plan", "POST", b"{\"not\": \"a system\"}",
                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert bad.status == 400 and bad.headers["content-type"] == "application/problem+json"
    assert http_request(server.endpoint + "/v1/plan", "POST", SMALL_APP.read_bytes()).status == 401
    after = scrape(server)
    assert delta(before, after, "stratus_planner_runs_total", outcome="solved") == 1
    assert delta(before, after, "stratus_planner_runs_total", outcome="invalid") == 1
    assert delta(before, after, "stratus_planner_run_seconds_count") == 1


def test_metrics_need_an_operator_token(server):
    anonymous = http_request(server.endpoint + "/metrics")
    assert anonymous.status == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    member = server.create_key(unique_name("proj"), "admin")
    refused = http_request(server.endpoint + "/metrics", headers={"Authorization": f"Bearer {member.token}"})
    assert refused.status == 403 and refused.json()["status"] == 403
    wrong = http_request(server.endpoint + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    text = scrape_text(server)
    assert "# TYPE stratus_build_info gauge" in text and "process_start_time_seconds" in text


def test_public_metrics_when_configured(new_server):
    srv = new_server("public")
    srv.extra_env["STRATUS_PUBLIC_METRICS"] = "true"
    srv.start()
    res = http_request(srv.endpoint + "/metrics")
    assert res.status == 200
    names = {family.name for family in text_string_to_metric_families(res.body.decode())}
    assert "stratus_function_invocations" in names and "stratus_s3_requests" in names
