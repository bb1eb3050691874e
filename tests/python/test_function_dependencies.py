"""`requirements.txt` in `stratus deploy`: a dependency environment built by the server's pip,
cached by hash, mounted read-only at /opt/python; and the /v1/environments API behind it.

No test reaches PyPI: the requirements use `--no-index` and a wheel built here, served from
127.0.0.1 as the operator's package mirror (`PIP_FIND_LINKS` in the server's environment). The
build runs in the sandbox, in a network namespace of its own: it reaches the operator's mirror
on the host's loopback (that port alone is forwarded), never another host service a
requirements file names.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import zipfile

import pytest

from stratus_testlib import StratusServer, http_request, pasta_processes_left, run_stratus

HANDLER = """
import tinydep

def handler(event, context):
    try:
        open('/opt/python/planted.txt', 'w').write('x')
        write_error = None
    except OSError as error:
        write_error = error.errno
    return {'value': tinydep.VALUE, 'file': tinydep.__file__, 'write_error': write_error}
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory, name: str = "tinydep") -> None:
    """NAME 1.0 as a wheel, written by hand (a wheel is a zip with a dist-info)."""
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{name}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                                       b"Tag: py3-none-any\n",
    }
    record = "\n".join(_record_line(n, d) for n, d in files.items())
    record += f"\n{name}-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(directory / f"{name}-1.0-py3-none-any.whl", "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
        wheel.writestr(f"{name}-1.0.dist-info/RECORD", record)


def serve_directory(root) -> tuple[http.server.ThreadingHTTPServer, list[str]]:
    """An HTTP server on 127.0.0.1 for `root`, and the list of paths it was asked for."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, requests


@pytest.fixture(scope="module")
def wheel_index(tmp_path_factory):
    """The operator's find-links mirror on 127.0.0.1, serving the tinydep wheel."""
    root = tmp_path_factory.mktemp("wheels")
    build_wheel(root)
    httpd, _ = serve_directory(root)
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def mirrored(srv, wheel_index):
    """`srv` configured with the operator's mirror, as an operator would (pip's environment)."""
    srv.extra_env["PIP_FIND_LINKS"] = wheel_index
    return srv


@pytest.fixture(scope="module")
def server(tmp_path_factory, wheel_index):
    """This module's shared server: the session's has no package mirror configured."""
    root = tmp_path_factory.mktemp("deps")
    srv = mirrored(StratusServer(root / "data", root / "server.log"), wheel_index).start()
    yield srv
    srv.kill()


def make_function(tmp_path, name: str, requirements: str, extra_yaml: str = ""):
    code = tmp_path / name
    code.mkdir()
    (code / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\n"
                                        f"timeout: 30\n{extra_yaml}")
    (code / "app.py").write_text(HANDLER)
    (code / "requirements.txt").write_text(requirements)
    return code


def env_dirs(server) -> set[str]:
    return {p.name for p in (server.data_dir / "envs").iterdir()}


def auth(server) -> dict:
    return {"Authorization": f"Bearer {server.admin.token}"}


def test_deploy_installs_and_reuses_requirements(new_server, tmp_path, wheel_index):
    fresh_server = mirrored(new_server("fresh-deps"), wheel_index).start()
    env = fresh_server.cli_env()
    requirements = "# test packages\n--no-index\ntinydep==1.0\n"
    first = run_stratus("deploy", str(make_function(tmp_path, "withdeps", requirements)), env=env,
                        timeout=300)
    assert "  | " in first.stderr and "tinydep" in first.stderr, first.stderr  # pip's progress
    assert "Successfully installed tinydep-1.0" in first.stderr
    assert "dependencies: " in first.stderr and "installed in" in first.stderr

    result = run_stratus("invoke", "withdeps", env=env)
    answer = json.loads(result.stdout)
    assert answer["value"] == 42
    assert answer["file"] == "/opt/python/tinydep/__init__.py"
    assert answer["write_error"] == 30  # EROFS: the environment is mounted read-only

    (built,) = env_dirs(fresh_server)
    listed = json.loads(run_stratus("functions", "ls", "--json", env=env).stdout)
    assert [f["dependencies"] for f in listed if f["name"] == "withdeps"] == [built]
    info = http_request(f"{fresh_server.endpoint}/v1/environments/{built}", headers=auth(fresh_server))
    assert info.status == 200 and info.json()["size_bytes"] > 0, info.body

    # Same requirements, formatted differently: same environment, no pip run.
    again = requirements.replace("tinydep==1.0", "tinydep==1.0   # pinned") + "\n\n"
    samedeps = make_function(tmp_path, "samedeps", again, extra_yaml="publish: true\n")
    second = run_stratus("deploy", str(samedeps), "--json", env=env)
    assert f"dependencies: {built[:12]} (cached)" in second.stderr
    assert json.loads(second.stdout)["dependencies"] == built  # stdout: only the JSON document
    assert "  | " not in second.stderr
    assert env_dirs(fresh_server) == {built}
    assert json.loads(run_stratus("invoke", "samedeps", env=env).stdout)["value"] == 42

    # Without requirements.txt a redeploy drops the environment from $LATEST; the published
    # version keeps the one it was frozen with.
    (samedeps / "requirements.txt").unlink()
    run_stratus("deploy", str(samedeps), env=env)
    latest = run_stratus("invoke", "samedeps", env=env, check=False)
    assert latest.returncode == 1 and "No module named 'tinydep'" in latest.stdout, latest.stdout
    frozen = run_stratus("invoke", "samedeps", "--qualifier", "1", env=env)
    assert json.loads(frozen.stdout)["value"] == 42

    # Each build's pasta ended with its build (none left running under this server's data dir).
    assert pasta_processes_left(fresh_server) == []

    # A restart keeps environments that functions use.
    fresh_server.restart()
    assert env_dirs(fresh_server) == {built}
    assert json.loads(run_stratus("invoke", "withdeps", env=fresh_server.cli_env()).stdout)["value"] == 42


def test_failed_install_changes_nothing(server, tmp_path, wheel_index):
    env = server.cli_env()
    before = env_dirs(server)
    requirements = "--no-index\nno-such-package-xyz==9.9\n"
    failed = run_stratus("deploy", str(make_function(tmp_path, "brokendeps", requirements)), env=env,
                         check=False, timeout=300)
    assert failed.returncode != 0
    assert "No matching distribution found for no-such-package-xyz==9.9" in failed.stderr, failed.stderr
    assert "installing requirements.txt failed" in failed.stderr
    listed = json.loads(run_stratus("functions", "ls", "--json", env=env).stdout)
    assert all(f["name"] != "brokendeps" for f in listed)
    assert env_dirs(server) == before, "no environment and no build leftovers"


def test_a_requirements_file_cannot_reach_other_host_services(server, tmp_path, tmp_path_factory):
    """A tenant's requirements naming a service on the host's loopback: the build's namespace has
    no way there (only the operator's mirror port is forwarded), so pip never reaches it."""
    root = tmp_path_factory.mktemp("private-wheels")
    build_wheel(root, "secretdep")
    httpd, asked = serve_directory(root)
    try:
        requirements = f"--no-index\n--find-links http://127.0.0.1:{httpd.server_address[1]}/\nsecretdep==1.0\n"
        failed = run_stratus("deploy", str(make_function(tmp_path, "snoopdeps", requirements)),
                             env=server.cli_env(), check=False, timeout=300)
    finally:
        httpd.shutdown()
    assert failed.returncode != 0
    assert "Connection refused" in failed.stderr, failed.stderr
    assert "No matching distribution found for secretdep==1.0" in failed.stderr, failed.stderr
    assert asked == [], "the host service was reached from the build"


def test_environment_api_checks_its_input(server):
    endpoint, headers = server.endpoint, auth(server)
    tag = http_request(f"{endpoint}/v1/environments", headers=headers).json()["python"]
    assert tag.startswith("python3.")
    missing = "0" * 64
    assert http_request(f"{endpoint}/v1/environments/{missing}", headers=headers).status == 404
    assert http_request(f"{endpoint}/v1/environments/{missing}").status == 401

    mismatch = http_request(f"{endpoint}/v1/environments/{missing}", method="PUT", data=b"tinydep==1.0\n",
                            headers=headers)
    assert mismatch.status == 400 and mismatch.headers["content-type"] == "application/problem+json"
    assert "is not the hash" in mismatch.json()["detail"]

    # Deploying with an environment the server does not have is refused, and creates nothing.
    zipped = base64.b64encode(_zip({"app.py": "def handler(e, c):\n    return 1\n"})).decode()
    deploy = {"config": {"runtime": "python3.11", "handler": "app.handler", "memory_mb": 128,
                         "timeout_s": 3, "dependencies": missing}, "zip": zipped}
    refused = http_request(f"{endpoint}/v1/functions/ghostdeps", method="PUT",
                           data=json.dumps(deploy).encode(), headers=headers)
    assert refused.status == 400 and "does not exist" in refused.json()["detail"], refused.body
    assert http_request(f"{endpoint}/v1/functions/ghostdeps", headers=headers).status == 404


def test_concurrent_builds_of_one_environment_build_once(server, wheel_index):
    endpoint, headers = server.endpoint, auth(server)
    tag = http_request(f"{endpoint}/v1/environments", headers=headers).json()["python"]
    # `--only-binary` makes these requirements (and their hash) differ from the other tests'.
    requirements = "--no-index\n--only-binary :all:\ntinydep==1.0\n"
    digest = _environment_hash(requirements, tag)
    results = [None, None]

    def build(slot: int) -> None:
        results[slot] = http_request(f"{endpoint}/v1/environments/{digest}", method="PUT",
                                     data=requirements.encode(), headers=headers, timeout=300)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finals = []
    for result in results:
        assert result.status == 200 and result.headers["content-type"] == "application/x-ndjson"
        events = [json.loads(line) for line in result.body.decode().splitlines()]
        finals.append(events[-1])
    assert sorted(f["status"] for f in finals) == ["built", "cached"], finals
    assert all(f["environment"]["hash"] == digest for f in finals)


def _environment_hash(requirements: str, tag: str) -> str:
    """The server's normalisation for simple files (no comments or continuations)."""
    lines = [" ".join(line.split()) for line in requirements.splitlines() if line.strip()]
    text = "".join(line + "\n" for line in lines)
    return hashlib.sha256(f"stratus-environment-v1\n{tag}\n{text}".encode()).hexdigest()


def _zip(files: dict[str, str]) -> bytes:
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()
