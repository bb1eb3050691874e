"""Helpers for bucket-trigger tests: deploy a handler with `stratus deploy` and wait for objects."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from botocore.exceptions import ClientError

from stratus_testlib import run_stratus

S3MINI = Path(__file__).parent / "functions" / "s3mini.py"


def deploy_handler(server, tmp_path: Path, name: str, source: str, spec: str = "", check: bool = True):
    """Deploys `source` as app.py (with s3mini.py beside it) under `name`; `spec` is extra
    function.yaml text (e.g. a triggers: block)."""
    code = tmp_path / name
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(source)
    shutil.copy(S3MINI, code / "s3mini.py")
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: app.handler\ntimeout: 30\n{spec}")
    return run_stratus("deploy", str(code), env=server.cli_env(), check=check)


def wait_for_object(s3, bucket: str, key: str, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey" or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def keys(s3, bucket: str, prefix: str = "") -> list[str]:
    found, token = [], None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **extra)
        found += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return found
        token = page["NextContinuationToken"]
