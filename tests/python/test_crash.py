"""Crash test: concurrent writers while the server is SIGKILLed and restarted on the same data dir.

Afterwards every acknowledged PUT must read back byte-identical, and every listed object must be a
complete copy of some PUT that was sent for its key (no torn or half-written objects, no resurrected
older overwrite).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from stratus_testlib import MIB, md5_hex, pseudo_random_bytes, quoted_md5, unique_bucket

WRITERS = 8
ROUNDS = 4
MAX_PUTS_PER_WRITER = 3000
OVERWRITE_KEYS = 6
WRITE_DEADLINE_S = 45  # hard cap on the writing phase
SIZES = [(1024, 0.55), (100 * 1024, 0.40), (3 * MIB, 0.05)]


@dataclass
class Attempt:
    key: str
    seed: str
    size: int
    md5: str
    start: float
    end: float = float("inf")  # still in flight
    acked: bool = False


class Ledger:
    """Every PUT sent, in the order sent, with when it finished and whether it was acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key: dict[str, list[Attempt]] = {}
        self.wrong_etags: list[tuple[str, str, str]] = []

    def begin(self, key: str, seed: str, size: int, md5: str) -> Attempt:
        attempt = Attempt(key, seed, size, md5, time.monotonic())
        with self.lock:
            self.by_key.setdefault(key, []).append(attempt)
        return attempt

    def finish(self, attempt: Attempt, acked: bool) -> None:
        with self.lock:
            attempt.end, attempt.acked = time.monotonic(), acked

    def acked(self) -> list[Attempt]:
        return [a for attempts in self.by_key.values() for a in attempts if a.acked]


class Target:
    """A boto3 client (thread-safe, shared by all writers) for the server's current incarnation."""

    def __init__(self, client):
        self.lock = threading.Lock()
        self.client = client

    def set(self, client) -> None:
        with self.lock:
            self.client = client

    def get(self):
        with self.lock:
            return self.client


def pick_size(rng: random.Random) -> int:
    roll, total = rng.random(), 0.0
    for size, weight in SIZES:
        total += weight
        if roll < total:
            return size
    return SIZES[0][0]


def writer(tid: int, bucket: str, target: Target, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
    rng = random.Random(1000 + tid)
    for seq in range(MAX_PUTS_PER_WRITER):
        if stop.is_set() or time.monotonic() > deadline:
            return
        key = f"overwrite/{rng.randrange(OVERWRITE_KEYS)}" if rng.random() < 0.15 else f"unique/w{tid}/{seq:06d}"
        seed, size = f"w{tid}-{seq}", pick_size(rng)
        data = pseudo_random_bytes(seed, size)
        client = target.get()
        attempt = ledger.begin(key, seed, size, md5_hex(data))
        try:
            resp = client.put_object(Bucket=bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError, OSError):
            ledger.finish(attempt, acked=False)
            time.sleep(0.05)
            continue
        ok = resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        ledger.finish(attempt, acked=ok)
        if ok and resp["ETag"] != quoted_md5(data):
            with ledger.lock:
                ledger.wrong_etags.append((key, resp["ETag"], quoted_md5(data)))


def writer_client(server):
    return server.client(read_timeout=30, max_pool_connections=WRITERS * 2)


def read_md5(s3, bucket: str, key: str) -> tuple[str, int, str]:
    got = s3.get_object(Bucket=bucket, Key=key)
    body = got["Body"].read()
    return md5_hex(body), len(body), got["ETag"]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sigkill_during_writes_loses_nothing_acknowledged(new_server):
    server = new_server("crash").start()
    bucket = unique_bucket("crash")
    server.client().create_bucket(Bucket=bucket)
    ledger, target, stop = Ledger(), Target(writer_client(server)), threading.Event()
    deadline = time.monotonic() + WRITE_DEADLINE_S
    threads = [threading.Thread(target=writer, args=(t, bucket, target, ledger, stop, deadline), daemon=True)
               for t in range(WRITERS)]
    for thread in threads:
        thread.start()
    rng = random.Random(42)
    acked_per_round = []
    try:
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(1.0, 3.0))
            acked_per_round.append(len(ledger.acked()))
            server.kill()
            server.start()
            target.set(writer_client(server))
        time.sleep(1.5)  # let writes land on the final incarnation too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "writer threads hung"
    acked = ledger.acked()
    assert not ledger.wrong_etags, ledger.wrong_etags[:5]
    assert len(acked) > acked_per_round[-1], "no PUT succeeded after the last restart"
    assert all(b > a for a, b in itertools.pairwise([0, *acked_per_round])), acked_per_round

    sent = sum(len(v) for v in ledger.by_key.values())
    print(f"crash test: {sent} PUTs sent, {len(acked)} acknowledged, acked before each kill {acked_per_round}")
    verify(server, bucket, ledger)
    # A clean restart changes nothing.
    server.restart()
    verify(server, bucket, ledger)


def verify(server, bucket: str, ledger: Ledger) -> None:
    s3 = server.client()
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            assert obj["Key"] not in listed, f"duplicate key in listing: {obj['Key']}"
            listed[obj["Key"]] = (obj["Size"], obj["ETag"])
    unknown = set(listed) - set(ledger.by_key)
    assert not unknown, f"listed keys nobody wrote: {sorted(unknown)[:5]}"
    missing = sorted(a.key for a in ledger.acked() if a.key not in listed)
    assert not missing, f"{len(missing)} acknowledged keys are not listed, e.g. {missing[:5]}"

    with ThreadPoolExecutor(8) as pool:
        contents = dict(zip(listed, pool.map(lambda k: read_md5(s3, bucket, k), listed), strict=True))
    for key, (md5, length, etag) in contents.items():
        attempts = ledger.by_key[key]
        matching = [a for a in attempts if a.md5 == md5 and a.size == length]
        assert matching, f"{key}: content (md5 {md5}, {length} bytes) matches no PUT sent for it (torn write?)"
        assert listed[key] == (length, f'"{md5}"'), f"{key}: listing {listed[key]} disagrees with content"
        assert etag == f'"{md5}"', f"{key}: ETag {etag} but content md5 {md5}"
        if key.startswith("unique/"):
            assert len(attempts) == 1
            continue
        # Overwritten keys: the surviving version must not predate the last acknowledged one.
        last_acked = max((a for a in attempts if a.acked), key=lambda a: a.end, default=None)
        if last_acked is not None:
            survivor = matching[0]
            assert survivor is last_acked or survivor.end > last_acked.start, (
                f"{key}: holds {survivor.seed}, which finished before the acknowledged {last_acked.seed} began")
