"""`--json` on the CLI commands that print data and had no JSON form before: `stratus logs`,
`stratus quota set` and `stratus delete app`. Each prints the API's typed answer, so scripts read
the same fields the server documents in /v1/openapi.json."""

from __future__ import annotations

import json
import uuid

from stratus_testlib import run_stratus


def test_logs_json_lists_the_events(server, tmp_path):
    env = server.cli_env()
    code = tmp_path / "chatty"
    code.mkdir()
    (code / "function.yaml").write_text("name: chatty-json\nruntime: python3.11\nhandler: app.handler\n")
    (code / "app.py").write_text("def handler(e, c):\n    print('said', e['word'])\n    return {}\n")
    run_stratus("deploy", str(code), env=env)
    run_stratus("invoke", "chatty-json", "--payload", '{"word": "plover"}', env=env)
    page = json.loads(run_stratus("logs", "chatty-json", "--json", env=env).stdout)
    messages = [event["message"] for event in page["events"]]
    assert any("said plover" in m for m in messages), messages
    assert all({"timestamp_ms", "version", "stream", "message"} <= set(e) for e in page["events"])
    # Without --json the same lines print as text, unchanged.
    assert "said plover" in run_stratus("logs", "chatty-json", env=env).stdout
    run_stratus("functions", "rm", "chatty-json", env=env)


def test_quota_set_json_is_the_project_document(server):
    project = f"json-{uuid.uuid4().hex[:8]}"
    server.create_key(project)
    out = run_stratus("quota", "set", project, "--max-objects", "7", "--json", env=server.cli_env()).stdout
    document = json.loads(out)
    assert document["project"] == project
    assert document["limits"]["max_objects"] == 7 and document["limits"]["max_functions"] is None
    assert document["usage"]["objects"] == 0


def test_delete_app_json_reports_what_was_removed(server, tmp_path):
    env = server.cli_env()
    bucket = f"json-app-{uuid.uuid4().hex[:8]}"
    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"application: json-app\nbuckets: [{bucket}]\n")
    applied = run_stratus("apply", str(manifest), env=env, check=False)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = json.loads(run_stratus("delete", "app", "json-app", "--json", env=env).stdout)
    assert report == {"name": "json-app", "deleted_functions": [], "deleted_buckets": [bucket],
                      "kept_buckets": []}
