#!/usr/bin/env python3
"""Benchmark `stratus profile --url`, the open-loop load generator, against a trivial endpoint.

The issue's bar: >= 5,000 requests/s open loop on 2 cores, so the generator is never the
bottleneck of a profile. The target is Stratus's own `GET /v1/health` on a server this script
starts (default), or any URL given with --url. For each rate it reports the requested rate, the
rate the generator actually offered (requests sent per second of the sending window), the
throughput answered, late (not sent: in-flight bound reached) and failed requests, latency
percentiles, and the CPU the generator process used (from wait4's rusage), so one can see how
much headroom it has.

    scripts/bench-loadgen.py                                  # target/debug/stratus, 5k,10k,20k
    scripts/bench-loadgen.py --bin target/release/stratus --rates 5000,10000,20000 --duration 10s
    scripts/bench-loadgen.py --url http://127.0.0.1:8080/ --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def start_server(binary: Path, data_dir: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
    env["STRATUS_LOG"] = "warn"
    proc = subprocess.Popen([str(binary), "server", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    info = data_dir / "server.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}")
        if info.exists():
            try:
                return proc, json.loads(info.read_text())["endpoint"]
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.05)
    proc.kill()
    sys.exit("the server did not start within 60 s")


def attack(binary: Path, url: str, rate: int, duration: str, max_in_flight: int) -> dict:
    """Runs one attack; returns its run figures plus the generator's CPU seconds."""
    cmd = [str(binary), "profile", "--url", url, "--rate", str(rate), "--duration", duration,
           "--max-in-flight", str(max_in_flight), "--json"]
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}")
    (run,) = json.loads(text)["runs"]
    run["generator_cpu_s"] = usage.ru_utime + usage.ru_stime
    run["generator_wall_s"] = wall
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--url", help="attack this URL instead of a Stratus server's /v1/health")
    parser.add_argument("--rates", default="5000,10000,20000")
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--max-in-flight", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if not args.bin.exists():
        sys.exit(f"{args.bin} not found: cargo build -p stratus-cli (or --release)")

    server, data_dir = None, None
    url = args.url
    if url is None:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-loadgen-"))
        server, endpoint = start_server(args.bin, data_dir)
        url = f"{endpoint}/v1/health"
    try:
        results = []
        print(f"target {url}  ({os.cpu_count()} cpus, generator {args.bin})")
        print(f"{'requested':>9} {'offered':>9} {'answered/s':>10} {'late':>6} {'errors':>6} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'gen cpu':>8}")
        for rate in (int(r) for r in args.rates.split(",")):
            run = attack(args.bin, url, rate, args.duration, args.max_in_flight)
            lat = run["latency_s"]
            cores = run["generator_cpu_s"] / run["generator_wall_s"]
            print(f"{rate:>9} {run['offered_rate']:>9.0f} {run['throughput']:>10.0f} {run['late']:>6} "
                  f"{run['errors']:>6} {lat['p50'] * 1e3:>7.2f} {lat['p99'] * 1e3:>7.2f} "
                  f"{lat['max'] * 1e3:>7.2f} {cores:>6.2f} c")
            results.append({"requested_rate": rate, **run})
        if args.json:
            args.json.write_text(json.dumps({"url": url, "bin": str(args.bin), "cpus": os.cpu_count(),
                                             "duration": args.duration, "runs": results}, indent=2) + "\n")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
