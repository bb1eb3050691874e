#!/usr/bin/env python3
"""What the per-project storage totals and the in-transaction quota check cost small PUTs.

    .venv/bin/python scripts/bench-quota-put.py [--stratus target/debug/stratus] [--puts 3000]
        [--threads 16] [--size 4096] [--quota]

Starts the given server binary in a temporary directory, creates a member key and a bucket in a
new project (with a storage quota far above what the run writes when `--quota` is given), then
sends `--puts` PUTs of `--size` bytes from `--threads` boto3 threads, after a few untimed ones.
Prints PUTs per second and the median and p99 latency in milliseconds. Run it against a binary
built before quotas and one built after to see what the totals row adds to each write.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from stratus_testlib import StratusServer, run_stratus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--puts", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--quota", action="store_true", help="set a (never reached) storage quota")
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory() as root:
        server = StratusServer(Path(root) / "data", Path(root) / "server.log").start()
        try:
            key = server.create_key("bench-quota", "member")
            if args.quota:
                run_stratus("quota", "set", "bench-quota", "--max-storage-bytes", "1TiB", env=server.cli_env())
            s3 = server.client(key, max_pool_connections=args.threads)
            s3.create_bucket(Bucket="bench-quota")
            body = b"x" * args.size
            for i in range(50):
                s3.put_object(Bucket="bench-quota", Key=f"warm/{i}", Body=body)

            def put(i: int) -> float:
                began = time.perf_counter()
                s3.put_object(Bucket="bench-quota", Key=f"k/{i}", Body=body)
                return time.perf_counter() - began

            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                latencies = sorted(pool.map(put, range(args.puts)))
            elapsed = time.perf_counter() - began
        finally:
            server.kill()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"binary={args.stratus} quota={args.quota} puts={args.puts} threads={args.threads} size={args.size}")
    print(f"puts/s={args.puts / elapsed:.0f} median_ms={statistics.median(latencies) * 1000:.2f} "
          f"p99_ms={p99 * 1000:.2f}")


if __name__ == "__main__":
    main()
