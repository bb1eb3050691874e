"""Scaling and state: dead letters after retries, async calls waiting for capacity, volumes shared
between workers and functions, min_instances kept warm, idle workers scaled to zero, and the
global memory budget that protects the host."""

from __future__ import annotations

import base64
import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor

from lambda_helpers import ROLE, create_python_function, lambda_client, raises_lambda, unique_name, zip_code
from stratus_testlib import http_request, run_stratus


def native_get(server, path: str, token: str | None = None):
    reply = http_request(f"{server.endpoint}{path}",
                         headers={"Authorization": f"Bearer {token or server.admin.token}"})
    assert reply.status == 200, reply.body
    return reply.json()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def tail_report(response) -> str:
    log = base64.b64decode(response["LogResult"]).decode()
    return next(line for line in log.splitlines() if line.startswith("REPORT"))


def test_failing_events_are_retried_then_dead_lettered(server):
    client = lambda_client(server)
    name = create_python_function(client, "def handler(e, c):\n    raise ValueError('bad input ' + e['id'])\n")
    accepted = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": "e1"}))
    invocation = accepted["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]

    def dead():
        record = native_get(server, f"/v1/invocations/{invocation}")
        return record if record["state"] == "dead-lettered" else None

    # Two retries with 1 s and 2 s backoff, as Lambda's default.
    record = wait_for(dead, 30, "the event to be dead-lettered")
    assert record["attempts"] == 3, record
    assert record["finished_ms"] - record["accepted_ms"] >= 2900, record
    assert "function error" in record["error"] and "bad input e1" in record["result"]
    letters = native_get(server, f"/v1/functions/{name}/dead-letters")["dead_letters"]
    assert [letter["id"] for letter in letters] == [invocation]
    assert json.loads(letters[0]["payload"]) == {"id": "e1"}


def test_async_calls_wait_for_reserved_concurrency(server):
    client = lambda_client(server)
    name = create_python_function(
        client, "import time\ndef handler(e, c):\n    s = time.time(); time.sleep(0.3)\n    return [s, time.time()]\n")
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    ids = [client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
           ["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] for _ in range(3)]

    def finished():
        records = [native_get(server, f"/v1/invocations/{i}") for i in ids]
        return records if all(r["state"] != "queued" for r in records) else None

    records = wait_for(finished, 30, "three events")
    assert all(r["state"] == "succeeded" and r["attempts"] == 1 for r in records), records
    spans = sorted(json.loads(r["result"]) for r in records)
    # One at a time: each started after the previous one ended (none was throttled away).
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans)), spans


def test_volumes_are_shared_persistent_and_per_project(server):
    owner = server.create_key(unique_name("vol"))
    client = lambda_client(server, owner)
    volume = [{"Arn": "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-models",
               "LocalMountPath": "/mnt/models"}]
    writer = create_python_function(
        client, "def handler(e, c):\n    open('/mnt/models/weights.txt', 'w').write(e['w'])\n    return 'ok'\n",
        FileSystemConfigs=volume)
    reader = create_python_function(
        client, "import os\ndef handler(e, c):\n"
                "    p = '/mnt/models/weights.txt'\n    return open(p).read() if os.path.exists(p) else None\n",
        FileSystemConfigs=volume)
    assert client.get_function_configuration(FunctionName=reader)["FileSystemConfigs"][0]["LocalMountPath"] \
        == "/mnt/models"
    assert json.loads(client.invoke(FunctionName=writer, Payload=b'{"w": "v1"}')["Payload"].read()) == "ok"
    assert json.loads(client.invoke(FunctionName=reader, Payload=b"{}")["Payload"].read()) == "v1"
    # It outlives the workers: a configuration change starts fresh ones.
    client.update_function_configuration(FunctionName=reader, Description="new workers")
    assert json.loads(client.invoke(FunctionName=reader, Payload=b"{}")["Payload"].read()) == "v1"

    no_volume = create_python_function(
        client, "import os\ndef handler(e, c):\n    return os.path.exists('/mnt/models')\n")
    assert json.loads(client.invoke(FunctionName=no_volume, Payload=b"{}")["Payload"].read()) is False
    stranger = lambda_client(server, server.create_key(unique_name("vol-other")))
    other_reader = create_python_function(
        stranger, "import os\ndef handler(e, c):\n    return os.listdir('/mnt/models')\n",
        FileSystemConfigs=volume)
    assert json.loads(stranger.invoke(FunctionName=other_reader, Payload=b"{}")["Payload"].read()) == []
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(FunctionName=unique_name(), Runtime="python3.11", Role=ROLE, Handler="app.handler",
                               Code={"ZipFile": zip_code({"app.py": "def handler(e, c): pass\n"})},
                               FileSystemConfigs=[{"Arn": "x", "LocalMountPath": "/etc"}])


def test_idle_workers_scale_to_zero_and_min_instances_stay_warm(new_server, tmp_path):
    server = new_server("keepwarm", "--keep-warm", "1s").start()
    client = lambda_client(server)
    idle = create_python_function(client, "def handler(e, c):\n    return 1\n")
    # min_instances is a native setting: function.yaml through `stratus deploy`.
    pinned = unique_name("pinned")
    (tmp_path / "function.yaml").write_text(
        f"name: {pinned}\nruntime: python3.11\nhandler: app.handler\nmin_instances: 1\n")
    (tmp_path / "app.py").write_text("def handler(e, c):\n    return 2\n")
    run_stratus("deploy", str(tmp_path), env=server.cli_env())
    assert native_get(server, f"/v1/functions/{pinned}")["min_instances"] == 1

    def invoke(name):
        return client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")

    assert "Init Duration" in tail_report(invoke(idle))
    assert "Init Duration" not in tail_report(invoke(idle))
    time.sleep(3)  # keep-warm 1 s, reaped within a second more
    assert "Init Duration" in tail_report(invoke(idle)), "the idle worker should have been stopped"
    # The pinned function was started without being invoked and survived the idle period.
    assert "Init Duration" not in tail_report(invoke(pinned))


def test_memory_budget_throttles_instead_of_overcommitting(new_server):
    server = new_server("budget", "--worker-memory-mb", "256").start()
    client = lambda_client(server)
    slow = create_python_function(client, "import time\ndef handler(e, c):\n    time.sleep(2)\n    return 'slow'\n",
                                  MemorySize=128)
    other = create_python_function(client, "def handler(e, c):\n    return 'other'\n", MemorySize=128)
    with ThreadPoolExecutor(2) as pool:
        busy = [pool.submit(client.invoke, FunctionName=slow, Payload=b"{}") for _ in range(2)]
        time.sleep(1.0)  # both workers started: the whole 256 MB budget is in use
        with raises_lambda("TooManyRequestsException", 429):
            client.invoke(FunctionName=other, Payload=b"{}")
        assert all(json.loads(f.result()["Payload"].read()) == "slow" for f in busy)
    # Idle workers give their memory back (least recently used first) when another needs it.
    assert json.loads(client.invoke(FunctionName=other, Payload=b"{}")["Payload"].read()) == "other"
