#!/usr/bin/env python3
"""Function benchmarks: cold start (with its breakdown) and warm invocations of a no-op handler,
against the same handler behind a minimal always-on Python HTTP server (the "VM" baseline),
measured in the same run with the same client.

    .venv/bin/python scripts/bench-functions.py [--bin target/release/stratus] [--json]

Starts its own server in a temporary directory. Loads are bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from lambda_helpers import lambda_client, zip_code  # noqa: E402
from stratus_testlib import StratusServer  # noqa: E402

NOOP = "def handler(event, context):\n    return event\n"
BASELINE = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
def handler(event, context):
    return event
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without these the status line, headers and body go out as separate small writes and
    # Nagle's algorithm meets the client's delayed ACK: 40 ms per request instead of 0.1 ms.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        out = json.dumps(handler(json.loads(body or b"{}"), None)).encode()
        self.send_response(200); self.send_header("content-length", str(len(out))); self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a): pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_posts(port, path, headers, count, deadline):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    latencies = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        conn.request("POST", path, body=b'{"x": 1}', headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    return latencies


def load(port, path, headers, concurrency, seconds):
    """Closed-loop load: `concurrency` clients for `seconds`; returns requests per second."""
    counts = [0] * concurrency
    stop = time.monotonic() + seconds

    def client(i):
        counts[i] = len(timed_posts(port, path, headers, 10**9, stop))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def command_ms(argv, repeat=20):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "stratus"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["STRATUS_BIN"] = args.bin
    import stratus_testlib
    stratus_testlib.STRATUS_BIN = Path(args.bin)

    root = Path(tempfile.mkdtemp(prefix="stratus-bench-fn-"))
    server = StratusServer(root / "data", root / "server.log").start()
    results = {}
    try:
        client = lambda_client(server)
        client.create_function(FunctionName="noop", Runtime="python3.11", Role="r", Handler="app.handler",
                               Code={"ZipFile": zip_code({"app.py": NOOP})}, MemorySize=256)
        port = int(server.endpoint.rsplit(":", 1)[1])
        headers = {"Authorization": f"Bearer {server.admin.token}", "Content-Type": "application/json"}
        path = "/v1/functions/noop/invoke"

        # Cold starts: each configuration change retires the warm pool, so the next call starts
        # a new sandboxed worker.
        cold_total, cold_init = [], []
        for i in range(20):
            client.update_function_configuration(FunctionName="noop", Description=f"cold {i}")
            conn = http.client.HTTPConnection("127.0.0.1", port)
            started = time.perf_counter()
            conn.request("POST", path, body=b"{}", headers=headers)
            response = conn.getresponse()
            response.read()
            cold_total.append((time.perf_counter() - started) * 1000)
            cold_init.append(float(response.getheader("x-stratus-init-ms")))
            conn.close()
        python = sys.executable
        bwrap = shutil.which("bwrap")
        results["cold_start_ms"] = {
            "request_p50": statistics.median(cold_total),
            "init_p50": statistics.median(cold_init),
            "breakdown_p50": {
                "sandbox_bwrap_true": command_ms([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-ipc",
                                                  "--unshare-uts", "--", "/bin/true"]) if bwrap else None,
                "interpreter_start": command_ms([python, "-c", "pass"]),
                # What the runtime client imports before it asks for its first event.
                "runtime_client_imports": command_ms([python, "-c", "import json, os, socket, sys, time"]),
            },
        }

        # Warm: the baseline server runs the same handler in an always-on process.
        baseline = subprocess.Popen([python, "-c", BASELINE], stdout=subprocess.PIPE, text=True)
        base_port = int(baseline.stdout.readline())
        try:
            deadline = time.monotonic() + 60
            timed_posts(port, path, headers, 200, deadline)  # warm up
            timed_posts(base_port, "/", {}, 200, deadline)
            stratus_lat = timed_posts(port, path, headers, 2000, time.monotonic() + 30)
            base_lat = timed_posts(base_port, "/", {}, 2000, time.monotonic() + 30)
            results["warm_c1_ms"] = {
                "stratus_p50": percentile(stratus_lat, 50), "stratus_p99": percentile(stratus_lat, 99),
                "baseline_p50": percentile(base_lat, 50), "baseline_p99": percentile(base_lat, 99),
                "overhead_p50": percentile(stratus_lat, 50) - percentile(base_lat, 50),
            }
            for concurrency in (2, 8):
                client.put_function_concurrency(FunctionName="noop", ReservedConcurrentExecutions=concurrency)
                load(port, path, headers, concurrency, 1.0)  # start the workers
                stratus_rps = load(port, path, headers, concurrency, args.seconds)
                base_rps = load(base_port, "/", {}, concurrency, args.seconds)
                results[f"throughput_c{concurrency}_rps"] = {
                    "stratus": stratus_rps, "baseline": base_rps, "ratio": stratus_rps / base_rps}
        finally:
            baseline.kill()
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    c = results["cold_start_ms"]
    print(f"cold start: request p50 {c['request_p50']:.1f} ms, init p50 {c['init_p50']:.1f} ms")
    print("  breakdown p50: " + ", ".join(f"{k} {v:.1f} ms" for k, v in c["breakdown_p50"].items() if v))
    w = results["warm_c1_ms"]
    print(f"warm c=1: stratus p50 {w['stratus_p50']:.3f} ms p99 {w['stratus_p99']:.3f} ms; baseline p50 "
          f"{w['baseline_p50']:.3f} ms p99 {w['baseline_p99']:.3f} ms; overhead p50 {w['overhead_p50']:.3f} ms")
    for concurrency in (2, 8):
        t = results[f"throughput_c{concurrency}_rps"]
        print(f"throughput c={concurrency}: stratus {t['stratus']:.0f}/s, baseline {t['baseline']:.0f}/s, "
              f"ratio {t['ratio']:.2f}")


if __name__ == "__main__":
    main()
