#!/usr/bin/env python3
"""OCR throughput, warm model vs a script per file, in one run on one server.

    .venv/bin/python scripts/bench-ocr.py [--bin target/release/stratus] [--files 24]
        [--concurrency 1 2] [--rounds 4] [--json]

- warm: examples/ocr as it is; RapidOCR is loaded once per worker, at import.
- per-file: the same code and environment, but the handler runs `python3 ocr.py IN OUT` in a
  subprocess for every file, loading onnxruntime and the models each time: the OSCAR way (a
  script per file in a fresh container), minus the container start, so the ratio is a lower
  bound on what a warm model saves against it.

Both are invoked synchronously with the S3 event an upload would send, from `concurrency`
client threads, on the same images (rendered here with Pillow, uploaded under bench/, which no
trigger watches), taking turns batch by batch; files/s is images / the wall time spent in that
model. Each function first serves `concurrency` calls untimed, so its workers exist. Both must
read the same text from every image.
Starts its own server in a temporary directory; the first run of a data directory pays pip.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote_plus

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "examples" / "samples"))
from lambda_helpers import lambda_client  # noqa: E402
from make_samples import render_text  # noqa: E402
from stratus_testlib import StratusServer, base_subprocess_env  # noqa: E402

BUCKET = "demo"  # examples/ocr's trigger names it, and a deploy checks the bucket exists
PER_FILE_HANDLER = '''
"""The per-file model: every event runs the OCR script in a new process."""
import os, subprocess, sys, tempfile, urllib.parse
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    record = event["Records"][0]["s3"]
    bucket, key = record["bucket"]["name"], urllib.parse.unquote_plus(record["object"]["key"])
    with tempfile.TemporaryDirectory() as work:
        source, target = os.path.join(work, "in.png"), os.path.join(work, "out.txt")
        s3.download_file(bucket, key, source)
        subprocess.run([sys.executable, "/var/task/ocr.py", source, target], check=True)
        output = "per-file/" + key + ".txt"
        s3.upload_file(target, bucket, output)
        return {"output": output, "text": open(target, encoding="utf-8").read().strip()}
'''


def images(count: int) -> list[tuple[str, bytes]]:
    """Receipt-sized scans (about 700 x 400 px, four lines of 40 px text), all different."""
    made = []
    for n in range(count):
        lines = [f"Receipt {n + 1:04d}", "Stratus Coffee Bar", f"2 items {3 + n % 7}.{n * 13 % 100:02d} EUR",
                 "Thank you for visiting"]
        buffer = io.BytesIO()
        render_text(lines, size=40).save(buffer, format="PNG")
        made.append((f"bench/receipt-{n:04d}.png", buffer.getvalue()))
    return made


def s3_event(key: str, size: int) -> str:
    return json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": BUCKET}, "object": {"key": quote_plus(key, safe="/"), "size": size}}}]})


def deploy(server, directory: Path) -> None:
    done = subprocess.run([str(server_bin), "deploy", str(directory)], capture_output=True, text=True,
                          env=base_subprocess_env(**server.cli_env()))
    if done.returncode != 0:
        raise RuntimeError(f"deploying {directory} failed:\n{done.stderr}")


def caller(server, function: str):
    lam = lambda_client(server)

    def call(item) -> tuple[float, str]:
        key, body = item
        started = time.monotonic()
        answer = lam.invoke(FunctionName=function, Payload=s3_event(key, len(body)))
        payload = json.loads(answer["Payload"].read())
        if "FunctionError" in answer:
            raise RuntimeError(f"{function} failed on {key}: {payload}")
        if "results" in payload:  # the warm handler's answer
            payload = payload["results"][0]
        return time.monotonic() - started, payload["text"].strip()

    return call


def compare(server, files: list[tuple[str, bytes]], concurrency: int, rounds: int) -> dict:
    """Both models on every file. The files are split into `rounds` batches and the two models
    take turns on each batch, first one then the other, so a load that comes and goes on a
    shared machine weighs on both alike."""
    calls = {"warm": caller(server, "ocr"), "per_file": caller(server, "ocr-per-file")}
    spent = {mode: 0.0 for mode in calls}
    done = {mode: [] for mode in calls}
    with ThreadPoolExecutor(concurrency) as pool:
        for call in calls.values():
            list(pool.map(call, files[:concurrency]))  # untimed: start the workers
        for number in range(rounds):
            batch = files[number::rounds]
            order = list(calls) if number % 2 == 0 else list(reversed(calls))
            for mode in order:
                started = time.monotonic()
                done[mode] += list(pool.map(calls[mode], batch))
                spent[mode] += time.monotonic() - started
    result = {}
    for mode in calls:
        latencies = sorted(d[0] for d in done[mode])
        result[mode] = {"files_per_s": round(len(files) / spent[mode], 3), "seconds": round(spent[mode], 2),
                        "p50_s": round(latencies[len(latencies) // 2], 3)}
    # Both lists are in the same file order: the same batches, in the same order.
    texts = [[d[1] for d in done[mode]] for mode in calls]
    result["same_text"] = f"{sum(a == b for a, b in zip(*texts, strict=True))}/{len(files)}"
    return result


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def main() -> None:
    global server_bin
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "stratus"))
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server_bin = Path(args.bin).resolve()
    import stratus_testlib
    stratus_testlib.STRATUS_BIN = server_bin
    root = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    server = StratusServer(root / "data", root / "server.log").start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket=BUCKET)
        started = time.monotonic()
        deploy(server, REPO / "examples" / "ocr")
        install_s = time.monotonic() - started
        # The per-file function: the example's code and requirements (so the same, cached
        # environment), another handler.
        per_file = root / "ocr-per-file"
        shutil.copytree(REPO / "examples" / "ocr", per_file)
        (per_file / "per_file.py").write_text(PER_FILE_HANDLER)
        spec = (per_file / "function.yaml").read_text()
        spec = spec.replace("name: ocr\n", "name: ocr-per-file\n").replace("handler: app.handler",
                                                                          "handler: per_file.handler")
        (per_file / "function.yaml").write_text(spec.split("triggers:")[0])
        deploy(server, per_file)
        files = images(args.files)
        for key, body in files:
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        results = []
        for concurrency in args.concurrency:
            both = compare(server, files, concurrency, args.rounds)
            both["ratio"] = round(both["warm"]["files_per_s"] / both["per_file"]["files_per_s"], 2)
            results.append({"concurrency": concurrency, **both})
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)
    report = {"files": args.files, "machine": machine(), "deploy_with_pip_s": round(install_s, 1),
              "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.files} receipt images; {report['machine']}; ocr deploy (pip) {report['deploy_with_pip_s']} s\n")
    print("| concurrency | warm files/s (p50) | per-file files/s (p50) | warm / per-file | same text |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        w, c = r["warm"], r["per_file"]
        print(f"| {r['concurrency']} | {w['files_per_s']} ({w['p50_s']} s) | {c['files_per_s']} ({c['p50_s']} s) "
              f"| **{r['ratio']}×** | {r['same_text']} |")


server_bin: Path

if __name__ == "__main__":
    main()
