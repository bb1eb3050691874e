#!/usr/bin/env python3
"""Pipeline benchmarks: bucket-trigger event latency and no-op pipeline throughput, each beside a
baseline taken in the same run with the same client.

    .venv/bin/python scripts/bench-pipelines.py [--bin target/release/stratus] [--events 300]
        [--files 400] [--ocr-files 40] [--json]

- Event latency: PUT acknowledged (the client has the 200) -> the handler's first line runs, for
  a warm function; p50/p99 over sequential uploads spaced 20 ms apart. Baseline: the same
  handler started by Lambda's asynchronous Invoke (InvocationType=Event), acknowledged -> started.
  The handler stamps `time.time_ns()` into its log; client and sandbox share the host's clock.
  A negative figure means the handler started before the client had read the 200.
- Throughput: files/s through a no-op stage (upload -> trigger -> handler done), uploads from 8
  client threads; baseline: the same uploads into a bucket without a trigger. With
  `--ocr-files N` (needs PyPI: the server pip-installs examples/ocr), also files/s through the OCR
  stage: N copies of examples/samples/scan.png uploaded to s3://demo/scans/, timed until every
  text/ result exists.

Starts its own server in a temporary directory. Loads are bounded in count and time.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from lambda_helpers import lambda_client  # noqa: E402
from stratus_testlib import StratusServer, base_subprocess_env, http_request  # noqa: E402

STAMP = """
import time, urllib.parse
def handler(event, context):
    started = time.time_ns()
    if "Records" in event:
        key = urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    else:
        key = event["key"]
    print("STARTED", key, started)
"""
NOOP = "def handler(event, context):\n    return None\n"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def deploy(server, workdir: Path, name: str, source: str, spec: str) -> None:
    code = workdir / name
    code.mkdir()
    (code / "app.py").write_text(source)
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: app.handler\ntimeout: 30\n{spec}")
    subprocess.run([str(server_bin), "deploy", str(code)], env=base_subprocess_env(**server.cli_env()),
                   check=True, capture_output=True)


def log_messages(server, name: str) -> list[str]:
    res = http_request(f"{server.endpoint}/v1/functions/{name}/logs?limit=100000",
                       headers={"Authorization": f"Bearer {server.admin.token}"})
    return [e["message"] for e in res.json()["events"]]


def started_stamps(server, name: str) -> dict[str, int]:
    stamps = {}
    for message in log_messages(server, name):
        if message.startswith("STARTED "):
            _, key, ns = message.split()
            stamps[key] = int(ns)
    return stamps


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.05)


def event_latency(server, s3, events: int) -> dict:
    """ms from the acknowledgement to the handler's start: bucket trigger vs asynchronous Invoke."""
    lam = lambda_client(server)
    for key in [f"warm-{i}" for i in range(10)]:
        s3.put_object(Bucket="lat", Key=key, Body=b"x")
    wait_for(lambda: len(started_stamps(server, "stamp")) >= 10, 60)
    sent_put, acked_put, acked_invoke, put_ms = {}, {}, {}, []
    for i in range(events):
        key = f"put-{i}"
        sent = sent_put[key] = time.time_ns()
        s3.put_object(Bucket="lat", Key=key, Body=b"x")
        acked_put[key] = time.time_ns()
        put_ms.append((acked_put[key] - sent) / 1e6)
        time.sleep(0.02)
        key = f"invoke-{i}"
        lam.invoke(FunctionName="stamp", InvocationType="Event", Payload=json.dumps({"key": key}))
        acked_invoke[key] = time.time_ns()
        time.sleep(0.02)
    wait_for(lambda: len(started_stamps(server, "stamp")) >= 10 + 2 * events, 60)
    stamps = started_stamps(server, "stamp")
    trigger = [(stamps[k] - t) / 1e6 for k, t in acked_put.items()]
    from_send = [(stamps[k] - t) / 1e6 for k, t in sent_put.items()]
    invoke = [(stamps[k] - t) / 1e6 for k, t in acked_invoke.items()]
    summary = lambda xs: {"p50_ms": round(percentile(xs, 50), 3), "p99_ms": round(percentile(xs, 99), 3)}  # noqa: E731
    return {"events": events, "bucket_trigger": summary(trigger), "async_invoke_baseline": summary(invoke),
            "put_sent_to_handler": summary(from_send), "put_itself": summary(put_ms)}


def throughput(server, s3, files: int) -> dict:
    body = b"x" * 1024

    def upload_all(bucket: str) -> float:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"f{i:05d}", Body=body), range(files)))
        return started

    started = upload_all("plain")
    upload_only = files / (time.monotonic() - started)

    def reports() -> int:
        return sum(1 for m in log_messages(server, "noop") if m.startswith("REPORT "))

    before = reports()
    started = upload_all("noop-in")
    wait_for(lambda: reports() >= before + files, 300)
    pipeline = files / (time.monotonic() - started)
    return {"files": files, "noop_stage_files_per_s": round(pipeline, 1),
            "upload_only_files_per_s": round(upload_only, 1), "ratio": round(pipeline / upload_only, 3)}


def ocr_stage(server, s3, root: Path, files: int) -> dict:
    """files/s through examples/ocr, driven by uploads, after one untimed warm-up file."""
    s3.create_bucket(Bucket="demo")
    subprocess.run([str(server_bin), "deploy", str(REPO / "examples" / "ocr")],
                   env=base_subprocess_env(**server.cli_env()), check=True, capture_output=True)
    image = (REPO / "examples" / "samples" / "scan.png").read_bytes()

    def results() -> set[str]:
        page = s3.list_objects_v2(Bucket="demo", Prefix="text/")
        return {o["Key"] for o in page.get("Contents", [])}

    s3.put_object(Bucket="demo", Key="scans/warmup.png", Body=image)
    wait_for(lambda: "text/warmup.txt" in results(), 300)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="demo", Key=f"scans/s{i:04d}.png", Body=image),
                      range(files)))
    wait_for(lambda: len(results()) >= files + 1, 600)
    return {"files": files, "ocr_stage_files_per_s": round(files / (time.monotonic() - started), 2)}


def main() -> None:
    global server_bin
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "stratus"))
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--ocr-files", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server_bin = Path(args.bin).resolve()
    os.environ["STRATUS_BIN"] = str(server_bin)
    import stratus_testlib
    stratus_testlib.STRATUS_BIN = server_bin
    root = Path(tempfile.mkdtemp(prefix="bench-pipelines-"))
    server = StratusServer(root / "data", root / "server.log").start()
    try:
        s3 = server.client()
        for bucket in ("lat", "plain", "noop-in"):
            s3.create_bucket(Bucket=bucket)
        deploy(server, root, "stamp", STAMP, "min_instances: 1\ntriggers:\n  - bucket: lat\n")
        deploy(server, root, "noop", NOOP, "triggers:\n  - bucket: noop-in\n")
        report = {"latency": event_latency(server, s3, args.events),
                  "throughput": throughput(server, s3, args.files)}
        if args.ocr_files:
            report["ocr"] = ocr_stage(server, s3, root, args.ocr_files)
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    lat, tp = report["latency"], report["throughput"]
    print("| figure | p50 | p99 |\n|---|---|---|")
    for label, key in (("PUT acked -> handler started (bucket trigger)", "bucket_trigger"),
                       ("Invoke(Event) acked -> handler started (baseline)", "async_invoke_baseline"),
                       ("PUT sent -> handler started (includes the durable commit)", "put_sent_to_handler"),
                       ("PUT itself (send -> ack)", "put_itself")):
        print(f"| {label} | {lat[key]['p50_ms']} ms | {lat[key]['p99_ms']} ms |")
    print(f"\nno-op stage: {tp['noop_stage_files_per_s']} files/s; upload only: "
          f"{tp['upload_only_files_per_s']} files/s; ratio {tp['ratio']} ({tp['files']} files, 8 client threads)")
    if "ocr" in report:
        print(f"OCR stage: {report['ocr']['ocr_stage_files_per_s']} files/s ({report['ocr']['files']} scans)")


server_bin: Path

if __name__ == "__main__":
    main()
