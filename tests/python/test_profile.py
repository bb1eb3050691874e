"""`stratus profile`: open-loop load against a real function, the fitted performance model, the
spec it writes for `stratus plan`, and refusals of bad input that change nothing."""

from __future__ import annotations

import json
import math
import signal
import subprocess

import yaml

from stratus_testlib import STRATUS_BIN, http_request, run_stratus

SLEEP_S = 0.05

SPEC = """lambda: 2.0
components:
  - name: sleeper
    max_response_time: 1.0
    deployments:
      - name: whole
        partitions:
          - name: all
            candidates:
              - {resource: vm1, memory: 512, demand: 5.0}
              - {resource: fn-128, memory: 128, warm: 9.0, cold: 9.0}
              - {resource: fn-256, memory: 256, warm: 9.0, cold: 9.0}
resources:
  vm:
    - {name: vm1, layer: cloud, cost: 0.1, memory: 4096, max_nodes: 2}
  faas:
    - {name: fn-128, layer: functions, cost: 0.0000021, memory: 128, idle_timeout: 300}
    - {name: fn-256, layer: functions, cost: 0.0000042, memory: 256, idle_timeout: 300}
networks:
  - {name: net, layers: [cloud, functions], access_delay: 0.001, bandwidth: 100}
"""


def deploy_sleeper(server, tmp_path, name: str) -> dict:
    code = tmp_path / name
    code.mkdir()
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: app.handler\nmemory: 192\ntimeout: 10\n")
    (code / "app.py").write_text(
        "import time\n\n"
        "def handler(event, context):\n"
        f"    time.sleep({SLEEP_S})\n"
        "    return {'slept': True}\n")
    run_stratus("deploy", str(code), env=server.cli_env())
    return function_config(server, name)


def function_config(server, name: str) -> dict:
    return http_request(f"{server.endpoint}/v1/functions/{name}",
                        headers={"Authorization": f"Bearer {server.admin.token}"}).json()


def test_profile_recovers_a_known_demand_and_feeds_the_planner(server, tmp_path):
    before = deploy_sleeper(server, tmp_path, "sleeper")
    spec = tmp_path / "app.yaml"
    spec.write_text(SPEC)
    assert run_stratus("plan", str(spec), check=False).returncode == 2  # infeasible as written
    result = run_stratus("profile", "sleeper", "--rate", "5,10,20", "--duration", "3s",
                         "--memory", "128,256", "--spec", str(spec), "--component", "sleeper",
                         "--json", env=server.cli_env(), timeout=120)
    report = json.loads(result.stdout)
    # Progress went to stderr while the runs lasted.
    assert "sent" in result.stderr and "p50" in result.stderr

    runs = report["runs"]
    assert [(r["memory_mb"], r["rate"]) for r in runs] == [
        (m, r) for m in (128, 256) for r in (5.0, 10.0, 20.0)]
    for run in runs:
        assert run["sent"] == round(run["rate"] * 3)
        assert run["sent"] == run["ok"] + run["errors"] + run["late"], run
        assert run["errors"] == 0 and run["late"] == 0, run
        lat = run["latency_s"]
        assert SLEEP_S <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
        assert run["throughput"] > 0
    # A memory change is a new revision: each size's first request starts a worker.
    for memory in (128, 256):
        assert sum(r["cold_starts"] for r in runs if r["memory_mb"] == memory) >= 1

    models = {m["memory_mb"]: m for m in report["models"]}
    assert set(models) == {128, 256}
    for memory, entry in models.items():
        model = entry["model"]
        assert abs(model["warm_s"] - SLEEP_S) <= 0.1 * SLEEP_S, (memory, model)
        assert model["cold_s"] > model["warm_s"], model
        assert model["warm_second_moment_s2"] >= model["warm_s"] ** 2 * 0.999
        assert isinstance(entry["mape_pct"], float) and math.isfinite(entry["mape_pct"])
        assert [p["rate"] for p in entry["predictions"]] == [5.0, 10.0, 20.0]
        for p in entry["predictions"]:
            assert p["predicted_s"] > SLEEP_S and p["measured_s"] > SLEEP_S, p

    # The spec now carries the measured demands, and the planner accepts it.
    updated = {u["resource"]: u for u in report["spec"]["updated"]}
    assert set(updated) == {"fn-128", "fn-256"}
    written = yaml.safe_load(spec.read_text())
    candidates = {c["resource"]: c for c in written["components"][0]["deployments"][0]["partitions"][0]["candidates"]}
    for resource, memory in (("fn-128", 128), ("fn-256", 256)):
        model = models[memory]["model"]
        assert math.isclose(candidates[resource]["warm"], model["warm_s"], rel_tol=1e-9)
        assert math.isclose(candidates[resource]["cold"], model["cold_s"], rel_tol=1e-9)
        assert updated[resource]["warm"] == candidates[resource]["warm"]
    assert candidates["vm1"] == {"resource": "vm1", "memory": 512, "demand": 5.0}
    # Before, no candidate met the 1 s limit (warm 9 s; the VM 5 s); the measured demands do.
    plan = run_stratus("plan", str(spec), "--json", check=False)
    assert plan.returncode == 0, plan.stderr
    summary = json.loads(plan.stdout)
    assert summary["total_cost"] > 0 and "fn-" in json.dumps(summary["components"]), summary
    assert (tmp_path / "app.yaml.bak").read_text() == SPEC

    # The function is back at its own memory size.
    assert function_config(server, "sleeper")["memory_mb"] == before["memory_mb"] == 192


def test_profile_bad_input_changes_nothing(server, tmp_path):
    before = deploy_sleeper(server, tmp_path, "sleeper-bad")
    spec = tmp_path / "app.yaml"
    spec.write_text(SPEC)
    env = server.cli_env()
    cases = [
        (["sleeper-bad", "--rate", "0", "--duration", "1s"], "positive rate"),
        (["sleeper-bad", "--rate", "-5", "--duration", "1s"], "positive rate"),
        (["sleeper-bad", "--rate", "5,x", "--duration", "1s"], "positive rate"),
        (["sleeper-bad", "--rate", "5", "--duration", "soon"], "duration"),
        (["sleeper-bad", "--rate", "5", "--duration", "0s"], "duration"),
        (["sleeper-bad", "--rate", "1000", "--duration", "1h"], "more than 2000000 requests"),
        (["no-such-function", "--rate", "5", "--duration", "1s"], "not found"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--memory", "64"], "memory size"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--memory", "128,99999"], "memory size"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--spec", str(spec)], "--component"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--memory", "512", "--spec", str(spec),
          "--component", "sleeper"], "no FaaS candidate with 512 MB"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--spec", str(spec),
          "--component", "nope"], "no component `nope`"),
        (["sleeper-bad", "--rate", "5", "--duration", "1s", "--payload", "{not json"], "not JSON"),
    ]
    for args, message in cases:
        result = run_stratus("profile", *args, env=env, check=False)
        assert result.returncode != 0, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == "", (args, result.stdout)
    after = function_config(server, "sleeper-bad")
    assert after["memory_mb"] == 192 and after["revision_id"] == before["revision_id"]
    assert spec.read_text() == SPEC and not (tmp_path / "app.yaml.bak").exists()


def test_profile_url_attacks_any_endpoint(server):
    result = run_stratus("profile", "--url", f"{server.endpoint}/v1/health", "--rate", "200",
                         "--duration", "1s", "--json", env=server.cli_env())
    report = json.loads(result.stdout)
    (run,) = report["runs"]
    assert run["sent"] == 200 == run["ok"] + run["errors"] + run["late"]
    assert run["ok"] == 200, run
    assert run["latency_s"]["count"] == 200


def test_patch_changes_only_the_memory(server, tmp_path):
    before = deploy_sleeper(server, tmp_path, "sleeper-patch")
    headers = {"Authorization": f"Bearer {server.admin.token}", "Content-Type": "application/json"}
    url = f"{server.endpoint}/v1/functions/sleeper-patch"
    changed = http_request(url, "PATCH", json.dumps({"memory_mb": 256}).encode(), headers).json()
    assert changed["memory_mb"] == 256 and changed["handler"] == before["handler"]
    assert changed["revision_id"] != before["revision_id"]
    bad = http_request(url, "PATCH", json.dumps({"memory_mb": 1}).encode(), headers)
    assert bad.status == 400 and "memory" in bad.json()["detail"].lower()
    typo = http_request(url, "PATCH", json.dumps({"memroy_mb": 512}).encode(), headers)
    assert typo.status == 400 and typo.headers.get("content-type", "").startswith("application/problem")
    assert function_config(server, "sleeper-patch")["memory_mb"] == 256


def test_ctrl_c_restores_the_memory_size(server, tmp_path):
    deploy_sleeper(server, tmp_path, "sleeper-int")
    proc = subprocess.Popen([str(STRATUS_BIN), "profile", "sleeper-int", "--rate", "5", "--duration", "60s",
                             "--memory", "256"], env=server.cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the load runs at 256 MB (the first progress line), then interrupt.
        assert "sent" in proc.stderr.readline()
        assert function_config(server, "sleeper-int")["memory_mb"] == 256
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "back at 192 MB" in err
    assert function_config(server, "sleeper-int")["memory_mb"] == 192
