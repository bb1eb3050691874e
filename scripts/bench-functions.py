#!/usr/bin/env python3
"""Function benchmarks: cold start (with its breakdown) and warm invocations of a no-op handler,
against the same handler behind a minimal always-on Python HTTP server (the "VM" baseline),
measured in the same run with the same client.

    .venv/bin/python scripts/bench-functions.py [--bin target/release/stratus] [--seconds 5] [--json]
        [--rust-bootstrap target/release/bootstrap]

With the Rust `provided` bootstrap (cargo build --release -p stratus-rust-bootstrap) it measures
the same no-op handler in Rust too: the platform's own overhead without Python's.

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


def timed_post(conn, path, headers, body):
    """One request on `conn`; returns (milliseconds, response)."""
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000, response


def timed_posts(port, path, headers, count, deadline):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    latencies = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        latencies.append(timed_post(conn, path, headers, b'{"x": 1}')[0])
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


# What a pre-initialised zygote would cost per worker: fork a process that has already started
# the interpreter and imported the runtime client, and let the child exit.
ZYGOTE = """
import json, os, socket, sys, time, statistics
samples = []
for _ in range(50):
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    samples.append((time.perf_counter() - started) * 1000)
print(statistics.median(samples))
"""


def zygote_fork_ms(python):
    out = subprocess.run([python, "-c", ZYGOTE], check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def command_ms(argv, repeat=20):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cold_starts(client, port, path, headers, name, count=20):
    """Each configuration change retires the warm pool, so the next call starts a new sandboxed
    worker; the server reports the worker's init time in a header."""
    total, init = [], []
    for i in range(count):
        client.update_function_configuration(FunctionName=name, Description=f"cold {i}")
        conn = http.client.HTTPConnection("127.0.0.1", port)
        elapsed, response = timed_post(conn, path, headers, b"{}")
        total.append(elapsed)
        init.append(float(response.getheader("x-stratus-init-ms")))
        conn.close()
    return {"request_p50": statistics.median(total), "init_p50": statistics.median(init)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "stratus"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rust-bootstrap", default=str(REPO / "target" / "release" / "bootstrap"),
                        help="a `provided` bootstrap built on lambda_runtime (stratus-rust-bootstrap)")
    args = parser.parse_args()
    os.environ["STRATUS_BIN"] = args.bin
    import stratus_testlib
    stratus_testlib.STRATUS_BIN = Path(args.bin)

    root = Path(tempfile.mkdtemp(prefix="stratus-bench-fn-"))
    server = StratusServer(root / "data", root / "server.log").start()
    results = {}
    try:
        client = lambda_client(server)
        port = int(server.endpoint.rsplit(":", 1)[1])
        headers = {"Authorization": f"Bearer {server.admin.token}", "Content-Type": "application/json"}
        functions = {"python": ("noop", "python3.11", "app.handler", zip_code({"app.py": NOOP}))}
        rust = Path(args.rust_bootstrap)
        if rust.exists():
            functions["rust"] = ("rustnoop", "provided.al2023", "bootstrap",
                                 zip_code({"bootstrap": rust.read_bytes()}, modes={"bootstrap": 0o755}))
        else:
            print(f"(no Rust bootstrap at {rust}: build it with cargo build --release -p stratus-rust-bootstrap)",
                  file=sys.stderr)
        for name, runtime, handler, package in functions.values():
            client.create_function(FunctionName=name, Runtime=runtime, Role="r", Handler=handler,
                                   Code={"ZipFile": package}, MemorySize=256)

        python = sys.executable
        bwrap = shutil.which("bwrap")
        results["breakdown_p50_ms"] = {
            "sandbox_bwrap_true": command_ms([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-ipc",
                                              "--unshare-uts", "--", "/bin/true"]) if bwrap else None,
            "interpreter_start": command_ms([python, "-c", "pass"]),
            # What the runtime client imports before it asks for its first event.
            "runtime_client_imports": command_ms([python, "-c", "import json, os, socket, sys, time"]),
            "zygote_fork": zygote_fork_ms(python),
        }
        for label, (name, *_rest) in functions.items():
            path = f"/v1/functions/{name}/invoke"
            results[f"{label}_cold_start_ms"] = cold_starts(client, port, path, headers, name)

        # Warm: the baseline server runs the same handler in an always-on process.
        baseline = subprocess.Popen([python, "-c", BASELINE], stdout=subprocess.PIPE, text=True)
        base_port = int(baseline.stdout.readline())
        try:
            deadline = time.monotonic() + 60
            timed_posts(base_port, "/", {}, 200, deadline)  # warm up
            base_lat = timed_posts(base_port, "/", {}, 2000, time.monotonic() + 30)
            results["baseline_c1_ms"] = {"p50": percentile(base_lat, 50), "p99": percentile(base_lat, 99)}
            for label, (name, *_rest) in functions.items():
                path = f"/v1/functions/{name}/invoke"
                timed_posts(port, path, headers, 200, deadline)  # warm up
                lat = timed_posts(port, path, headers, 2000, time.monotonic() + 30)
                results[f"{label}_warm_c1_ms"] = {
                    "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                    "overhead_p50": percentile(lat, 50) - percentile(base_lat, 50)}
            for concurrency in (2, 8):
                base_rps = load(base_port, "/", {}, concurrency, args.seconds)
                results[f"baseline_c{concurrency}_rps"] = base_rps
                for label, (name, *_rest) in functions.items():
                    path = f"/v1/functions/{name}/invoke"
                    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=concurrency)
                    load(port, path, headers, concurrency, 1.0)  # start the workers
                    rps = load(port, path, headers, concurrency, args.seconds)
                    results[f"{label}_c{concurrency}_rps"] = {"rps": rps, "ratio": rps / base_rps}
        finally:
            baseline.kill()
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    b = results["breakdown_p50_ms"]
    print("cold start breakdown p50: " + ", ".join(f"{k} {v:.2f} ms" for k, v in b.items() if v))
    base = results["baseline_c1_ms"]
    print(f"baseline (always-on Python HTTP server) c=1: p50 {base['p50']:.3f} ms p99 {base['p99']:.3f} ms; "
          + ", ".join(f"c={c} {results[f'baseline_c{c}_rps']:.0f}/s" for c in (2, 8)))
    for label in ("python", "rust"):
        if f"{label}_cold_start_ms" not in results:
            continue
        c, w = results[f"{label}_cold_start_ms"], results[f"{label}_warm_c1_ms"]
        print(f"{label}: cold request p50 {c['request_p50']:.1f} ms (init p50 {c['init_p50']:.1f} ms); "
              f"warm c=1 p50 {w['p50']:.3f} ms p99 {w['p99']:.3f} ms, overhead p50 {w['overhead_p50']:.3f} ms; "
              + ", ".join(f"c={n} {results[f'{label}_c{n}_rps']['rps']:.0f}/s "
                          f"({results[f'{label}_c{n}_rps']['ratio']:.2f}x)" for n in (2, 8)))

if __name__ == "__main__":
    main()
