"""Stratus's runtime client for python3.x functions: the Lambda Runtime API, stdlib only.

One process serves one invocation at a time: import the handler once (init), then loop on
`GET /runtime/invocation/next`, call `handler(event, context)`, and post the result or the
error. Written from the public Lambda Runtime API documentation; it imports nothing heavy so
that a cold start costs little more than the interpreter itself.
"""

import http.client
import json
import os
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """A keep-alive HTTP connection to the Runtime API, reconnecting once if it was closed."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, API_PREFIX + path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response, response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise ConnectionError("unreachable")


class LambdaContext:
    __slots__ = ("aws_request_id", "function_name", "function_version", "memory_limit_in_mb",
                 "invoked_function_arn", "log_group_name", "log_stream_name", "identity",
                 "client_context", "_deadline_ms")

    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        # AWS's Python runtime passes the variable through as a string.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.invoked_function_arn = arn
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def error_document(exc, error_type=None, request_id=None):
    frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    document = {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__,
                "stackTrace": frames}
    if request_id:
        document["requestId"] = request_id
    return document


def log_error(document):
    # One record, as AWS prints it: "[ERROR] Type: message" then the traceback.
    lines = ["[ERROR] %s: %s" % (document["errorType"], document["errorMessage"])]
    if document.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in document["stackTrace"])
    sys.stderr.write("\r".join(lines) + "\n")


def flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a handler may have replaced or closed them
            pass


def load_handler(spec):
    """Imports MODULE.FUNCTION (MODULE may be a dotted or slashed path); returns the function or
    raises (error_type, message, exception)."""
    module_path, dot, function_name = spec.rpartition(".")
    if not dot or not module_path or not function_name:
        raise HandlerError("Runtime.MalformedHandlerName",
                           "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec)
    module_name = module_path.replace("/", ".")
    try:
        import importlib
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise HandlerError("Runtime.UserCodeSyntaxError",
                           "Syntax error in module '%s': %s" % (module_name, exc), exc)
    except ImportError as exc:
        raise HandlerError("Runtime.ImportModuleError",
                           "Unable to import module '%s': %s" % (module_name, exc), exc)
    # Any other exception while importing is the user's own error, reported by its own type
    # (AWS's behaviour): it propagates to the caller unchanged.
    handler = getattr(module, function_name, None)
    if handler is None:
        raise HandlerError("Runtime.HandlerNotFound",
                           "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


class HandlerError(Exception):
    def __init__(self, error_type, message, cause=None):
        super().__init__(message)
        self.error_type = error_type
        self.cause = cause


def setup_logging():
    """The root logger prints `[LEVEL]\\ttimestamp\\trequest id\\tmessage`, as on AWS (INFO and up
    by default, or AWS_LAMBDA_LOG_LEVEL)."""
    import logging

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = CURRENT_REQUEST[0]
            return True

    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())


CURRENT_REQUEST = [None]


def main():
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    if "logging" not in sys.modules:
        setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:  # HandlerError or the user's own exception at import time
        error_type = exc.error_type if isinstance(exc, HandlerError) else type(exc).__name__
        document = error_document(exc.cause or exc if isinstance(exc, HandlerError) else exc, error_type)
        document["errorMessage"] = str(exc)
        log_error(document)
        flush()
        api.request("POST", "/init/error", json.dumps(document).encode(),
                    {"Lambda-Runtime-Function-Error-Type": error_type, "Content-Type": "application/json"})
        sys.exit(1)

    while True:
        response, body = api.request("GET", "/invocation/next")
        if response.status != 200:
            sys.exit(0)  # the server is stopping this worker
        headers = response.headers
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        CURRENT_REQUEST[0] = request_id
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        client_context = headers.get("Lambda-Runtime-Client-Context")
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                                json.loads(client_context) if client_context else None,
                                json.loads(identity) if identity else None)
        # An empty body is an empty event, as the AWS runtimes treat it.
        exit_after = False
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
            try:
                payload = json.dumps(result).encode()
            except (TypeError, ValueError, OverflowError) as exc:
                raise HandlerError("Runtime.MarshalError", "Unable to marshal response: %s" % exc)
            flush()
            api.request("POST", "/invocation/%s/response" % request_id, payload,
                        {"Content-Type": "application/json"})
            continue
        except HandlerError as exc:
            document = {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": request_id,
                        "stackTrace": []}
        except (SystemExit, KeyboardInterrupt) as exc:
            document = {"errorMessage": "RequestId: %s Error: Runtime exited with error: %r" % (request_id, exc),
                        "errorType": "Runtime.ExitError", "requestId": request_id, "stackTrace": []}
            exit_after = True
        except Exception as exc:
            document = error_document(exc, request_id=request_id)
        log_error(document)
        flush()
        api.request("POST", "/invocation/%s/error" % request_id, json.dumps(document).encode(),
                    {"Lambda-Runtime-Function-Error-Type": "Unhandled", "Content-Type": "application/json"})
        if exit_after:
            sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except (ConnectionError, OSError) as exc:
        sys.stderr.write("runtime API unreachable: %s\n" % exc)
        sys.exit(1)
