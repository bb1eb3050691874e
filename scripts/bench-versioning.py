#!/usr/bin/env python3
"""What versioning costs small writes and reads, and how long ListObjectVersions takes.

    .venv/bin/python scripts/bench-versioning.py [--stratus target/debug/stratus] [--ops 2000]
        [--threads 8] [--versions 100000]

Starts the server binary in a temporary directory, then, in the same run, on an unversioned and
a versioned bucket: `--ops` 4 KiB PUTs over 50 keys (so the versioned bucket keeps every
overwrite) and `--ops` GETs of those keys, from `--threads` boto3 threads; prints req/s of each
and the versioned/unversioned ratio. Then writes `--versions` versions of 100 keys into another
versioned bucket and times listing them all with ListObjectVersions (1000 per page).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from stratus_testlib import StratusServer  # noqa: E402

BODY = b"v" * 4096
KEYS = 50


def rate(pool: ThreadPoolExecutor, work, ops: int) -> float:
    began = time.perf_counter()
    list(pool.map(work, range(ops)))
    return ops / (time.perf_counter() - began)


def measure(s3, pool, bucket: str, ops: int) -> tuple[float, float]:
    puts = rate(pool, lambda i: s3.put_object(Bucket=bucket, Key=f"k{i % KEYS}", Body=BODY), ops)
    gets = rate(pool, lambda i: s3.get_object(Bucket=bucket, Key=f"k{i % KEYS}")["Body"].read(), ops)
    return puts, gets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--versions", type=int, default=100_000)
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory() as root:
        server = StratusServer(Path(root) / "data", Path(root) / "server.log").start()
        try:
            s3 = server.client(max_pool_connections=args.threads * 2)
            s3.create_bucket(Bucket="plain")
            s3.create_bucket(Bucket="versioned")
            s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                measure(s3, pool, "plain", 200)  # warm-up
                plain = measure(s3, pool, "plain", args.ops)
                versioned = measure(s3, pool, "versioned", args.ops)
                print(f"4 KiB PUT req/s: unversioned {plain[0]:.0f}, versioned {versioned[0]:.0f}, "
                      f"ratio {versioned[0] / plain[0]:.2f}")
                print(f"4 KiB GET req/s: unversioned {plain[1]:.0f}, versioned {versioned[1]:.0f}, "
                      f"ratio {versioned[1] / plain[1]:.2f}")
                s3.create_bucket(Bucket="many")
                s3.put_bucket_versioning(Bucket="many", VersioningConfiguration={"Status": "Enabled"})
                began = time.perf_counter()
                list(pool.map(lambda i: s3.put_object(Bucket="many", Key=f"k{i % 100:03d}", Body=b"x"),
                              range(args.versions)))
                print(f"wrote {args.versions} versions in {time.perf_counter() - began:.1f} s")
            began, listed = time.perf_counter(), 0
            for page in s3.get_paginator("list_object_versions").paginate(Bucket="many"):
                listed += len(page.get("Versions", []))
            print(f"ListObjectVersions of {listed} versions: {time.perf_counter() - began:.2f} s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
