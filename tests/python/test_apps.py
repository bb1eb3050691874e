"""Application manifests: `stratus apply app.yaml` (plan, converge, idempotence), `stratus delete
app NAME`, `stratus apps ls`, and refusals that leave the server exactly as it was.

Each test acts in a project of its own, so function names and the application list are its own;
bucket names are global, so they are unique per test."""

from __future__ import annotations

import json
import shutil
import textwrap
import time
import uuid

from stratus_testlib import http_request, run_stratus, unique_bucket
from trigger_helpers import S3MINI


def native(server, method, path, token, data=None):
    return http_request(server.endpoint + path, method=method, data=data,
                        headers={"Authorization": f"Bearer {token}"})


def project(server):
    key = server.create_key(f"apps-{uuid.uuid4().hex[:10]}")
    return key, server.cli_env(token=key.token)


def snapshot(server, token):
    """Everything an apply could change in the project: functions (with their code and
    revision), buckets and application records."""
    functions = native(server, "GET", "/v1/functions", token).json()["functions"]
    buckets = native(server, "GET", "/v1/buckets", token).json()["buckets"]
    apps = native(server, "GET", "/v1/apps", token).json()["apps"]
    return (sorted((f["name"], f["code_sha256"], f["revision_id"]) for f in functions),
            sorted(b["name"] for b in buckets),
            sorted((a["name"], a["manifest_digest"]) for a in apps))


def function_dir(root, name, result="ok"):
    """A function that only returns `result`."""
    code = root / name
    code.mkdir(exist_ok=True)
    (code / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: main.handler\n")
    (code / "main.py").write_text(f"def handler(event, context):\n    return {result!r}\n")
    return code


# Stage handlers: read each uploaded object with the function's own credentials (s3mini, stdlib
# only) and write a derived object to OUT_BUCKET under the same key.
STAGE = """
import os, s3mini

MARK = {mark!r}

def handler(event, context):
    for bucket, key in s3mini.records(event):
        body = s3mini.get(bucket, key)
        s3mini.put(os.environ["OUT_BUCKET"], key, ({transform}).encode())
    return MARK
"""
UPPER = "MARK + ':' + body.decode().upper()"
LENGTH = "str(len(body))"


def stage_dir(root, name, out, transform, mark="v1"):
    code = root / name
    code.mkdir(exist_ok=True)
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: main.handler\ntimeout: 30\n"
        f"environment:\n  OUT_BUCKET: {out}\n")
    (code / "main.py").write_text(STAGE.format(mark=mark, transform=transform))
    shutil.copy(S3MINI, code / "s3mini.py")
    return code


def wait_for(server, token, bucket, key, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = native(server, "GET", f"/v1/buckets/{bucket}/objects/{key}", token)
        if got.status == 200:
            return got.body
        assert got.status == 404 and time.monotonic() < deadline, (bucket, key, got.status, got.body)
        time.sleep(0.05)


def manifest(root, text):
    path = root / "app.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def apply(path, env, *extra, check=True):
    return run_stratus("apply", str(path), *extra, env=env, check=check, timeout=120)


def test_apply_plans_converges_and_delete_removes_what_it_created(server, tmp_path):
    key, env = project(server)
    raw, mid, out = unique_bucket("raw"), unique_bucket("mid"), unique_bucket("out")
    # `out` exists before the application: it is used, never owned (so never deleted) by it.
    run_stratus("buckets", "mk", out, env=env)
    stage_dir(tmp_path, "upper", mid, UPPER)
    stage_dir(tmp_path, "count", out, LENGTH)
    app = manifest(tmp_path, f"""\
        application: pipe
        buckets: [{raw}, {mid}]
        functions:
          - path: ./upper
            input: {{bucket: {raw}, suffix: .txt}}
            output: {mid}
          - path: count
            input: {mid}
            output: {out}
        """)

    before = snapshot(server, key.token)
    planned = apply(app, env, "--dry-run").stdout
    assert f"+ bucket {raw}" in planned and "+ function upper" in planned, planned
    assert f"{raw} (suffix .txt) → upper → {mid}" in planned and f"{mid} → count → {out}" in planned
    assert "plan: 4 to add, 0 to change, 0 to remove" in planned
    assert snapshot(server, key.token) == before

    first = apply(app, env).stdout
    assert f"+ bucket {mid}" in first and "+ function count" in first and "applied pipe" in first, first
    functions, buckets, apps = snapshot(server, key.token)
    assert [f[0] for f in functions] == ["count", "upper"]
    assert {raw, mid, out} <= set(buckets)
    record = native(server, "GET", "/v1/apps/pipe", key.token).json()
    assert sorted(record["resources"]["buckets"]) == sorted([raw, mid])
    upper = next(f for f in record["resources"]["functions"] if f["name"] == "upper")
    assert upper["triggers"] == [{"bucket": raw, "suffix": ".txt", "events": ["s3:ObjectCreated:*"]}]
    assert upper["outputs"] == [mid]
    listed = run_stratus("apps", "ls", env=env).stdout
    assert "pipe" in listed and "upper" in listed

    # The edges are live: an upload runs both stages, each writing the next stage's input.
    put = native(server, "PUT", f"/v1/buckets/{raw}/objects/a.txt", key.token, data=b"hello")
    assert put.status == 200, put.body
    assert wait_for(server, key.token, mid, "a.txt") == b"v1:HELLO"
    assert wait_for(server, key.token, out, "a.txt") == b"8"

    # The same manifest again: nothing to do, nothing done (same revisions, same record).
    settled = snapshot(server, key.token)
    again = apply(app, env).stdout
    assert "no changes" in again and "= function upper" in again and f"= bucket {raw}" in again, again
    assert snapshot(server, key.token) == settled

    # Changing one function's code changes only that function, and its edges still work.
    stage_dir(tmp_path, "upper", mid, UPPER, mark="v2")
    changed = apply(app, env).stdout
    assert "~ function upper (code)" in changed and "= function count" in changed, changed
    before_change = {f[0]: f[1:] for f in settled[0]}
    after = {f[0]: f[1:] for f in snapshot(server, key.token)[0]}
    assert after["count"] == before_change["count"] and after["upper"] != before_change["upper"]
    assert native(server, "PUT", f"/v1/buckets/{raw}/objects/b.txt", key.token, data=b"abc").status == 200
    assert wait_for(server, key.token, mid, "b.txt") == b"v2:ABC"
    assert wait_for(server, key.token, out, "b.txt") == b"6"

    # Dropping a function from the manifest deletes it.
    manifest(tmp_path, f"""\
        application: pipe
        buckets: [{raw}, {mid}]
        functions:
          - path: ./upper
            input: {{bucket: {raw}, suffix: .txt}}
            output: {mid}
        """)
    dropped = apply(app, env).stdout
    assert "- function count" in dropped and "deleted function count" in dropped, dropped
    assert [f[0] for f in snapshot(server, key.token)[0]] == ["upper"]

    # Deleting the application: its functions go with their triggers, its empty buckets go, a
    # bucket holding objects stays, and a bucket it only used is untouched.
    for k in ("a.txt", "b.txt"):
        assert native(server, "DELETE", f"/v1/buckets/{raw}/objects/{k}", key.token).status == 204
    deleted = run_stratus("delete", "app", "pipe", env=env).stdout
    assert "deleted function upper" in deleted and f"deleted bucket {raw}" in deleted, deleted
    assert f"kept bucket {mid}" in deleted and "not empty" in deleted
    functions, buckets, apps = snapshot(server, key.token)
    assert functions == [] and apps == []
    assert raw not in buckets and mid in buckets and out in buckets
    rules = server.client(key).get_bucket_notification_configuration(Bucket=mid)
    assert not rules.get("LambdaFunctionConfigurations"), rules
    missing = run_stratus("delete", "app", "pipe", env=env, check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_bad_manifests_change_nothing(server, tmp_path):
    key, env = project(server)
    declared, other = unique_bucket("dec"), unique_bucket("und")
    function_dir(tmp_path, "first")
    function_dir(tmp_path, "second")
    # A working application first, so "unchanged" covers existing functions and records too.
    good = manifest(tmp_path, f"""\
        application: base
        buckets: [{declared}]
        functions:
          - {{path: first, input: {declared}}}
        """)
    apply(good, env)
    foreign = unique_bucket("foreign")
    stranger = server.create_key(f"apps-other-{uuid.uuid4().hex[:8]}")
    assert native(server, "PUT", f"/v1/buckets/{foreign}", stranger.token).status == 201

    cases = {
        "unknown field": (f"""\
            application: base
            buckets: [{declared}]
            functions:
              - path: first
                input: {{bucket: {declared}, sufix: .png}}
            """, ["app.yaml:5:", "sufix"]),
        "cycle": (f"""\
            application: base
            buckets: [{declared}, {other}]
            functions:
              - {{path: first, input: {declared}, output: {other}}}
              - {{path: second, input: {other}, output: {declared}}}
            """, ["cycle", f"bucket {declared} → function first → bucket {other} → function second"
                           f" → bucket {declared}"]),
        "missing directory": (f"""\
            application: base
            buckets: [{declared}]
            functions:
              - {{path: ./nowhere, input: {declared}}}
            """, ["nowhere", "not a directory"]),
        "undeclared bucket": (f"""\
            application: base
            buckets: [{declared}]
            functions:
              - {{path: first, input: {declared}, output: {other}}}
            """, [other, "neither declared"]),
        "another project's bucket": (f"""\
            application: base
            buckets: [{foreign}]
            functions:
              - {{path: first, input: {foreign}}}
            """, [foreign, "another project"]),
        "function of another application": (f"""\
            application: rival
            functions:
              - {{path: first, input: {declared}}}
            """, ["first", "belongs to application base"]),
    }
    before = snapshot(server, key.token)
    for name, (text, expected) in cases.items():
        path = manifest(tmp_path, text)
        result = apply(path, env, check=False)
        assert result.returncode != 0, (name, result.stdout)
        for fragment in expected:
            assert fragment in result.stderr, (name, fragment, result.stderr)
        assert snapshot(server, key.token) == before, name


def test_applications_are_invisible_to_other_projects(server, tmp_path):
    key, env = project(server)
    _, other_env = project(server)
    bucket = unique_bucket("own")
    function_dir(tmp_path, "solo")
    app = manifest(tmp_path, f"""\
        application: mine
        buckets: [{bucket}]
        functions:
          - {{path: solo, input: {bucket}}}
        """)
    apply(app, env)
    assert json.loads(run_stratus("apps", "ls", "--json", env=other_env).stdout) == []
    refused = run_stratus("delete", "app", "mine", env=other_env, check=False)
    assert refused.returncode != 0 and "does not exist" in refused.stderr
    assert [f[0] for f in snapshot(server, key.token)[0]] == ["solo"]
    assert [a["name"] for a in json.loads(run_stratus("apps", "ls", "--json", env=env).stdout)] == ["mine"]
