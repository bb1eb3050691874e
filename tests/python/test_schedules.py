"""Schedule triggers (`triggers: - schedule:` in function.yaml) against the real binary: the
function fires on time with EventBridge's Scheduled Event (or the constant input), a kill -9
at the moment of a fire neither loses nor repeats it, and an invalid expression is refused
before anything is deployed.

Time is real: a `cron(* * * * ? *)` fires at the next minute boundary, so the firing test waits
at most a minute. Every function run writes `fires/REQUEST_ID` (its event) to a bucket; a period
fired twice would show as two objects for one (rule, time).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime

from stratus_testlib import http_request, run_stratus, unique_bucket

RECORDER = ("import json, os, boto3\n"
            "S3 = boto3.client('s3')\n"
            "def handler(event, context):\n"
            "    S3.put_object(Bucket=os.environ['BUCKET'], Key='fires/' + context.aws_request_id,\n"
            "                  Body=json.dumps(event).encode())\n"
            "    return 'ok'\n")

EVERY_MINUTE = "cron(* * * * ? *)"


def write_function(root, name: str, bucket: str, triggers: str):
    code = root / name
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(RECORDER)
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: app.handler\ntimeout: 30\n"
        f"environment:\n  BUCKET: {bucket}\n{triggers}")
    return code


def show(server, name: str):
    return http_request(f"{server.endpoint}/v1/functions/{name}",
                        headers={"Authorization": f"Bearer {server.admin.token}"})


def iso_seconds(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recorded(s3, bucket: str) -> dict[str, dict]:
    """Every recorded event by the request id that ran it."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="fires/").get("Contents", [])
    return {o["Key"].removeprefix("fires/"): json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            for o in listed}


def test_invalid_schedules_are_refused_and_deploy_nothing(server, tmp_path):
    env = server.cli_env()
    bucket = unique_bucket()
    server.client().create_bucket(Bucket=bucket)
    name = f"sched-bad-{bucket[-8:]}"
    for expression, why in [("cron(0 12 * * * *)", "Day-of-week"), ("rate(1 minutes)", "singular"),
                            ("cron(60 * * * ? *)", "Minutes"), ("every day", "rate(VALUE UNIT)"),
                            ("cron(0 0 1 1 ? 2020)", "never fires")]:
        code = write_function(tmp_path, name, bucket,
                              f'triggers:\n  - schedule: "rate(5 minutes)"\n  - schedule: "{expression}"\n')
        refused = run_stratus("deploy", str(code), env=env, check=False)
        assert refused.returncode != 0, refused.stdout
        assert expression in refused.stderr and why in refused.stderr, refused.stderr
        assert show(server, name).status == 404, f"{expression}: a function was created"

    # An existing function is left exactly as it was, schedules included.
    code = write_function(tmp_path, name, bucket, 'triggers:\n  - schedule: "rate(1 day)"\n')
    run_stratus("deploy", str(code), env=env)
    before = show(server, name).json()
    assert [s["schedule"] for s in before["schedules"]] == ["rate(1 day)"]
    (code / "app.py").write_text(RECORDER + "# changed\n")
    code = write_function(tmp_path, name, bucket, 'triggers:\n  - schedule: "cron(0 25 * * ? *)"\n')
    refused = run_stratus("deploy", str(code), env=env, check=False)
    assert refused.returncode != 0 and "cron(0 25 * * ? *)" in refused.stderr and "Hours" in refused.stderr
    after = show(server, name).json()
    assert after == before
    run_stratus("functions", "rm", name, env=env)


def test_schedules_fire_once_per_period_across_kill_9(new_server, tmp_path):
    server = new_server("schedules").start()
    env = server.cli_env()
    s3 = server.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    name = "ticker"
    triggers = (f'triggers:\n  - schedule: "{EVERY_MINUTE}"\n'
                f'  - schedule: "{EVERY_MINUTE}"\n    input: {{job: nightly}}\n'
                '  - schedule: "rate(1 minute)"\n')
    code = write_function(tmp_path, name, bucket, triggers)
    deployed_from = time.time()
    out = run_stratus("deploy", str(code), env=env).stdout
    deployed_until = time.time()
    # The deploy reports when each schedule fires first; the crons at the next minute boundary.
    firsts = re.findall(r"^schedule (.+) next fires (\S+)$", out, re.MULTILINE)
    assert [f[0] for f in firsts] == [EVERY_MINUTE, EVERY_MINUTE, "rate(1 minute)"], out
    minute = datetime.strptime(firsts[0][1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert minute % 60 == 0 and deployed_from < minute <= deployed_until + 60, (out, deployed_from)
    assert firsts[1][1] == firsts[0][1]

    schedules = show(server, name).json()["schedules"]
    rate = schedules[2]
    assert rate["input"] is None and schedules[1]["input"] == {"job": "nightly"}
    # A rate's first fire is one period after the deploy (generous bounds: clocks and scheduling).
    assert deployed_from * 1000 + 60_000 - 1_000 <= rate["next_fire_ms"] <= deployed_until * 1000 + 60_000 + 1_000
    rule = schedules[0]["rule_arn"]
    assert re.fullmatch(rf"arn:aws:events:us-east-1:\d{{12}}:rule/{name}-schedule-0", rule), rule
    # Redeploying the same schedules keeps their next fire times (a redeploy must not postpone
    # them). The crons may have fired meanwhile if the deploy was just before a minute boundary.
    run_stratus("deploy", str(code), env=env)
    again = show(server, name).json()["schedules"]
    if time.time() < minute:
        assert [s["next_fire_ms"] for s in again] == [s["next_fire_ms"] for s in schedules]
    assert again[2]["next_fire_ms"] == rate["next_fire_ms"]

    # Crash just as the crons fire: whether or not their fire committed before the kill, each
    # must run exactly once for that minute.
    time.sleep(max(0.0, minute + 0.2 - time.time()))
    server.kill()
    server.start()
    env, s3 = server.cli_env(), server.client()  # a new port
    deadline = time.monotonic() + 40
    events: dict[str, dict] = {}
    while time.monotonic() < deadline:
        events = recorded(s3, bucket)
        kinds = Counter("input" if e == {"job": "nightly"} else e.get("resources", ["?"])[0] for e in events.values())
        if kinds["input"] >= 1 and kinds[rule] >= 1:
            break
        time.sleep(0.5)
    time.sleep(3)  # room for a duplicate to show up
    events = recorded(s3, bucket)

    scheduled = {rid: e for rid, e in events.items() if e != {"job": "nightly"}}
    per_period = Counter((e["resources"][0], e["time"]) for e in scheduled.values())
    assert per_period[(rule, iso_seconds(int(minute * 1000)))] == 1, per_period
    assert all(count == 1 for count in per_period.values()), f"a period fired twice: {per_period}"
    # Only the minute boundary has passed since the deploy (the next is ~55 s away).
    assert sum(1 for e in events.values() if e == {"job": "nightly"}) == 1, events

    for request_id, event in scheduled.items():
        account = event["account"]
        assert event == {
            "version": "0", "id": request_id, "detail-type": "Scheduled Event", "source": "aws.events",
            "account": account, "time": event["time"], "region": "us-east-1",
            "resources": [event["resources"][0]], "detail": {},
        }
        assert re.fullmatch(r"\d{12}", account)
        assert re.fullmatch(rf"arn:aws:events:us-east-1:{account}:rule/{name}-schedule-[02]", event["resources"][0])

    # The restarted server continues the schedules from where the committed state says.
    after = show(server, name).json()["schedules"]
    assert after[0]["next_fire_ms"] == after[1]["next_fire_ms"] == int(minute * 1000) + 60_000
    rate_fired = (rate["rule_arn"], iso_seconds(rate["next_fire_ms"])) in per_period
    expected_rate_next = rate["next_fire_ms"] + (60_000 if rate_fired else 0)
    assert after[2]["next_fire_ms"] == expected_rate_next, (after, per_period)

    # A deploy without triggers removes the schedules.
    (code / "function.yaml").write_text((code / "function.yaml").read_text().split("triggers:")[0])
    run_stratus("deploy", str(code), env=env)
    assert show(server, name).json()["schedules"] == []
