"""The `aws` command line (awscli from the venv) against the real server, always with --endpoint-url."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stratus_testlib import (
    MIB,
    base_subprocess_env,
    http_request,
    multipart_etag,
    pseudo_random_bytes,
    quoted_md5,
    unique_bucket,
)

AWS = Path(sys.executable).parent / "aws"


class AwsCli:
    def __init__(self, endpoint: str, env: dict[str, str]):
        self.endpoint, self.env = endpoint, env

    def __call__(self, *args: str, check: bool = True, input: bytes | None = None,
                 ) -> subprocess.CompletedProcess:
        cmd = [str(AWS), "--endpoint-url", self.endpoint, *args]
        proc = subprocess.run(cmd, env=self.env, input=input, capture_output=True, timeout=180,
                              stdin=None if input is not None else subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\nstdout: {proc.stdout!r}\n"
                                 f"stderr: {proc.stderr!r}")
        return proc

    def text(self, *args: str) -> str:
        return self(*args).stdout.decode()

    def json(self, *args: str):
        return json.loads(self(*args, "--output", "json").stdout)


@pytest.fixture
def aws(server, tmp_path) -> AwsCli:
    if not AWS.exists():
        pytest.fail(f"aws CLI not found at {AWS}: run scripts/setup-python.sh")
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("")
    admin = server.admin
    env = base_subprocess_env(AWS_ACCESS_KEY_ID=admin.access_key_id, AWS_SECRET_ACCESS_KEY=admin.secret_access_key,
                              AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(config),
                              AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_PAGER="")
    return AwsCli(server.endpoint, env)


@pytest.fixture
def cli_bucket(aws) -> str:
    name = unique_bucket("cli")
    assert f"make_bucket: {name}" in aws.text("s3", "mb", f"s3://{name}")
    return name


def ls_recursive(aws: AwsCli, url: str) -> dict[str, int]:
    """`aws s3 ls --recursive` parsed into {key: size}."""
    listing = {}
    for line in aws.text("s3", "ls", "--recursive", url).splitlines():
        if not line.strip():
            continue
        _date, _time, size, key = line.split(maxsplit=3)
        listing[key] = int(size)
    return listing


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "top.txt": b"top level\n",
        "a/one.bin": pseudo_random_bytes("one", 3000),
        "a/b/two.bin": pseudo_random_bytes("two", 70_000),
        "a/b/c/three.json": b'{"three": 3}',
        "with space/file name.txt": b"spaces",
        "empty.dat": b"",
    }
    an_hour_ago = time.time() - 3600  # older than any upload, so sync's mtime check is unambiguous
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        os.utime(root / rel, (an_hour_ago, an_hour_ago))
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_mb_ls_rb(aws):
    name = unique_bucket("mbls")
    aws("s3", "mb", f"s3://{name}")
    assert name in aws.text("s3", "ls").split()
    assert f"remove_bucket: {name}" in aws.text("s3", "rb", f"s3://{name}")
    assert name not in aws.text("s3", "ls").split()


def test_cp_small_up_and_down(aws, cli_bucket, tmp_path):
    src = tmp_path / "hello.txt"
    src.write_bytes(b"hello from the aws cli\n")
    aws("s3", "cp", str(src), f"s3://{cli_bucket}/docs/hello.txt")
    head = aws.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "docs/hello.txt")
    assert head["ContentLength"] == src.stat().st_size
    assert head["ETag"] == quoted_md5(src.read_bytes())
    assert head["ContentType"] == "text/plain"
    dst = tmp_path / "back.txt"
    aws("s3", "cp", f"s3://{cli_bucket}/docs/hello.txt", str(dst))
    assert dst.read_bytes() == src.read_bytes()
    # Server-side copy and stdout download.
    aws("s3", "cp", f"s3://{cli_bucket}/docs/hello.txt", f"s3://{cli_bucket}/docs/copy.txt")
    assert aws("s3", "cp", f"s3://{cli_bucket}/docs/copy.txt", "-").stdout == src.read_bytes()


def test_cp_from_stdin(aws, cli_bucket):
    data = pseudo_random_bytes("stdin", 100_000)
    aws("s3", "cp", "-", f"s3://{cli_bucket}/streamed.bin", input=data)
    assert aws("s3", "cp", f"s3://{cli_bucket}/streamed.bin", "-").stdout == data


def test_cp_multipart_12mib(aws, cli_bucket, tmp_path):
    data = pseudo_random_bytes("cli-12", 12 * MIB)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{cli_bucket}/big/big.bin")
    head = aws.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "big/big.bin")
    assert head["ContentLength"] == len(data)
    # The CLI's defaults: 8 MiB threshold and 8 MiB parts, so two parts.
    assert head["ETag"] == multipart_etag([data[:8 * MIB], data[8 * MIB:]])
    dst = tmp_path / "big-back.bin"
    aws("s3", "cp", f"s3://{cli_bucket}/big/big.bin", str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_sync_both_ways_ls_and_rm(aws, cli_bucket, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    files = make_tree(src)
    aws("s3", "sync", str(src), f"s3://{cli_bucket}/tree")
    assert ls_recursive(aws, f"s3://{cli_bucket}/") == {f"tree/{k}": len(v) for k, v in files.items()}
    top = aws.text("s3", "ls", f"s3://{cli_bucket}/tree/")
    assert "PRE a/" in top and "PRE with space/" in top and "top.txt" in top
    aws("s3", "sync", f"s3://{cli_bucket}/tree", str(dst))
    assert read_tree(dst) == files

    # A second sync of an unchanged tree transfers nothing; a changed file alone is uploaded.
    assert "upload:" not in aws.text("s3", "sync", str(src), f"s3://{cli_bucket}/tree")
    (src / "a" / "one.bin").write_bytes(b"changed and shorter")
    out = aws.text("s3", "sync", str(src), f"s3://{cli_bucket}/tree")
    uploads = [line for line in out.splitlines() if line.startswith("upload:")]
    assert len(uploads) == 1 and uploads[0].endswith(f"s3://{cli_bucket}/tree/a/one.bin"), out
    (src / "top.txt").unlink()
    out = aws.text("s3", "sync", "--delete", str(src), f"s3://{cli_bucket}/tree")
    assert f"delete: s3://{cli_bucket}/tree/top.txt" in out
    aws("s3", "sync", "--delete", f"s3://{cli_bucket}/tree", str(dst))
    files.pop("top.txt")
    files["a/one.bin"] = b"changed and shorter"
    assert read_tree(dst) == files

    out = aws.text("s3", "rm", "--recursive", f"s3://{cli_bucket}/tree")
    assert out.count("delete: ") == len(files)
    assert ls_recursive(aws, f"s3://{cli_bucket}/") == {}
    aws("s3", "rb", f"s3://{cli_bucket}")


def test_presign(aws, cli_bucket, tmp_path):
    src = tmp_path / "shared.bin"
    src.write_bytes(pseudo_random_bytes("presign-cli", 5000))
    aws("s3", "cp", str(src), f"s3://{cli_bucket}/shared/obj.bin")
    url = aws.text("s3", "presign", f"s3://{cli_bucket}/shared/obj.bin", "--expires-in", "120").strip()
    assert url.startswith(aws.endpoint)
    res = http_request(url)
    assert res.status == 200 and res.body == src.read_bytes()


def test_s3api_calls(aws, cli_bucket, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes(b"s3api body")
    put = aws.json("s3api", "put-object", "--bucket", cli_bucket, "--key", "api/obj.txt", "--body", str(body),
                   "--content-type", "text/x-api", "--metadata", "owner=cli,purpose=test")
    assert put["ETag"] == quoted_md5(b"s3api body")
    head = aws.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "api/obj.txt")
    assert head["ContentLength"] == 10 and head["ContentType"] == "text/x-api"
    assert head["Metadata"] == {"owner": "cli", "purpose": "test"}
    listing = aws.json("s3api", "list-objects-v2", "--bucket", cli_bucket)
    assert [o["Key"] for o in listing["Contents"]] == ["api/obj.txt"]
    missing = aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "absent", check=False)
    assert missing.returncode != 0 and b"404" in missing.stderr


def test_errors_are_reported(aws):
    missing = unique_bucket("gone")
    proc = aws("s3", "ls", f"s3://{missing}", check=False)
    assert proc.returncode != 0 and b"NoSuchBucket" in proc.stderr
    proc = aws("s3", "mb", "s3://Invalid_Name", check=False)
    assert proc.returncode != 0 and b"InvalidBucketName" in proc.stderr


def test_versioned_bucket_with_s3api(aws, cli_bucket):
    """`aws s3api` drives versioning: enable it, overwrite, list both versions, read the old one."""
    aws("s3api", "put-bucket-versioning", "--bucket", cli_bucket,
        "--versioning-configuration", "Status=Enabled")
    assert aws.json("s3api", "get-bucket-versioning", "--bucket", cli_bucket)["Status"] == "Enabled"
    first = aws.json("s3api", "put-object", "--bucket", cli_bucket, "--key", "k", "--body", __file__)["VersionId"]
    aws("s3", "cp", "-", f"s3://{cli_bucket}/k", input=b"second")
    versions = aws.json("s3api", "list-object-versions", "--bucket", cli_bucket)["Versions"]
    assert [v["IsLatest"] for v in versions] == [True, False] and versions[1]["VersionId"] == first
    out = aws.text("s3api", "get-object", "--bucket", cli_bucket, "--key", "k", "--version-id", first, "/dev/stdout")
    assert "test_versioned_bucket_with_s3api" in out
