"""Billing end to end: usage metered by the real server, priced by `GET /v1/cost` and
`stratus cost`, checked against hand computations from what the server reported per
invocation (`x-stratus-billed-ms`) and what the test itself did against S3."""

from __future__ import annotations

import json
import time

import pytest

from lambda_helpers import create_python_function, lambda_client
from stratus_testlib import http_request, run_stratus, unique_bucket

SLEEPER = """
import time

def handler(event, context):
    time.sleep(0.03)
    return {"ok": True}
"""

# AWS's public prices, the defaults.
PER_MILLION_REQUESTS = 0.20
PER_GB_SECOND = 0.0000166667
PER_GB_MONTH = 0.023
PER_THOUSAND_WRITES = 0.005
PER_THOUSAND_READS = 0.0004
GB = 1024.0 ** 3


def cost(server, token: str, query: str = ""):
    return http_request(f"{server.endpoint}/v1/cost{query}", headers={"Authorization": f"Bearer {token}"})


def report(server, token: str, query: str = "") -> dict:
    res = cost(server, token, query)
    assert res.status == 200, res.body
    return res.json()


def invoke_native(server, token: str, name: str) -> int:
    """Invokes through `POST /v1/functions/NAME/invoke`; returns the billed milliseconds."""
    res = http_request(f"{server.endpoint}/v1/functions/{name}/invoke", method="POST", data=b"{}",
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert res.status == 200, res.body
    assert "x-stratus-function-error" not in res.headers, res.body
    return int(res.headers["x-stratus-billed-ms"])


def deploy_and_invoke(server, creds, times: int, memory_mb: int = 256) -> tuple[str, list[int]]:
    name = create_python_function(lambda_client(server, creds), SLEEPER, MemorySize=memory_mb)
    billed = [invoke_native(server, creds.token, name) for _ in range(times)]
    return name, billed


def item_for(body: dict, function: str) -> dict:
    items = [item for item in body["functions"] if item.get("function") == function]
    assert len(items) == 1, body
    return items[0]


def test_invocations_cost_requests_plus_gb_seconds(server):
    creds = server.create_key(unique_bucket("bill"))
    name, billed = deploy_and_invoke(server, creds, times=5)
    assert all(ms >= 30 for ms in billed), billed
    body = report(server, creds.token)
    item = item_for(body, name)
    gb_seconds = sum(billed) * 256 / 1024 / 1000
    assert item["requests"] == 5
    assert item["billed_mb_ms"] == sum(billed) * 256
    assert item["gb_seconds"] == pytest.approx(gb_seconds, rel=1e-12)
    assert item["errors"] == 0
    assert item["request_usd"] == pytest.approx(5 / 1e6 * PER_MILLION_REQUESTS, rel=1e-12)
    assert item["compute_usd"] == pytest.approx(gb_seconds * PER_GB_SECOND, rel=1e-12)
    assert body["totals"]["lambda_usd"] == pytest.approx(item["request_usd"] + item["compute_usd"], rel=1e-12)
    assert body["prices"]["lambda"] == {"per_million_requests": PER_MILLION_REQUESTS,
                                        "per_gb_second": PER_GB_SECOND}


def test_configured_prices_change_the_bill(new_server, tmp_path):
    config = tmp_path / "stratus.toml"
    config.write_text("[prices.lambda]\nper_million_requests = 1000.0\nper_gb_second = 0.5\n"
                      "[prices.s3]\nper_thousand_writes = 2.0\n")
    srv = new_server("prices", "--config", str(config)).start()
    name, billed = deploy_and_invoke(srv, srv.admin, times=2, memory_mb=512)
    body = report(srv, srv.admin.token)
    item = item_for(body, name)
    gb_seconds = sum(billed) * 512 / 1024 / 1000
    assert item["usd"] == pytest.approx(2 / 1e6 * 1000.0 + gb_seconds * 0.5, rel=1e-12)
    assert body["prices"]["s3"]["per_thousand_writes"] == 2.0
    assert body["prices"]["s3"]["per_gb_month"] == PER_GB_MONTH


def test_invalid_prices_stop_the_server_with_a_clear_error(new_server, tmp_path):
    config = tmp_path / "stratus.toml"
    config.write_text("[prices.lambda]\nper_gb_second = -1.0\n")
    srv = new_server("badprices", "--config", str(config))
    with pytest.raises(AssertionError, match="prices.lambda.per_gb_second"):
        srv.start(timeout=20)


def test_s3_requests_are_counted_in_their_price_class(server):
    creds = server.create_key(unique_bucket("s3bill"))
    s3 = server.client(creds)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)                                 # write
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * 10)   # 3 writes
    s3.get_object(Bucket=bucket, Key="k0")["Body"].read()           # read
    s3.head_object(Bucket=bucket, Key="k1")                         # read
    s3.list_objects_v2(Bucket=bucket)                               # write (LIST)
    s3.delete_object(Bucket=bucket, Key="k0")                       # free
    s3.delete_object(Bucket=bucket, Key="k1")                       # free
    body = report(server, creds.token)
    [item] = body["s3"]
    assert (item["write_requests"], item["read_requests"]) == (5, 2)
    assert item["request_usd"] == pytest.approx(5 / 1000 * PER_THOUSAND_WRITES + 2 / 1000 * PER_THOUSAND_READS,
                                                rel=1e-12)


def test_storage_is_billed_in_byte_hours(new_server):
    srv = new_server("storage", "--storage-sample-interval", "1s")
    srv.start()
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    size = 3 * 1024 * 1024
    before = time.time()
    s3.put_object(Bucket=bucket, Key="big", Body=b"\0" * size)
    after_put = time.time()
    time.sleep(4.5)
    body = report(srv, srv.admin.token)
    queried = time.time()
    [item] = body["s3"]
    # Samples every second credit the bytes they see × the time since the previous sample: the
    # first sample that sees the object also credits the part of its interval before the PUT (up
    # to one interval early), and the last sample may come up to one interval before the query.
    low = size * (queried - after_put - 2.0) / 3600
    high = size * (queried - before + 1.0) / 3600
    assert low <= item["byte_hours"] <= high, (low, item["byte_hours"], high)
    assert item["gb_months"] == pytest.approx(item["byte_hours"] / GB / 730, rel=1e-12)
    assert item["storage_usd"] == pytest.approx(item["gb_months"] * PER_GB_MONTH, rel=1e-12)


def test_usage_survives_a_graceful_restart(new_server):
    # An hour between flushes: only the flush at shutdown can have stored the usage.
    srv = new_server("restart", "--usage-flush", "1h").start()
    name, billed = deploy_and_invoke(srv, srv.admin, times=3)
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    srv.restart()
    body = report(srv, srv.admin.token)
    item = item_for(body, name)
    assert item["requests"] == 3
    assert item["billed_mb_ms"] == sum(billed) * 256
    [s3_item] = body["s3"]
    assert s3_item["write_requests"] == 2
    # A second report counts nothing twice.
    again = report(srv, srv.admin.token)
    assert item_for(again, name)["requests"] == 3


def test_cli_prints_the_report_as_json_and_as_a_table(server):
    creds = server.create_key(unique_bucket("clibill"))
    name, billed = deploy_and_invoke(server, creds, times=2)
    env = server.cli_env(creds.token)
    out = run_stratus("cost", "--json", "--since", "1d", env=env).stdout
    body = json.loads(out)
    item = item_for(body, name)
    assert item["requests"] == 2
    assert item["gb_seconds"] == pytest.approx(sum(billed) * 256 / 1024 / 1000, rel=1e-12)
    table = run_stratus("cost", env=env).stdout
    assert name in table and "Total: $" in table, table
    by_project = json.loads(run_stratus("cost", "--by", "project", "--json", env=env).stdout)
    assert [(i["project"], i["requests"]) for i in by_project["functions"]] == [(creds.project, 2)]


def test_bad_periods_and_groupings_are_refused(server):
    token = server.admin.token
    for query, words in [("?by=bogus", "by must be function or project"),
                         ("?since=yesterday", "since must be"),
                         ("?since=2026-02-01&until=2026-01-01", "is before since"),
                         ("?sinse=2026-01-01", "unknown parameter")]:
        res = cost(server, token, query)
        assert res.status == 400, (query, res.body)
        assert res.headers["content-type"].startswith("application/problem+json")
        assert words in res.json()["detail"], (query, res.body)
    env = server.cli_env()
    bad = run_stratus("cost", "--since", "yesterday", env=env, check=False)
    assert bad.returncode != 0 and "invalid time" in bad.stderr, bad.stderr
    backwards = run_stratus("cost", "--since", "2026-02-01", "--until", "2026-01-01", env=env, check=False)
    assert backwards.returncode != 0 and "is before --since" in backwards.stderr, backwards.stderr
    by = run_stratus("cost", "--by", "bogus", env=env, check=False)
    assert by.returncode != 0 and "bogus" in by.stderr, by.stderr


def test_another_projects_usage_is_invisible(server):
    alice = server.create_key(unique_bucket("alice"))
    bob = server.create_key(unique_bucket("bob"))
    name, _ = deploy_and_invoke(server, alice, times=1)
    server.client(alice).create_bucket(Bucket=unique_bucket())
    for query in ["", "?by=project"]:
        seen = report(server, bob.token, query)
        assert seen["functions"] == [] and seen["s3"] == [], seen
        assert seen["totals"]["usd"] == 0
    # The operator's project-wide view includes every project.
    everyone = report(server, server.admin.token, "?by=project")
    assert alice.project in [item["project"] for item in everyone["functions"]]
    assert alice.project in [item["project"] for item in everyone["s3"]]
    # Its per-function view is its own project only.
    own = report(server, server.admin.token)
    assert all(item["project"] == server.admin.project for item in own["functions"])
