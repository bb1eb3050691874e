"""Isolation between running functions: every worker has its own network namespace, holding its
own Lambda Runtime API (127.0.0.1:9001, as on Lambda) and the edge, and nothing else. Here a
function of project B hunts for project A's worker: no other worker's API is reachable at all,
from the host's loopback or from inside a sandbox."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from isolation_helpers import clients, world
from lambda_helpers import create_python_function, lambda_client, unique_name

# Connects to every TCP port of its own loopback and reports the ones that accept: in its own
# namespace only its Runtime API and the edge should. A connection to a port nobody listens on
# can meet itself (TCP simultaneous open, when the kernel picks that port as the source): those
# are not listeners.
THIEF = '''
import socket

def handler(event, context):
    open_ports = []
    for port in range(1, 65536):
        s = socket.socket()
        s.settimeout(0.2)
        try:
            if s.connect_ex(("127.0.0.1", port)) == 0 and s.getsockname() != s.getpeername():
                open_ports.append(port)
        finally:
            s.close()
    return open_ports
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
    thief = create_python_function(b, THIEF, name=unique_name("iso-thief"), Timeout=120, MemorySize=256)
    edge_port = int(server.endpoint.rsplit(":", 1)[1])
    # The victim's worker is warm, yet no Runtime API listens on the host's loopback: the
    # listeners live in the workers' own namespaces.
    assert listening_ports_of(server.proc.pid) == {edge_port}
    found: list = []

    def run_thief():
        found.extend(json.loads(b.invoke(FunctionName=thief, Payload=b"{}")["Payload"].read()))

    thread = threading.Thread(target=run_thief)
    thread.start()
    replies = [json.loads(a.invoke(FunctionName=victim, Payload=json.dumps({"n": n}).encode())["Payload"].read())
               for n in range(3)]
    thread.join(timeout=120)
    # Inside the thief's namespace only its own Runtime API and the edge answer.
    assert sorted(found) == sorted({9001, edge_port}), found
    assert replies == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_without_the_sandbox_pieces_code_is_refused_and_the_reason_named(new_server):
    """A host without bubblewrap, setpriv and nsenter (here: none on PATH) serves every API but
    runs no code, and says exactly what is missing, in the log and to the caller."""
    srv = new_server("no-sandbox")
    srv.extra_env["PATH"] = "/nonexistent"
    srv.start()
    lam = lambda_client(srv)
    name = create_python_function(lam, "def handler(event, context):\n    return 1\n")
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=name, Payload=b"{}")
    message = refused.value.response["Error"]["Message"]
    for missing in ("bwrap (Debian package bubblewrap)", "setpriv (Debian package util-linux)",
                    "nsenter (Debian package util-linux)"):
        assert missing in message, message
        assert missing in srv.log_tail()
    assert "--insecure-no-sandbox" in message
    # S3 still works on that server.
    s3 = srv.client()
    s3.create_bucket(Bucket="still-serving")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["still-serving"]
