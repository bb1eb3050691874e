"""Isolation through the native `/v1` API, CloudWatch Logs, `/metrics` and billing, and who may
manage keys: project B's keys get 404 problem documents (or Logs' `ResourceNotFoundException`)
for everything of project A, and reports and listings never mention A's resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isolation_helpers import assert_problem, clients, error_code, native, token, wait_until, world
from stratus_testlib import http_request, run_stratus, unique_bucket

SMALL_APP = Path(__file__).resolve().parents[2] / "examples" / "planner" / "small-app.yaml"
LOGS_NOT_FOUND = ("ResourceNotFoundException", 400)


@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("isolation"))


def b_keys(w):
    return [w.b.admin, w.b.member, w.b.read_only]


def mentions_a(w, text: str) -> list[str]:
    """Which of A's names appear in `text`."""
    names = [w.function, w.open_function, w.bucket, w.extra["app_bucket"], w.app, w.a.project]
    return [n for n in names if n in text]


def test_native_reads_of_a_are_not_found(server, w):
    for creds in b_keys(w):
        for path in (f"/v1/functions/{w.function}", f"/v1/functions/{w.function}/logs",
                     f"/v1/functions/{w.function}/dead-letters", f"/v1/functions/{w.function}/url",
                     f"/v1/functions/{w.open_function}/url", f"/v1/invocations/{w.async_id}",
                     f"/v1/apps/{w.app}"):
            assert_problem(native(server, "GET", path, creds), 404)
        for path in (f"/v1/buckets/{w.bucket}/objects", f"/v1/buckets/{w.bucket}/objects/secret.txt"):
            res = native(server, "GET", path, creds)
            assert res.status in (403, 404) and b"alpha secret" not in res.body, (path, res.status)
            assert_problem(res, res.status)
        for path in ("/v1/functions", "/v1/buckets", "/v1/apps", "/v1/events"):
            res = native(server, "GET", path, creds)
            assert res.status == 200 and mentions_a(w, res.body.decode()) == [], (path, res.body[:300])


def test_native_writes_to_a_are_refused_and_change_nothing(server, w):
    for creds in (w.b.admin, w.b.member):
        res = native(server, "POST", f"/v1/functions/{w.function}/invoke", creds, b"{}",
                     {"Content-Type": "application/json"})
        assert_problem(res, 404)
        assert_problem(native(server, "DELETE", f"/v1/functions/{w.function}", creds), 404)
        assert_problem(native(server, "DELETE", f"/v1/functions/{w.open_function}/url", creds), 404)
        assert_problem(native(server, "DELETE", f"/v1/apps/{w.app}", creds), 404)
        for method, path, body in (("PUT", f"/v1/buckets/{w.bucket}/objects/planted", b"x"),
                                   ("DELETE", f"/v1/buckets/{w.bucket}/objects/secret.txt", None),
                                   ("DELETE", f"/v1/buckets/{w.bucket}", None)):
            res = native(server, method, path, creds, body)
            assert res.status in (403, 404, 409), (method, path, res.status)
            assert_problem(res, res.status)
    a = w.a.read_only
    assert native(server, "GET", f"/v1/functions/{w.function}", a).status == 200
    assert native(server, "GET", f"/v1/functions/{w.open_function}/url", a).status == 200
    assert native(server, "GET", f"/v1/apps/{w.app}", a).status == 200
    listed = native(server, "GET", f"/v1/buckets/{w.bucket}/objects", a).json()
    assert sorted(o["key"] for o in listed["objects"]) == ["dir/nested.txt", "secret.txt"]


def test_native_read_only_key_is_refused_writes(server, w):
    ro = w.a.read_only
    for method, path, body in (("POST", f"/v1/functions/{w.function}/invoke", b"{}"),
                               ("DELETE", f"/v1/functions/{w.function}", None),
                               ("DELETE", f"/v1/functions/{w.open_function}/url", None),
                               ("DELETE", f"/v1/apps/{w.app}", None),
                               ("PUT", f"/v1/buckets/{unique_bucket('ro')}", None),
                               ("PUT", f"/v1/buckets/{w.bucket}/objects/planted", b"x"),
                               ("DELETE", f"/v1/buckets/{w.bucket}/objects/secret.txt", None)):
        assert_problem(native(server, method, path, ro, body), 403)
    assert native(server, "GET", f"/v1/buckets/{w.bucket}/objects/secret.txt", ro).body == b"alpha secret"


def test_events_of_a_deleted_bucket_do_not_pass_to_its_next_owner(server, w):
    """Bucket names are global: once A deletes a bucket, B may create one of that name, but the
    outbox events A's writes left behind stay A's."""
    s3a, s3b = clients(server, w.a.member)["s3"], clients(server, w.b.member)["s3"]
    name = unique_bucket("iso-reused")
    s3a.create_bucket(Bucket=name)
    s3a.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": w.events_queue_arn, "Events": ["s3:ObjectCreated:*"]}]})
    s3a.put_object(Bucket=name, Key="a-private-key-name.txt", Body=b"x")
    assert "a-private-key-name.txt" in json.dumps(server.events(token(w.a.member)))
    s3a.delete_object(Bucket=name, Key="a-private-key-name.txt")
    s3a.delete_bucket(Bucket=name)
    s3b.create_bucket(Bucket=name)
    assert "a-private-key-name.txt" not in json.dumps(server.events(token(w.b.member)))
    assert "a-private-key-name.txt" not in json.dumps(server.events(token(w.b.read_only)))


def test_environments_do_not_reveal_function_names(server, w):
    for creds in b_keys(w):
        res = native(server, "GET", "/v1/environments", creds)
        assert res.status == 200 and mentions_a(w, res.body.decode()) == []


def test_cost_report_of_b_has_nothing_of_a(server, w):
    a_report = wait_until(lambda: (r := native(server, "GET", "/v1/cost?by=function", w.a.read_only).json())
                          and w.function in json.dumps(r) and r, what="A's usage in A's bill")
    assert a_report["functions"]
    for creds in b_keys(w):
        for query in ("", "?by=function", "?by=project"):
            res = native(server, "GET", f"/v1/cost{query}", creds)
            assert res.status == 200, res.body
            # test_isolation_lambda gives B a function named like A's and invokes it twice; that
            # entry is B's own, and must not carry A's (four or more) invocations of its namesake.
            leaked = [n for n in mentions_a(w, res.body.decode()) if n != w.function]
            assert leaked == [], (query, res.body[:400])
            for item in res.json().get("functions", []):
                if item.get("function") == w.function:
                    assert item["requests"] <= 2, item


def test_plan_works_for_every_role(server, w):
    for creds in (w.a.read_only, w.b.member):
        res = native(server, "POST", "/v1/plan", creds, SMALL_APP.read_bytes(),
                     {"Content-Type": "application/yaml"})
        assert res.status == 200 and res.json()["feasible"] is True


def test_metrics_need_the_operator(server, w):
    for creds in (w.a.admin, w.b.admin, w.b.read_only):
        res = native(server, "GET", "/metrics", creds)
        assert res.status in (401, 403), res.status
        assert b"stratus_" not in res.body
    assert http_request(server.endpoint + "/metrics").status in (401, 403)
    operator = native(server, "GET", "/metrics", server.admin)
    assert operator.status == 200 and b"stratus_" in operator.body


def test_logs_of_a_are_invisible_to_b(server, w):
    group = f"/aws/lambda/{w.function}"
    a_logs = clients(server, w.a.read_only)["logs"]
    wait_until(lambda: any(e["message"].startswith("isolation secret line")
                           for e in a_logs.filter_log_events(logGroupName=group)["events"]), what="A's log line")
    for creds in b_keys(w):
        logs = clients(server, creds)["logs"]
        groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
        assert group not in groups and f"/aws/lambda/{w.open_function}" not in groups
        assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
        stream = a_logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
        for call in (lambda: logs.describe_log_streams(logGroupName=group),
                     lambda: logs.get_log_events(logGroupName=group, logStreamName=stream),
                     lambda: logs.filter_log_events(logGroupName=group),
                     lambda: logs.filter_log_events(logGroupName=group, filterPattern="secret")):
            assert error_code(call) == LOGS_NOT_FOUND
        code, _ = error_code(lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=1))
        assert code in ("ResourceNotFoundException", "AccessDeniedException"), code
        code, _ = error_code(lambda: logs.delete_retention_policy(logGroupName=group))
        assert code in ("ResourceNotFoundException", "AccessDeniedException"), code
    # A's read-only key reads its logs but cannot change retention.
    assert error_code(lambda: a_logs.put_retention_policy(logGroupName=group, retentionInDays=1))[0] == \
        "AccessDeniedException"
    [described] = a_logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in described


def test_only_admins_manage_keys_and_only_in_their_project(server, w):
    def cli(creds, *args):
        return run_stratus(*args, env=server.cli_env(token=token(creds)), check=False)

    for creds in (w.a.member, w.a.read_only):
        assert cli(creds, "keys", "list", "--json").returncode != 0
        assert cli(creds, "keys", "create", "--project", w.a.project, "--role", "admin", "--json").returncode != 0
        assert cli(creds, "keys", "delete", w.a.read_only.access_key_id).returncode != 0
        assert_problem(native(server, "GET", "/v1/keys", creds), 403)
    # A project admin sees and manages its own project's keys only.
    listed = json.loads(cli(w.a.admin, "keys", "list", "--json").stdout)
    entries = listed["keys"] if isinstance(listed, dict) else listed
    assert {e["project"] for e in entries} == {w.a.project}
    assert w.b.member.access_key_id not in {e["access_key_id"] for e in entries}
    assert cli(w.a.admin, "keys", "create", "--project", w.b.project, "--role", "admin", "--json").returncode != 0
    assert cli(w.a.admin, "keys", "delete", w.b.read_only.access_key_id).returncode != 0
    made = json.loads(cli(w.a.admin, "keys", "create", "--project", w.a.project, "--role", "read-only",
                          "--json").stdout)
    assert made["project"] == w.a.project
    assert cli(w.a.admin, "keys", "delete", made["access_key_id"]).returncode == 0
    # B's keys still work; the operator sees every project.
    assert clients(server, w.b.read_only)["s3"].list_objects_v2(Bucket=w.b_bucket)["KeyCount"] == 1
    everything = json.loads(run_stratus("keys", "list", "--json", env=server.cli_env()).stdout)
    everything = everything["keys"] if isinstance(everything, dict) else everything
    assert {w.a.project, w.b.project} <= {e["project"] for e in everything}


def test_log_group_arns_name_their_project(server, w):
    """A log group ARN carries its project's account: B naming A's group by ARN gets not found,
    even when B has a group of the same name."""
    from lambda_helpers import create_python_function, unique_name

    a, b = clients(server, w.a.member), clients(server, w.b.member)
    name = unique_name("iso-logs")
    create_python_function(a["lam"], "def handler(e, c):\n    return 1\n", name=name)
    create_python_function(b["lam"], "def handler(e, c):\n    print('b line')\n    return 1\n", name=name)
    b["lam"].invoke(FunctionName=name, Payload=b"{}")
    group = f"/aws/lambda/{name}"
    [b_group] = b["logs"].describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    a_account = w.function_arn.split(":")[4]
    a_arn = b_group["arn"].replace(f":{w.b_queue_arn.split(':')[4]}:", f":{a_account}:")
    assert a_arn != b_group["arn"]
    wait_until(lambda: b["logs"].filter_log_events(logGroupIdentifier=b_group["arn"].removesuffix(":*"))["events"],
               what="B's own log line")
    for call in (lambda: b["logs"].filter_log_events(logGroupIdentifier=a_arn.removesuffix(":*")),
                 lambda: b["logs"].describe_log_streams(logGroupIdentifier=a_arn.removesuffix(":*"))):
        assert error_code(call) == LOGS_NOT_FOUND


def test_an_application_record_cannot_claim_another_projects_resources(server, w):
    """An application record is only a ledger: B may write one naming A's bucket and function,
    but deleting it deletes through B's own rights, so A's resources stay."""
    app_bucket = w.extra["app_bucket"]
    record = json.dumps({"resources": {"buckets": [app_bucket, w.bucket],
                                       "functions": [{"name": w.function}]}}).encode()
    put = native(server, "PUT", "/v1/apps/claims", w.b.member, record, {"Content-Type": "application/json"})
    assert put.status in (200, 201), put.body
    removed = native(server, "DELETE", "/v1/apps/claims", w.b.member)
    assert removed.status == 200, removed.body
    s3a, lama = clients(server, w.a.read_only)["s3"], clients(server, w.a.read_only)["lam"]
    s3a.head_bucket(Bucket=app_bucket)
    s3a.head_bucket(Bucket=w.bucket)
    assert lama.get_function(FunctionName=w.function)["Configuration"]["FunctionName"] == w.function
