"""The `stratus` command line: data-dir files, `stratus env`, keys via --data-dir, signals, restarts."""

from __future__ import annotations

import configparser
import http.client
import json
import signal
import stat
import subprocess
import textwrap
import threading
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stratus_testlib import (
    REGION,
    STRATUS_BIN,
    Creds,
    base_subprocess_env,
    http_request,
    pseudo_random_bytes,
    python_executable,
    run_stratus,
    unique_bucket,
)

EVAL_SCRIPT = textwrap.dedent("""
    import json, os, sys, urllib.request
    import boto3
    s3 = boto3.client("s3")  # everything comes from the environment
    bucket = sys.argv[1]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="from-env", Body=b"env works")
    assert s3.get_object(Bucket=bucket, Key="from-env")["Body"].read() == b"env works"
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    req = urllib.request.Request(os.environ["STRATUS_ENDPOINT"] + "/v1/events",
                                 headers={"Authorization": "Bearer " + os.environ["STRATUS_TOKEN"]})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as resp:
        assert resp.status == 200 and "events" in json.load(resp)
    print("EVAL-OK")
""")


def test_data_dir_files(fresh_server):
    info = json.loads((fresh_server.data_dir / "server.json").read_text())
    port = int(info["address"].rsplit(":", 1)[1])
    assert info["address"] == f"127.0.0.1:{port}" and port > 0
    assert info["endpoint"] == f"http://127.0.0.1:{port}"
    assert info["pid"] == fresh_server.proc.pid
    cred_path = fresh_server.data_dir / "credentials"
    assert stat.S_IMODE(cred_path.stat().st_mode) == 0o600
    cfg = configparser.ConfigParser()
    cfg.read(cred_path)
    section = cfg["default"]
    for name in ("aws_access_key_id", "aws_secret_access_key", "stratus_project", "stratus_role", "stratus_token"):
        assert section.get(name), name
    assert section["stratus_project"] == "admin" and section["stratus_role"] == "admin"
    # The first start prints the admin credentials.
    assert section["aws_access_key_id"] in fresh_server.log_path.read_text(errors="replace")
    health = http_request(fresh_server.endpoint + "/v1/health")
    assert health.status == 200 and health.json()["status"] == "ok"


def test_env_output(fresh_server):
    env = fresh_server.env_exports()
    admin = fresh_server.admin
    assert env["AWS_ACCESS_KEY_ID"] == admin.access_key_id
    assert env["AWS_SECRET_ACCESS_KEY"] == admin.secret_access_key
    assert env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_ENDPOINT_URL"] == fresh_server.endpoint
    assert env["STRATUS_ENDPOINT"] == fresh_server.endpoint
    assert env["STRATUS_TOKEN"] == admin.token


def test_eval_env_makes_boto3_work(fresh_server, tmp_path):
    script = tmp_path / "use_env.py"
    script.write_text(EVAL_SCRIPT)
    bucket = unique_bucket("evalenv")
    shell = (f'eval "$({STRATUS_BIN} env --data-dir {fresh_server.data_dir})" && '
             f'exec {python_executable()} {script} {bucket}')
    proc = subprocess.run(["bash", "-c", shell], env=base_subprocess_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "EVAL-OK" in proc.stdout, proc.stdout + proc.stderr
    s3 = fresh_server.client()
    assert s3.get_object(Bucket=bucket, Key="from-env")["Body"].read() == b"env works"


def test_keys_create_with_data_dir(fresh_server):
    out = run_stratus("keys", "create", "--project", "via-data-dir", "--role", "member", "--json",
                      "--data-dir", str(fresh_server.data_dir)).stdout
    data = json.loads(out)
    assert data["project"] == "via-data-dir" and data["role"] == "member"
    s3 = fresh_server.client(Creds(data["access_key_id"], data["secret_access_key"]))
    bucket = unique_bucket("datadir")
    s3.create_bucket(Bucket=bucket)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [bucket]


def test_sigterm_exits_zero_promptly(fresh_server):
    started = time.monotonic()
    assert fresh_server.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - started < 10


def test_sigint_exits_zero(fresh_server):
    assert fresh_server.stop(signal.SIGINT, timeout=10) == 0


def test_restart_keeps_credentials_and_data(fresh_server):
    admin = fresh_server.admin
    s3 = fresh_server.client()
    bucket = unique_bucket("restart")
    s3.create_bucket(Bucket=bucket)
    data = pseudo_random_bytes("restart", 200_000)
    s3.put_object(Bucket=bucket, Key="kept", Body=data, Metadata={"m": "v"})
    old_pid = fresh_server.proc.pid
    assert fresh_server.stop(signal.SIGTERM, timeout=10) == 0
    fresh_server.start()
    assert fresh_server.admin == admin
    assert json.loads((fresh_server.data_dir / "server.json").read_text())["pid"] != old_pid
    s3 = fresh_server.client()
    got = s3.get_object(Bucket=bucket, Key="kept")
    assert got["Body"].read() == data and got["Metadata"] == {"m": "v"}
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def signed_put(endpoint: str, creds, bucket: str, key: str, body: bytes) -> AWSRequest:
    req = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/{key}", data=body)
    S3SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key), "s3", REGION).add_auth(req)
    return req.prepare()


def test_sigterm_drains_in_flight_request(fresh_server):
    """A PUT whose body is still arriving when SIGTERM lands completes; then the server exits 0."""
    s3 = fresh_server.client()
    bucket = unique_bucket("drain")
    s3.create_bucket(Bucket=bucket)
    body = pseudo_random_bytes("drain", 2_000_000)
    prepared = signed_put(fresh_server.endpoint, fresh_server.admin, bucket, "in-flight", body)
    host, port = fresh_server.info["address"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("PUT", f"/{bucket}/in-flight", skip_host=True, skip_accept_encoding=True)
    for name, value in prepared.headers.items():
        conn.putheader(name, value)
    if "Host" not in prepared.headers:
        conn.putheader("Host", fresh_server.info["address"])
    conn.endheaders()
    conn.send(body[:1_000_000])
    time.sleep(0.5)
    fresh_server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    conn.send(body[1_000_000:])
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    resp.read()
    conn.close()
    assert fresh_server.proc.wait(timeout=15) == 0
    fresh_server.start()
    assert fresh_server.client().get_object(Bucket=bucket, Key="in-flight")["Body"].read() == body


def test_sigterm_with_idle_keepalive_connection(fresh_server):
    """An idle keep-alive connection must not hold the shutdown up."""
    s3 = fresh_server.client()
    s3.list_buckets()  # leaves a pooled keep-alive connection open
    done = threading.Event()
    code = []

    def stop():
        code.append(fresh_server.stop(signal.SIGTERM, timeout=10))
        done.set()

    started = time.monotonic()
    threading.Thread(target=stop, daemon=True).start()
    assert done.wait(15)
    assert code == [0] and time.monotonic() - started < 10


def test_second_server_on_same_data_dir_is_refused(fresh_server):
    """Two servers on one data dir would race on its files; the second must refuse to start (non-zero
    exit) and leave the first one's server.json and data alone."""
    s3 = fresh_server.client()
    bucket = unique_bucket("twice")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    info_before = (fresh_server.data_dir / "server.json").read_text()
    proc = subprocess.Popen([str(STRATUS_BIN), "server", "--data-dir", str(fresh_server.data_dir),
                             "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=base_subprocess_env(), stdin=subprocess.DEVNULL)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0].decode(errors="replace")
    assert code not in (None, 0), f"second server on the same data dir kept running/exited 0:\n{output}"
    assert (fresh_server.data_dir / "server.json").read_text() == info_before
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert run_stratus("env", "--data-dir", str(fresh_server.data_dir)).stdout
