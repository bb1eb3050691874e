"""Bucket triggers: uploads invoke functions asynchronously with the AWS S3 event JSON, whether
the rule comes from function.yaml's `triggers:` or from boto3's
put_bucket_notification_configuration; failures dead-letter with their reason; an upload loop is
stopped after 16 hops."""

from __future__ import annotations

import json
import time

import pytest

from lambda_helpers import ROLE, lambda_client, unique_name, zip_code
from stratus_testlib import account_id, aws_client, http_request, run_stratus, unique_bucket
from trigger_helpers import S3MINI, deploy_handler, keys, wait_for_object

# Writes the event it got to OUT_BUCKET/<key>.json (or fails for keys containing "bad").
RECORDER = """
import json, os, s3mini

def handler(event, context):
    for bucket, key in s3mini.records(event):
        if "bad" in key:
            raise ValueError("refusing " + key)
        body = json.dumps({"event": event, "request_id": context.aws_request_id,
                           "trace": os.environ.get("_X_AMZN_TRACE_ID", "")})
        s3mini.put(os.environ["OUT_BUCKET"], key + ".json", body.encode())
    return "ok"
"""


def recorder_spec(out: str, triggers: str) -> str:
    return f"environment:\n  OUT_BUCKET: {out}\ntriggers:\n{triggers}"


@pytest.fixture
def buckets(s3):
    made = [unique_bucket("in"), unique_bucket("out")]
    for name in made:
        s3.create_bucket(Bucket=name)
    return made


def test_function_yaml_triggers_deliver_s3_events(server, s3, buckets, tmp_path):
    source, out = buckets
    name = unique_name("rec")
    triggers = f"  - bucket: {source}\n    prefix: docs/\n    suffix: .txt\n"
    deployed = deploy_handler(server, tmp_path, name, RECORDER, recorder_spec(out, triggers))
    assert "deployed" in deployed.stdout

    shown = json.loads(run_stratus("functions", "ls", "--json", env=server.cli_env()).stdout)
    assert any(f["name"] == name for f in shown)
    detail = http_request(f"{server.endpoint}/v1/functions/{name}",
                          headers={"Authorization": f"Bearer {server.admin.token}"}).json()
    assert detail["triggers"] == [{"bucket": source, "prefix": "docs/", "suffix": ".txt",
                                   "events": ["s3:ObjectCreated:*"]}]
    # The trigger is an ordinary S3 notification rule, visible to S3 clients.
    config = s3.get_bucket_notification_configuration(Bucket=source)
    [rule] = config["LambdaFunctionConfigurations"]
    assert rule["LambdaFunctionArn"].endswith(f":function:{name}")

    s3.put_object(Bucket=source, Key="docs/my report+1.txt", Body=b"hello")
    s3.put_object(Bucket=source, Key="docs/skip.md", Body=b"no")
    s3.put_object(Bucket=source, Key="other/skip.txt", Body=b"no")
    got = json.loads(wait_for_object(s3, out, "docs/my report+1.txt.json"))
    [record] = got["event"]["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == source
    assert record["s3"]["object"]["key"] == "docs/my+report%2B1.txt"
    assert record["s3"]["object"]["size"] == 5
    # The invocation's request id is the event's id; its trace header starts the chain at 1.
    assert got["trace"].endswith(":1")
    time.sleep(0.5)
    assert keys(s3, out) == ["docs/my report+1.txt.json"]


def test_boto3_notification_configuration_invokes_lambda(server, s3, buckets):
    source, out = buckets
    lam = lambda_client(server)
    name = unique_name("boto")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Timeout=30, Environment={"Variables": {"OUT_BUCKET": out}},
                        Code={"ZipFile": zip_code({"app.py": RECORDER, "s3mini.py": S3MINI.read_text()})})
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(Bucket=source, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "all", "LambdaFunctionArn": arn,
                                          "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    s3.put_object(Bucket=source, Key="a.bin", Body=b"1234")
    created = json.loads(wait_for_object(s3, out, "a.bin.json"))
    assert created["event"]["Records"][0]["s3"]["configurationId"] == "all"
    s3.put_bucket_notification_configuration(Bucket=out, NotificationConfiguration={})
    s3.delete_object(Bucket=source, Key="a.bin")
    deadline = time.monotonic() + 30
    while True:
        removed = json.loads(wait_for_object(s3, out, "a.bin.json"))
        if removed["event"]["Records"][0]["eventName"] == "ObjectRemoved:Delete":
            break
        assert time.monotonic() < deadline, "the deletion was not delivered"
        time.sleep(0.1)


def test_redeploy_replaces_triggers_and_keeps_other_rules(server, s3, buckets, tmp_path):
    source, out = buckets
    aws_client(server, "sns").create_topic(Name="t")
    topic = {"Id": "mine", "TopicArn": f"arn:aws:sns:us-east-1:{account_id(server.admin.project)}:t",
             "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(Bucket=source, NotificationConfiguration={
        "TopicConfigurations": [topic]})
    name = unique_name("re")
    deploy_handler(server, tmp_path, name, RECORDER,
                   recorder_spec(out, f"  - bucket: {source}\n    suffix: .a\n"))
    deploy_handler(server, tmp_path, name, RECORDER,
                   recorder_spec(out, f"  - bucket: {source}\n    suffix: .b\n"))
    config = s3.get_bucket_notification_configuration(Bucket=source)
    [rule] = config["LambdaFunctionConfigurations"]
    assert [(r["Name"].lower(), r["Value"]) for r in rule["Filter"]["Key"]["FilterRules"]] == [("suffix", ".b")]
    assert [t["Id"] for t in config["TopicConfigurations"]] == ["mine"]
    s3.put_object(Bucket=source, Key="x.a", Body=b"1")
    s3.put_object(Bucket=source, Key="x.b", Body=b"2")
    wait_for_object(s3, out, "x.b.json")
    assert "x.a.json" not in keys(s3, out)
    # Removing the function removes its triggers, and only them.
    run_stratus("functions", "rm", name, env=server.cli_env())
    config = s3.get_bucket_notification_configuration(Bucket=source)
    assert "LambdaFunctionConfigurations" not in config
    assert [t["Id"] for t in config["TopicConfigurations"]] == ["mine"]


def test_bad_triggers_change_nothing(server, s3, buckets, tmp_path):
    source, out = buckets
    name = unique_name("bad")
    missing = unique_bucket("missing")
    failed = deploy_handler(server, tmp_path, name, RECORDER,
                            recorder_spec(out, f"  - bucket: {missing}\n"), check=False)
    assert failed.returncode != 0 and missing in failed.stderr and "does not exist" in failed.stderr
    failed = deploy_handler(server, tmp_path, name, RECORDER,
                            recorder_spec(out, f"  - bucket: {source}\n    events: [s3:ObjectMade]\n"),
                            check=False)
    assert failed.returncode != 0 and "s3:ObjectMade" in failed.stderr
    failed = deploy_handler(server, tmp_path, name, RECORDER,
                            recorder_spec(out, f"  - bucket: {source}\n    sufix: .png\n"), check=False)
    assert failed.returncode != 0 and "function.yaml" in failed.stderr
    listed = json.loads(run_stratus("functions", "ls", "--json", env=server.cli_env()).stdout)
    assert all(f["name"] != name for f in listed)
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=source)


def test_failing_events_dead_letter_and_others_proceed(server, s3, buckets, tmp_path):
    source, out = buckets
    name = unique_name("dl")
    deploy_handler(server, tmp_path, name, RECORDER, recorder_spec(out, f"  - bucket: {source}\n"))
    s3.put_object(Bucket=source, Key="bad-1.txt", Body=b"x")
    for i in range(5):
        s3.put_object(Bucket=source, Key=f"good-{i}.txt", Body=b"x")
    for i in range(5):
        wait_for_object(s3, out, f"good-{i}.txt.json")
    deadline = time.monotonic() + 30
    while True:  # three attempts, 1 s and 2 s apart
        letters = http_request(f"{server.endpoint}/v1/functions/{name}/dead-letters",
                               headers={"Authorization": f"Bearer {server.admin.token}"}).json()
        if letters.get("dead_letters"):
            break
        assert time.monotonic() < deadline, letters
        time.sleep(0.2)
    [letter] = letters["dead_letters"]
    assert letter["attempts"] == 3 and "function error" in letter["error"]
    assert "refusing bad-1.txt" in letter["result"]
    assert json.loads(letter["payload"])["Records"][0]["s3"]["object"]["key"] == "bad-1.txt"


LOOPER = """
import os, s3mini

def handler(event, context):
    for bucket, key in s3mini.records(event):
        hop = int(key.split("-")[1])
        s3mini.put(bucket, f"loop-{hop + 1}", b"again")
"""


def test_upload_loops_stop_after_16_hops(server, s3, tmp_path):
    bucket = unique_bucket("loop")
    s3.create_bucket(Bucket=bucket)
    name = unique_name("loop")
    deploy_handler(server, tmp_path, name, LOOPER, f"triggers:\n  - bucket: {bucket}\n")
    log_start = server.log_size()
    s3.put_object(Bucket=bucket, Key="loop-0", Body=b"start")
    deadline = time.monotonic() + 60
    while True:
        letters = http_request(f"{server.endpoint}/v1/functions/{name}/dead-letters",
                               headers={"Authorization": f"Bearer {server.admin.token}"}).json()
        if letters.get("dead_letters"):
            break
        assert time.monotonic() < deadline, keys(s3, bucket)
        time.sleep(0.2)
    # 16 invocations ran, each writing the next object; the 17th was stopped.
    assert sorted(keys(s3, bucket), key=lambda k: int(k.split("-")[1])) == [f"loop-{i}" for i in range(17)]
    assert len(letters["dead_letters"]) == 1, letters
    [letter] = letters["dead_letters"]
    assert "recursive" in letter["error"] and letter["attempts"] == 1
    time.sleep(1)
    assert len(keys(s3, bucket)) == 17
    assert "recursive invocation loop stopped" in server.log_tail(since=log_start)
