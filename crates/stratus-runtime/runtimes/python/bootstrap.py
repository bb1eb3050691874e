"""Stratus's runtime client for python3.x functions: the Lambda Runtime API, stdlib only.

Started as `python3 -u /opt/stratus/bootstrap.py`, one process per worker: import the handler
once (init), then loop on `GET /runtime/invocation/next`, call `handler(event, context)` and post
the result or the error. Written from the public Lambda Runtime API and Python-runtime
documentation. Cold start is the budget that shapes it: everything not needed on the happy path
(traceback, logging) is imported only when first used.
"""

import json
import os
import socket
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
# Read by the log record factory; AWS prints an empty request id for records logged during init.
_request_id = ""


class RuntimeApiError(Exception):
    pass


class RuntimeApi:
    """A minimal keep-alive HTTP/1.1 client for the Runtime API.

    Not http.client: importing it pulls in email parsing and ssl, about 15 ms of a cold start,
    for a protocol this small (one loopback peer, a handful of requests)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host.strip("[]") or "127.0.0.1", int(port))
        self.host_header = address
        self.sock = None
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self.buffer = None, b""

    def request(self, method, path, body=b"", headers=None):
        head = ["%s %s%s HTTP/1.1" % (method, API_PREFIX, path), "Host: " + self.host_header,
                "Content-Length: %d" % len(body)]
        for name, value in (headers or {}).items():
            head.append("%s: %s" % (name, value))
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        while True:
            reused = self.sock is not None
            if not reused:
                self.sock = socket.create_connection(self.address)
                # Each request goes out in one write; don't let Nagle hold back the next one.
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(data)
                return self._read_response()
            except _StaleConnection:
                # The server closed a kept-alive connection before answering anything: retry
                # once on a fresh one. A fresh connection failing means the server is gone.
                self.close()
                if not reused:
                    raise RuntimeApiError("the runtime API closed the connection")
            except OSError:
                self.close()
                if not reused:
                    raise

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def _take(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _take_line(self):
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                return line
            self._fill()

    def _read_response(self):
        """Returns (status, headers with lower-case names, body)."""
        try:
            status_line = self._take_line()
        except (EOFError, ConnectionResetError):
            raise _StaleConnection()
        try:
            status = int(status_line.split(None, 2)[1])
            headers = {}
            while True:
                line = self._take_line()
                if not line:
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = b""
                while True:
                    size = int(self._take_line().split(b";")[0], 16)
                    if size == 0:
                        while self._take_line():  # trailers
                            pass
                        break
                    body += self._take(size)
                    self._take_line()
            elif "content-length" in headers:
                body = self._take(int(headers["content-length"]))
            else:
                body = self.buffer
                try:
                    while True:
                        self._fill()
                        body = self.buffer
                except EOFError:
                    headers["connection"] = "close"
        except (EOFError, ValueError, IndexError) as exc:
            self.close()
            raise RuntimeApiError("malformed or truncated response from the runtime API: %r" % exc)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


class _StaleConnection(Exception):
    pass


class _Fields:
    """Attributes copied from a JSON object of the Lambda client context or Cognito identity."""

    __slots__ = ()
    KEYS = ()

    def __init__(self, document):
        document = document if isinstance(document, dict) else {}
        for attribute, key in self.KEYS:
            setattr(self, attribute, document.get(key))


class CognitoIdentity(_Fields):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")
    KEYS = (("cognito_identity_id", "cognitoIdentityId"),
            ("cognito_identity_pool_id", "cognitoIdentityPoolId"))


class Client(_Fields):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name")
    KEYS = (("installation_id", "installationId"), ("app_title", "appTitle"),
            ("app_version_name", "appVersionName"), ("app_version_code", "appVersionCode"),
            ("app_package_name", "appPackageName"))


class ClientContext(_Fields):
    __slots__ = ("client", "custom", "env")
    KEYS = (("client", "client"), ("custom", "custom"), ("env", "env"))

    def __init__(self, document):
        super().__init__(document)
        if self.client is not None:
            self.client = Client(self.client)


def _header_object(cls, text):
    if not text:
        return None
    try:
        return cls(json.loads(text))
    except ValueError:
        return None


class LambdaContext:
    __slots__ = ("aws_request_id", "function_name", "function_version", "memory_limit_in_mb",
                 "invoked_function_arn", "log_group_name", "log_stream_name", "identity",
                 "client_context", "_deadline_ms")

    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        # A str, as AWS's Python runtime gives it: the variable passed through unconverted.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.invoked_function_arn = arn
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = identity
        self.client_context = client_context
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self):
        return "LambdaContext(aws_request_id=%r, function_name=%r)" % (
            self.aws_request_id, self.function_name)


# ---- logging -------------------------------------------------------------------------------

# AWS_LAMBDA_LOG_LEVEL values (advanced logging controls) and the Python level each one means.
_LOG_LEVELS = {"TRACE": 10, "DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40,
               "FATAL": 50, "CRITICAL": 50}


def _configure_logging(logging):
    """Sets up the root logger as AWS's Python runtime does: one handler writing
    `[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>` to stdout, and `aws_request_id` on every
    record so that users' own formatters can use it too. The root level is left at Python's
    default (WARNING), as on AWS, where `logger.info` prints nothing until the function sets a
    level; AWS_LAMBDA_LOG_LEVEL, when set, sets it as AWS does."""
    make_record = logging.getLogRecordFactory()

    def record_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.aws_request_id = _request_id
        return record

    logging.setLogRecordFactory(record_factory)

    class LambdaLogHandler(logging.Handler):
        def emit(self, record):
            try:
                # "\r" keeps a multi-line message one record: the server splits output on "\n".
                text = self.format(record).replace("\n", "\r")
                sys.stdout.write(text + "\n")
            except Exception:
                self.handleError(record)

    handler = LambdaLogHandler()
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Being there first is what makes a user's logging.basicConfig() a no-op, as on AWS.
    root.addHandler(handler)
    level = _LOG_LEVELS.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper())
    if level is not None:
        root.setLevel(level)


class _ConfigureAfterLoad:
    """Wraps the loader of `logging` so that the module is configured the moment it exists."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _configure_logging(module)

    def __getattr__(self, name):  # get_source, get_resource_reader, ... for tools that ask
        return getattr(self.loader, name)


class _LoggingImportHook:
    """Importing `logging` costs several milliseconds, and a function that never imports it can
    never log. So rather than import it up front, configure it whenever anything (the handler
    module, a library, a handler at run time) first imports it: no code can observe the
    difference, since the root logger is configured before `import logging` returns."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec else None
            if spec is not None and spec.loader is not None:
                spec.loader = _ConfigureAfterLoad(spec.loader)
                return spec
        return None


def _install_logging():
    if "logging" in sys.modules:  # a sitecustomize got there first
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


# ---- errors --------------------------------------------------------------------------------

class FunctionError(Exception):
    """An error the runtime reports with its own errorType (Runtime.*) rather than the class
    name of a user exception."""

    def __init__(self, error_type, message, stack_trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.stack_trace = stack_trace or []


def _user_frames(tb):
    """The formatted frames of a traceback, minus the leading ones that belong to this runtime
    (its call into the handler, or importlib's machinery), which say nothing to the user."""
    import traceback
    frames = traceback.extract_tb(tb)
    ours = (__file__, getattr(sys.modules.get("importlib"), "__file__", None))
    start = 0
    while start < len(frames) and (frames[start].filename in ours
                                   or frames[start].filename.startswith("<frozen importlib")):
        start += 1
    return traceback.format_list(frames[start:])


def _error_document(exc, request_id=None):
    if isinstance(exc, FunctionError):
        error_type, stack = exc.error_type, exc.stack_trace
    else:
        error_type, stack = type(exc).__name__, _user_frames(exc.__traceback__)
    document = {"errorMessage": str(exc), "errorType": error_type}
    if request_id is not None:
        document["requestId"] = request_id
    document["stackTrace"] = stack
    return document


def _log_error(document):
    # One record, as AWS prints it: "[ERROR] Type: message" then the traceback, its lines
    # joined by "\r" so that the server (which splits output on "\n") keeps them together.
    lines = ["[ERROR] %s: %s" % (document["errorType"], document["errorMessage"]),
             "Traceback (most recent call last):"]
    for frame in document["stackTrace"]:
        lines.extend(frame.rstrip("\n").split("\n"))
    try:
        sys.stderr.write("\r".join(lines) + "\n")
    except Exception:
        pass


def _flush():
    # The server attributes output to an invocation by time: it must all be out before the
    # result is posted. Handlers may have replaced the streams, so flush the originals too.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def _exit_status(exc):
    """The status the process exits with for SystemExit/KeyboardInterrupt, as Python would."""
    if isinstance(exc, KeyboardInterrupt):
        return 130
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        sys.stderr.write("%s\n" % (code,))
    except Exception:
        pass
    return 1


def _exit_error(exc, request_id):
    # The message the Lambda service reports for a runtime process that exited mid-invocation.
    status = _exit_status(exc)
    if isinstance(exc, KeyboardInterrupt):
        reason = "Runtime exited with error: signal: interrupt"
    elif status == 0:
        reason = "Runtime exited without providing a reason"
    else:
        reason = "Runtime exited with error: exit status %d" % status
    prefix = "RequestId: %s " % request_id if request_id else ""
    return FunctionError("Runtime.ExitError", prefix + "Error: " + reason), status


# ---- init ----------------------------------------------------------------------------------

def _set_up_sys_path():
    # The code directory goes first, in place of this script's own directory (which would
    # otherwise let a handler module named `bootstrap` import this file). PYTHONPATH entries
    # stay where Python put them, after it.
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if p != task_root and os.path.abspath(p or ".") != here]
    sys.path[:] = [task_root] + rest


def _load_handler(spec):
    module_path, dot, function_name = spec.rpartition(".")
    if not dot:
        raise FunctionError("Runtime.MalformedHandlerName",
                            "Bad handler '%s': not enough values to unpack (expected 2, got 1)"
                            % spec)
    if not module_path or not function_name:
        raise FunctionError("Runtime.MalformedHandlerName",
                            "Bad handler '%s': empty module or function name" % spec)
    # `pkg/sub/mod.func` names the module pkg.sub.mod; messages keep the name as configured.
    module_name = module_path.replace("/", ".")
    if module_name in sys.builtin_module_names:
        raise FunctionError("Runtime.BuiltInModuleConflict",
                            "Cannot use built-in module %s as a handler module" % module_path)
    try:
        import importlib
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # Any ImportError while importing counts, including one from the module's own
        # imports (`No module named 'requests'`), as on AWS.
        raise FunctionError("Runtime.ImportModuleError",
                            "Unable to import module '%s': %s" % (module_path, exc))
    except SyntaxError as exc:
        trace = ['  File "%s" Line %s\n    %s\n' % (exc.filename, exc.lineno,
                                                    (exc.text or "").strip())]
        raise FunctionError("Runtime.UserCodeSyntaxError",
                            "Syntax error in module '%s': %s" % (module_path, exc), trace)
    # Any other exception the module raises propagates to the caller and is reported under its
    # own class name (`ValueError`, ...), which is what AWS does too: Runtime.ImportModuleError
    # is only for import failures.
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FunctionError("Runtime.HandlerNotFound",
                            "Handler '%s' missing on module '%s'" % (function_name, module_path))


def _init(api):
    try:
        return _load_handler(os.environ.get("_HANDLER", ""))
    except (SystemExit, KeyboardInterrupt) as exc:
        document = _error_document(_exit_error(exc, None)[0])
    except BaseException as exc:
        document = _error_document(exc)
    _log_error(document)
    _flush()
    api.request("POST", "/init/error", json.dumps(document).encode(),
                {"Lambda-Runtime-Function-Error-Type": document["errorType"],
                 "Content-Type": "application/json"})
    sys.exit(1)


# ---- invocations ---------------------------------------------------------------------------

def _json_default(value):
    # boto3 returns DynamoDB numbers as decimal.Decimal; AWS's runtime serialises them as JSON
    # numbers, and handlers rely on it. (Checked by name so `decimal` is never imported here.)
    if type(value).__name__ == "Decimal" and type(value).__module__ in ("decimal", "_decimal",
                                                                        "_pydecimal"):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _invoke(api, handler, status, headers, body):
    global _request_id
    if status == 410:
        sys.exit(0)  # the server is retiring this worker
    if status != 200:
        raise RuntimeApiError("GET /invocation/next answered %d: %r" % (status, body[:200]))
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    _request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)  # never leave the last invocation's behind
    try:
        deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
    except ValueError:
        deadline_ms = 0
    context = LambdaContext(
        request_id, deadline_ms, headers.get("lambda-runtime-invoked-function-arn"),
        _header_object(ClientContext, headers.get("lambda-runtime-client-context")),
        _header_object(CognitoIdentity, headers.get("lambda-runtime-cognito-identity")))

    exit_status = None
    try:
        try:
            # An empty body is the empty event `{}`: what the Lambda service substitutes when
            # Invoke is called without a payload.
            event = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise FunctionError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % exc)
        result = handler(event, context)
        try:
            payload = json.dumps(result, default=_json_default).encode()
        except (TypeError, ValueError, OverflowError) as exc:
            raise FunctionError("Runtime.MarshalError", "Unable to marshal response: %s" % exc)
    except (SystemExit, KeyboardInterrupt) as exc:
        # On AWS the process would simply die and the service report Runtime.ExitError; here
        # the runtime reports the same error itself, then honours the exit.
        error, exit_status = _exit_error(exc, request_id)
        document = _error_document(error, request_id)
    except BaseException as exc:
        document = _error_document(exc, request_id)
    else:
        _flush()
        api.request("POST", "/invocation/%s/response" % request_id, payload,
                    {"Content-Type": "application/json"})
        return
    _log_error(document)
    _flush()
    api.request("POST", "/invocation/%s/error" % request_id, json.dumps(document).encode(),
                {"Lambda-Runtime-Function-Error-Type": "Unhandled",
                 "Content-Type": "application/json"})
    if exit_status is not None:
        sys.exit(exit_status)


def main():
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    api = RuntimeApi(address)
    _set_up_sys_path()
    _install_logging()
    handler = _init(api)
    while True:
        status, headers, body = api.request("GET", "/invocation/next")
        _invoke(api, handler, status, headers, body)


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeApiError) as exc:
        sys.stderr.write("stratus runtime: the runtime API is unreachable: %s\n" % exc)
        _flush()
        sys.exit(1)
