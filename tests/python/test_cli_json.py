"""`--json` on the CLI commands that print data (`logs`, `quota set`, `delete app`, `deploy`,
`apply`) and the `show` verb of every resource. Each prints the API's typed answer, so scripts
read the same fields the server documents in /v1/openapi.json."""

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


def write_function(root, name: str, extra: str = ""):
    code = root / name
    code.mkdir(exist_ok=True)
    (code / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\n{extra}")
    (code / "app.py").write_text("def handler(e, c):\n    return {'ok': True}\n")
    return code


def test_deploy_json_is_what_show_prints(server, tmp_path):
    env = server.cli_env()
    name = f"shown-{uuid.uuid4().hex[:8]}"
    code = write_function(tmp_path, name, "memory: 192\ndescription: shown off\n")
    deployed = json.loads(run_stratus("deploy", str(code), "--json", env=env).stdout)
    assert deployed["name"] == name and deployed["memory_mb"] == 192, deployed
    assert len(deployed["code_sha256"]) == 64
    shown = json.loads(run_stratus("functions", "show", name, "--json", env=env).stdout)
    assert shown["versions"] == ["$LATEST"], shown
    del shown["versions"]
    assert shown == deployed
    text = run_stratus("functions", "show", name, env=env).stdout
    assert f"name:                  {name}" in text and "192 MB" in text and "shown off" in text, text
    # The aliases name the same command.
    assert run_stratus("functions", "describe", name, env=env).stdout == text
    missing = run_stratus("functions", "show", f"{name}-gone", env=env, check=False)
    assert missing.returncode == 66, missing.stderr
    assert missing.stderr.startswith("error: ") and missing.stdout == ""
    run_stratus("functions", "rm", name, env=env)


def test_buckets_keys_and_apps_show(server, tmp_path):
    env = server.cli_env()
    project = f"show-{uuid.uuid4().hex[:8]}"
    key = server.create_key(project)
    shown_key = json.loads(run_stratus("keys", "show", key.access_key_id, "--json", env=env).stdout)
    assert shown_key["access_key_id"] == key.access_key_id and shown_key["project"] == project
    assert "secret_access_key" not in shown_key and "token" not in shown_key, shown_key
    assert f"project:       {project}" in run_stratus("keys", "show", key.access_key_id, env=env).stdout
    assert run_stratus("keys", "show", "SKNOSUCHKEY000000000", env=env, check=False).returncode == 66

    member = server.cli_env(token=key.token)
    bucket = f"show-{uuid.uuid4().hex[:8]}"
    run_stratus("buckets", "mk", bucket, env=member)
    shown_bucket = json.loads(run_stratus("buckets", "show", bucket, "--json", env=member).stdout)
    assert shown_bucket["name"] == bucket and shown_bucket["project"] == project, shown_bucket
    assert shown_bucket["created_ms"] > 0
    assert run_stratus("buckets", "show", f"{bucket}-gone", env=member, check=False).returncode == 66
    # Another project's bucket is refused (as S3's HeadBucket is), not shown.
    assert run_stratus("buckets", "show", bucket, env=env, check=False).returncode == 77

    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"application: shown-app\nbuckets: [{bucket}-app]\n")
    run_stratus("apply", str(manifest), env=member)
    app = json.loads(run_stratus("apps", "show", "shown-app", "--json", env=member).stdout)
    assert app["name"] == "shown-app" and app["resources"]["buckets"] == [f"{bucket}-app"], app
    assert "application: shown-app" in run_stratus("apps", "show", "shown-app", env=member).stdout
    run_stratus("delete", "app", "shown-app", env=member)
    assert run_stratus("apps", "show", "shown-app", env=member, check=False).returncode == 66


def test_apply_json_reports_the_plan_and_keeps_progress_off_stdout(server, tmp_path):
    env = server.cli_env()
    suffix = uuid.uuid4().hex[:8]
    bucket, function = f"applied-{suffix}", f"applied-fn-{suffix}"
    write_function(tmp_path, function)
    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"application: applied-{suffix}\nbuckets: [{bucket}]\n"
                        f"functions:\n  - {{path: {function}, input: {bucket}}}\n")
    dry = run_stratus("apply", str(manifest), "--dry-run", "--json", env=env)
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["added"] == 2, planned
    assert "dry run: nothing was changed" in dry.stderr
    assert run_stratus("functions", "show", function, env=env, check=False).returncode == 66

    first = run_stratus("apply", str(manifest), "--json", env=env)
    done = json.loads(first.stdout)
    assert done["dry_run"] is False and (done["added"], done["changed"], done["removed"]) == (2, 0, 0)
    assert {(c["resource"], c["name"], c["action"]) for c in done["changes"]} == {
        ("bucket", bucket, "create"), ("function", function, "create")}
    assert done["edges"], done
    assert f"applied applied-{suffix}" in first.stderr
    assert json.loads(run_stratus("functions", "show", function, "--json", env=env).stdout)["triggers"]

    (tmp_path / function / "app.py").write_text("def handler(e, c):\n    return {'ok': 2}\n")
    again = json.loads(run_stratus("apply", str(manifest), "--json", env=env).stdout)
    assert (again["added"], again["changed"], again["removed"]) == (0, 1, 0), again
    update = [c for c in again["changes"] if c["resource"] == "function"]
    assert update == [{"resource": "function", "name": function, "action": "update", "reasons": ["code"]}]
    run_stratus("delete", "app", f"applied-{suffix}", env=env)
