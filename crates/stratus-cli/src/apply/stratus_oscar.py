"""Stratus's OSCAR script-service handler (`stratus_oscar.handler`), bundled by `stratus apply`
next to the service's `script.sh`. Standard library only: it runs on any python3.x runtime.

It does what OSCAR's FaaS supervisor does for a job:
1. for each S3 record of the event (a bucket trigger), or for the body of a `/run` or `/job`
   request, put the input file in a fresh temporary directory (`INPUT_FILE_PATH`);
2. run `script.sh` with bash, with the service's variables, `INPUT_FILE_PATH`,
   `TMP_INPUT_DIR`, `TMP_OUTPUT_DIR` and, for storage events, `STORAGE_OBJECT_KEY`,
   `EVENT_TIME` and `EVENT`; its output goes to the function log line by line;
3. upload every file the script left in `TMP_OUTPUT_DIR` to each output path
   (`bucket/prefix/RELATIVE_NAME`), keeping those that pass the output's prefix/suffix filters.

Objects move through the native API (`/v1/buckets/...`) with the function's own key, the
bearer token being `ACCESS_KEY_ID.SECRET`. Every request carries `X-Amzn-Trace-Id` from
`_X_AMZN_TRACE_ID`, so the server knows how deep in an event chain an upload is and can stop a
service whose outputs trigger itself.

A failing script or transfer fails the invocation (so a triggered run is retried and finally
dead-lettered with the reason), but only after every other record and output file was tried.
"""

import base64
import http.client
import io
import json
import mimetypes
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid
import zipfile

_LEVELS = {"NOTSET": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_STORAGE_SOURCES = ("aws:s3", "minio:s3")
# Lines of script output quoted in a failure's message (the whole output is in the log).
_TAIL_LINES = 20


def _log(level, message):
    threshold = _LEVELS.get(os.environ.get("STRATUS_OSCAR_LOG_LEVEL", "INFO").upper(), 20)
    if _LEVELS[level] >= threshold:
        print(f"[{level}] {message}", flush=True)


class Failure(Exception):
    """One or more steps failed; the message lists every one of them."""


class NativeStore:
    """The server's native object API, reached with the function's own credentials."""

    def __init__(self):
        url = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._https = url.scheme == "https"
        key = os.environ["AWS_ACCESS_KEY_ID"]
        secret = os.environ["AWS_SECRET_ACCESS_KEY"]
        self._token = f"{key}.{secret}"

    def _connection(self):
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=600)

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self._token}"}
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            headers["X-Amzn-Trace-Id"] = trace
        headers.update(extra or {})
        return headers

    @staticmethod
    def _path(bucket, key):
        quote = urllib.parse.quote
        return f"/v1/buckets/{quote(bucket, safe='')}/objects/{quote(key, safe='/')}"

    @staticmethod
    def _problem(response, what):
        body = response.read()
        try:
            detail = json.loads(body).get("detail", "")
        except ValueError:
            detail = body[:200].decode("utf-8", "replace")
        return Failure(f"{what}: {detail} ({response.status})")

    def download(self, bucket, key, destination):
        conn = self._connection()
        try:
            conn.request("GET", self._path(bucket, key), headers=self._headers())
            response = conn.getresponse()
            if response.status != 200:
                raise self._problem(response, f"downloading {bucket}/{key}")
            with open(destination, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        finally:
            conn.close()

    def upload(self, source, bucket, key):
        content_type = mimetypes.guess_type(source)[0] or "application/octet-stream"
        size = os.path.getsize(source)
        conn = self._connection()
        try:
            with open(source, "rb") as body:
                headers = self._headers({"Content-Type": content_type, "Content-Length": str(size)})
                conn.request("PUT", self._path(bucket, key), body=body, headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                raise self._problem(response, f"uploading {bucket}/{key}")
            response.read()
        finally:
            conn.close()


def _outputs():
    return json.loads(os.environ.get("STRATUS_OSCAR_OUTPUTS") or "[]")


def _selected(name, output):
    """OSCAR's output filters: the relative file name must start with one of `prefix` and end
    with one of `suffix` (an absent or empty list accepts everything)."""
    prefixes = output.get("prefix") or [""]
    suffixes = output.get("suffix") or [""]
    return any(name.startswith(p) for p in prefixes) and any(name.endswith(s) for s in suffixes)


def _output_files(output_dir):
    """Relative names of every file under `output_dir`, subdirectories included, sorted."""
    found = []
    for directory, _, names in os.walk(output_dir):
        for name in names:
            found.append(os.path.relpath(os.path.join(directory, name), output_dir))
    return sorted(found)


def _upload_outputs(store, output_dir, errors):
    for output in _outputs():
        bucket, _, prefix = output["path"].strip("/").partition("/")
        for name in _output_files(output_dir):
            if not _selected(name, output):
                continue
            key = f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name
            try:
                store.upload(os.path.join(output_dir, name), bucket, key)
                _log("INFO", f"uploaded {name} to {bucket}/{key}")
            except (Failure, OSError) as error:  # the other files still get their chance
                errors.append(str(error))
                _log("ERROR", str(error))


def _run_script(env):
    """Runs script.sh with bash; its output goes to the log as it comes. Returns the output."""
    script = os.path.join(os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()), "script.sh")
    lines = []
    proc = subprocess.Popen(["bash", script], env=env, cwd=env["TMP_INPUT_DIR"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        print(line, end="" if line.endswith("\n") else "\n", flush=True)
    status = proc.wait()
    output = "".join(lines)
    if status != 0:
        tail = "".join(lines[-_TAIL_LINES:]).rstrip()
        raise Failure(f"script.sh exited with status {status}" + (f"; its output ended with:\n{tail}" if tail else ""))
    return output


class Job:
    """One run of the script: its temporary directories and environment."""

    def __init__(self):
        self._root = tempfile.mkdtemp(prefix="oscar-")
        self.input_dir = os.path.join(self._root, "input")
        self.output_dir = os.path.join(self._root, "output")
        os.mkdir(self.input_dir)
        os.mkdir(self.output_dir)
        self.env = dict(os.environ)
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.env.update(TMP_INPUT_DIR=self.input_dir, TMP_OUTPUT_DIR=self.output_dir,
                        OSCAR_SERVICE_NAME=name, OSCAR_SERVICE_BASE_PATH="")

    def run(self, store, input_path, errors):
        """Runs the script on `input_path` and uploads its outputs; returns the script output,
        or None when the script failed (the reason is in `errors`)."""
        self.env["INPUT_FILE_PATH"] = input_path
        try:
            output = _run_script(self.env)
        except (Failure, OSError) as error:
            errors.append(str(error))
            _log("ERROR", str(error))
            return None
        _upload_outputs(store, self.output_dir, errors)
        return output

    def close(self):
        shutil.rmtree(self._root, ignore_errors=True)


def _is_storage_event(event):
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records[0], dict) and records[0].get("eventSource") in _STORAGE_SOURCES


def _process_records(store, event, errors):
    """One job per S3 record: download the object, run, upload. Returns the script outputs."""
    outputs = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        job = Job()
        try:
            job.env.update(STORAGE_OBJECT_KEY=key, EVENT_TIME=record.get("eventTime", ""),
                           EVENT=json.dumps(event))
            input_path = os.path.join(job.input_dir, os.path.basename(key) or "input")
            _log("INFO", f"downloading {bucket}/{key}")
            try:
                store.download(bucket, key, input_path)
            except (Failure, OSError) as error:
                errors.append(str(error))
                _log("ERROR", str(error))
                continue
            output = job.run(store, input_path, errors)
            if output is not None:
                outputs.append(output)
        finally:
            job.close()
    return "".join(outputs)


def _direct_input(body):
    """OSCAR's reading of a request body that is not a storage event: JSON is the input file
    as it is; anything else is base64 of the input file."""
    try:
        json.loads(body)
        return body
    except ValueError:
        try:
            return base64.b64decode(body)
        except ValueError as error:
            raise Failure(f"the request body is neither JSON nor base64: {error}") from None


def _synchronous_answer(job, output):
    """What OSCAR's /run answers: one output file base64-encoded, several as a base64 zip,
    none: the script's output."""
    names = _output_files(job.output_dir)
    if not names:
        return output
    if len(names) == 1:
        with open(os.path.join(job.output_dir, names[0]), "rb") as single:
            return base64.b64encode(single.read()).decode()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(os.path.join(job.output_dir, name), name)
    return base64.b64encode(packed.getvalue()).decode()


def _process_body(store, body, errors):
    job = Job()
    try:
        # OSCAR's name for a request body's file; unique, so concurrent runs' outputs named
        # after it never overwrite each other.
        input_path = os.path.join(job.input_dir, f"event-file-{uuid.uuid4()}")
        with open(input_path, "wb") as out:
            out.write(_direct_input(body))
        output = job.run(store, input_path, errors)
        return None if output is None else _synchronous_answer(job, output)
    finally:
        job.close()


def handler(event, context):
    """Entry point. `/run` and `/job` send `{"stratusOscar": "run"|"job", "body": BASE64}`;
    a bucket trigger sends the S3 event itself; any other JSON event is the input file."""
    store = NativeStore()
    errors = []
    if isinstance(event, dict) and "stratusOscar" in event:
        body = base64.b64decode(event.get("body", ""))
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if _is_storage_event(parsed):
            answer = _process_records(store, parsed, errors)
        else:
            answer = _process_body(store, body, errors)
    elif _is_storage_event(event):
        answer = _process_records(store, event, errors)
    else:
        answer = _process_body(store, json.dumps(event).encode(), errors)
    if errors:
        raise Failure("; ".join(errors))
    return {"body": answer}
