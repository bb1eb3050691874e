"""Crash test for versioning: writers overwrite and delete a few keys of a versioned bucket while
the server is SIGKILLed and restarted. Afterwards every acknowledged version and delete marker
is listed by ListObjectVersions, reads back byte-identical, and a key's versions are in the
order their writes were acknowledged."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from stratus_testlib import md5_hex, pseudo_random_bytes, unique_bucket

WRITERS = 4
KEYS = 5
ROUNDS = 3
WRITE_DEADLINE_S = 25
DELETE_SHARE = 0.2


@dataclass
class Op:
    key: str
    start: float
    end: float
    version_id: str
    marker: bool
    md5: str = ""


def writer(tid: int, bucket: str, clients: list, acked: list[Op], lock: threading.Lock,
           stop: threading.Event, deadline: float) -> None:
    rng = random.Random(500 + tid)
    seq = 0
    while not stop.is_set() and time.monotonic() < deadline:
        seq += 1
        key = f"k{rng.randrange(KEYS)}"
        client = clients[-1]
        start = time.monotonic()
        try:
            if rng.random() < DELETE_SHARE:
                resp = client.delete_object(Bucket=bucket, Key=key)
                op = Op(key, start, 0.0, resp["VersionId"], marker=True)
            else:
                data = pseudo_random_bytes(f"v{tid}-{seq}", rng.choice([100, 5000, 70_000]))
                resp = client.put_object(Bucket=bucket, Key=key, Body=data)
                op = Op(key, start, 0.0, resp["VersionId"], marker=False, md5=md5_hex(data))
        except (ClientError, BotoCoreError, OSError):
            time.sleep(0.05)
            continue
        op.end = time.monotonic()
        with lock:
            acked.append(op)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sigkill_during_versioned_writes_keeps_every_version_in_order(new_server):
    server = new_server("crashver").start()
    bucket = unique_bucket("crashver")
    admin = server.client()
    admin.create_bucket(Bucket=bucket)
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    clients = [server.client(read_timeout=30)]
    acked: list[Op] = []
    lock, stop = threading.Lock(), threading.Event()
    deadline = time.monotonic() + WRITE_DEADLINE_S
    threads = [threading.Thread(target=writer, args=(t, bucket, clients, acked, lock, stop, deadline), daemon=True)
               for t in range(WRITERS)]
    for thread in threads:
        thread.start()
    rng = random.Random(7)
    try:
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(1.0, 2.5))
            server.kill()
            server.start()
            clients.append(server.client(read_timeout=30))
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert acked, "no write was acknowledged"
    verify(server, bucket, acked)
    server.restart()
    verify(server, bucket, acked)


def verify(server, bucket: str, acked: list[Op]) -> None:
    s3 = server.client()
    position = {}
    for key in {op.key for op in acked}:
        ordered = ordered_versions(s3, bucket, key)
        assert len(set(ordered)) == len(ordered), f"{key}: a version is listed twice"
        position.update({(key, version): index for index, version in enumerate(ordered)})
    for op in acked:
        assert (op.key, op.version_id) in position, f"acknowledged {op} is missing after the crash"
        if not op.marker:
            got = s3.get_object(Bucket=bucket, Key=op.key, VersionId=op.version_id)["Body"].read()
            assert md5_hex(got) == op.md5, f"{op.key}@{op.version_id} reads back different bytes"
    # Writes acknowledged one after the other are listed newest first in that order.
    by_key: dict[str, list[Op]] = {}
    for op in acked:
        by_key.setdefault(op.key, []).append(op)
    for ops in by_key.values():
        for a in ops:
            for b in ops:
                if a.end < b.start:
                    assert position[(b.key, b.version_id)] < position[(a.key, a.version_id)], (
                        f"{b} was acknowledged after {a} but is listed as older")


def ordered_versions(s3, bucket: str, key: str) -> list[str]:
    """A key's version ids, delete markers included, newest first. ListObjectVersions puts
    versions and markers in separate lists, so the interleaving is read one entry per page."""
    ordered, resume = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, Prefix=key, MaxKeys=1, **resume)
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        ordered += [e["VersionId"] for e in entries if e["Key"] == key]
        if not page["IsTruncated"]:
            return ordered
        resume = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
