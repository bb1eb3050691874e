"""TLS on the edge against the real server: boto3, the aws CLI and the `stratus` CLI with exactly
what `stratus env` exports (self-signed CA), an operator's own certificate, refusals of bad files,
certificate reload on SIGHUP under keep-alive load, the console's Secure cookie and HSTS, a
function calling S3 back over TLS, and SNS delivering to an https subscriber."""

from __future__ import annotations

import hashlib
import http.client
import json
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from lambda_helpers import create_python_function, lambda_client
from sns_helpers import sns_client, unique_topic
from stratus_testlib import (
    REGION,
    STRATUS_BIN,
    base_subprocess_env,
    client_config,
    http_request,
    run_stratus,
    unique_bucket,
    wait_until,
)

AWS = Path(sys.executable).parent / "aws"


# --- certificates the tests make themselves (openssl CLI) -------------------------------------
def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(directory: Path, name: str = "ca") -> Path:
    """A CA certificate (`NAME.pem`, key `NAME-key.pem`) valid for a month."""
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN=Stratus test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert


def make_cert(directory: Path, stem: str, ca: Path) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and localhost signed by `ca`; returns (cert, key)."""
    cert, key, csr = directory / f"{stem}.pem", directory / f"{stem}-key.pem", directory / f"{stem}.csr"
    ext = directory / f"{stem}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", f"/CN=stratus {stem}")
    ca_key = ca.with_name(ca.stem + "-key.pem")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "30", "-extfile", str(ext))
    return cert, key


def leaf_fingerprint(pem: Path) -> str:
    """SHA-256 of the first certificate's DER in a PEM file."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.read_text())).hexdigest()


def served_fingerprint(port: int, ca: Path) -> str:
    """SHA-256 of the certificate a new TLS connection to 127.0.0.1:`port` is shown."""
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def port_of(srv) -> int:
    return int(srv.endpoint.rsplit(":", 1)[1])


@pytest.fixture
def tls_server(new_server):
    """A server with --tls-self-signed, started."""
    return new_server("tls", "--tls-self-signed").start()


# --- self-signed: the clients, configured by `stratus env` alone ------------------------------
def test_self_signed_serves_boto3_awscli_and_the_cli_with_the_env_exports(tls_server, tmp_path):
    srv = tls_server
    tls_dir = srv.data_dir / "tls"
    assert srv.endpoint.startswith("https://127.0.0.1:")
    for name, mode in [("ca.pem", 0o644), ("ca-key.pem", 0o600), ("server.pem", 0o644),
                       ("server-key.pem", 0o600)]:
        assert stat.S_IMODE((tls_dir / name).stat().st_mode) == mode, name
    exports = srv.env_exports()
    assert exports["AWS_ENDPOINT_URL"] == exports["STRATUS_ENDPOINT"] == srv.endpoint
    assert exports["AWS_CA_BUNDLE"] == str((tls_dir / "ca.pem").resolve())
    env = base_subprocess_env(**exports)
    bucket = unique_bucket("tls")

    # boto3 with nothing but the environment.
    script = (
        "import boto3, sys\n"
        "s3 = boto3.client('s3')\n"
        f"s3.create_bucket(Bucket='{bucket}')\n"
        f"s3.put_object(Bucket='{bucket}', Key='a.txt', Body=b'over tls')\n"
        f"assert s3.get_object(Bucket='{bucket}', Key='a.txt')['Body'].read() == b'over tls'\n"
        f"assert '{bucket}' in [b['Name'] for b in s3.list_buckets()['Buckets']]\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr

    # The aws CLI, with the same environment (no --endpoint-url, no --ca-bundle).
    body = tmp_path / "b.txt"
    body.write_text("from the aws cli")
    aws = lambda *args: subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True,  # noqa: E731
                                       timeout=120)
    proc = aws("s3", "cp", str(body), f"s3://{bucket}/b.txt")
    assert proc.returncode == 0, proc.stderr
    proc = aws("s3", "ls", f"s3://{bucket}/")
    assert proc.returncode == 0 and "b.txt" in proc.stdout and "a.txt" in proc.stdout, proc.stderr
    proc = aws("s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "json")
    assert proc.returncode == 0 and bucket in json.loads(proc.stdout), proc.stderr

    # The stratus CLI, same environment.
    listing = run_stratus("buckets", "ls", bucket, env=env).stdout
    assert "a.txt" in listing and "b.txt" in listing
    assert run_stratus("cp", f"{bucket}/b.txt", "-", env=env).stdout == "from the aws cli"

    # A restart reuses the CA and the certificate.
    before = {name: (tls_dir / name).read_bytes() for name in ("ca.pem", "server.pem", "server-key.pem")}
    srv.restart()
    assert {name: (tls_dir / name).read_bytes() for name in before} == before
    assert served_fingerprint(port_of(srv), tls_dir / "ca.pem") == leaf_fingerprint(tls_dir / "server.pem")


def test_clients_without_the_ca_get_a_verification_error_never_data(tls_server):
    srv = tls_server
    creds = srv.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    untrusting = session.client("s3", endpoint_url=srv.endpoint, config=client_config())
    with pytest.raises(botocore.exceptions.SSLError) as info:
        untrusting.list_buckets()
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    # The stratus CLI without AWS_CA_BUNDLE refuses the certificate too.
    exports = srv.env_exports()
    del exports["AWS_CA_BUNDLE"]
    proc = run_stratus("buckets", "ls", env=base_subprocess_env(**exports), check=False)
    assert proc.returncode != 0 and "certificate" in proc.stderr.lower(), proc.stderr
    # Plain HTTP to the TLS port gets no HTTP answer: there is no downgrade.
    with socket.create_connection(("127.0.0.1", port_of(srv)), timeout=5) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    assert not answer.startswith(b"HTTP/"), answer[:200]


# --- an operator's own certificate, and the refusals -----------------------------------------
def start_refused(tmp_path: Path, *args: str) -> str:
    """Runs `stratus server` expecting it to refuse to start; returns its stderr."""
    proc = subprocess.run([str(STRATUS_BIN), "server", "--data-dir", str(tmp_path / "refused"), "--listen",
                           "127.0.0.1:0", *args], env=base_subprocess_env(), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    return proc.stderr


def test_own_certificate_serves_and_bad_files_refuse_to_start(new_server, tmp_path):
    ca = make_ca(tmp_path)
    cert, key = make_cert(tmp_path, "server", ca)
    _, other_key = make_cert(tmp_path, "other", ca)
    srv = new_server("own", "--tls-cert", str(cert), "--tls-key", str(key))
    srv.ca_file = ca
    srv.start()
    assert srv.endpoint.startswith("https://") and "ca_file" not in srv.info
    assert "AWS_CA_BUNDLE" not in srv.env_exports(), "the CA is not ours to export"
    s3 = srv.client()
    bucket = unique_bucket("own")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert served_fingerprint(port_of(srv), ca) == leaf_fingerprint(cert)
    # An HTTP/2 client is offered h2 by ALPN.
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", port_of(srv)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "h2"

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
    missing = tmp_path / "missing.pem"
    cases = [
        (("--tls-cert", str(cert), "--tls-key", str(other_key)), other_key, "does not match"),
        (("--tls-cert", str(missing), "--tls-key", str(key)), missing, "cannot read"),
        (("--tls-cert", str(garbage), "--tls-key", str(key)), garbage, "invalid TLS certificate"),
        (("--tls-cert", str(cert), "--tls-key", str(garbage)), garbage, "invalid TLS key"),
        (("--tls-cert", str(cert)), cert, "no key"),
    ]
    for args, named, reason in cases:
        stderr = start_refused(tmp_path, *args)
        error_lines = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(error_lines) == 1, stderr
        assert str(named) in error_lines[0] and reason in error_lines[0], stderr


# --- reload on SIGHUP under load --------------------------------------------------------------
class KeepAliveLoad:
    """Threads that send GET /v1/health over their own keep-alive connection until stopped."""

    def __init__(self, port: int, ca: Path, connections: int = 4):
        self.port, self.ca = port, ca
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.count = 0
        self.lock = threading.Lock()
        self.peer_fingerprints: set[str] = set()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=10)
        deadline = time.monotonic() + 60  # bounded whatever happens
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                conn.request("GET", "/v1/health")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise AssertionError(f"status {response.status}")
                fingerprint = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
                with self.lock:
                    self.count += 1
                    self.peer_fingerprints.add(fingerprint)
            except Exception as error:  # noqa: BLE001 (every failure counts)
                with self.lock:
                    self.errors.append(repr(error))
                conn.close()
        conn.close()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


def test_sighup_reloads_the_certificate_without_dropping_connections(new_server, tmp_path):
    ca = make_ca(tmp_path)
    first_cert, first_key = make_cert(tmp_path, "first", ca)
    second_cert, second_key = make_cert(tmp_path, "second", ca)
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live-key.pem"
    live_cert.write_bytes(first_cert.read_bytes())
    live_key.write_bytes(first_key.read_bytes())
    srv = new_server("reload", "--tls-cert", str(live_cert), "--tls-key", str(live_key))
    srv.ca_file = ca
    srv.start()
    port = port_of(srv)
    assert served_fingerprint(port, ca) == leaf_fingerprint(first_cert)

    load = KeepAliveLoad(port, ca)
    try:
        wait_until(lambda: load.count >= 20, what="requests under way")
        live_key.write_bytes(second_key.read_bytes())
        live_cert.write_bytes(second_cert.read_bytes())
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: served_fingerprint(port, ca) == leaf_fingerprint(second_cert), timeout=10,
                   what="new connections to see the new certificate")
        counted = load.count
        wait_until(lambda: load.count >= counted + 20, what="old connections to keep working")
        # A bad replacement keeps the certificate in use.
        live_cert.write_text("garbage\n")
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeping the current TLS certificate" in srv.log_tail(), timeout=10,
                   what="the reload error in the log")
        assert served_fingerprint(port, ca) == leaf_fingerprint(second_cert)
        counted = load.count
        wait_until(lambda: load.count >= counted + 20, what="requests after the bad reload")
    finally:
        load.finish()
    assert load.errors == [], load.errors[:5]
    # The keep-alive connections opened before the reload kept their certificate all along.
    assert load.peer_fingerprints == {leaf_fingerprint(first_cert)}
    assert srv.running


# --- the console over HTTPS --------------------------------------------------------------------
def test_console_cookie_is_secure_and_every_response_carries_hsts(tls_server):
    srv = tls_server
    ca = srv.trusted_ca
    body = json.dumps({"access_key_id": srv.admin.access_key_id,
                       "secret_access_key": srv.admin.secret_access_key}).encode()
    signed_in = http_request(srv.endpoint + "/console/api/session", "POST", body,
                             {"Content-Type": "application/json"}, ca_file=ca)
    assert signed_in.status == 200, signed_in.body
    cookie = signed_in.headers["set-cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    hsts = "max-age=31536000"
    assert signed_in.headers["strict-transport-security"] == hsts
    page = http_request(srv.endpoint + "/", headers={"Accept": "text/html"}, ca_file=ca)
    assert page.status == 200 and page.headers["strict-transport-security"] == hsts
    # The session works over TLS, and the native and S3 APIs carry HSTS too.
    session = http_request(srv.endpoint + "/console/api/session",
                           headers={"Cookie": cookie.split(";", 1)[0]}, ca_file=ca)
    assert session.status == 200 and session.headers["strict-transport-security"] == hsts
    assert http_request(srv.endpoint + "/v1/health", ca_file=ca).headers["strict-transport-security"] == hsts
    response = srv.client().list_buckets()
    assert response["ResponseMetadata"]["HTTPHeaders"]["strict-transport-security"] == hsts


# --- a function calls back into the edge over TLS --------------------------------------------
FUNCTION = """
import os
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key="from-function", Body=b"written over tls")
    body = s3.get_object(Bucket=event["bucket"], Key="from-function")["Body"].read().decode()
    return {"endpoint": os.environ["AWS_ENDPOINT_URL"], "ca": os.environ.get("AWS_CA_BUNDLE"), "body": body}
"""


def test_a_function_calls_s3_over_tls_with_the_injected_ca(tls_server):
    srv = tls_server
    s3 = srv.client()
    bucket = unique_bucket("fn")
    s3.create_bucket(Bucket=bucket)
    lam = lambda_client(srv)
    name = create_python_function(lam, FUNCTION, Timeout=60)
    result = lam.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket}).encode())
    payload = json.loads(result["Payload"].read())
    assert "FunctionError" not in result, payload
    assert payload["endpoint"] == srv.endpoint and payload["endpoint"].startswith("https://")
    assert payload["ca"] == "/etc/stratus/ca.pem"
    assert payload["body"] == "written over tls"
    assert s3.get_object(Bucket=bucket, Key="from-function")["Body"].read() == b"written over tls"


# --- SNS to an https subscriber ----------------------------------------------------------------
class HttpsEndpoint:
    """An https server on 127.0.0.1 with a certificate from the test's CA, recording POSTs."""

    def __init__(self, cert: Path, key: Path):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.received.append({"type": self.headers.get("x-amz-sns-message-type"),
                                       "body": json.loads(body)})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def test_sns_delivers_to_an_https_subscriber_trusting_the_operator_ca(new_server, tmp_path):
    ca = make_ca(tmp_path, "operator-ca")
    cert, key = make_cert(tmp_path, "subscriber", ca)
    stranger_ca = make_ca(tmp_path, "stranger-ca")
    stranger_cert, stranger_key = make_cert(tmp_path, "stranger", stranger_ca)
    srv = new_server("sns", "--outbound-ca-file", str(ca), "--sns-retry-base", "100ms").start()
    trusted, untrusted = HttpsEndpoint(cert, key), HttpsEndpoint(stranger_cert, stranger_key)
    try:
        sns = sns_client(srv)
        topic = sns.create_topic(Name=unique_topic())["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=untrusted.url)
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=trusted.url)
        wait_until(lambda: trusted.received, timeout=20, what="the SubscriptionConfirmation")
        message = trusted.received[0]
        assert message["type"] == "SubscriptionConfirmation"
        assert message["body"]["TopicArn"] == topic and message["body"]["SubscribeURL"].startswith(srv.endpoint)
        time.sleep(1.0)  # retries at 100 ms, 200 ms, ... : none gets through an unverified certificate
        assert untrusted.received == []
    finally:
        trusted.close()
        untrusted.close()
