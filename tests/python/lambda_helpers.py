"""Helpers for the Lambda API tests: clients, in-memory zip packages, error assertions."""

from __future__ import annotations

import io
import uuid
import zipfile
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from stratus_testlib import REGION, Creds, client_config

ROLE = "arn:aws:iam::000000000000:role/lambda"


def lambda_client(server, creds: Creds | None = None):
    creds = creds or server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client("lambda", endpoint_url=server.endpoint, verify=server.verify,
                          config=client_config(read_timeout=120, signature_version="v4"))


def zip_code(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip package built in memory; `modes` sets unix permissions (e.g. an executable bootstrap)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def unique_name(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_python_function(client, source: str, name: str | None = None, handler: str = "app.handler",
                           **kwargs) -> str:
    name = name or unique_name()
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler=handler,
                           Code={"ZipFile": zip_code({"app.py": source})}, **kwargs)
    return name


@contextmanager
def raises_lambda(code: str, status: int):
    """Expects a botocore ClientError with Lambda's error code and HTTP status."""
    with pytest.raises(ClientError) as info:
        yield info
    response = info.value.response
    actual = (response.get("Error", {}).get("Code"), response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    assert actual == (code, status), f"expected {code}/{status}, got {actual}: {response.get('Error')}"
