"""Requests no well-behaved SDK sends: malformed XML and truncated bodies, signed by hand with
botocore's SigV4 signer and written to a raw socket. Each must get S3's error and change nothing."""

import socket
from urllib.parse import urlparse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stratus_testlib import error_code_of_xml, unique_bucket


def signed_headers(server, method: str, path: str, body: bytes, extra: dict | None = None) -> dict:
    creds = server.admin
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}", data=body, headers=dict(extra or {}))
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def raw_exchange(server, method: str, path: str, headers: dict, body: bytes,
                 half_close: bool = False) -> tuple[int, bytes]:
    """Sends the request verbatim; with half_close the body is cut short and the write side closed."""
    url = urlparse(server.endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line else 0
    return status, rest.partition(b"\r\n\r\n")[2]


def test_malformed_delete_xml_is_rejected(server, s3):
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    body = b"<Delete><Object><Key>keep</Key></Obj"
    headers = signed_headers(server, "POST", f"/{bucket}?delete", body, {"Content-Length": str(len(body))})
    status, reply = raw_exchange(server, "POST", f"/{bucket}?delete", headers, body)
    assert status == 400
    assert error_code_of_xml(reply) == "MalformedXML"
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


def test_truncated_body_is_incomplete_and_stores_nothing(server, s3):
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    announced, sent = 100_000, b"y" * 40_000
    headers = signed_headers(server, "PUT", f"/{bucket}/cut", b"", {"Content-Length": str(announced)})
    status, reply = raw_exchange(server, "PUT", f"/{bucket}/cut", headers, sent, half_close=True)
    assert status == 400
    assert error_code_of_xml(reply) == "IncompleteBody"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert not any(server.data_dir.joinpath("blobs", "tmp").iterdir()), "the partial body was removed"
