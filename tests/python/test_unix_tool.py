"""The CLI and the server as Unix tools: one-line errors with documented exit statuses whatever
RUST_BACKTRACE says, completions and a man page, logs that honour RUST_LOG (JSON on request, no
colour codes off a terminal, an access line per request), and readiness in the right order:
once the port accepts, everything `stratus env` reads is there; `--ready-file` and sd_notify."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from lambda_helpers import create_python_function, lambda_client
from stratus_testlib import STRATUS_BIN, base_subprocess_env, http_request, run_stratus

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_failing(*args: str, expect: int, env: dict | None = None) -> str:
    """Runs `stratus ARGS` with RUST_BACKTRACE=1, asserts exit status `expect` and a one-line
    error without a backtrace; returns that line."""
    proc = run_stratus(*args, env=env or base_subprocess_env(RUST_BACKTRACE="1"), check=False)
    assert proc.returncode == expect, (args, proc.returncode, proc.stderr)
    assert "stack backtrace" not in proc.stderr and "Stack backtrace" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_expected_errors_are_one_line_with_their_exit_status(tmp_path, fresh_server):
    line = run_failing("env", "--data-dir", str(tmp_path / "nothing"), expect=69)
    assert "start the server first" in line
    line = run_failing("keys", "list", "--endpoint", "http://127.0.0.1:1", "--token", "t", expect=69)
    assert "cannot reach http://127.0.0.1:1" in line
    env = fresh_server.cli_env(token="not-a-token", RUST_BACKTRACE="1")
    assert "(401" in run_failing("functions", "ls", expect=77, env=env)
    env = fresh_server.cli_env(RUST_BACKTRACE="1")
    assert "(404" in run_failing("functions", "rm", "no-such-function", expect=66, env=env)
    # A second server on the same data directory: the start is refused.
    line = run_failing("server", "--data-dir", str(fresh_server.data_dir), "--listen", "127.0.0.1:0",
                       expect=78)
    assert "the server cannot start" in line and "another stratus server" in line
    # Usage errors are clap's, status 2.
    proc = run_stratus("server", "--keep-warm", "5 parsecs", check=False,
                       env=base_subprocess_env(RUST_BACKTRACE="1"))
    assert proc.returncode == 2 and "invalid duration" in proc.stderr
    assert "backtrace" not in proc.stderr


def test_a_host_without_a_sandbox_is_one_line_not_a_backtrace(new_server):
    """The issue's example: with RUST_BACKTRACE=1, "the host has no usable sandbox" was 23 frames."""
    srv = new_server("no-sandbox-cli")
    srv.extra_env["PATH"] = "/nonexistent"  # as test_isolation_sandbox does: no bwrap, setpriv, nsenter
    srv.start()
    name = create_python_function(lambda_client(srv), "def handler(event, context):\n    return 1\n")
    line = run_failing("invoke", name, expect=1, env=srv.cli_env(RUST_BACKTRACE="1"))
    assert "no usable sandbox" in line and "--insecure-no-sandbox" in line


def test_bash_completion_completes_subcommands():
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = run_stratus("completions", "bash").stdout
    probe = (
        'source /dev/stdin\n'
        'COMP_WORDS=(stratus fun); COMP_CWORD=1; COMP_LINE="stratus fun"; COMP_POINT=${#COMP_LINE}\n'
        '_stratus stratus fun stratus\n'
        'echo "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", probe], input=script, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["functions"], done.stdout
    for shell in ("zsh", "fish"):
        assert "stratus" in run_stratus("completions", shell).stdout
    assert run_stratus("completions", "tcsh", check=False).returncode == 2


def test_the_man_page_renders_with_its_exit_statuses(tmp_path):
    page = run_stratus("man").stdout
    assert '.SH "EXIT STATUS"' in page
    if shutil.which("man"):
        (tmp_path / "stratus.1").write_text(page)
        render = ["man", "-l", str(tmp_path / "stratus.1")]
    elif shutil.which("groff"):
        render = ["groff", "-man", "-Tutf8", "-ww"]
    else:
        pytest.skip("neither man nor groff is installed")
    done = subprocess.run(render, input=page, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100"})
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr.lower(), done.stderr
    assert "EXIT STATUS" in done.stdout and "cannot be reached" in done.stdout
    run_stratus("man", "--out", str(tmp_path / "pages"))
    assert {"stratus.1", "stratus-server.1", "stratus-functions-ls.1"} <= {
        p.name for p in (tmp_path / "pages").iterdir()}


def test_the_verbs_are_ls_show_rm_with_the_other_spellings_as_aliases(fresh_server):
    env = fresh_server.cli_env()
    run_stratus("buckets", "create", "verbs-bucket", env=env)
    assert "verbs-bucket" in run_stratus("buckets", "list", env=env).stdout
    run_stratus("buckets", "delete", "verbs-bucket", env=env)
    assert "verbs-bucket" not in run_stratus("buckets", "ls", env=env).stdout
    created = json.loads(run_stratus("keys", "create", "--project", "verbs", "--json", env=env).stdout)
    assert created["access_key_id"] in run_stratus("keys", "ls", env=env).stdout
    run_stratus("keys", "rm", created["access_key_id"], env=env)
    assert created["access_key_id"] not in run_stratus("keys", "list", env=env).stdout
    run_stratus("quota", "get", "verbs", env=env)
    run_stratus("projects", "list", env=env)
    run_stratus("apps", "list", env=env)
    help_text = run_stratus("functions", "--help").stdout
    assert "ls" in help_text and "aliases: delete, remove" in help_text


def test_logs_honour_rust_log_as_json_with_an_access_line_and_no_colour(new_server):
    srv = new_server("json-log", "--log-format", "json")
    srv.extra_env["RUST_LOG"] = "stratus=debug"
    srv.extra_env["STRATUS_LOG"] = "error"  # RUST_LOG wins
    srv.start()
    bucket_list = http_request(srv.endpoint + "/v1/buckets",
                               headers={"Authorization": f"Bearer {srv.admin.token}"})
    assert bucket_list.status == 200
    srv.stop()
    log = srv.log_path.read_text()
    assert "\x1b[" not in log, "ANSI escape codes in a log that is not a terminal"
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access = [e for e in events if e.get("target") == "stratus::access"
              and e["fields"].get("path") == "/v1/buckets"]
    assert access, log[-3000:]
    fields = access[0]["fields"]
    assert access[0]["level"] == "DEBUG"
    assert fields["method"] == "GET" and fields["status"] == 200 and fields["project"] == "admin"
    assert isinstance(fields["duration_ms"], float) and fields["duration_ms"] >= 0


def test_without_debug_there_is_no_access_line(new_server):
    srv = new_server("quiet-log")
    srv.extra_env["RUST_LOG"] = "info"
    srv.start()
    assert http_request(srv.endpoint + "/v1/health").status == 200
    srv.stop()
    assert "stratus::access" not in srv.log_path.read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """What a script does: wait until the port accepts, and nothing else."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError(f"port {port} never accepted")


def start_raw_server(data_dir: Path, log_path: Path, *args: str, **env: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(STRATUS_BIN), "server", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}", *args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=base_subprocess_env(**env))
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def test_once_the_port_accepts_stratus_env_works(tmp_path):
    """Six starts, each waited for by the port alone, as a new user's script would."""
    data_dir = tmp_path / "data"
    for attempt in range(6):
        proc, port = start_raw_server(data_dir, tmp_path / "server.log")
        try:
            wait_for_port(port, proc)
            env = run_stratus("env", "--data-dir", str(data_dir), check=False)
            assert env.returncode == 0, (attempt, env.stderr)
            assert f"STRATUS_ENDPOINT='http://127.0.0.1:{port}'" in env.stdout
        finally:
            stop(proc)


def test_ready_file_and_sd_notify_announce_a_serving_server(tmp_path):
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(30)
    ready = tmp_path / "ready"
    data_dir = tmp_path / "data"
    proc, port = start_raw_server(data_dir, tmp_path / "server.log", "--ready-file", str(ready),
                                  "--region", "eu-west-3", NOTIFY_SOCKET=str(notify_path))
    try:
        message = listener.recv(4096).decode()
        assert "READY=1" in message.splitlines(), message
        # By READY=1 the ready file is in place, and it names a serving endpoint.
        endpoint = ready.read_text().strip()
        assert endpoint == f"http://127.0.0.1:{port}"
        assert http_request(endpoint + "/v1/health").status == 200
        exports = run_stratus("env", "--data-dir", str(data_dir)).stdout
        assert "export AWS_REGION='eu-west-3'" in exports and "AWS_DEFAULT_REGION='eu-west-3'" in exports
    finally:
        stop(proc)
        listener.close()
    assert not ready.exists(), "the ready file outlived the server"


def test_sighup_without_tls_keeps_the_server_serving(tmp_path):
    # The systemd unit's ExecReload sends SIGHUP; without a certificate to reload, the default
    # disposition would end the server.
    proc, port = start_raw_server(tmp_path / "data", tmp_path / "server.log")
    try:
        wait_for_port(port, proc)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert proc.poll() is None, "SIGHUP ended the server"
        assert http_request(f"http://127.0.0.1:{port}/v1/health").status == 200
    finally:
        stop(proc)


def test_a_ready_file_in_a_missing_directory_refuses_the_start(tmp_path):
    proc = run_stratus("server", "--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0",
                       "--ready-file", str(tmp_path / "missing" / "ready"), check=False,
                       env=base_subprocess_env(RUST_BACKTRACE="1"))
    assert proc.returncode == 78, proc.stderr
    assert "--ready-file" in proc.stderr and not (tmp_path / "data" / "server.json").exists()


def test_the_systemd_unit_verifies():
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    unit = REPO_ROOT / "deploy" / "systemd" / "stratus.service"
    text = unit.read_text()
    for setting in ("Type=notify", "Delegate=yes", "StateDirectory=stratus", "--data-dir /var/lib/stratus"):
        assert setting in text, setting
    # verify resolves ExecStart's binary: point it at the one under test.
    with_binary = text.replace("/usr/local/bin/stratus", str(STRATUS_BIN))
    unit_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"stratus-unit-{os.getpid()}"
    unit_dir.mkdir(exist_ok=True)
    (unit_dir / "stratus.service").write_text(with_binary)
    done = subprocess.run([analyze, "verify", str(unit_dir / "stratus.service")],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if "stratus.service" in line]
    assert done.returncode == 0 and not problems, done.stderr
