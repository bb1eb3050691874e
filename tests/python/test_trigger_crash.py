"""No acknowledged upload is left unprocessed: uploads arrive at a steady rate while the server
is SIGKILLed three times; after the last restart every acknowledged upload has its output."""

from __future__ import annotations

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from stratus_testlib import unique_bucket
from trigger_helpers import deploy_handler, keys

UPPERCASE = """
import os, s3mini

def handler(event, context):
    for bucket, key in s3mini.records(event):
        body = s3mini.get(bucket, key)
        s3mini.put(os.environ["OUT_BUCKET"], key + ".out", body.upper())
"""

FILES = 200
RATE_PER_S = 25
KILLS = 3


def test_acknowledged_uploads_survive_three_sigkills(fresh_server, tmp_path):
    server = fresh_server
    s3 = server.client()
    source, out = unique_bucket("crash-in"), unique_bucket("crash-out")
    for name in (source, out):
        s3.create_bucket(Bucket=name)
    deploy_handler(server, tmp_path, "upper", UPPERCASE,
                   f"environment:\n  OUT_BUCKET: {out}\ntriggers:\n  - bucket: {source}\n")

    acknowledged: list[str] = []
    done = threading.Event()
    current = {"s3": s3}

    def upload() -> None:
        start = time.monotonic()
        for i in range(FILES):
            time.sleep(max(0.0, start + i / RATE_PER_S - time.monotonic()))
            key = f"f{i:03d}.txt"
            try:
                current["s3"].put_object(Bucket=source, Key=key, Body=f"file {i}".encode())
            except (BotoCoreError, ClientError, OSError):
                continue  # the server was down: not acknowledged, so nothing is owed
            acknowledged.append(key)
        done.set()

    uploader = threading.Thread(target=upload)
    uploader.start()
    period = FILES / RATE_PER_S / (KILLS + 1)
    for _ in range(KILLS):
        time.sleep(period)
        server.kill()
        server.start()
        current["s3"] = server.client()
    uploader.join(timeout=120)
    assert done.is_set()
    assert len(acknowledged) >= FILES // 2, "too few uploads were acknowledged to test anything"

    s3 = server.client()
    expected = {key + ".out" for key in acknowledged}
    deadline = time.monotonic() + 120
    while True:
        produced = keys(s3, out)
        if expected <= set(produced) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = sorted(expected - set(produced))
    assert not missing, f"{len(missing)} acknowledged uploads were never processed: {missing[:10]}"
    assert len(produced) == len(set(produced))
    for key in acknowledged[:: max(1, len(acknowledged) // 20)]:
        body = s3.get_object(Bucket=out, Key=key + ".out")["Body"].read()
        assert body == s3.get_object(Bucket=source, Key=key)["Body"].read().upper()
