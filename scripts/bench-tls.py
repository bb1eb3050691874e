#!/usr/bin/env python3
"""What TLS costs on the edge: the same requests over HTTPS and over plain HTTP, in one run.

    .venv/bin/python scripts/bench-tls.py [--stratus target/release/stratus] [--requests 2000]

Starts the given server binary twice in temporary directories, once plain and once with
`--tls-self-signed`, and on each times, with the operator's bearer token on the native API
(the same `Store` calls as S3's PutObject/GetObject): `--requests` sequential keep-alive 4 KiB
PUTs (new keys) and GETs, five 64 MiB GETs of one object (median MB/s), and `--requests / 4`
`GET /v1/health` each on a new connection (TCP + TLS handshake) against the same on one
keep-alive connection. Prints each figure for HTTP and HTTPS and their ratio (HTTPS ÷ HTTP).
The client is Python's http.client and ssl (OpenSSL), one request at a time.
"""

from __future__ import annotations

import argparse
import http.client
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from stratus_testlib import StratusServer  # noqa: E402

MB = 1_000_000


class Target:
    def __init__(self, server: StratusServer):
        url = urlparse(server.endpoint)
        self.host, self.port, self.https = url.hostname, url.port, url.scheme == "https"
        self.context = ssl.create_default_context(cafile=str(server.trusted_ca)) if self.https else None
        self.headers = {"Authorization": f"Bearer {server.admin.token}"}

    def connect(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, conn, method: str, path: str, body: bytes | None = None) -> bytes:
        conn.request(method, path, body=body, headers=self.headers)
        response = conn.getresponse()
        data = response.read()
        assert response.status in (200, 201), (method, path, response.status, data[:200])
        return data


def measure(target: Target, requests: int) -> dict[str, float]:
    conn = target.connect()
    bucket = f"bench-tls-{os.getpid()}-{target.port}"
    target.call(conn, "PUT", f"/v1/buckets/{bucket}")
    small = os.urandom(4096)
    target.call(conn, "PUT", f"/v1/buckets/{bucket}/objects/warm", small)
    started = time.perf_counter()
    for i in range(requests):
        target.call(conn, "PUT", f"/v1/buckets/{bucket}/objects/k{i}", small)
    put = requests / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(requests):
        target.call(conn, "GET", f"/v1/buckets/{bucket}/objects/k{i}")
    get = requests / (time.perf_counter() - started)
    big = os.urandom(64 * 1024 * 1024)
    target.call(conn, "PUT", f"/v1/buckets/{bucket}/objects/big", big)
    rates = []
    for _ in range(5):
        started = time.perf_counter()
        assert len(target.call(conn, "GET", f"/v1/buckets/{bucket}/objects/big")) == len(big)
        rates.append(len(big) / MB / (time.perf_counter() - started))
    keep_alive = []
    for _ in range(max(requests // 4, 10)):
        started = time.perf_counter()
        target.call(conn, "GET", "/v1/health")
        keep_alive.append(time.perf_counter() - started)
    conn.close()
    fresh = []
    for _ in range(max(requests // 4, 10)):
        started = time.perf_counter()
        conn = target.connect()
        target.call(conn, "GET", "/v1/health")
        fresh.append(time.perf_counter() - started)
        conn.close()
    return {
        "4 KiB PUT, req/s": put,
        "4 KiB GET, req/s": get,
        "64 MiB GET, MB/s (median of 5)": statistics.median(rates),
        "GET /v1/health on a new connection, median ms": statistics.median(fresh) * 1e3,
        "GET /v1/health keep-alive, median ms": statistics.median(keep_alive) * 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        root = Path(tmp)
        plain = StratusServer(root / "plain", root / "plain.log").start()
        tls = StratusServer(root / "tls", root / "tls.log", ("--tls-self-signed",)).start()
        try:
            http_figures = measure(Target(plain), args.requests)
            https_figures = measure(Target(tls), args.requests)
        finally:
            plain.stop()
            tls.stop()
    print("| figure | HTTP | HTTPS | HTTPS ÷ HTTP |")
    print("|---|---:|---:|---:|")
    for name, value in http_figures.items():
        print(f"| {name} | {value:,.2f} | {https_figures[name]:,.2f} | {https_figures[name] / value:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
