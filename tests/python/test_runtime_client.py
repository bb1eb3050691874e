"""Unit tests of the Python runtime client (crates/stratus-runtime/runtimes/python/bootstrap.py).

A stdlib HTTP server in this process plays the Lambda Runtime API side; the client runs as a
real subprocess against it, with handler modules written to a temporary LAMBDA_TASK_ROOT.
"""

import json
import os
import queue
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BOOTSTRAP = Path(__file__).resolve().parents[2] / "crates/stratus-runtime/runtimes/python/bootstrap.py"
WAIT = 10  # seconds any single step may take
ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


class FakeRuntimeApi:
    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.posts: queue.Queue = queue.Queue()
        self.client_ports: set[int] = set()
        self.stopping = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real server

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                api.client_ports.add(self.client_address[1])
                assert self.path == "/2018-06-01/runtime/invocation/next"
                while not api.stopping.is_set():
                    try:
                        request_id, body, headers = api.events.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    deadline = str(int(time.time() * 1000) + 30_000)
                    return self.reply(200, body, [("Lambda-Runtime-Aws-Request-Id", request_id),
                                                  ("Lambda-Runtime-Deadline-Ms", deadline),
                                                  ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                                                  *headers])
                self.reply(410)

            def do_POST(self):
                api.client_ports.add(self.client_address[1])
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                api.posts.put((self.path, dict(self.headers), body))
                self.reply(202, b'{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # a killed client's broken pipe is expected
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def invoke(self, request_id, event=b"{}", headers=()):
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        self.events.put((request_id, body, list(headers)))
        return self.next_post()

    def next_post(self):
        path, headers, body = self.posts.get(timeout=WAIT)
        return path, {k.lower(): v for k, v in headers.items()}, json.loads(body)

    def close(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def runtime(tmp_path):
    """start(handler, {file: source}, **env) runs the client; returns (api, process)."""
    api = FakeRuntimeApi()
    procs = []

    def start(handler, files, **extra_env):
        task = tmp_path / "task"
        for name, source in files.items():
            (task / name).parent.mkdir(parents=True, exist_ok=True)
            (task / name).write_text(textwrap.dedent(source))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "_X_AMZN"))}
        env.update(AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server.server_address[1]}",
                   _HANDLER=handler, LAMBDA_TASK_ROOT=str(task), AWS_LAMBDA_FUNCTION_NAME="fn",
                   AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
                   AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/fn", AWS_LAMBDA_LOG_STREAM_NAME="s",
                   AWS_REGION="us-east-1")
        env.update(extra_env)
        out = open(tmp_path / "output.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-u", str(BOOTSTRAP)], env=env,
                                      stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path))
        out.close()
        return api, procs[-1]

    # Bytes decoded by hand: read_text() would turn the runtime's "\r" separators into "\n".
    start.output = lambda: (tmp_path / "output.log").read_bytes().decode()
    yield start
    for proc in procs:
        proc.kill()
        proc.wait(WAIT)
    api.close()


CONTEXT_APP = """
import os, time
calls = 0
def handler(event, context):
    global calls
    calls += 1
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    return {"event": event, "id": context.aws_request_id, "fn": context.function_name,
            "version": context.function_version, "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb, "group": context.log_group_name,
            "remaining": [first, context.get_remaining_time_in_millis()],
            "pid": os.getpid(), "calls": calls, "trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "installation": context.client_context and context.client_context.client.installation_id}
"""


def test_success_context_and_process_reuse(runtime):
    api, proc = runtime("app.handler", {"app.py": CONTEXT_APP})
    path, _, first = api.invoke("req-1", {"k": [1, 2]}, [("Lambda-Runtime-Trace-Id", "Root=1-x")])
    assert path == "/2018-06-01/runtime/invocation/req-1/response"
    assert first["event"] == {"k": [1, 2]}
    assert (first["id"], first["fn"], first["version"], first["arn"], first["memory"],
            first["group"]) == ("req-1", "fn", "$LATEST", ARN, "256", "/aws/lambda/fn")
    before, after = first["remaining"]
    assert 0 < after < before <= 30_000
    assert first["trace"] == "Root=1-x"

    client_context = json.dumps({"client": {"installationId": "i-1"}, "custom": {}})
    path, _, second = api.invoke("req-2", b"", [("Lambda-Runtime-Client-Context", client_context)])
    assert path == "/2018-06-01/runtime/invocation/req-2/response"
    assert second["event"] == {}  # an empty payload is the empty event
    assert (second["pid"], second["calls"]) == (first["pid"], 2)
    assert second["trace"] is None and second["installation"] == "i-1"
    assert len(api.client_ports) == 1, "the client should keep one connection alive"
    assert proc.poll() is None


def test_nested_handler_path_and_none_result(runtime):
    api, _ = runtime("pkg/sub/mod.func", {"pkg/__init__.py": "", "pkg/sub/__init__.py": "",
                                          "pkg/sub/mod.py": "def func(e, c):\n    return None\n"})
    path, _, body = api.invoke("r")
    assert path.endswith("/r/response") and body is None


def test_exception_is_reported_and_logged(runtime):
    app = """
    def handler(event, context):
        print("before the error")
        raise ValueError("boom")
    """
    api, proc = runtime("app.handler", {"app.py": app})
    path, headers, body = api.invoke("req-e")
    assert path == "/2018-06-01/runtime/invocation/req-e/error"
    assert headers["lambda-runtime-function-error-type"] == "Unhandled"
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == ("ValueError", "boom", "req-e")
    [frame] = body["stackTrace"]  # the runtime's own frames are left out
    assert 'app.py", line 4, in handler\n    raise ValueError("boom")\n' in frame
    output = runtime.output()
    assert "before the error\n" in output
    assert '[ERROR] ValueError: boom\rTraceback (most recent call last):\r  File "' in output
    # The loop survives a handler's exception.
    assert api.invoke("req-f")[0].endswith("/req-f/error") and proc.poll() is None


def test_marshal_error(runtime):
    api, proc = runtime("app.handler", {"app.py": "def handler(e, c):\n    return object()\n"})
    path, _, body = api.invoke("m")
    assert path.endswith("/m/error")
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"].startswith("Unable to marshal response: Object of type object")
    assert proc.poll() is None


def test_sys_exit_is_reported_then_exits(runtime):
    api, proc = runtime("app.handler", {"app.py": "import sys\ndef handler(e, c):\n    sys.exit(3)\n"})
    path, _, body = api.invoke("x")
    assert path.endswith("/x/error")
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"] == "RequestId: x Error: Runtime exited with error: exit status 3"
    assert proc.wait(WAIT) == 3


@pytest.mark.parametrize("handler, files, error_type, message", [
    ("missing.handler", {}, "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
    ("app.handler", {"app.py": "import not_installed_anywhere\n"}, "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'not_installed_anywhere'"),
    ("app.nope", {"app.py": "x = 1\n"}, "Runtime.HandlerNotFound",
     "Handler 'nope' missing on module 'app'"),
    ("app.handler", {"app.py": "def handler(:\n"}, "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app': "),
    ("nodot", {}, "Runtime.MalformedHandlerName", "Bad handler 'nodot': "),
    ("app.handler", {"app.py": "x = 1\nraise KeyError('cfg')\n"}, "KeyError", "'cfg'"),
])
def test_init_errors(runtime, tmp_path, handler, files, error_type, message):
    api, proc = runtime(handler, files)
    path, headers, body = api.next_post()
    assert path == "/2018-06-01/runtime/init/error"
    assert headers["lambda-runtime-function-error-type"] == error_type
    assert body["errorType"] == error_type and body["errorMessage"].startswith(message)
    assert isinstance(body["stackTrace"], list)
    if error_type == "KeyError":  # only the module's own frames, none of importlib's
        assert body["stackTrace"] == [f'  File "{tmp_path / "task/app.py"}", line 2, in <module>\n'
                                      "    raise KeyError('cfg')\n"]
    assert proc.wait(WAIT) == 1
    assert f"[ERROR] {error_type}: {message}" in runtime.output()


LOGGING_APP = """
import logging
logging.basicConfig(level=logging.DEBUG, format="%(message)s")  # a no-op, as on AWS
log = logging.getLogger(__name__)
def handler(event, context):
    log.info("info line")
    log.warning("two\\nlines")
    return "ok"
"""


@pytest.mark.parametrize("level, info_shown", [(None, False), ("INFO", True)])
def test_logging_format(runtime, level, info_shown):
    api, _ = runtime("app.handler", {"app.py": LOGGING_APP},
                     **({"AWS_LAMBDA_LOG_LEVEL": level} if level else {}))
    assert api.invoke("log-1")[2] == "ok"
    output = runtime.output()
    assert ("\tlog-1\tinfo line\n" in output) == info_shown
    [line] = [line for line in output.split("\n") if "two" in line]
    prefix, timestamp, request_id, message = line.split("\t")
    assert prefix == "[WARNING]" and request_id == "log-1" and message == "two\rlines"
    assert time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S") and timestamp.endswith("Z")


def test_exits_when_the_api_is_unreachable(runtime):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _, proc = runtime("app.handler", {"app.py": "def handler(e, c):\n    return 1\n"},
                      AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}")
    assert proc.wait(WAIT) == 1
    assert "runtime API is unreachable" in runtime.output()
