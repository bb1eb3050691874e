"""Isolation between running functions: every worker's Lambda Runtime API listens on the host's
loopback, which sandboxed code shares, so the API must serve only its own worker's processes.
Here a function of project B hunts for project A's worker and tries to take A's events."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from isolation_helpers import clients, world
from lambda_helpers import create_python_function, unique_name

# Asks each given loopback port (other workers' Runtime APIs) for an invocation, as a runtime
# client would, and reports what came back.
THIEF = '''
import os, socket, concurrent.futures

def steal(port, wait):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
            s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            head = data.split(b"\\r\\n", 1)[0].decode(errors="replace")
            return {"port": port, "status": head, "data": data[:2000].decode(errors="replace")}
    except OSError as error:
        return {"port": port, "error": type(error).__name__}

def handler(event, context):
    own = int(os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])
    candidates = [p for p in event["ports"] if p != own]
    with concurrent.futures.ThreadPoolExecutor(len(candidates) or 1) as pool:
        return list(pool.map(lambda p: steal(p, event["wait"]), candidates))
'''


def listening_ports_of(pid: int) -> set[int]:
    """The loopback TCP ports process `pid` listens on (from /proc, as `ss -ltp` would tell).
    Only this server's ports are probed: other servers may run on the same host."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        columns = line.split()
        if columns[3] == "0A" and columns[9] in sockets:  # 0A: LISTEN
            ports.add(int(columns[1].split(":")[1], 16))
    return ports


@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("isolation"))


def test_a_function_cannot_take_another_workers_invocations(server, w):
    a, b = clients(server, w.a.member)["lam"], clients(server, w.b.member)["lam"]
    victim = create_python_function(a, "def handler(event, context):\n    return event\n",
                                    name=unique_name("iso-victim"))
    assert json.loads(a.invoke(FunctionName=victim, Payload=b'{"warm": 1}')["Payload"].read()) == {"warm": 1}
    thief = create_python_function(b, THIEF, name=unique_name("iso-thief"), Timeout=60, MemorySize=256)
    edge_port = int(server.endpoint.rsplit(":", 1)[1])
    worker_apis = sorted(listening_ports_of(server.proc.pid) - {edge_port})
    assert worker_apis, "the victim's worker has a Runtime API listener"
    stolen: list = []

    def run_thief():
        payload = json.dumps({"ports": worker_apis, "wait": 8}).encode()
        stolen.extend(json.loads(b.invoke(FunctionName=thief, Payload=payload)["Payload"].read()))

    thread = threading.Thread(target=run_thief)
    thread.start()
    time.sleep(4)  # the thief has found the listeners and is waiting on them
    replies = [json.loads(a.invoke(FunctionName=victim, Payload=json.dumps({"n": n}).encode())["Payload"].read())
               for n in range(3)]
    thread.join(timeout=60)
    got_events = [s for s in stolen if "Lambda-Runtime-Aws-Request-Id" in s.get("data", "")]
    assert got_events == [], got_events
    assert len(stolen) >= 1  # the thief did reach the victim's listener
    assert replies == [{"n": 0}, {"n": 1}, {"n": 2}]
