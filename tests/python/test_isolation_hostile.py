"""Hostile code against the worker sandbox: every promise of the sandbox (docs: README's
*Functions*) is attacked by a function and the exact failure is asserted, then the platform must
keep serving another project.

The attacker is project A of `isolation_helpers.world`; its victim and witness is project B. All
attacks are in `hostile_functions.py`, deployed whole as `app.py` (one probe per event), each
bounded in time and count and cleaning up after itself. Network attacks only ever target the
host's loopback and the host's own addresses: listeners this test opens, and the server's own
Runtime API ports.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest

import hostile_functions as hostile
from isolation_helpers import ECHO, token, world
from lambda_helpers import (
    ROLE,
    create_python_function,
    lambda_client,
    raises_lambda,
    unique_name,
    zip_code,
)
from stratus_testlib import (
    REGION,
    STRATUS_BIN,
    StratusServer,
    client_config,
    http_request,
    pasta_processes_left,
    run_stratus,
)
from test_isolation_sandbox import listening_ports_of

PROBER = Path(hostile.__file__).read_text()
ON_X86_64 = platform.machine() == "x86_64"
x86_64_only = pytest.mark.skipif(not ON_X86_64, reason=f"raw syscall numbers are x86_64's, not {platform.machine()}")
ZERO_CAPS = "0000000000000000"
MIB = 1024 * 1024


# --- helpers ---------------------------------------------------------------------------------
def probe(lam, name: str, what: str, **args):
    """Invokes probe `what` of a deployed hostile function; fails on a function error."""
    response = lam.invoke(FunctionName=name, Payload=json.dumps({"probe": what, **args}).encode())
    result = json.loads(response["Payload"].read() or b"null")
    assert "FunctionError" not in response, f"probe {what} failed: {result}"
    if isinstance(result, dict) and "skip" in result:
        pytest.skip(result["skip"])
    return result


def deploy_prober(lam, stem: str, **config) -> str:
    config.setdefault("Timeout", 60)
    config.setdefault("MemorySize", 256)
    return create_python_function(lam, PROBER, name=unique_name(stem), **config)


def assert_platform_serves(server, w) -> None:
    """After an attack: another project's function still answers with its payload, and so does
    the server."""
    nonce = uuid.uuid4().hex
    response = lambda_client(server, w.b.member).invoke(FunctionName=w.b_function,
                                                        Payload=json.dumps({"nonce": nonce}).encode())
    assert json.loads(response["Payload"].read()) == {"echo": {"nonce": nonce}}
    assert http_request(server.endpoint + "/v1/health").status == 200


def host_ipv4_addresses() -> list[str]:
    """The host's own non-loopback IPv4 addresses (the only non-loopback targets used here)."""
    return sorted(ip for ip in hostile.ipv4_addresses().values() if ip and not ip.startswith("127."))


class Listeners:
    """What no function may reach on the host: a TCP listener on 127.0.0.1, one on 0.0.0.0 and an
    abstract unix socket (abstract names belong to a network namespace)."""

    def __init__(self):
        self.loopback = self._tcp("127.0.0.1")
        self.wildcard = self._tcp("0.0.0.0")
        self.unix_name = f"stratus-hostile-{uuid.uuid4().hex[:12]}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen(16)

    @staticmethod
    def _tcp(address: str) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((address, 0))
        sock.listen(16)
        return sock

    @property
    def loopback_port(self) -> int:
        return self.loopback.getsockname()[1]

    @property
    def wildcard_port(self) -> int:
        return self.wildcard.getsockname()[1]

    def targets(self, host_ips: list[str]) -> list[list]:
        return [["127.0.0.1", self.loopback_port], ["127.0.0.1", self.wildcard_port],
                *[[ip, self.wildcard_port] for ip in host_ips], ["@" + self.unix_name, 0]]

    def accepted(self) -> list[str]:
        """Every connection that reached a listener (there must be none)."""
        got = []
        for sock in (self.loopback, self.wildcard, self.unix):
            sock.setblocking(False)
            while True:
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    break
                got.append(f"{sock.getsockname()!r} <- {peer!r}")
                conn.close()
        return got

    def close(self) -> None:
        for sock in (self.loopback, self.wildcard, self.unix):
            sock.close()


def assert_all_refused(results: list[dict], targets: list[list]) -> None:
    """Each target got an OSError (refused, unreachable, timed out), never a connection."""
    by_target = {tuple(r["target"]): r for r in results}
    wrong = {}
    for target in map(tuple, targets):
        result = by_target.get(target, {}).get("result")
        if result is None or result == "connected" or result.startswith("skipped"):
            wrong[target] = result
    assert wrong == {}, f"reached from inside the sandbox (or not tried): {wrong}; all: {results}"


def assert_other_workers_refused(results: list[dict], api_targets: list[list]) -> None:
    """Other workers' Runtime API ports are refused; the prober's own endpoint ports (when the
    host's and the sandbox's numbers coincide) are not tried."""
    tried = [r for r in results if r["target"] in api_targets and not r["result"].startswith("skipped")]
    assert [r for r in tried if r["result"] == "connected"] == [], tried


def default_routes(routes: list[dict]) -> list[dict]:
    return [r for r in routes if r["destination"] == "00000000" and r["mask"] == "00000000"]


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def lam_a(server, w):
    return lambda_client(server, w.a.member)


@pytest.fixture(scope="module")
def lam_b(server, w):
    return lambda_client(server, w.b.member)


@pytest.fixture(scope="module")
def prober_a(lam_a):
    """Project A's hostile function, deployed once for the light probes."""
    return deploy_prober(lam_a, "hostile-a")


@pytest.fixture(scope="module")
def prober_b(lam_b):
    """Project B's copy: the neighbour that must keep working."""
    return deploy_prober(lam_b, "hostile-b")


@pytest.fixture
def listeners():
    made = Listeners()
    yield made
    made.close()


# --- 1. identity -----------------------------------------------------------------------------
def test_worker_is_unprivileged_with_no_capabilities_no_new_privs_and_seccomp(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "identity")
    uids, gids = got["uid"], got["gid"]
    assert len(set(uids)) == 1 and uids[0] not in (0, os.getuid()), f"worker uid {uids}, server uid {os.getuid()}"
    assert len(set(gids)) == 1 and gids[0] not in (0, os.getgid()), f"worker gid {gids}"
    assert 0 not in got["groups"], got["groups"]
    status = got["status"]
    caps = {name: status[name] for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    assert caps == dict.fromkeys(caps, ZERO_CAPS), caps
    assert status["NoNewPrivs"] == "1", status
    assert status["Seccomp"] == "2", status
    assert got["setuid0"] == {"type": "PermissionError", "errno": errno.EPERM}
    assert got["setgroups0"] == {"type": "PermissionError", "errno": errno.EPERM}
    assert_platform_serves(server, w)


# --- 2. seccomp ------------------------------------------------------------------------------
@x86_64_only
def test_dangerous_syscalls_fail_with_eperm_and_clone3_with_enosys(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "syscalls")
    outcome = {name: result.get("errno", result) for name, result in got["results"].items()}
    expected = dict.fromkeys(outcome, "EPERM")
    expected["clone3"] = "ENOSYS"
    assert set(outcome) >= {"mount", "umount2", "pivot_root", "ptrace", "process_vm_readv", "process_vm_writev",
                            "kexec_load", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
                            "init_module", "finit_module", "delete_module", "swapon", "swapoff", "reboot",
                            "open_by_handle_at", "userfaultfd", "unshare(0)", "unshare(CLONE_NEWUSER)",
                            "setns(-1, 0)", "clone(CLONE_NEWUSER)", "clone(CLONE_NEWNET)", "chroot", "acct",
                            "settimeofday", "clone3"}
    wrong = {name: (outcome[name], want) for name, want in expected.items() if outcome[name] != want}
    assert wrong == {}, f"syscall: (got, want): {wrong}"
    # Ordinary processes and threads still work (glibc falls back from clone3 to clone).
    assert got["controls"] == {"fork": 7, "thread": True, "subprocess": [0, "spawned"]}
    assert_platform_serves(server, w)


# --- 3. devices ------------------------------------------------------------------------------
def test_no_devtmpfs_no_block_device_nodes(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "devices")
    assert got["mount"] == {"ret": -1, "errno": "EPERM"}, got["mount"]
    assert got["mknod"] == {"type": "PermissionError", "errno": errno.EPERM}, got["mknod"]
    assert got["block_devices"] == [], got["dev"]
    assert_platform_serves(server, w)


# --- 4. ptrace -------------------------------------------------------------------------------
@x86_64_only
def test_ptrace_attach_to_own_child_fails_with_eperm(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "ptrace_child")
    assert (got.get("ret"), got.get("errno")) == (-1, "EPERM"), got
    assert_platform_serves(server, w)


# --- 5. pid namespace ------------------------------------------------------------------------
def test_server_process_and_environment_are_invisible(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "pid_namespace", server_pid=server.proc.pid,
                markers=["STRATUS_", "RUST_BACKTRACE="])
    assert got["server_environ"]["type"] == "FileNotFoundError", got["server_environ"]
    # The worker's own runtime client lives at /opt/stratus/ and its interpreter is this
    # checkout's virtual environment (whose path may well say "stratus"): neither is the server.
    leaks = [p for p in got["processes"]
             if "stratus" in p["cmdline"].replace("/opt/stratus/", "").replace(sys.prefix, "")
             or str(server.data_dir) in p["cmdline"] or str(STRATUS_BIN) in p["cmdline"]]
    assert leaks == [], f"processes in the sandbox that show the server or its paths: {leaks}"
    init = got["init_environ"]
    if "names" in init:  # unreadable (another uid) is fine too
        assert init["has"] == [], f"/proc/1/environ holds the server's environment: {init}"
        assert not [n for n in init["names"] if n.startswith("STRATUS_")], init
    else:
        assert init["type"] in ("PermissionError", "FileNotFoundError"), init
    assert_platform_serves(server, w)


# --- 6. network namespace --------------------------------------------------------------------
def test_sdk_calls_still_reach_the_endpoint(lam_a, prober_a, w):
    keys = probe(lam_a, prober_a, "boto3", bucket=w.bucket)
    assert "secret.txt" in keys and "dir/nested.txt" in keys, keys


def test_host_listeners_and_other_workers_are_unreachable(server, w, lam_a, lam_b, prober_a, listeners):
    # B's worker is warm: wherever its Runtime API listens, A must not reach it. Any API the
    # server listens for on the host's loopback is a target (none, when each worker's API lives
    # in the worker's own namespace).
    lam_b.invoke(FunctionName=w.b_function, Payload=b'{"warm": 1}')
    edge_port = int(server.endpoint.rsplit(":", 1)[1])
    worker_apis = sorted(listening_ports_of(server.proc.pid) - {edge_port})
    host_ips = host_ipv4_addresses()
    targets = listeners.targets(host_ips)
    api_targets = [["127.0.0.1", port] for port in worker_apis]
    got = probe(lam_a, prober_a, "network", targets=targets + api_targets, wait=3)
    assert_all_refused(got["results"], targets)
    assert_other_workers_refused(got["results"], api_targets)
    assert listeners.accepted() == []
    assert_platform_serves(server, w)


def test_no_route_out_and_only_loopback_has_an_address(lam_a, prober_a):
    got = probe(lam_a, prober_a, "network", targets=[])
    assert default_routes(got["routes"]) == [], got["routes"]
    assert {name: ip for name, ip in got["addresses"].items() if ip} == {"lo": "127.0.0.1"}, got["addresses"]


# --- 7. --worker-internet --------------------------------------------------------------------
@pytest.fixture(scope="module")
def internet(tmp_path_factory):
    """A server that lets one project's workers out, and its two projects' probers."""
    allowed = f"inet-{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("internet")
    srv = StratusServer(root / "data", root / "server.log", ("--worker-internet", allowed)).start()
    open_lam = lambda_client(srv, srv.create_key(allowed))
    closed_lam = lambda_client(srv, srv.create_key(f"closed-{uuid.uuid4().hex[:8]}"))
    yield srv, (open_lam, deploy_prober(open_lam, "inet-open")), (closed_lam, deploy_prober(closed_lam, "inet-closed"))
    srv.stop()
    # A stopped server leaves no pasta behind (workers still held by in-flight work included).
    assert pasta_processes_left(srv) == []


def test_worker_internet_gives_a_default_route_to_that_project_only(internet):
    _, (open_lam, open_fn), (closed_lam, closed_fn) = internet
    opened = probe(open_lam, open_fn, "network", targets=[])
    assert default_routes(opened["routes"]), f"--worker-internet: no default route: {opened['routes']}"
    closed = probe(closed_lam, closed_fn, "network", targets=[])
    assert default_routes(closed["routes"]) == [], closed["routes"]
    assert {n: ip for n, ip in closed["addresses"].items() if ip} == {"lo": "127.0.0.1"}, closed["addresses"]


def test_worker_internet_keeps_host_loopback_closed(internet, listeners):
    srv, (open_lam, open_fn), _ = internet
    first = probe(open_lam, open_fn, "network", targets=[])  # the worker (and any link of it) is up
    edge_port = int(srv.endpoint.rsplit(":", 1)[1])
    targets = [["127.0.0.1", listeners.loopback_port], ["127.0.0.1", listeners.wildcard_port],
               ["@" + listeners.unix_name, 0]]
    api_targets = [["127.0.0.1", p] for p in sorted(listening_ports_of(srv.proc.pid) - {edge_port})]
    # The namespace's gateway is tried only when it is one of this host's own addresses.
    own = set(host_ipv4_addresses())
    for route in default_routes(first["routes"]):
        if route["gateway"] in own:
            targets += [[route["gateway"], listeners.loopback_port], [route["gateway"], listeners.wildcard_port]]
    got = probe(open_lam, open_fn, "network", targets=targets + api_targets, wait=3)
    assert_all_refused(got["results"], targets)
    assert_other_workers_refused(got["results"], api_targets)
    assert listeners.accepted() == []


def test_worker_internet_does_not_open_the_hosts_own_addresses(internet, listeners):
    """Beyond the letter of the promise: a worker let out to the internet still does not reach
    services the host itself offers on its own addresses."""
    _, (open_lam, open_fn), _ = internet
    probe(open_lam, open_fn, "noop")
    targets = [[ip, listeners.wildcard_port] for ip in host_ipv4_addresses()]
    got = probe(open_lam, open_fn, "network", targets=targets, wait=3)
    assert_all_refused(got["results"], targets)
    assert listeners.accepted() == []


def test_worker_internet_star_in_the_config_file(new_server, tmp_path):
    config = tmp_path / "stratus.toml"
    config.write_text('worker_internet = ["*"]\n')
    srv = new_server("inet-star", "--config", str(config)).start()
    lam = lambda_client(srv, srv.create_key(f"any-{uuid.uuid4().hex[:8]}"))
    got = probe(lam, deploy_prober(lam, "inet-any"), "network", targets=[])
    assert default_routes(got["routes"]), got["routes"]
    assert pasta_processes_left(srv, wait=0), "the warm worker keeps its pasta while the server runs"
    srv.stop()
    assert pasta_processes_left(srv) == []


# --- 8. host paths ---------------------------------------------------------------------------
def test_data_dir_and_another_projects_volume_are_not_there(server, w, lam_a, lam_b, prober_a):
    volume_name = f"vault{uuid.uuid4().hex[:6]}"
    volume = [{"Arn": f"arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-{volume_name}",
               "LocalMountPath": f"/mnt/{volume_name}"}]
    writer = create_python_function(
        lam_b, "def handler(e, c):\n    open(e['path'], 'w').write('b secret')\n    return 'ok'\n",
        name=unique_name("hostile-vault"), FileSystemConfigs=volume)
    secret_inside = f"/mnt/{volume_name}/secret.txt"
    response = lam_b.invoke(FunctionName=writer, Payload=json.dumps({"path": secret_inside}).encode())
    assert json.loads(response["Payload"].read()) == "ok"
    volume_dir = server.data_dir / "volumes" / w.b.project / volume_name
    assert (volume_dir / "secret.txt").read_text() == "b secret", "B's volume is where the test looks"
    paths = [str(server.data_dir), str(server.data_dir / "credentials"), str(server.data_dir / "meta.db"),
             str(server.data_dir / "volumes"), str(volume_dir), str(volume_dir / "secret.txt"), secret_inside]
    got = probe(lam_a, prober_a, "paths", paths=paths)
    assert got == dict.fromkeys(paths, "FileNotFoundError")
    assert_platform_serves(server, w)


def test_tmp_is_empty_at_start_and_shows_no_host_names(server, lam_a):
    fresh = deploy_prober(lam_a, "hostile-tmp")
    host_names = []
    for path in (server.data_dir, Path(__file__).resolve()):
        parts = path.parts
        if len(parts) > 2 and parts[1] == "tmp":
            host_names.append(f"/tmp/{parts[2]}")
    got = probe(lam_a, fresh, "tmp", paths=host_names)
    assert got["tmp"] == [], got
    assert got["exists"] == dict.fromkeys(host_names, False), got


# --- 9. processes ----------------------------------------------------------------------------
def test_fork_bomb_stops_at_the_task_limit_and_neighbours_answer(server, w, lam_a, lam_b, prober_b):
    bomb = deploy_prober(lam_a, "hostile-bomb", MemorySize=512, Timeout=120)
    probe(lam_a, bomb, "noop")  # warm, so the bomb starts at once
    cold = create_python_function(lam_b, ECHO, name=unique_name("hostile-cold"))
    probe(lam_b, prober_b, "noop")
    outcome = {}

    def detonate():
        try:
            outcome["bomb"] = probe(lam_a, bomb, "fork_bomb", max=2048, hold=10, seconds=40)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            outcome["bomb"] = f"the bomb's invocation failed: {error!r}"
        outcome["bomb_done"] = time.monotonic()

    thread = threading.Thread(target=detonate)
    thread.start()
    try:
        time.sleep(3)
        nonce = uuid.uuid4().hex
        echo = lam_b.invoke(FunctionName=w.b_function, Payload=json.dumps({"nonce": nonce}).encode())
        assert json.loads(echo["Payload"].read()) == {"echo": {"nonce": nonce}}
        # B can still start processes itself, and a new worker of B can still start.
        assert probe(lam_b, prober_b, "controls") == {"fork": 7, "thread": True, "subprocess": [0, "spawned"]}
        started = lam_b.invoke(FunctionName=cold, Payload=b'{"cold": 1}')
        assert json.loads(started["Payload"].read()) == {"echo": {"cold": 1}}
        assert http_request(server.endpoint + "/v1/health", timeout=10).status == 200
        neighbours_done = time.monotonic()
    finally:
        thread.join(timeout=150)
    bomb_result = outcome["bomb"]
    assert isinstance(bomb_result, dict), bomb_result
    assert bomb_result["error"] == {"type": "BlockingIOError", "errno": errno.EAGAIN}, bomb_result
    assert bomb_result["count"] <= 1024, bomb_result
    assert neighbours_done < outcome["bomb_done"], "the neighbours answered while the bomb held its children"
    assert_platform_serves(server, w)


# --- 10. ephemeral storage -------------------------------------------------------------------
def unvalidated_lambda(server, creds):
    """A Lambda client that sends out-of-range values (botocore checks minimums client-side)."""
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client("lambda", endpoint_url=server.endpoint,
                          config=client_config(signature_version="v4", parameter_validation=False))


def test_ephemeral_storage_is_configured_returned_and_validated(server, w):
    lam = unvalidated_lambda(server, w.a.member)
    code = {"ZipFile": zip_code({"app.py": "def handler(e, c):\n    return 1\n"})}
    plain = create_python_function(lam, "def handler(e, c):\n    return 1\n", name=unique_name("eph"))
    assert lam.get_function_configuration(FunctionName=plain)["EphemeralStorage"] == {"Size": 512}
    sized = create_python_function(lam, "def handler(e, c):\n    return 1\n", name=unique_name("eph"),
                                   EphemeralStorage={"Size": 1024})
    assert lam.get_function_configuration(FunctionName=sized)["EphemeralStorage"] == {"Size": 1024}
    lam.update_function_configuration(FunctionName=sized, EphemeralStorage={"Size": 10240})
    before = lam.get_function_configuration(FunctionName=sized)
    assert before["EphemeralStorage"] == {"Size": 10240}
    for size in (100, 511, 10241, 20000):
        refused = unique_name("eph-bad")
        with raises_lambda("InvalidParameterValueException", 400):
            lam.create_function(FunctionName=refused, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                Code=code, EphemeralStorage={"Size": size})
        with raises_lambda("ResourceNotFoundException", 404):
            lam.get_function(FunctionName=refused)
        with raises_lambda("InvalidParameterValueException", 400):
            lam.update_function_configuration(FunctionName=sized, EphemeralStorage={"Size": size})
    after = lam.get_function_configuration(FunctionName=sized)
    assert (after["EphemeralStorage"], after["RevisionId"]) == (before["EphemeralStorage"], before["RevisionId"])


def files_over(root: Path, size: int) -> list[str]:
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                if os.path.getsize(os.path.join(dirpath, name)) > size:
                    found.append(os.path.join(dirpath, name))
            except OSError:
                pass
    return found


def test_tmp_is_memory_backed_and_stops_at_ephemeral_storage(server, w, lam_a):
    filler = deploy_prober(lam_a, "hostile-fill", MemorySize=1024, Timeout=120, EphemeralStorage={"Size": 512})
    probe(lam_a, filler, "noop")
    used_before = shutil.disk_usage(server.data_dir).used
    got = probe(lam_a, filler, "fill_tmp", max_mib=700, seconds=90)
    try:
        assert got["error"] == {"type": "OSError", "errno": errno.ENOSPC}, got
        assert 500 <= got["written_mib"] <= 512, got
        assert got["mount"] and got["mount"]["type"] == "tmpfs", got
        # The data sits in the worker's /tmp now: none of it is on the host's disk.
        grown = shutil.disk_usage(server.data_dir).used - used_before
        assert grown < 200 * MIB, f"the host's disk grew by {grown / MIB:.0f} MiB"
        assert files_over(server.data_dir, 64 * MIB) == []
    finally:
        lam_a.invoke(FunctionName=filler, Payload=b'{"probe": "clean_tmp"}')
    assert_platform_serves(server, w)


def test_tmp_counts_toward_the_functions_memory(server, w, lam_a):
    """512 MB of /tmp in a 256 MB function: filling it runs out of memory, not of disk."""
    filler = deploy_prober(lam_a, "hostile-fill-small", MemorySize=256, Timeout=60)
    response = lam_a.invoke(FunctionName=filler, Payload=json.dumps({"probe": "fill_tmp", "max_mib": 450,
                                                                     "seconds": 40}).encode())
    error = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled", error
    assert error["errorType"] == "Runtime.OutOfMemory", error
    # A new worker replaces it, with an empty /tmp.
    assert probe(lam_a, filler, "tmp")["tmp"] == []
    assert_platform_serves(server, w)


# --- 11. descriptors -------------------------------------------------------------------------
def test_open_files_stop_at_emfile_and_the_limit_cannot_be_raised(server, w, lam_a, prober_a):
    got = probe(lam_a, prober_a, "open_files", max=4096)
    assert got["error"] == {"type": "OSError", "errno": errno.EMFILE}, got
    assert got["limits"] == [1024, 1024], got
    assert 900 <= got["opened"] < 1024, got
    assert isinstance(got["setrlimit"], dict) and got["setrlimit"]["type"] in ("ValueError", "PermissionError"), got
    assert_platform_serves(server, w)


# --- 12. CPU ---------------------------------------------------------------------------------
def timed_calls(lam, name: str, count: int) -> list[float]:
    times = []
    for n in range(count):
        started = time.monotonic()
        assert probe(lam, name, "noop", nonce=n) == n
        times.append(time.monotonic() - started)
    return times


def test_cpu_burner_does_not_starve_another_project(server, w, lam_a, lam_b, prober_b):
    burner = deploy_prober(lam_a, "hostile-burn")  # same size as B's: equal CPU weight
    probe(lam_a, burner, "noop")
    timed_calls(lam_b, prober_b, 3)  # warm
    quiet = statistics.median(timed_calls(lam_b, prober_b, 20))
    outcome = {}

    def burn():
        try:
            outcome["burn"] = probe(lam_a, burner, "burn", seconds=8, workers=2)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            outcome["burn"] = f"the burner's invocation failed: {error!r}"
        outcome["done"] = time.monotonic()

    thread = threading.Thread(target=burn)
    thread.start()
    try:
        time.sleep(1.5)
        noisy_times = timed_calls(lam_b, prober_b, 20)
        measured_until = time.monotonic()
    finally:
        thread.join(timeout=60)
    noisy = statistics.median(noisy_times)
    assert noisy < quiet * 3 + 0.05, (f"B's median {noisy * 1000:.1f} ms while A burned, {quiet * 1000:.1f} ms "
                                      f"quiet; burner {outcome.get('burn')}")
    assert measured_until < outcome["done"], "B was measured while A was burning"


# --- 13. dependencies ------------------------------------------------------------------------
@pytest.mark.pypi
def test_dependency_build_still_reaches_the_package_index(server, w, lam_a, tmp_path):
    """Workers are cut off from the network, but a dependency build still installs from the real
    package index (PyPI, or whatever PIP_INDEX_URL names): tabulate, one pure-Python module with
    no dependencies and not in the server's base environment."""
    name = unique_name("hostile-deps")
    code = tmp_path / name
    code.mkdir()
    (code / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\ntimeout: 30\n")
    (code / "app.py").write_text(PROBER)
    (code / "requirements.txt").write_text("tabulate==0.9.0\n")
    deployed = run_stratus("deploy", str(code), env=server.cli_env(token=token(w.a.member)), timeout=300)
    assert "Successfully installed tabulate-0.9.0" in deployed.stderr, deployed.stderr
    got = probe(lam_a, name, "dependency", module="tabulate")
    assert got == {"version": "0.9.0", "file": "/opt/python/tabulate/__init__.py"}, got
