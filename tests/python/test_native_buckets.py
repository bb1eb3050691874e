"""The native bucket and object API under /v1/buckets, `stratus buckets` and `stratus cp`,
cross-checked through S3 (boto3): both APIs are views of the same store."""

from __future__ import annotations

import urllib.parse

from stratus_testlib import account_id, aws_client, http_request, run_stratus, unique_bucket


def native(server, method, path, data=None, token=None, headers=None):
    headers = {"Authorization": f"Bearer {token or server.admin.token}", **(headers or {})}
    return http_request(server.endpoint + path, method=method, data=data, headers=headers)


def object_path(bucket, key):
    return f"/v1/buckets/{bucket}/objects/{urllib.parse.quote(key)}"


def test_bucket_lifecycle_is_idempotent_and_tenant_scoped(server):
    name = unique_bucket("nb")
    created = native(server, "PUT", f"/v1/buckets/{name}")
    assert created.status == 201 and created.json()["name"] == name
    again = native(server, "PUT", f"/v1/buckets/{name}")
    assert again.status == 200, again.body
    assert name in [b["name"] for b in native(server, "GET", "/v1/buckets").json()["buckets"]]

    other = server.create_key(f"other-{name}")
    taken = native(server, "PUT", f"/v1/buckets/{name}", token=other.token)
    assert taken.status == 409 and taken.headers["content-type"] == "application/problem+json"
    assert "another project" in taken.json()["detail"]
    assert name not in [b["name"] for b in native(server, "GET", "/v1/buckets", token=other.token).json()["buckets"]]
    denied = native(server, "GET", object_path(name, "x"), token=other.token)
    assert denied.status == 403, denied.body

    bad = native(server, "PUT", "/v1/buckets/Bad_Name")
    assert bad.status == 400 and "invalid bucket name" in bad.json()["detail"]
    assert native(server, "PUT", object_path(name, "k"), data=b"v").status == 200
    full = native(server, "DELETE", f"/v1/buckets/{name}")
    assert full.status == 409 and full.json()["title"] == "conflict"
    assert native(server, "DELETE", object_path(name, "k")).status == 204
    assert native(server, "DELETE", f"/v1/buckets/{name}").status == 204
    assert native(server, "GET", f"/v1/buckets/{name}/objects").status == 404


def test_objects_cross_check_with_s3(server, s3):
    name = unique_bucket("nb")
    assert native(server, "PUT", f"/v1/buckets/{name}").status == 201
    key = "dir/with space+plus.txt"
    put = native(server, "PUT", object_path(name, key), data=b"native bytes",
                 headers={"Content-Type": "text/plain"})
    assert put.status == 200 and put.json()["size"] == 12
    # Through S3: the same object, the same ETag and content type.
    got = s3.get_object(Bucket=name, Key=key)
    assert got["Body"].read() == b"native bytes" and got["ContentType"] == "text/plain"
    assert got["ETag"].strip('"') == put.json()["etag"]

    big = bytes(range(256)) * 400  # over the inline limit: a blob file
    s3.put_object(Bucket=name, Key="from-s3.bin", Body=big)
    read = native(server, "GET", object_path(name, "from-s3.bin"))
    assert read.status == 200 and read.body == big
    assert read.headers["etag"] == s3.head_object(Bucket=name, Key="from-s3.bin")["ETag"]

    listed = native(server, "GET", f"/v1/buckets/{name}/objects?prefix=dir/").json()
    assert [o["key"] for o in listed["objects"]] == [key] and listed["next_after"] is None
    page = native(server, "GET", f"/v1/buckets/{name}/objects?limit=1").json()
    assert len(page["objects"]) == 1 and page["next_after"] == page["objects"][0]["key"]
    rest = native(server, "GET", f"/v1/buckets/{name}/objects?after={urllib.parse.quote(page['next_after'])}").json()
    assert len(rest["objects"]) == 1 and rest["next_after"] is None

    conditional = native(server, "PUT", object_path(name, key), data=b"x", headers={"If-None-Match": "*"})
    assert conditional.status == 412
    missing = native(server, "GET", object_path(name, "nope"))
    assert missing.status == 404 and missing.headers["content-type"] == "application/problem+json"
    assert native(server, "DELETE", object_path(name, key)).status == 204
    assert "Contents" not in s3.list_objects_v2(Bucket=name, Prefix="dir/")


def test_uploads_through_the_native_api_raise_events(server):
    """Outbox events (hence notifications and bucket triggers) come from the store, so a native
    PUT produces the same S3 event as an S3 PUT."""
    name = unique_bucket("nb")
    native(server, "PUT", f"/v1/buckets/{name}")
    aws_client(server, "sqs").create_queue(QueueName="q")
    server.client().put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:us-east-1:{account_id(server.admin.project)}:q",
                                 "Events": ["s3:ObjectCreated:*"]}]})
    native(server, "PUT", object_path(name, "a b.txt"), data=b"hi")
    events = [e for e in server.events() if e["bucket"] == name]
    assert [e["event_name"] for e in events] == ["s3:ObjectCreated:Put"]
    assert events[0]["payload"]["Records"][0]["s3"]["object"]["key"] == "a+b.txt"


def test_cli_buckets_and_cp(server, tmp_path):
    env = server.cli_env()
    name = unique_bucket("cli")
    assert f"created {name}" in run_stratus("buckets", "mk", name, env=env).stdout
    assert "already exists" in run_stratus("buckets", "mk", name, env=env).stdout
    assert name in run_stratus("buckets", "ls", env=env).stdout.split()
    src = tmp_path / "in.txt"
    src.write_bytes(b"copied through the CLI")
    run_stratus("cp", str(src), f"{name}/docs/in.txt", env=env)
    listing = run_stratus("buckets", "ls", f"{name}/docs/", env=env).stdout
    assert "docs/in.txt" in listing
    out = tmp_path / "out.txt"
    run_stratus("cp", f"{name}/docs/in.txt", str(out), env=env)
    assert out.read_bytes() == b"copied through the CLI"
    assert run_stratus("cp", f"s3://{name}/docs/in.txt", "-", env=env).stdout == "copied through the CLI"
    failed = run_stratus("buckets", "rm", name, env=env, check=False)
    assert failed.returncode != 0 and "not empty" in failed.stderr
