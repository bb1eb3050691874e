"""OSCAR script services: `stratus apply FDL.yaml` deploys each service as a function running its
script through the bundled shim; uploads matching an input trigger it, and OSCAR's `/run/NAME`
(synchronous, base64 in and out) and `/job/NAME` (asynchronous, 201) invoke it. Bad FDL files
fail with the file, field and line, and change nothing."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile

import pytest

from stratus_testlib import REPO_ROOT, http_request, run_stratus, unique_bucket
from trigger_helpers import keys, wait_for_object

UPPER = """#!/bin/bash
echo "uppercasing $(basename "$INPUT_FILE_PATH") for $OSCAR_SERVICE_NAME"
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
"""

FDL = """functions:
  oscar:
  - stratus:
      name: {name}
      memory: 256Mi
      cpu: '0.5'
      image: ghcr.io/grycap/alpine
      script: upper.sh
      log_level: INFO
      input:
      - storage_provider: minio.default
        path: {source}/in
        suffix:
        - .txt
      output:
      - storage_provider: minio.default
        path: {out}/upper
"""


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def write_service(tmp_path, fdl: str, script: str = UPPER, script_name: str = "upper.sh"):
    (tmp_path / script_name).write_text(script)
    path = tmp_path / "service.yaml"
    path.write_text(fdl)
    return path


def bearer(server, token=None) -> dict:
    return {"Authorization": f"Bearer {token or server.admin.token}"}


def post(server, path: str, body: bytes, token=None):
    return http_request(server.endpoint + path, method="POST", data=body, headers=bearer(server, token))


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def dead_letters(server, name: str) -> list[dict]:
    res = http_request(f"{server.endpoint}/v1/functions/{name}/dead-letters", headers=bearer(server))
    return res.json().get("dead_letters", [])


def function_names(server) -> list[str]:
    listed = json.loads(run_stratus("functions", "ls", "--json", env=server.cli_env()).stdout)
    return [f["name"] for f in listed]


@pytest.fixture
def service(server, tmp_path):
    """The uppercasing service, applied; yields (name, source bucket, output bucket, FDL path)."""
    name, source, out = unique_name("upper"), unique_bucket("in"), unique_bucket("out")
    path = write_service(tmp_path, FDL.format(name=name, source=source, out=out))
    first = run_stratus("apply", str(path), env=server.cli_env())
    assert f"created bucket {source}" in first.stdout and f"created bucket {out}" in first.stdout
    assert f"created service {name}" in first.stdout
    assert "image" in first.stderr  # recorded, not run: said so
    return name, source, out, path


def test_bucket_trigger_runs_the_script_on_matching_uploads(server, s3, service):
    name, source, out, path = service
    # Applying the same file again changes nothing, and says so.
    again = run_stratus("apply", str(path), env=server.cli_env())
    assert f"service {name} unchanged" in again.stdout and "nothing to change" in again.stdout

    s3.put_object(Bucket=source, Key="in/notes.md", Body=b"markdown is ignored")
    s3.put_object(Bucket=source, Key="in/x.txt", Body=b"hello, oscar")
    s3.put_object(Bucket=source, Key="in/sub dir/y z.txt", Body=b"spaces too")
    assert wait_for_object(s3, out, "upper/x.txt", timeout=60) == b"HELLO, OSCAR"
    assert wait_for_object(s3, out, "upper/y z.txt", timeout=60) == b"SPACES TOO"
    time.sleep(1)
    assert sorted(keys(s3, out)) == ["upper/x.txt", "upper/y z.txt"]  # notes.md never ran
    logs = run_stratus("logs", name, env=server.cli_env()).stdout
    assert f"uppercasing x.txt for {name}" in logs and "notes.md" not in logs


def test_run_answers_like_oscar(server, s3, service):
    name, _, out, _ = service
    # The body is base64 of the input file; the answer is base64 of the one output file.
    res = post(server, f"/run/{name}", base64.b64encode(b"synchronous input"))
    assert res.status == 200, res.body
    assert base64.b64decode(res.body) == b"SYNCHRONOUS INPUT"
    # A JSON body is the input file as it is.
    res = post(server, f"/run/{name}", b'{"message": "json"}')
    assert res.status == 200 and base64.b64decode(res.body) == b'{"MESSAGE": "JSON"}'
    # Outputs are uploaded too, named after OSCAR's event-file-UUID input.
    uploaded = keys(s3, out, "upper/event-file-")
    assert len(uploaded) == 2


def test_run_with_several_outputs_answers_a_zip_and_none_the_log(server, tmp_path):
    name, out = unique_name("multi"), unique_bucket("out")
    script = ('cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/a.txt"\nmkdir "$TMP_OUTPUT_DIR/d"\n'
              'echo two > "$TMP_OUTPUT_DIR/d/b.txt"\n')
    fdl = (f"functions:\n  oscar:\n  - c:\n      name: {name}\n      script: s.sh\n"
           f"      output:\n      - storage_provider: minio\n        path: {out}\n")
    run_stratus("apply", str(write_service(tmp_path, fdl, script, "s.sh")), env=server.cli_env())
    res = post(server, f"/run/{name}", base64.b64encode(b"one"))
    assert res.status == 200, res.body
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(res.body)))
    assert sorted(archive.namelist()) == ["a.txt", "d/b.txt"]
    assert archive.read("a.txt") == b"one" and archive.read("d/b.txt") == b"two\n"

    quiet, echo = unique_name("echo"), tmp_path / "echo"
    echo.mkdir()
    fdl = f"functions:\n  oscar:\n  - c:\n      name: {quiet}\n      script: e.sh\n"
    run_stratus("apply", str(write_service(echo, fdl, 'echo "said: $(cat "$INPUT_FILE_PATH")"\n', "e.sh")),
                env=server.cli_env())
    res = post(server, f"/run/{quiet}", base64.b64encode(b"hi"))
    assert res.status == 200 and res.body == b"said: hi\n"


def test_job_queues_a_durable_invocation(server, s3, service):
    name, _, out, _ = service
    res = post(server, f"/job/{name}", base64.b64encode(b"asynchronous input"))
    assert res.status == 201 and res.body == b"", res.body
    invocation = res.headers["x-stratus-invocation-id"]

    def finished():
        record = http_request(f"{server.endpoint}/v1/invocations/{invocation}", headers=bearer(server)).json()
        return record if record["state"] != "queued" else None

    assert wait_for(finished, what="the job")["state"] == "succeeded"
    [key] = keys(s3, out, "upper/event-file-")
    assert s3.get_object(Bucket=out, Key=key)["Body"].read() == b"ASYNCHRONOUS INPUT"


def test_run_and_job_refusals(server, tmp_path):
    missing = post(server, "/run/no-such-service", b"x")
    assert missing.status == 404 and missing.headers["content-type"] == "application/problem+json"
    assert "no-such-service" in missing.json()["detail"]
    assert post(server, "/job/no-such-service", b"x").status == 404
    unauthenticated = http_request(server.endpoint + "/run/whatever", method="POST", data=b"x")
    assert unauthenticated.status == 401
    assert http_request(server.endpoint + "/run/whatever", headers=bearer(server)).status == 405
    # An ordinary function is not a script service.
    code = tmp_path / "plain"
    code.mkdir()
    plain = unique_name("plain")
    (code / "function.yaml").write_text(f"name: {plain}\nruntime: python3.11\nhandler: app.handler\n")
    (code / "app.py").write_text("def handler(e, c):\n    return {'body': 'not oscar'}\n")
    run_stratus("deploy", str(code), env=server.cli_env())
    assert post(server, f"/run/{plain}", b"x").status == 404
    # Another project's token cannot see the project's services.
    other = server.create_key(unique_name("proj"))
    assert post(server, f"/run/{plain}", b"x", token=other.token).status == 404


def test_failing_scripts_fail_the_invocation_and_other_outputs_still_upload(server, s3, tmp_path):
    name, source, gone, kept = unique_name("fail"), unique_bucket("in"), unique_bucket("gone"), unique_bucket("kept")
    script = 'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/"\necho "about to fail"\ngrep -q ok "$INPUT_FILE_PATH" || exit 3\n'
    fdl = (f"functions:\n  oscar:\n  - c:\n      name: {name}\n      script: f.sh\n"
           f"      input:\n      - storage_provider: minio\n        path: {source}/in\n"
           f"      output:\n      - storage_provider: minio\n        path: {gone}/first\n"
           f"      - storage_provider: minio\n        path: {kept}/second\n")
    run_stratus("apply", str(write_service(tmp_path, fdl, script, "f.sh")), env=server.cli_env())

    # A non-zero exit: /run answers 502 with the reason; a triggered run dead-letters with it.
    failed = post(server, f"/run/{name}", base64.b64encode(b"not good"))
    assert failed.status == 502 and "exited with status 3" in failed.json()["detail"]
    assert "about to fail" in failed.json()["detail"]
    s3.put_object(Bucket=source, Key="in/bad.txt", Body=b"nope")
    [letter] = wait_for(lambda: dead_letters(server, name), what="a dead letter")
    assert letter["attempts"] == 3 and "exited with status 3" in letter["result"]

    # One output path failing (its bucket is gone) does not stop the other's upload.
    s3.delete_bucket(Bucket=gone)
    s3.put_object(Bucket=source, Key="in/fine.txt", Body=b"ok then")
    assert wait_for_object(s3, kept, "second/fine.txt") == b"ok then"
    letters = wait_for(lambda: len(dead_letters(server, name)) == 2 and dead_letters(server, name),
                       what="a second dead letter")
    assert any(f"uploading {gone}/first/fine.txt" in d["result"] for d in letters)


def test_outputs_into_the_input_stop_after_16_hops(server, s3, tmp_path):
    """The shim sends _X_AMZN_TRACE_ID back as X-Amzn-Trace-Id, so a service whose output
    triggers itself is stopped by the server's recursion guard."""
    name, bucket = unique_name("loop"), unique_bucket("loop")
    fdl = (f"functions:\n  oscar:\n  - c:\n      name: {name}\n      script: l.sh\n"
           f"      input:\n      - storage_provider: minio\n        path: {bucket}/loop\n"
           f"      output:\n      - storage_provider: minio\n        path: {bucket}/loop\n")
    script = 'n=$(cat "$INPUT_FILE_PATH"); echo $((n + 1)) > "$TMP_OUTPUT_DIR/$((n + 1))"\n'
    run_stratus("apply", str(write_service(tmp_path, fdl, script, "l.sh")), env=server.cli_env())
    s3.put_object(Bucket=bucket, Key="loop/0", Body=b"0")
    [letter] = wait_for(lambda: dead_letters(server, name), timeout=120, what="the loop to stop")
    assert "recursive" in letter["error"]
    assert len(keys(s3, bucket)) == 17


# --- bad input: the message names the file, the field and where; nothing is created -------------

BAD_CASES = {
    "unknown field": (lambda f: f.replace("log_level: INFO", "log_levle: INFO"), ["log_levle", "line 9"]),
    "unsupported OSCAR field": (lambda f: f.replace("log_level: INFO", "expose:\n        api_port: 80"),
                                ["expose", "not supported"]),
    "missing script": (lambda f: f.replace("script: upper.sh", "script: missing.sh"),
                       [".script", "missing.sh", "line 8"]),
    "unknown storage provider": (lambda f: f.replace("minio.default\n        path: {out}",
                                                     "s3.aws\n        path: {out}"),
                                 ["storage_provider", "s3.aws", "line 16"]),
    "bad memory": (lambda f: f.replace("256Mi", "256MB"), ["memory", "256MB", "line 5"]),
    "bad bucket in a path": (lambda f: f.replace("{out}/upper", "Not_A_Bucket/upper"),
                             ["Not_A_Bucket", "line 17"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_fdl_names_the_field_and_changes_nothing(server, s3, tmp_path, case):
    edit, expected = BAD_CASES[case]
    name, source, out = unique_name("bad"), unique_bucket("in"), unique_bucket("out")
    fdl = edit(FDL).format(name=name, source=source, out=out)
    path = write_service(tmp_path, fdl)
    failed = run_stratus("apply", str(path), env=server.cli_env(), check=False)
    assert failed.returncode != 0
    assert str(path) in failed.stderr
    for text in expected:
        assert text in failed.stderr, (text, failed.stderr)
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert source not in buckets and out not in buckets
    assert name not in function_names(server)


def test_an_output_into_another_projects_bucket_changes_nothing(server, s3, tmp_path):
    theirs = unique_bucket("theirs")
    other = server.create_key(unique_name("proj"))
    server.client(other).create_bucket(Bucket=theirs)
    name, source = unique_name("bad"), unique_bucket("in")
    path = write_service(tmp_path, FDL.format(name=name, source=source, out=theirs))
    failed = run_stratus("apply", str(path), env=server.cli_env(), check=False)
    assert failed.returncode != 0
    assert str(path) in failed.stderr and "output[0].path" in failed.stderr and theirs in failed.stderr
    assert source not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name not in function_names(server)


def test_a_service_cannot_replace_an_ordinary_function(server, s3, tmp_path):
    code = tmp_path / "plain"
    code.mkdir()
    name = unique_name("taken")
    (code / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\n")
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    run_stratus("deploy", str(code), env=server.cli_env())
    source, out = unique_bucket("in"), unique_bucket("out")
    failed = run_stratus("apply", str(write_service(tmp_path, FDL.format(name=name, source=source, out=out))),
                         env=server.cli_env(), check=False)
    assert failed.returncode != 0 and "ordinary function" in failed.stderr and ".name" in failed.stderr
    assert source not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_the_example_applies_and_runs(fresh_server):
    example = REPO_ROOT / "examples" / "oscar" / "upper.yaml"
    env = fresh_server.cli_env()
    assert "created service upper" in run_stratus("apply", str(example), env=env).stdout
    s3 = fresh_server.client()
    s3.put_object(Bucket="oscar-in", Key="in/hello.txt", Body=b"hello")
    assert wait_for_object(s3, "oscar-out", "upper/hello.txt") == b"HELLO"
    res = post(fresh_server, "/run/upper", base64.b64encode(b"run"))
    assert base64.b64decode(res.body) == b"RUN"


def test_apply_json_reports_each_service(server, s3, service):
    name, _source, _out, path = service
    unchanged = run_stratus("apply", str(path), "--json", env=server.cli_env())
    document = json.loads(unchanged.stdout)
    assert document["services"] == {name: "unchanged"} and document["buckets_created"] == [], document
    assert "nothing to change" in unchanged.stderr
    (path.parent / "upper.sh").write_text('tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/x"\n')
    updated = json.loads(run_stratus("apply", str(path), "--json", env=server.cli_env()).stdout)
    assert updated["services"] == {name: "updated"}, updated


def test_reapplying_a_changed_file_updates_the_service(server, s3, service):
    name, source, out, path = service
    path.write_text(path.read_text().replace("- .txt", "- .csv"))
    (path.parent / "upper.sh").write_text(
        'rev "$INPUT_FILE_PATH" | tr a-z A-Z > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"\n')
    updated = run_stratus("apply", str(path), env=server.cli_env())
    assert f"updated service {name}" in updated.stdout and "created bucket" not in updated.stdout
    s3.put_object(Bucket=source, Key="in/old.txt", Body=b"ignored now")
    s3.put_object(Bucket=source, Key="in/data.csv", Body=b"a,b")
    assert wait_for_object(s3, out, "upper/data.csv") == b"B,A"
    time.sleep(1)
    assert keys(s3, out) == ["upper/data.csv"]
    assert "nothing to change" in run_stratus("apply", str(path), env=server.cli_env()).stdout
