"""The CloudWatch Logs API (service `logs`) through boto3's `logs` client and the aws CLI: function log
groups and per-worker streams, Lambda's START/END/REPORT lines, GetLogEvents tokens, FilterLogEvents
patterns, time ranges and pagination, retention, tenancy, signatures, and durability across a crash."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python_function, lambda_client
from stratus_testlib import STRATUS_BIN, Creds, aws_client, base_subprocess_env

STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(r"^REPORT RequestId: (\S+)\tDuration: ([0-9.]+) ms\tBilled Duration: (\d+) ms\t"
                    r"Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t(?:Init Duration: ([0-9.]+) ms\t)?")

PRINTER = (
    "def handler(event, context):\n"
    "    for i in range(event.get('n', 3)):\n"
    "        level = ['ERROR', 'WARN', 'INFO'][i % 3]\n"
    "        print(f\"line {i} level={level} tag={event.get('tag', 'x')}\")\n"
    "    return context.log_stream_name\n"
)
SLEEPER = (
    "import time\n"
    "def handler(event, context):\n"
    "    time.sleep(1.0)\n"
    "    print('slept in', context.log_stream_name)\n"
    "    return context.log_stream_name\n"
)


def invoke(client, name, payload=None) -> str:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}))
    assert "FunctionError" not in response, response
    return json.loads(response["Payload"].read())


def group_of(name: str) -> str:
    return f"/aws/lambda/{name}"


def code_of(info) -> str:
    return info.value.response["Error"]["Code"]


def all_filtered(logs, group, **kwargs) -> list[dict]:
    events = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, **kwargs):
        events.extend(page["events"])
    return events


@pytest.fixture
def logs(server):
    return aws_client(server, "logs")


@pytest.fixture
def lam(server):
    return lambda_client(server)


def test_groups_streams_and_lambda_report_lines(server, logs, lam):
    name = create_python_function(lam, PRINTER, MemorySize=256)
    stream = invoke(lam, name, {"tag": "first"})
    assert invoke(lam, name, {"tag": "second"}) == stream, "a warm worker keeps its stream"
    assert STREAM_NAME.match(stream), stream

    groups = logs.describe_log_groups(logGroupNamePrefix=group_of(name))["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group_of(name)]
    group = groups[0]
    assert group["arn"].startswith("arn:aws:logs:us-east-1:")
    assert group["arn"].endswith(f":log-group:{group_of(name)}:*")
    assert group["logGroupArn"] == group["arn"][:-2] and group["storedBytes"] > 0 and "retentionInDays" not in group

    streams = logs.describe_log_streams(logGroupName=group_of(name))["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    s = streams[0]
    assert s["firstEventTimestamp"] <= s["lastEventTimestamp"] <= s["lastIngestionTime"]

    events = logs.get_log_events(logGroupName=group_of(name), logStreamName=stream, startFromHead=True)["events"]
    messages = [e["message"] for e in events]
    assert len(messages) == 2 * 6, messages
    assert messages[0].startswith("START RequestId: ") and messages[0].endswith("Version: $LATEST")
    assert messages[1:4] == ["line 0 level=ERROR tag=first", "line 1 level=WARN tag=first",
                             "line 2 level=INFO tag=first"]
    assert messages[4].startswith("END RequestId: ") and messages[10].startswith("END RequestId: ")
    reports = [REPORT.match(m) for m in messages if m.startswith("REPORT")]
    assert len(reports) == 2 and all(reports), messages
    for report in reports:
        duration, billed, memory, used = float(report[2]), int(report[3]), int(report[4]), int(report[5])
        assert billed >= duration > 0 and memory == 256 and 0 < used <= 256
    assert reports[0][6] is not None and float(reports[0][6]) > 0, "the cold start reports its init"
    assert reports[1][6] is None, "a warm invocation has no Init Duration"
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert all(e["ingestionTime"] >= e["timestamp"] for e in events)


def test_get_log_events_tokens_walk_both_ways(server, logs, lam):
    name = create_python_function(lam, PRINTER)
    stream = invoke(lam, name, {"n": 9})
    group = group_of(name)
    everything = [e["message"] for e in logs.get_log_events(
        logGroupName=group, logStreamName=stream, startFromHead=True)["events"]]
    assert len(everything) == 12

    forward, token = [], None
    while True:
        args = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=5, **args)
        if token == page["nextForwardToken"]:
            assert page["events"] == [], "at the end the forward token repeats with no events"
            break
        forward += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert forward == everything

    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=5)
    backward = [e["message"] for e in tail["events"]]
    token = tail["nextBackwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=5, nextToken=token)
        if not page["events"]:
            assert page["nextBackwardToken"] == token
            break
        backward = [e["message"] for e in page["events"]] + backward
        token = page["nextBackwardToken"]
    assert backward == everything

    # New lines appear after the forward token that said "the end".
    invoke(lam, name, {"n": 1, "tag": "later"})
    later = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=forward_end(logs, group, stream))
    assert "line 0 level=ERROR tag=later" in [e["message"] for e in later["events"]]

    with pytest.raises(ClientError) as info:
        logs.get_log_events(logGroupName=group, logStreamName="2020/01/01/[$LATEST]" + "0" * 32)
    assert code_of(info) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken="garbage")
    assert code_of(info) == "InvalidParameterException"


def forward_end(logs, group, stream) -> str:
    """The forward token of the stream as it was before the last invocation (its 12 first events)."""
    page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=12)
    return page["nextForwardToken"]


def test_filter_patterns_time_ranges_and_pagination(server, logs, lam):
    name = create_python_function(lam, PRINTER)
    for tag in ("alpha", "beta"):
        invoke(lam, name, {"n": 150, "tag": tag})
    group = group_of(name)
    everything = all_filtered(logs, group)
    assert len(everything) == 2 * (150 + 3)
    ids = [e["eventId"] for e in everything]
    assert len(set(ids)) == len(ids)
    keys = [(e["timestamp"], e["logStreamName"]) for e in everything]
    assert keys == sorted(keys)

    def expect(pattern: str, predicate):
        got = [e["message"] for e in all_filtered(logs, group, filterPattern=pattern)]
        want = [e["message"] for e in everything if predicate(e["message"])]
        assert got == want and want, pattern

    expect("ERROR", lambda m: "ERROR" in m)
    expect("level=WARN tag=beta", lambda m: "level=WARN" in m and "tag=beta" in m)
    expect('"line 14 level"', lambda m: "line 14 level" in m)
    expect("?ERROR ?WARN", lambda m: "ERROR" in m or "WARN" in m)
    expect("line -INFO -ERROR", lambda m: "line" in m and "INFO" not in m and "ERROR" not in m)
    expect("REPORT", lambda m: m.startswith("REPORT"))
    assert all_filtered(logs, group, filterPattern="error") == [], "patterns are case-sensitive"
    with pytest.raises(ClientError) as info:
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = "ERROR" }')
    assert code_of(info) == "InvalidParameterException"

    # Pagination by hand: small pages, no duplicates, no gaps.
    seen, token, pages = [], None, 0
    while True:
        page = logs.filter_log_events(logGroupName=group, limit=7, **({"nextToken": token} if token else {}))
        seen += [e["eventId"] for e in page["events"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert seen == ids and pages == -(-len(ids) // 7)

    # Time ranges: startTime inclusive, endTime inclusive (FilterLogEvents' rule).
    start, end = everything[40]["timestamp"], everything[200]["timestamp"]
    ranged = all_filtered(logs, group, startTime=start, endTime=end)
    assert [e["eventId"] for e in ranged] == [e["eventId"] for e in everything if start <= e["timestamp"] <= end]


def test_two_workers_write_two_streams(server, logs, lam):
    name = create_python_function(lam, SLEEPER, Timeout=10)
    streams: list[str] = []
    threads = [threading.Thread(target=lambda: streams.append(invoke(lam, name))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(streams)) == 2, streams
    group = group_of(name)
    described = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert sorted(s["logStreamName"] for s in described) == sorted(streams)
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    last_events = [s["lastEventTimestamp"] for s in by_time]
    assert last_events == sorted(last_events, reverse=True)
    one = logs.describe_log_streams(logGroupName=group, limit=1)
    assert len(one["logStreams"]) == 1 and one["nextToken"]
    rest = logs.describe_log_streams(logGroupName=group, limit=1, nextToken=one["nextToken"])
    assert {one["logStreams"][0]["logStreamName"], rest["logStreams"][0]["logStreamName"]} == set(streams)
    for stream in streams:
        messages = [e["message"] for e in logs.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True)["events"]]
        assert messages[0].startswith("START") and f"slept in {stream}" in messages
        only = all_filtered(logs, group, logStreamNames=[stream], filterPattern="slept")
        assert [e["message"] for e in only] == [f"slept in {stream}"]
    with pytest.raises(ClientError) as info:
        logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="20")
    assert code_of(info) == "InvalidParameterException"


def test_retention_policy_values_roles_and_deletion(server, logs, lam):
    name = create_python_function(lam, PRINTER)
    invoke(lam, name)
    group = group_of(name)

    def retention():
        return logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0].get("retentionInDays")

    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert retention() == 7
    for bad in (0, 2, 4000):
        with pytest.raises(ClientError) as info:
            logs.put_retention_policy(logGroupName=group, retentionInDays=bad)
        assert code_of(info) == "InvalidParameterException"
    assert retention() == 7, "a refused policy changes nothing"
    logs.delete_retention_policy(logGroupName=group)
    assert retention() is None
    # Retention of 1 day keeps today's events.
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    assert len(all_filtered(logs, group)) == 6

    reader = server.create_key(server.admin.project, role="read-only")
    readonly = aws_client(server, "logs", reader)
    assert readonly.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 1
    with pytest.raises(ClientError) as info:
        readonly.put_retention_policy(logGroupName=group, retentionInDays=3)
    assert code_of(info) == "AccessDeniedException"
    assert retention() == 1

    for missing in ("/aws/lambda/no-such-function", "/ecs/other"):
        with pytest.raises(ClientError) as info:
            logs.put_retention_policy(logGroupName=missing, retentionInDays=3)
        assert code_of(info) == "ResourceNotFoundException"
        with pytest.raises(ClientError) as info:
            logs.describe_log_streams(logGroupName=missing)
        assert code_of(info) == "ResourceNotFoundException"

    lam.delete_function(FunctionName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    with pytest.raises(ClientError) as info:
        logs.filter_log_events(logGroupName=group)
    assert code_of(info) == "ResourceNotFoundException"


def test_other_projects_and_bad_signatures(server, logs, lam):
    name = create_python_function(lam, PRINTER)
    invoke(lam, name)
    group = group_of(name)
    other = aws_client(server, "logs", server.create_key("logs-other-project"))
    assert other.describe_log_groups()["logGroups"] == []
    for call in (lambda: other.describe_log_streams(logGroupName=group),
                 lambda: other.filter_log_events(logGroupName=group),
                 lambda: other.put_retention_policy(logGroupName=group, retentionInDays=1)):
        with pytest.raises(ClientError) as info:
            call()
        assert code_of(info) == "ResourceNotFoundException"

    admin = server.admin
    wrong_secret = Creds(admin.access_key_id, "x" * 40, admin.project, admin.role, admin.token)
    with pytest.raises(ClientError) as info:
        aws_client(server, "logs", wrong_secret).describe_log_groups()
    assert code_of(info) == "InvalidSignatureException"
    unknown = Creds("AKIDUNKNOWN000000000", "x" * 40, admin.project, admin.role, admin.token)
    with pytest.raises(ClientError) as info:
        aws_client(server, "logs", unknown).describe_log_groups()
    assert code_of(info) == "UnrecognizedClientException"


def test_aws_cli_filter_log_events(server, lam, tmp_path):
    aws = Path(sys.executable).parent / "aws"
    name = create_python_function(lam, PRINTER)
    invoke(lam, name, {"tag": "cli"})
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    env = base_subprocess_env(AWS_ACCESS_KEY_ID=server.admin.access_key_id,
                              AWS_SECRET_ACCESS_KEY=server.admin.secret_access_key, AWS_DEFAULT_REGION="us-east-1",
                              AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_PAGER="")
    proc = subprocess.run([str(aws), "--endpoint-url", server.endpoint, "logs", "filter-log-events",
                           "--log-group-name", group_of(name), "--filter-pattern", "?ERROR ?WARN",
                           "--output", "json"], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    messages = [e["message"] for e in json.loads(proc.stdout)["events"]]
    assert messages == ["line 0 level=ERROR tag=cli", "line 1 level=WARN tag=cli"]


def write_stream(directory: Path, stream: str, events: list[tuple[int, str]]) -> Path:
    """A stream file in the server's own format (docs/logs.md), as an older server would have left it."""
    path = directory / (stream.replace("%", "%25").replace("/", "%2F") + ".jsonl")
    path.write_text("".join(json.dumps({"timestamp_ms": t, "ingestion_ms": t, "version": "$LATEST",
                                        "message": m}) + "\n" for t, m in events))
    return path


def test_retention_hides_old_events_and_the_sweeper_deletes_old_streams(fresh_server):
    server = fresh_server
    lam, logs = lambda_client(server), aws_client(server, "logs")
    name = create_python_function(lam, PRINTER)
    invoke(lam, name)
    group = group_of(name)
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    server.stop()
    directory = server.data_dir / "logs" / server.admin.project / name
    now = int(time.time() * 1000)
    day = 86_400_000
    old = write_stream(directory, "2020/01/01/[$LATEST]" + "a" * 32,
                       [(now - 3 * day, "ancient"), (now - 2 * day, "old")])
    mixed_name = "2020/01/02/[$LATEST]" + "b" * 32
    mixed = write_stream(directory, mixed_name, [(now - 2 * day, "expired line"), (now - 1000, "fresh line")])
    server.start()
    logs = aws_client(server, "logs")
    deadline = time.monotonic() + 10
    while old.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not old.exists(), "the start-up sweep deletes a stream whose newest event is past retention"
    assert mixed.exists(), "a stream with a recent event is kept"
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    assert mixed_name in names and len(names) == 2
    got = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=mixed_name,
                                                      startFromHead=True)["events"]]
    assert got == ["fresh line"], "events past retention are never returned"
    messages = [e["message"] for e in all_filtered(logs, group)]
    assert "fresh line" in messages and "expired line" not in messages and "ancient" not in messages
    # Without a policy the old event is visible again (it was hidden, not rewritten).
    logs.delete_retention_policy(logGroupName=group)
    assert "expired line" in [e["message"] for e in all_filtered(logs, group)]


def test_every_line_survives_sigkill(fresh_server):
    server = fresh_server
    lam, logs = lambda_client(server), aws_client(server, "logs")
    name = create_python_function(lam, PRINTER)
    for i in range(20):
        invoke(lam, name, {"n": 2, "tag": f"call{i}"})
    group = group_of(name)
    before = all_filtered(logs, group)
    assert len(before) == 20 * 5
    server.kill()
    server.start()
    after = all_filtered(aws_client(server, "logs"), group)
    assert [(e["eventId"], e["message"]) for e in after] == [(e["eventId"], e["message"]) for e in before]


def test_stratus_logs_follow_sees_new_lines_from_every_stream(server, lam):
    name = create_python_function(lam, PRINTER)
    invoke(lam, name, {"n": 1, "tag": "before"})
    proc = subprocess.Popen([str(STRATUS_BIN), "logs", name, "--follow"], env=server.cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        invoke(lam, name, {"n": 1, "tag": "followed"})
        deadline, seen = time.monotonic() + 20, ""
        while "tag=followed" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "tag=before" in seen and "tag=followed" in seen, seen
    finally:
        proc.kill()
        proc.wait(timeout=10)
