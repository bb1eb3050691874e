"""Helpers that run the real `stratus` binary for the end-to-end tests.

Every server listens on 127.0.0.1 port 0 inside a pytest tmp dir; its address is read back from
`DATA_DIR/server.json`. Nothing here mocks the server: tests talk HTTP to the real process.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import random
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
STRATUS_BIN = Path(os.environ.get("STRATUS_BIN", REPO_ROOT / "target" / "debug" / "stratus"))
REGION = "us-east-1"
MIB = 1024 * 1024
START_TIMEOUT_S = 30.0

# Nothing from the host's AWS setup or proxies may leak into the tests: scrub it once, here.
_LEAKY_PREFIXES = ("AWS_", "STRATUS_", "BOTO_")
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
for _name in list(os.environ):
    if _name.startswith(_LEAKY_PREFIXES) and _name != "STRATUS_BIN" or _name in _PROXY_VARS:
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# urllib without any proxy handler: requests go straight to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

ALL_SERVERS: list[StratusServer] = []


@dataclass(frozen=True)
class Creds:
    access_key_id: str
    secret_access_key: str
    project: str = ""
    role: str = ""
    token: str | None = None


@dataclass
class HttpResult:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def http_request(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None,
                 timeout: float = 30.0, ca_file: str | Path | None = None) -> HttpResult:
    """Plain urllib request that returns error responses instead of raising; an https URL is
    verified against `ca_file` (or the system's roots)."""
    assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")), f"tests only talk to 127.0.0.1, not {url}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = _OPENER
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return HttpResult(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return HttpResult(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def wait_until(predicate, timeout: float = 30.0, what: str = "condition", interval: float = 0.1):
    """Polls `predicate` until it returns something truthy (returned), failing after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def account_id(project: str) -> str:
    """The 12-digit account id that stands for `project` in ARNs (stratus_core::arn::account_id)."""
    value = 0xCBF29CE484222325
    for byte in project.encode():
        value = ((value ^ byte) * 0x100000001B3) % (1 << 64)
    return f"{value % 1_000_000_000_000:012d}"


def aws_client(server, service: str, creds: Creds | None = None):
    """A boto3 client of `service` (sqs, sns, ...) for this server."""
    creds = creds or server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client(service, endpoint_url=server.endpoint, verify=server.verify,
                          config=client_config(signature_version="v4", read_timeout=60))


def unique_bucket(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def client_config(**overrides) -> Config:
    settings = dict(
        region_name=REGION,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=32,
    )
    settings.update(overrides)
    return Config(**settings)


def parse_env_exports(text: str) -> dict[str, str]:
    """Parses `export NAME=VALUE` lines (values may be shell-quoted) into a dict."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        if words and words[0] == "export":
            words = words[1:]
        for word in words:
            name, sep, value = word.partition("=")
            assert sep, f"unexpected line in `stratus env` output: {line!r}"
            env[name] = value
    return env


def base_subprocess_env(**extra: str) -> dict[str, str]:
    """A minimal environment for child processes: no host AWS config, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES) and k not in _PROXY_VARS}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def run_stratus(*args: str, env: dict | None = None, check: bool = True, timeout: float = 60.0,
                ) -> subprocess.CompletedProcess:
    cmd = [str(STRATUS_BIN), *args]
    proc = subprocess.run(cmd, env=env if env is not None else base_subprocess_env(), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"{shlex.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                             f"stderr:\n{proc.stderr}")
    return proc


class StratusServer:
    """One `stratus server` process on a data dir; can be killed and restarted on the same dir."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: tuple[str, ...] = ()):
        self.data_dir = Path(data_dir)
        self.extra_args = tuple(extra_args)
        # Environment for the server process beyond the scrubbed base (e.g. STRATUS_* knobs).
        self.extra_env: dict[str, str] = {}
        self.log_path = Path(log_path)
        # The CA an https server's certificate is verified against when it is not the server's
        # own (`ca_file` in server.json, self-signed TLS): set by tests that bring certificates.
        self.ca_file: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self.starts = 0
        ALL_SERVERS.append(self)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> StratusServer:
        if not STRATUS_BIN.exists():
            pytest.fail(f"stratus binary not found at {STRATUS_BIN}: run `cargo build -p stratus-cli` "
                        "or set STRATUS_BIN")
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "server.json").unlink(missing_ok=True)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(STRATUS_BIN), "server", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1:0",
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Functions run on this interpreter (the test venv's, which has boto3, as Lambda's
            # base environment does).
            env=base_subprocess_env(RUST_BACKTRACE="1", STRATUS_PYTHON=sys.executable, **self.extra_env))
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        info_path = self.data_dir / "server.json"
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"stratus server exited with {self.proc.returncode} during startup\n"
                                     f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"stratus server not ready after {timeout}s\n{self.log_tail()}")
            if info_path.exists():
                try:
                    self.info = json.loads(info_path.read_text())
                except (json.JSONDecodeError, OSError):
                    self.info = {}  # being written; poll again
                if self.info.get("endpoint"):
                    try:
                        if http_request(self.endpoint + "/v1/health", timeout=2,
                                        ca_file=self.trusted_ca).status == 200:
                            return
                    except OSError:
                        pass
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Sends `sig` and waits; returns the exit code (None if it was not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"stratus server did not exit within {timeout}s of signal {sig}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> StratusServer:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, limit: int = 12000, since: int = 0) -> str:
        """The end of the server's output, from byte offset `since` on, at most `limit` bytes."""
        try:
            data = self.log_path.read_bytes()[since:]
        except OSError:
            data = b"<no log>"
        cut = " (cut)" if len(data) > limit else ""
        text = data[-limit:].decode("utf-8", "replace")
        return f"--- stratus server log ({self.log_path}){cut} ---\n{text}"

    # --- addresses and credentials ---------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return self.info["endpoint"]

    @property
    def trusted_ca(self) -> Path | None:
        """The CA file clients of this server trust: the test's, else the server's own."""
        own = self.info.get("ca_file")
        return self.ca_file or (Path(own) if own else None)

    @property
    def verify(self) -> str | None:
        """boto3's `verify` for this server: its CA file over https, the default otherwise."""
        ca = self.trusted_ca
        return str(ca) if ca and self.endpoint.startswith("https://") else None

    @property
    def admin(self) -> Creds:
        cfg = configparser.ConfigParser()
        cfg.read(self.data_dir / "credentials")
        sec = cfg["default"]
        return Creds(sec["aws_access_key_id"], sec["aws_secret_access_key"], sec.get("stratus_project", ""),
                     sec.get("stratus_role", ""), sec.get("stratus_token"))

    def client(self, creds: Creds | None = None, **config) -> boto3.client:
        """A boto3 S3 client for this server (admin credentials unless `creds` is given)."""
        return self.client_for(self.endpoint, creds or self.admin, verify=self.verify, **config)

    @staticmethod
    def client_for(endpoint: str, creds: Creds, verify: str | None = None, **config) -> boto3.client:
        session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                        aws_secret_access_key=creds.secret_access_key, region_name=REGION)
        return session.client("s3", endpoint_url=endpoint, verify=verify, config=client_config(**config))

    def cli_env(self, token: str | None = None, **extra: str) -> dict[str, str]:
        """Environment for `stratus keys ...` talking to this server with a bearer token."""
        return base_subprocess_env(STRATUS_ENDPOINT=self.endpoint, STRATUS_TOKEN=token or self.admin.token,
                                   **extra)

    def env_exports(self) -> dict[str, str]:
        return parse_env_exports(run_stratus("env", "--data-dir", str(self.data_dir)).stdout)

    def create_key(self, project: str, role: str = "member") -> Creds:
        out = run_stratus("keys", "create", "--project", project, "--role", role, "--json",
                          env=self.cli_env()).stdout
        data = json.loads(out)
        assert data["project"] == project and data["role"] == role, data
        return Creds(data["access_key_id"], data["secret_access_key"], data["project"], data["role"],
                     data.get("token") or data.get("stratus_token"))

    def events(self, token: str | None = None) -> list[dict]:
        res = http_request(self.endpoint + "/v1/events",
                           headers={"Authorization": f"Bearer {token or self.admin.token}"})
        assert res.status == 200, (res.status, res.body[:500])
        return res.json()["events"]


def python_executable() -> str:
    return sys.executable


@contextmanager
def raises_s3(code: str, status: int):
    """Expects a botocore ClientError with the given S3 error code and HTTP status."""
    with pytest.raises(ClientError) as info:
        yield info
    response = info.value.response
    actual = (response.get("Error", {}).get("Code"), response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert actual == (code, status), f"expected {code}/{status}, got {actual}: {response.get('Error')}"


def error_code_of_xml(body: bytes) -> str | None:
    """The <Code> of an S3 XML error body, or None."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "Code":
            return el.text
    return None


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def quoted_md5(data: bytes) -> str:
    return f'"{md5_hex(data)}"'


def multipart_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def pseudo_random_bytes(seed: int | str, size: int) -> bytes:
    """Deterministic content, so a writer only needs to remember (seed, size)."""
    return random.Random(seed).randbytes(size)


def pasta_processes_left(server: StratusServer, wait: float = 5.0) -> list[str]:
    """Command lines of pasta processes (Debian's runs as `passt.avx2`) whose pid file lies in
    this server's data directory, once those being stopped had `wait` seconds to exit."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pasta" in args[0] and any(str(server.data_dir).encode() in a for a in args):
                found.append(b" ".join(args).decode(errors="replace"))
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)
