"""The native interface: `stratus deploy DIR`, `invoke`, `functions ls|rm`, `logs`, and the
`/v1/invocations/ID` record of an asynchronous invocation."""

from __future__ import annotations

import json
import time

from stratus_testlib import REPO_ROOT, http_request, run_stratus

EXAMPLE = REPO_ROOT / "examples" / "functions" / "hello"


def test_deploy_invoke_logs_and_remove(server, tmp_path):
    env = server.cli_env()
    out = run_stratus("deploy", str(EXAMPLE), env=env).stdout
    assert "deployed hello" in out
    listed = json.loads(run_stratus("functions", "ls", "--json", env=env).stdout)
    assert any(f["name"] == "hello" and f["memory_mb"] == 128 for f in listed)

    # The example declares `url: none`: plain HTTP reaches it at /fn/hello/.
    assert f"url {server.endpoint}/fn/hello/ (auth none)" in out
    assert http_request(f"{server.endpoint}/fn/hello/?name=Web").json()["message"] == "hello, Web!"

    result = run_stratus("invoke", "hello", "--payload", '{"name": "Ada"}', env=env)
    assert json.loads(result.stdout)["message"] == "hello, Ada!"
    assert "START RequestId:" in result.stderr and "greeting Ada" in result.stderr

    event = tmp_path / "event.json"
    event.write_text('{"name": "Grace"}')
    accepted = run_stratus("invoke", "hello", "--payload", f"@{event}", "--async", env=env).stdout.strip()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record = http_request(f"{server.endpoint}/v1/invocations/{accepted}",
                              headers={"Authorization": f"Bearer {server.admin.token}"}).json()
        if record["state"] != "queued":
            break
        time.sleep(0.1)
    assert record["state"] == "succeeded" and json.loads(record["result"])["message"] == "hello, Grace!"

    logs = run_stratus("logs", "hello", env=env).stdout
    assert "greeting Ada" in logs and "greeting Grace" in logs and "REPORT RequestId:" in logs

    # Redeploying converges: same name, updated configuration.
    run_stratus("deploy", str(EXAMPLE), env=env)
    run_stratus("functions", "rm", "hello", env=env)
    failed = run_stratus("invoke", "hello", env=env, check=False)
    assert failed.returncode != 0 and "not found" in failed.stderr.lower()


def test_function_error_exits_nonzero(server, tmp_path):
    env = server.cli_env()
    code = tmp_path / "broken"
    code.mkdir()
    (code / "function.yaml").write_text("name: broken\nruntime: python3.11\nhandler: app.handler\n")
    (code / "app.py").write_text("def handler(e, c):\n    raise RuntimeError('nope')\n")
    run_stratus("deploy", str(code), env=env)
    result = run_stratus("invoke", "broken", env=env, check=False)
    assert result.returncode == 1 and json.loads(result.stdout)["errorType"] == "RuntimeError"
    (code / "function.yaml").write_text("name: broken\nruntime: python3.11\nhandler: app.handler\nmemroy: 256\n")
    bad = run_stratus("deploy", str(code), env=env, check=False)
    assert bad.returncode != 0 and "memroy" in bad.stderr
