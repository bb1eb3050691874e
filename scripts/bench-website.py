#!/usr/bin/env python3
"""What serving a public website costs against signed S3 reads of the same object.

    .venv/bin/python scripts/bench-website.py [--stratus target/debug/stratus] [--ops 3000]
        [--threads 8] [--size 4096]

Starts the server binary in a temporary directory, publishes a `--size` index.html in a
public-read website bucket, then, in the same run and with the same client (a `requests` session
per thread, keep-alive), times `--ops` GETs of each, in rounds that alternate so that drift on a
noisy machine hits all three alike:
  website    anonymous GET /website/BUCKET/ (index document resolution, public-access decision)
  anonymous  anonymous S3 GET /BUCKET/index.html (public object, no website logic)
  signed     presigned (SigV4 query) S3 GET of the same object: the baseline
and prints req/s of each and the ratios to the signed baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import stratus_testlib  # noqa: E402
from stratus_testlib import StratusServer  # noqa: E402

ROUNDS = 3


def rate(pool: ThreadPoolExecutor, url: str, ops: int, size: int) -> float:
    local = threading.local()

    def one(_: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        answer = session.get(url, timeout=30)
        if answer.status_code != 200 or len(answer.content) != size:
            raise SystemExit(f"{url}: HTTP {answer.status_code}, {len(answer.content)} bytes")

    began = time.perf_counter()
    list(pool.map(one, range(ops)))
    return ops / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stratus", type=Path, default=REPO / "target" / "debug" / "stratus")
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    stratus_testlib.STRATUS_BIN = args.stratus.resolve()
    with tempfile.TemporaryDirectory() as root:
        server = StratusServer(Path(root) / "data", Path(root) / "server.log").start()
        try:
            s3 = server.client()
            s3.create_bucket(Bucket="site", ACL="public-read")
            s3.put_object(Bucket="site", Key="index.html", Body=b"w" * args.size, ContentType="text/html",
                          ACL="public-read")
            s3.put_bucket_website(Bucket="site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
            urls = {
                "website": f"{server.endpoint}/website/site/",
                "anonymous": f"{server.endpoint}/site/index.html",
                "signed": s3.generate_presigned_url("get_object", Params={"Bucket": "site", "Key": "index.html"},
                                                    ExpiresIn=3600),
            }
            rates: dict[str, list[float]] = {name: [] for name in urls}
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                for url in urls.values():
                    rate(pool, url, 200, args.size)  # warm-up
                for _ in range(ROUNDS):
                    for name, url in urls.items():
                        rates[name].append(rate(pool, url, args.ops // ROUNDS, args.size))
        finally:
            server.stop()
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{args.size}-byte GETs, {args.threads} threads, {args.ops} per kind in {ROUNDS} alternating rounds")
    for name, value in median.items():
        print(f"  {name:9} {value:8.0f} req/s (median of rounds)  {value / median['signed']:.2f}x signed")


if __name__ == "__main__":
    main()
