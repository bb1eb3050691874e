#!/usr/bin/env python3
"""How long `GET /metrics` takes to render with 100 functions (issue 7's bound: < 10 ms).

    .venv/bin/python scripts/bench-metrics.py [--stratus target/release/stratus] [--functions 100]
        [--scrapes 200] [--json FILE]

Starts the given server binary in a temporary directory, deploys N tiny Python functions,
invokes each once (so every function has invocation, cold-start and duration series), creates
a queue with a message, then times `--scrapes` sequential scrapes over one keep-alive
connection with the operator token, after a few untimed ones. Prints the median, p99 and max
in milliseconds and the exposition's size, and the same for `GET /v1/health` on the same server
as the baseline (their ratio is what rendering adds); `--json FILE` also writes them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from lambda_helpers import create_python_function, lambda_client  # noqa: E402
from stratus_testlib import StratusServer, aws_client  # noqa: E402

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def deploy_and_invoke(server, count: int) -> None:
    client = lambda_client(server)

    def one(i: int) -> None:
        name = create_python_function(client, HANDLER, name=f"bench-fn-{i:03d}")
        response = client.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in response, response

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(count)))
    sqs = aws_client(server, "sqs")
    url = sqs.create_queue(QueueName="bench-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")


def time_scrapes(server, scrapes: int, path: str = "/metrics") -> tuple[list[float], int]:
    address = urlparse(server.endpoint)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": f"Bearer {server.admin.token}"}
    timings, size = [], 0
    for i in range(scrapes + 5):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        assert response.status == 200, body[:200]
        if i >= 5:  # the first few warm the connection and the statement cache
            timings.append(elapsed * 1000)
        size = len(body)
    connection.close()
    return timings, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        root = Path(tmp)
        server = StratusServer(root / "data", root / "server.log").start()
        try:
            started = time.monotonic()
            deploy_and_invoke(server, args.functions)
            setup_s = time.monotonic() - started
            timings, size = time_scrapes(server, args.scrapes)
            # The baseline, same server and connection handling: the cheapest authenticated
            # request there is, so the ratio is what rendering the metrics adds.
            baseline, _ = time_scrapes(server, args.scrapes, "/v1/health")
        finally:
            server.stop()
    timings.sort()
    baseline.sort()
    result = {
        "binary": str(args.stratus),
        "functions": args.functions,
        "scrapes": args.scrapes,
        "exposition_bytes": size,
        "median_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        "max_ms": round(timings[-1], 3),
        "setup_s": round(setup_s, 1),
        "baseline_health_median_ms": round(statistics.median(baseline), 3),
        "ratio_to_baseline": round(statistics.median(timings) / statistics.median(baseline), 1),
    }
    print(f"/metrics with {args.functions} functions ({size} bytes): median {result['median_ms']} ms, "
          f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms over {args.scrapes} scrapes; "
          f"GET /v1/health median {result['baseline_health_median_ms']} ms "
          f"({result['ratio_to_baseline']}x)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
