"""The two loads of scripts/bench-queues.py, on the stdlib SQS client (sqs_json_client.py).

`throughput` runs processes x threads workers on one queue, each looping send -> receive ->
delete, and counts messages/s until every message sent has been deleted. `latency` measures a
long-polling receiver's wake-up: a message sent to an idle queue, how soon the waiting
ReceiveMessage returns it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid

from sqs_json_client import SqsError, SqsJsonClient

VISIBILITY_S = 120  # longer than a phase: nothing received comes back during the run
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values_ms: list[float]) -> dict:
    return {f"p{p}_ms": round(percentile(values_ms, p), 3) for p in (50, 90, 99)}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces: fields after the closing ')' are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def create_queue(client: SqsJsonClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return client.call("CreateQueue", {"QueueName": name,
                                       "Attributes": {"VisibilityTimeout": str(VISIBILITY_S)}})["QueueUrl"]


class Shared:
    """Counters shared by every worker process: messages deleted, and when the last one was."""

    def __init__(self, ctx):
        self.deleted = ctx.Value("q", 0)
        # Received messages whose delete failed: invisible until the run is over, so the run
        # ends when deleted + lost covers every message sent.
        self.lost = ctx.Value("q", 0, lock=False)
        self.done_at = ctx.Value("d", 0.0, lock=False)
        self.started_at = ctx.Value("d", 0.0, lock=False)
        self.go = ctx.Event()

    def start(self) -> float:
        self.started_at.value = time.monotonic()
        self.go.set()
        return self.started_at.value

    def add(self, deleted: int, lost: int, target: int) -> None:
        with self.deleted.get_lock():
            self.deleted.value += deleted
            self.lost.value += lost
            if self.deleted.value + self.lost.value >= target and self.done_at.value == 0.0:
                self.done_at.value = time.monotonic()

    def finished(self, target: int) -> bool:
        return self.deleted.value + self.lost.value >= target


class Worker:
    """One thread's loop: send its quota in batches of `batch`, receive and delete as it goes."""

    def __init__(self, target, queue_url: str, batch: int, quota: int, total: int, shared: Shared,
                 seconds: float, body: str):
        self.client = target.client()
        self.queue_url, self.batch, self.quota, self.total = queue_url, batch, quota, total
        self.shared, self.seconds, self.body = shared, seconds, body
        self.calls = self.sent = self.received = self.empty = self.errors = 0

    def send(self, count: int) -> None:
        self.calls += 1
        if self.batch == 1:
            self.client.call("SendMessage", {"QueueUrl": self.queue_url, "MessageBody": self.body})
            self.sent += 1
            return
        entries = [{"Id": str(i), "MessageBody": self.body} for i in range(count)]
        answer = self.client.call("SendMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries})
        self.sent += len(answer.get("Successful", []))
        self.errors += len(answer.get("Failed", []))

    def receive_and_delete(self, wait_s: int) -> None:
        self.calls += 1
        answer = self.client.call("ReceiveMessage", {"QueueUrl": self.queue_url, "MaxNumberOfMessages": self.batch,
                                                     "WaitTimeSeconds": wait_s})
        messages = answer.get("Messages", [])
        if not messages:
            self.empty += 1
            return
        self.received += len(messages)
        self.calls += 1
        try:
            if self.batch == 1:
                self.client.call("DeleteMessage", {"QueueUrl": self.queue_url,
                                                   "ReceiptHandle": messages[0]["ReceiptHandle"]})
                deleted = 1
            else:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                answer = self.client.call("DeleteMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries})
                deleted = len(answer.get("Successful", []))
                self.errors += len(answer.get("Failed", []))
        except (SqsError, OSError):
            self.shared.add(0, len(messages), self.total)
            raise
        self.shared.add(deleted, len(messages) - deleted, self.total)

    def run(self) -> None:
        self.shared.go.wait()
        deadline = self.shared.started_at.value + self.seconds
        try:
            while time.monotonic() < deadline:
                if self.sent < self.quota:
                    action = lambda: self.send(min(self.batch, self.quota - self.sent))  # noqa: E731
                elif self.shared.finished(self.total):
                    return
                else:
                    action = None
                # Once its own quota is out, a worker long-polls (1 s) for what others sent
                # instead of spinning on an empty queue.
                wait_s = 0 if self.sent < self.quota else 1
                for step in (action, lambda wait_s=wait_s: self.receive_and_delete(wait_s)):
                    if step is not None:
                        self.attempt(step)
        finally:
            self.client.close()

    def attempt(self, step) -> None:
        """Runs one call; a failed call is counted (and its first occurrence shown), not fatal."""
        try:
            step()
        except (SqsError, OSError) as err:
            self.errors += 1
            if self.errors == 1:
                print(f"bench-queues: call failed (counted, going on): {err}", flush=True)
            time.sleep(0.01)


def worker_process(target, queue_url, batch, quotas, total, shared, seconds, body, results) -> None:
    workers = [Worker(target, queue_url, batch, quota, total, shared, seconds, body) for quota in quotas]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = os.times()
    results.put({"calls": sum(w.calls for w in workers), "sent": sum(w.sent for w in workers),
                 "received": sum(w.received for w in workers), "empty_receives": sum(w.empty for w in workers),
                 "errors": sum(w.errors for w in workers), "client_cpu_s": times.user + times.system})


def throughput(target, batch: int, messages: int, processes: int, threads: int, seconds: float,
               body_bytes: int = 100) -> dict:
    """messages/s through send + receive + delete with `processes` x `threads` workers."""
    admin = target.client()
    queue_url = create_queue(admin, f"bench-tp{batch}")
    workers = processes * threads
    quotas = [messages // workers + (1 if i < messages % workers else 0) for i in range(workers)]
    # Processes are forked before any thread of theirs exists; the parent has no threads either.
    ctx = multiprocessing.get_context("fork")
    shared, results = Shared(ctx), ctx.Queue()
    body = ("m" * body_bytes)[:body_bytes]
    procs = [ctx.Process(target=worker_process,
                         args=(target, queue_url, batch, quotas[i::processes], messages, shared, seconds, body,
                               results))
             for i in range(processes)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # every process has forked and started its threads, which wait for `go`
    cpu_before = process_cpu_s(target.pid)
    started = shared.start()
    reports = [results.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join(10)
    cpu_used = process_cpu_s(target.pid) - cpu_before
    finished = shared.done_at.value or time.monotonic()
    deleted, lost = shared.deleted.value, shared.lost.value
    admin.call("DeleteQueue", {"QueueUrl": queue_url})
    admin.close()
    totals = {key: sum(r[key] for r in reports) for key in reports[0]}
    elapsed = finished - started
    return {"batch": batch, "messages": messages, "deleted": deleted, "lost": lost, "complete": deleted >= messages,
            # A message received by two workers at once (a server's race: the visibility
            # timeout is longer than the run).
            "duplicate_receives": max(totals["received"] - totals["sent"], 0),
            "seconds": round(elapsed, 3), "messages_per_s": round(deleted / elapsed, 1),
            "calls_per_s": round(totals["calls"] / elapsed, 1), "workers": workers,
            "server_cpu_s_per_1000": round(cpu_used / max(deleted, 1) * 1000, 4),
            "client_cpu_s_per_1000": round(totals["client_cpu_s"] / max(deleted, 1) * 1000, 4),
            **{k: totals[k] for k in ("calls", "sent", "received", "empty_receives", "errors")}}


def latency(target, samples: int, pace_s: float) -> dict:
    """Send -> long-poll receive, one message at a time, `pace_s` after the previous arrived."""
    admin = target.client()
    queue_url = create_queue(admin, "bench-lat")
    arrived: dict[int, int] = {}
    arrival = threading.Condition()
    failure: list[BaseException] = []

    def receive_loop() -> None:
        client = target.client()
        try:
            while len(arrived) < samples:
                answer = client.call("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10,
                                                        "WaitTimeSeconds": 20})
                now = time.perf_counter_ns()
                messages = answer.get("Messages", [])
                with arrival:
                    for message in messages:
                        arrived[int(message["Body"])] = now
                    arrival.notify_all()
                for message in messages:
                    client.call("DeleteMessage", {"QueueUrl": queue_url, "ReceiptHandle": message["ReceiptHandle"]})
        except BaseException as err:  # reported by the sender, which would otherwise wait forever
            failure.append(err)
            with arrival:
                arrival.notify_all()
        finally:
            client.close()

    receiver = threading.Thread(target=receive_loop, daemon=True)
    receiver.start()
    sender = target.client()
    started_ns, acked_ns = {}, {}
    time.sleep(0.2)  # the receiver's first long poll is waiting
    for i in range(samples):
        started_ns[i] = time.perf_counter_ns()
        sender.call("SendMessage", {"QueueUrl": queue_url, "MessageBody": str(i)})
        acked_ns[i] = time.perf_counter_ns()
        with arrival:
            if not arrival.wait_for(lambda i=i: i in arrived or failure, timeout=25):
                raise RuntimeError(f"message {i} was not received within 25 s")
        if failure:
            raise RuntimeError(f"receiver failed: {failure[0]!r}")
        time.sleep(pace_s)  # the receiver deletes, then is blocked in its next long poll again
    receiver.join(30)
    sender.close()
    admin.call("DeleteQueue", {"QueueUrl": queue_url})
    admin.close()
    from_start = [(arrived[i] - started_ns[i]) / 1e6 for i in range(samples)]
    from_ack = [(arrived[i] - acked_ns[i]) / 1e6 for i in range(samples)]
    send_itself = [(acked_ns[i] - started_ns[i]) / 1e6 for i in range(samples)]
    return {"samples": samples, "pace_ms": pace_s * 1000, "from_send_started": summary(from_start),
            "from_send_acknowledged": summary(from_ack), "send_itself": summary(send_itself)}
