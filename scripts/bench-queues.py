#!/usr/bin/env python3
"""Queue benchmarks: SQS throughput and long-poll latency of Stratus beside moto_server's SQS,
measured in the same run with the same client (ratios, since small machines are noisy).

    .venv/bin/python scripts/bench-queues.py [--only moto|stratus] [--bin target/release/stratus]
        [--messages 20000] [--processes 4] [--threads 4] [--samples 300] [--json OUT]

- Throughput: messages/s through send + receive + delete, counted until every message sent has
  been deleted: with batches of 10 (SendMessageBatch, ReceiveMessage MaxNumberOfMessages=10,
  DeleteMessageBatch) over --messages messages, and with single messages (SendMessage,
  ReceiveMessage of 1, DeleteMessage) over a quarter as many. --processes x --threads workers
  share one queue; each loops send -> receive -> delete. Also the server's and the clients' CPU
  seconds per 1,000 messages (from /proc and os.times).
- Latency: one receiver blocked in ReceiveMessage(WaitTimeSeconds=20); a sender sends one message
  at a time, the next ~10 ms after the previous one arrived. p50/p90/p99 of (receive returned -
  send started) and (receive returned - send acknowledged); the second is negative when the
  receiver had the message before the sender had read its acknowledgement.

The client is scripts/sqs_json_client.py (stdlib: JSON 1.0 protocol, SigV4, keep-alive): boto3
costs ~1 ms of client CPU per call, which would measure the client. Before measuring, each server
is checked with it against boto3 (same bodies, attributes, digests and error codes).

moto: `moto[server]` is pip-installed into this interpreter's environment if absent (only this
script needs it). Stratus: --bin (release build) on a fresh data dir. Both on 127.0.0.1, free
ports, and stopped at the end. Loads are bounded in count and time (--seconds per phase).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests" / "python"))
from queue_load import latency, throughput  # noqa: E402
from sqs_client_check import check_against_boto3  # noqa: E402
from sqs_json_client import SqsJsonClient  # noqa: E402

MOTO_ACCOUNT_KEY = ("test", "test")  # moto accepts any credentials


@dataclass
class Target:
    """A running SQS server: where it listens, how to sign for it, which process serves it."""
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    pid: int
    stop: object = field(repr=False)

    def client(self) -> SqsJsonClient:
        return SqsJsonClient(self.endpoint, self.access_key, self.secret_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_moto() -> None:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        print("bench-queues: installing moto[server] (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "moto[server]"], check=True)


def wait_listening(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} during startup")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} is not listening on {port} after {timeout}s") from None
            time.sleep(0.1)


def start_moto(workdir: Path) -> Target:
    ensure_moto()
    port = free_port()
    log = open(workdir / "moto.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    wait_listening(port, proc, "moto_server")

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    return Target("moto_server", f"http://127.0.0.1:{port}", *MOTO_ACCOUNT_KEY, proc.pid, stop)


def start_stratus(binary: Path, workdir: Path) -> Target:
    if not binary.exists():
        raise SystemExit(f"bench-queues: no stratus binary at {binary}: `cargo build --release -p stratus-cli` "
                         "or pass --bin (or --only moto)")
    import stratus_testlib
    stratus_testlib.STRATUS_BIN = binary
    server = stratus_testlib.StratusServer(workdir / "data", workdir / "server.log").start()
    admin = server.admin
    return Target("Stratus", server.endpoint, admin.access_key_id, admin.secret_access_key, server.proc.pid,
                  server.kill)


def measure(target: Target, args) -> dict:
    check_against_boto3(target.endpoint, target.access_key, target.secret_key)
    workers = {"processes": args.processes, "threads": args.threads}
    batch = throughput(target, batch=10, messages=args.messages, seconds=args.seconds, **workers)
    single = throughput(target, batch=1, messages=max(args.messages // 4, 1), seconds=args.seconds, **workers)
    return {"server": target.name, "throughput_batch_10": batch, "throughput_single": single,
            "long_poll_latency": latency(target, samples=args.samples, pace_s=args.pace_ms / 1000)}


def ratio(stratus: float, moto: float) -> str:
    return f"{stratus / moto:.1f}x" if moto else "-"


def render(results: dict[str, dict], args) -> str:
    names = [n for n in ("Stratus", "moto_server") if n in results]
    both = len(names) == 2
    header = "| figure | " + " | ".join(names) + (" | Stratus vs moto |" if both else " |")
    lines = [header, "|---" * (len(names) + 1 + both) + "|"]

    def row(label, get, fmt, better_high: bool | None):
        values = [get(results[n]) for n in names]
        cells = [fmt(v) for v in values]
        if both:
            stratus, moto = values
            if better_high is None:  # near zero or negative: a ratio would mean nothing
                cells.append("-")
            else:
                cells.append(ratio(stratus, moto) if better_high else ratio(moto, stratus) + " faster")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    per_s = lambda v: f"{v:,.0f} msg/s"  # noqa: E731
    ms = lambda v: f"{v:.2f} ms"  # noqa: E731
    row("send+receive+delete, batches of 10", lambda r: r["throughput_batch_10"]["messages_per_s"], per_s, True)
    row("send+receive+delete, single messages", lambda r: r["throughput_single"]["messages_per_s"], per_s, True)
    for p in ("p50", "p90", "p99"):
        row(f"long poll: send started -> received, {p}",
            lambda r, p=p: r["long_poll_latency"]["from_send_started"][f"{p}_ms"], ms, False)
    for p in ("p50", "p99"):
        row(f"long poll: send acknowledged -> received, {p}",
            lambda r, p=p: r["long_poll_latency"]["from_send_acknowledged"][f"{p}_ms"], ms, None)
    cpu = lambda key: lambda r: r[key]["server_cpu_s_per_1000"]  # noqa: E731
    secs = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
    lines.append("")
    lines.append("| server CPU per 1,000 messages | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for label, key in (("batches of 10", "throughput_batch_10"), ("single messages", "throughput_single")):
        lines.append(f"| {label} | " + " | ".join(secs(cpu(key)(results[n])) for n in names) + " |")
    first = results[names[0]]
    for name in names:
        for key in ("throughput_batch_10", "throughput_single"):
            figures = results[name][key]
            if not figures["complete"] or figures["errors"] or figures["duplicate_receives"]:
                lines.append(f"\n{name}, {key}: {figures['deleted']} of {figures['messages']} messages deleted in "
                             f"{figures['seconds']} s, {figures['errors']} failed calls, "
                             f"{figures['duplicate_receives']} duplicate receives.")
    lines.append("")
    lines.append(f"{args.processes} processes x {args.threads} threads = {args.processes * args.threads} client "
                 f"workers on one queue; {first['throughput_batch_10']['messages']} messages in batches, "
                 f"{first['throughput_single']['messages']} single; {args.samples} latency samples "
                 f"paced {args.pace_ms} ms; {os.cpu_count()} CPUs shared by client and server.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("moto", "stratus"))
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "stratus"))
    parser.add_argument("--messages", type=int, default=20000, help="batch phase; the single phase sends N/4")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--pace-ms", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="time bound of each throughput phase (a slower server is measured over this time)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures to this file")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-queues-"))
    results: dict[str, dict] = {}
    starters = {"stratus": lambda: start_stratus(Path(args.bin).resolve(), root),
                "moto": lambda: start_moto(root)}
    try:
        for name, start in starters.items():
            if args.only and args.only != name:
                continue
            target = start()
            try:
                print(f"bench-queues: measuring {target.name} at {target.endpoint}", file=sys.stderr)
                results[target.name] = measure(target, args)
            finally:
                target.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = {"workers": {"processes": args.processes, "threads": args.threads}, "cpus": os.cpu_count(),
              "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(render(results, args))


if __name__ == "__main__":
    main()
