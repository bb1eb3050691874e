"""Function URLs: `/fn/NAME/{proxy+}` reaches a function with plain HTTP (curl, a browser), with
the API Gateway v2 payload format, auth NONE or AWS_IAM (bearer token or SigV4), CORS, and the
same throttling as any invocation. Configured with boto3's Create/Get/Update/Delete/
ListFunctionUrlConfig(s) and with `url:` in function.yaml."""

from __future__ import annotations

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from lambda_helpers import create_python_function, lambda_client, raises_lambda, unique_name
from stratus_testlib import REGION, http_request, run_stratus

ECHO = """
import base64, json
def handler(event, context):
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event["isBase64Encoded"] else body.encode()
    if event["rawPath"] == "/png":
        return {"statusCode": 201, "headers": {"content-type": "image/png", "x-size": str(len(raw))},
                "cookies": ["seen=1"], "body": base64.b64encode(raw[::-1]).decode(), "isBase64Encoded": True}
    if event["rawPath"] == "/fail":
        raise RuntimeError("boom")
    if event["rawPath"] == "/bad":
        return {"statusCode": "teapot"}
    return {"event": {k: event.get(k) for k in ("version", "routeKey", "rawPath", "rawQueryString", "cookies",
                                                 "queryStringParameters", "isBase64Encoded")},
            "method": event["requestContext"]["http"]["method"],
            "sourceIp": event["requestContext"]["http"]["sourceIp"],
            "requestId": event["requestContext"]["requestId"],
            "awsRequestId": context.aws_request_id,
            "headers": event["headers"], "size": len(raw), "text": raw.decode(errors="replace")}
"""


def url_of(server, name: str, path: str = "") -> str:
    return f"{server.endpoint}/fn/{name}/{path}"


def test_url_config_lifecycle_and_api_gateway_events(server):
    client = lambda_client(server)
    name = create_python_function(client, ECHO)
    with raises_lambda("ResourceNotFoundException", 404):
        client.get_function_url_config(FunctionName=name)
    assert client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []
    created = client.create_function_url_config(FunctionName=name, AuthType="NONE",
                                                Cors={"AllowOrigins": ["https://app.example"],
                                                      "AllowMethods": ["POST"], "MaxAge": 60})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionUrl"] == url_of(server, name)
    assert created["AuthType"] == "NONE" and created["Cors"]["MaxAge"] == 60
    with raises_lambda("ResourceConflictException", 409):
        client.create_function_url_config(FunctionName=name, AuthType="NONE")
    with raises_lambda("InvalidParameterValueException", 400):
        client.update_function_url_config(FunctionName=name, AuthType="OPEN")
    assert client.get_function_url_config(FunctionName=name)["FunctionUrl"] == created["FunctionUrl"]
    assert len(client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]) == 1

    # A text body stays text; query, cookies and repeated headers follow the 2.0 format.
    reply = http_request(url_of(server, name, "items/7?q=a+b&q=c&flag"), method="POST",
                         data=b'{"hello": "world"}',
                         headers={"Content-Type": "application/json", "Cookie": "a=1; b=2", "X-Trace": "t1"})
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    out = reply.json()
    assert out["event"]["version"] == "2.0" and out["event"]["routeKey"] == "$default"
    assert out["event"]["rawPath"] == "/items/7" and out["event"]["rawQueryString"] == "q=a+b&q=c&flag"
    assert out["event"]["queryStringParameters"] == {"q": "a b,c", "flag": ""}
    assert out["event"]["cookies"] == ["a=1", "b=2"]
    assert out["event"]["isBase64Encoded"] is False and out["text"] == '{"hello": "world"}'
    assert out["method"] == "POST" and out["sourceIp"] == "127.0.0.1" and out["headers"]["x-trace"] == "t1"
    assert out["requestId"] == out["awsRequestId"] == reply.headers["x-amzn-requestid"]

    # Binary in, binary out: base64 both ways, status, headers and cookies from the result.
    png = bytes(range(256)) * 40
    reply = http_request(url_of(server, name, "png"), method="POST", data=png,
                         headers={"Content-Type": "application/octet-stream"})
    assert reply.status == 201 and reply.body == png[::-1]
    assert reply.headers["content-type"] == "image/png" and reply.headers["x-size"] == str(len(png))
    assert reply.headers["set-cookie"] == "seen=1"

    # CORS: the platform answers preflights and tags responses for allowed origins only.
    preflight = http_request(url_of(server, name), method="OPTIONS",
                             headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert preflight.headers["access-control-max-age"] == "60"
    other = http_request(url_of(server, name), headers={"Origin": "https://evil.example"})
    assert other.status == 200 and "access-control-allow-origin" not in other.headers

    # Failures answer as function URLs do.
    assert http_request(url_of(server, name, "fail")).status == 502
    assert http_request(url_of(server, name, "bad")).status == 502
    too_big = http_request(url_of(server, name), method="POST", data=b"x" * (6 * 1024 * 1024 + 1))
    assert too_big.status == 413
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    throttled = http_request(url_of(server, name))
    assert throttled.status == 429 and throttled.json()["Message"] == "Rate Exceeded."
    client.delete_function_concurrency(FunctionName=name)

    client.delete_function_url_config(FunctionName=name)
    assert http_request(url_of(server, name)).status == 404
    client.create_function_url_config(FunctionName=name, AuthType="NONE")
    client.delete_function(FunctionName=name)
    assert http_request(url_of(server, name)).status == 404


def test_iam_urls_need_the_projects_token_or_signature(server):
    owner = server.create_key(unique_name("urlown"))
    stranger = server.create_key(unique_name("urlother"))
    client = lambda_client(server, owner)
    name = create_python_function(client, "def handler(e, c):\n    return {'ok': True}\n")
    client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    url = url_of(server, name)
    assert http_request(url).status == 403
    assert http_request(url, headers={"Authorization": "Bearer nope.nope"}).status == 403
    assert http_request(url, headers={"Authorization": f"Bearer {stranger.token}"}).status == 403
    assert http_request(url, headers={"Authorization": f"Bearer {owner.token}"}).json() == {"ok": True}

    # Signed as botocore signs requests to IAM-protected function URLs.
    def signed(creds, body: bytes) -> dict:
        request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body,
                                                 headers={"Content-Type": "application/json"})
        credentials = botocore.credentials.Credentials(creds.access_key_id, creds.secret_access_key)
        botocore.auth.SigV4Auth(credentials, "lambda", REGION).add_auth(request)
        return dict(request.headers.items())

    assert http_request(url, method="POST", data=b"{}", headers=signed(owner, b"{}")).status == 200
    assert http_request(url, method="POST", data=b"{}", headers=signed(stranger, b"{}")).status == 403

    # URL names are server-wide: another project's function of the same name cannot take it.
    other_client = lambda_client(server, stranger)
    create_python_function(other_client, "def handler(e, c):\n    return 1\n", name=name)
    with raises_lambda("ResourceConflictException", 409):
        other_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    # And the stranger cannot read or delete the owner's URL configuration.
    with raises_lambda("ResourceNotFoundException", 404):
        other_client.delete_function_url_config(FunctionName=name)
    assert http_request(url, headers={"Authorization": f"Bearer {owner.token}"}).status == 200


def test_deploy_with_url_serves_curl_style_requests(server, tmp_path):
    env = server.cli_env()
    fn_dir = tmp_path / "classify"
    fn_dir.mkdir()
    name = unique_name("classify")
    (fn_dir / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\nurl: none\n")
    (fn_dir / "app.py").write_text(
        "import base64\n"
        "def handler(event, context):\n"
        "    data = base64.b64decode(event['body']) if event['isBase64Encoded'] else event['body'].encode()\n"
        "    return {'bytes': len(data), 'png': data[:4] == b'\\x89PNG'}\n")
    out = run_stratus("deploy", str(fn_dir), env=env).stdout
    assert f"url {url_of(server, name)} (auth none)" in out
    image = b"\x89PNG\r\n\x1a\n" + bytes(1000)
    reply = http_request(url_of(server, name), method="POST", data=image, headers={"Content-Type": "image/png"})
    assert reply.json() == {"bytes": len(image), "png": True}

    # Switching to bearer converges the existing URL; a bad value changes nothing.
    (fn_dir / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\nurl: public\n")
    bad = run_stratus("deploy", str(fn_dir), env=env, check=False)
    assert bad.returncode != 0 and "must be none or bearer" in bad.stderr
    assert http_request(url_of(server, name), method="POST", data=b"x").status == 200
    (fn_dir / "function.yaml").write_text(f"name: {name}\nruntime: python3.11\nhandler: app.handler\nurl: bearer\n")
    run_stratus("deploy", str(fn_dir), env=env)
    assert http_request(url_of(server, name), method="POST", data=b"x").status == 403
    token = server.admin.token
    assert http_request(url_of(server, name), method="POST", data=b"x",
                        headers={"Authorization": f"Bearer {token}"}).json()["bytes"] == 1
