#!/usr/bin/env python3
"""What a console session costs a native API request, against a bearer token in the same run.

    .venv/bin/python scripts/bench-console.py [--stratus target/release/stratus] [--requests 2000]

Starts the given server binary in a temporary directory, signs in through
`POST /console/api/session`, then times `--requests` sequential keep-alive `GET /v1/buckets`
with the operator's bearer token (the baseline) and with the session cookie, and as many
`GET /` of the console's page. Prints requests per second and microseconds per request, and the
ratio of the cookie path to the bearer path.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from stratus_testlib import StratusServer  # noqa: E402


def timed(connection: http.client.HTTPConnection, path: str, headers: dict, count: int) -> float:
    """Seconds per request over `count` sequential requests, after one untimed."""
    for i in range(count + 1):
        if i == 1:
            started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
    return (time.perf_counter() - started) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        root = Path(tmp)
        server = StratusServer(root / "data", root / "server.log").start()
        try:
            address = urlparse(server.endpoint)
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
            body = json.dumps({"access_key_id": server.admin.access_key_id,
                               "secret_access_key": server.admin.secret_access_key})
            connection.request("POST", "/console/api/session", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            cookie = response.getheader("set-cookie").split(";")[0]
            bearer = timed(connection, "/v1/buckets",
                           {"Authorization": f"Bearer {server.admin.token}"}, args.requests)
            session = timed(connection, "/v1/buckets", {"Cookie": cookie}, args.requests)
            page = timed(connection, "/", {"Accept": "text/html"}, args.requests)
        finally:
            server.stop()
    for name, seconds in [("GET /v1/buckets, bearer token (baseline)", bearer),
                          ("GET /v1/buckets, session cookie", session),
                          ("GET / (the console page)", page)]:
        print(f"{name}: {1 / seconds:,.0f} req/s, {seconds * 1e6:.0f} µs per request")
    print(f"session ÷ bearer: {session / bearer:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
