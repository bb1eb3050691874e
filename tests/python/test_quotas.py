"""Per-project quotas end to end: storage bytes and object count (S3 and the native API),
function count (Lambda and native), concurrent invocations and worker memory (Lambda), who may
set and read them (API and CLI), usage figures, and persistence across a restart."""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from lambda_helpers import create_python_function, lambda_client, raises_lambda, unique_name
from stratus_testlib import http_request, raises_s3, run_stratus, unique_bucket

MIB = 1024 * 1024
SLOW = ("import time\n"
        "def handler(e, c):\n    s = time.time(); time.sleep(e.get('sleep', 0))\n    return [s, time.time()]\n")


def api(server, method, path, token=None, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return http_request(server.endpoint + path, method=method, data=data,
                        headers={"Authorization": f"Bearer {token or server.admin.token}",
                                 "Content-Type": "application/json"})


def quota_of(server, project, token=None):
    res = api(server, "GET", f"/v1/projects/{project}/quota", token)
    assert res.status == 200, (res.status, res.body)
    return res.json()


def set_quota(server, project, *flags):
    """`stratus quota set` as the operator; returns the CLI's output."""
    return run_stratus("quota", "set", project, *flags, env=server.cli_env()).stdout


def new_project(server, prefix, role="member"):
    project = unique_name(prefix)
    return project, server.create_key(project, role)


def error_of(info):
    return info.value.response["Error"]


def test_storage_bytes_limit_refuses_then_overwrite_and_delete_free(server):
    project, key = new_project(server, "qbytes")
    out = set_quota(server, project, "--max-storage-bytes", "1000")
    assert "max_storage_bytes" in out and "1000" in out
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 600)
    with raises_s3("QuotaExceeded", 403) as info:
        s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 500)
    message = error_of(info)["Message"]
    assert "max_storage_bytes = 1000" in message and "uses 600" in message and "1100" in message, message
    with raises_s3("404", 404):
        s3.head_object(Bucket=bucket, Key="b")
    # An overwrite is charged only the difference: 600 -> 900 fits a 1000-byte limit.
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 900)
    assert quota_of(server, project, key.token)["usage"]["storage_bytes"] == 900
    with raises_s3("QuotaExceeded", 403):
        s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 101)
    s3.delete_object(Bucket=bucket, Key="a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 1000)
    usage = quota_of(server, project, key.token)["usage"]
    assert (usage["storage_bytes"], usage["objects"]) == (1000, 1)
    # The native API goes through the same store: 403 problem JSON, nothing written.
    res = api(server, "PUT", f"/v1/buckets/{bucket}/objects/c", key.token, raw=b"c")
    assert res.status == 403 and res.headers["content-type"] == "application/problem+json", res
    assert "max_storage_bytes" in res.json()["detail"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]


def test_object_count_limit_covers_put_copy_and_native(server):
    project, key = new_project(server, "qcount")
    set_quota(server, project, "--max-objects", "2")
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    with raises_s3("QuotaExceeded", 403) as info:
        s3.put_object(Bucket=bucket, Key="c", Body=b"3")
    assert "max_objects = 2" in error_of(info)["Message"]
    with raises_s3("QuotaExceeded", 403):
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "a"})
    # Overwriting an existing key (also by copy) adds no object.
    s3.put_object(Bucket=bucket, Key="a", Body=b"11")
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    assert api(server, "PUT", f"/v1/buckets/{bucket}/objects/n", key.token, raw=b"n").status == 403
    s3.delete_object(Bucket=bucket, Key="b")
    assert api(server, "PUT", f"/v1/buckets/{bucket}/objects/n", key.token, raw=b"n").status == 200
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["a", "n"]
    usage = quota_of(server, project, key.token)["usage"]
    assert (usage["objects"], usage["storage_bytes"]) == (2, 3)


def test_multipart_completion_beyond_limit_is_refused_and_completes_after_freeing(server):
    project, key = new_project(server, "qmpu")
    set_quota(server, project, "--max-storage-bytes", "10MiB")
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="filler", Body=b"f" * (5 * MIB))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = []
    for number, size in [(1, 5 * MIB), (2, MIB)]:
        etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=number,
                              Body=bytes([number]) * size)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    complete = dict(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    with raises_s3("QuotaExceeded", 403):
        s3.complete_multipart_upload(**complete)
    with raises_s3("404", 404):
        s3.head_object(Bucket=bucket, Key="big")
    assert len(s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]) == 2
    s3.delete_object(Bucket=bucket, Key="filler")
    s3.complete_multipart_upload(**complete)
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == 6 * MIB
    assert quota_of(server, project, key.token)["usage"]["storage_bytes"] == 6 * MIB


def test_concurrent_uploads_cannot_exceed_the_limit_together(server):
    project, key = new_project(server, "qrace")
    set_quota(server, project, "--max-storage-bytes", "10000")
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)

    def upload(i):
        try:
            s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * 1000)
            return "ok"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(upload, range(24)))
    assert outcomes.count("ok") == 10, outcomes
    assert outcomes.count("QuotaExceeded") == 14, outcomes
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 10
    assert quota_of(server, project, key.token)["usage"]["storage_bytes"] == 10000


def test_function_count_limit_on_lambda_and_native_deploy(server, tmp_path):
    project, key = new_project(server, "qfns")
    set_quota(server, project, "--max-functions", "1")
    client = lambda_client(server, key)
    first = create_python_function(client, SLOW)
    with raises_lambda("CodeStorageExceededException", 400) as info:
        create_python_function(client, SLOW)
    assert "max_functions = 1" in error_of(info)["Message"]
    assert [f["FunctionName"] for f in client.list_functions()["Functions"]] == [first]
    (tmp_path / "function.yaml").write_text(f"name: {unique_name()}\nruntime: python3.11\nhandler: app.handler\n")
    (tmp_path / "app.py").write_text(SLOW)
    refused = run_stratus("deploy", str(tmp_path), env=server.cli_env(token=key.token), check=False)
    assert refused.returncode != 0 and "max_functions" in refused.stderr, refused.stderr
    assert quota_of(server, project, key.token)["usage"]["functions"] == 1
    # Lifting the limit with --unset lets the same deploy through.
    set_quota(server, project, "--unset", "max-functions")
    assert quota_of(server, project)["limits"]["max_functions"] is None
    run_stratus("deploy", str(tmp_path), env=server.cli_env(token=key.token))
    assert quota_of(server, project, key.token)["usage"]["functions"] == 2


def test_function_count_limit_on_stratus_apply(server, tmp_path):
    project, key = new_project(server, "qapply")
    set_quota(server, project, "--max-functions", "1")
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\n")
        (tmp_path / name / "app.py").write_text(SLOW)
    (tmp_path / "app.yaml").write_text("application: capped\nfunctions:\n  - path: first\n  - path: second\n")
    refused = run_stratus("apply", str(tmp_path / "app.yaml"), env=server.cli_env(token=key.token), check=False,
                          timeout=120)
    assert refused.returncode != 0 and "max_functions" in refused.stderr, (refused.stdout, refused.stderr)
    assert quota_of(server, project, key.token)["usage"]["functions"] <= 1


def concurrent_invokes(client, name, count, sleep):
    """`count` synchronous invocations at once; their results or error responses."""
    barrier = threading.Barrier(count)

    def call(_):
        barrier.wait()
        try:
            return client.invoke(FunctionName=name, Payload=json.dumps({"sleep": sleep}))
        except ClientError as error:
            return error.response

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_concurrent_invocations_limit_throttles_sync_and_queues_async(server):
    project, key = new_project(server, "qconc")
    set_quota(server, project, "--max-concurrent-invocations", "1")
    client = lambda_client(server, key)
    name = create_python_function(client, SLOW)
    client.invoke(FunctionName=name, Payload=b"{}")  # warm, so the race is only about the slot
    results = concurrent_invokes(client, name, 2, 2)
    refused = [r for r in results if "Error" in r]
    assert len(refused) == 1, results
    assert refused[0]["Error"]["Code"] == "TooManyRequestsException"
    assert refused[0]["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused[0].get("Reason") == "ConcurrentInvocationLimitExceeded", refused[0]
    # Asynchronous invocations wait for the slot instead: all run, one at a time.
    ids = [client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"sleep": 0.3}))
           ["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] for _ in range(3)]
    deadline = time.time() + 30
    while True:
        records = [api(server, "GET", f"/v1/invocations/{i}", key.token).json() for i in ids]
        if all(r["state"] != "queued" for r in records) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert all(r["state"] == "succeeded" and r["attempts"] == 1 for r in records), records
    spans = sorted(json.loads(r["result"]) for r in records)
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans)), spans


def test_worker_memory_limit_refuses_a_second_worker(server):
    project, key = new_project(server, "qmem")
    set_quota(server, project, "--max-worker-memory-mb", "128")
    client = lambda_client(server, key)
    name = create_python_function(client, SLOW, MemorySize=128)
    results = concurrent_invokes(client, name, 2, 2)
    refused = [r for r in results if "Error" in r]
    assert len(refused) == 1, results
    assert refused[0]["Error"]["Code"] == "TooManyRequestsException"
    assert "max_worker_memory_mb = 128" in refused[0]["Error"]["Message"]
    # The worker that ran stays warm and keeps its memory counted.
    assert quota_of(server, project, key.token)["usage"]["worker_memory_mb"] == 128
    # Another function of the project still starts: the idle worker is stopped to make room,
    # as the global memory budget does, so the project stays within 128 MB.
    other = create_python_function(client, SLOW, MemorySize=128)
    assert json.loads(client.invoke(FunctionName=other, Payload=b"{}")["Payload"].read())
    assert quota_of(server, project, key.token)["usage"]["worker_memory_mb"] == 128


def test_only_operators_set_quotas_and_projects_read_their_own(server):
    project, admin = new_project(server, "qroles", "admin")
    reader = server.create_key(project, "read-only")
    other, stranger = new_project(server, "qother", "admin")
    # A project's own admin cannot set its quota: API 403 problem JSON, CLI non-zero exit.
    res = api(server, "PUT", f"/v1/projects/{project}/quota", admin.token, {"limits": {"max_objects": 1}})
    assert res.status == 403 and res.headers["content-type"] == "application/problem+json"
    cli = run_stratus("quota", "set", project, "--max-objects", "1", env=server.cli_env(token=admin.token),
                      check=False)
    assert cli.returncode != 0 and "operators" in cli.stderr, cli.stderr
    assert quota_of(server, project)["limits"]["max_objects"] is None
    set_quota(server, project, "--max-objects", "7", "--max-functions", "3")
    for token in (admin.token, reader.token):
        assert quota_of(server, project, token)["limits"]["max_objects"] == 7
    assert api(server, "GET", f"/v1/projects/{project}/quota", stranger.token).status == 403
    [shown] = json.loads(run_stratus("quota", "show", "--json", env=server.cli_env(token=reader.token)).stdout)
    assert shown["project"] == project and shown["limits"]["max_functions"] == 3
    table = run_stratus("quota", "show", project, env=server.cli_env(token=reader.token)).stdout
    assert "max_objects" in table and "7" in table and "unlimited" in table, table
    # Partial update keeps other limits; null removes one; garbage changes nothing.
    res = api(server, "PUT", f"/v1/projects/{project}/quota", None, {"limits": {"max_objects": None}})
    assert res.status == 200 and res.json()["limits"]["max_functions"] == 3
    assert res.json()["limits"]["max_objects"] is None
    for bad in ({"limits": {"max_functions": -1}}, {"limits": {"max_functions": "many"}},
                {"limits": {"max_buckets": 1}}, {"max_functions": 1}):
        res = api(server, "PUT", f"/v1/projects/{project}/quota", None, bad)
        assert res.status == 400 and res.headers["content-type"] == "application/problem+json", (bad, res)
    assert api(server, "PUT", f"/v1/projects/{project}/quota", raw=b"{nope").status == 400
    assert quota_of(server, project)["limits"]["max_functions"] == 3
    bad_cli = run_stratus("quota", "set", project, "--max-storage-bytes", "12parsecs", env=server.cli_env(),
                          check=False)
    assert bad_cli.returncode != 0 and "suffix" in bad_cli.stderr


def test_projects_listing_shows_usage_per_project(server):
    project, key = new_project(server, "qlist")
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x" * 123)
    everyone = json.loads(run_stratus("projects", "ls", "--json", env=server.cli_env()).stdout)
    mine = next(p for p in everyone if p["project"] == project)
    assert mine["usage"]["storage_bytes"] == 123 and mine["usage"]["objects"] == 1
    assert {p["project"] for p in everyone} >= {"admin", project}
    own = api(server, "GET", "/v1/projects", key.token).json()["projects"]
    assert [p["project"] for p in own] == [project]
    table = run_stratus("projects", "ls", env=server.cli_env(token=key.token)).stdout
    assert project in table and "123" in table


def test_quota_and_usage_survive_restart(fresh_server):
    server = fresh_server
    project, key = new_project(server, "qkeep")
    set_quota(server, project, "--max-objects", "1", "--max-concurrent-invocations", "4")
    s3 = server.client(key)
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"hello")
    server.restart()
    shown = quota_of(server, project, key.token)
    assert shown["limits"]["max_objects"] == 1 and shown["limits"]["max_concurrent_invocations"] == 4
    assert (shown["usage"]["objects"], shown["usage"]["storage_bytes"]) == (1, 5)
    with raises_s3("QuotaExceeded", 403):
        server.client(key).put_object(Bucket=bucket, Key="b", Body=b"x")
