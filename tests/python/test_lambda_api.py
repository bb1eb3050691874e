"""The Lambda management API through boto3: create, read, list, update, versions, concurrency,
delete, and the errors Lambda names. Every function here runs in the real sandbox."""

from __future__ import annotations

import base64
import hashlib
import json

from lambda_helpers import ROLE, create_python_function, lambda_client, raises_lambda, unique_name, zip_code
from stratus_testlib import http_request, unique_bucket

ECHO = "def handler(event, context):\n    return {'version': 1, 'event': event}\n"
ECHO_V2 = "def handler(event, context):\n    return {'version': 2, 'event': event}\n"


def invoke_json(client, name, payload=None, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_create_returns_lambda_configuration(server):
    client = lambda_client(server)
    package = zip_code({"app.py": ECHO})
    name = unique_name()
    config = client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                    Code={"ZipFile": package}, MemorySize=256, Timeout=7,
                                    Description="echo", Environment={"Variables": {"MODE": "test"}})
    assert config["FunctionName"] == name
    assert config["FunctionArn"].startswith("arn:aws:lambda:us-east-1:")
    assert config["FunctionArn"].endswith(f":function:{name}")
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert config["CodeSize"] == len(package)
    assert (config["MemorySize"], config["Timeout"], config["Version"]) == (256, 7, "$LATEST")
    assert config["Environment"]["Variables"] == {"MODE": "test"}
    assert config["State"] == "Active" and config["Role"] == ROLE
    fetched = client.get_function(FunctionName=name)
    assert fetched["Configuration"]["RevisionId"] == config["RevisionId"]
    # Code.Location is a presigned link, as Lambda's: it downloads the zip without credentials.
    location = fetched["Code"]["Location"]
    assert http_request(location).body == package
    assert http_request(location.replace("signature=", "signature=00")).status == 403
    assert http_request(location.split("&signature=")[0]).status in (400, 403)
    assert client.get_function_configuration(FunctionName=config["FunctionArn"])["Description"] == "echo"


def test_create_errors_change_nothing(server):
    client = lambda_client(server)
    name = create_python_function(client, ECHO)
    with raises_lambda("ResourceConflictException", 409):
        create_python_function(client, ECHO, name=name)
    bad = dict(FunctionName=unique_name(), Role=ROLE, Code={"ZipFile": zip_code({"app.py": ECHO})})
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(Runtime="java21", Handler="app.handler", **bad)
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(Runtime="python3.11", Handler="nodot", **bad)
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(Runtime="python3.11", Handler="app.handler", Timeout=901, **bad)
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(FunctionName=unique_name(), Runtime="python3.11", Role=ROLE,
                               Handler="app.handler", Code={"ZipFile": b"not a zip"})
    with raises_lambda("ResourceNotFoundException", 404):
        client.get_function(FunctionName=bad["FunctionName"])


def test_code_from_own_bucket(server):
    s3 = server.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="pkg/echo.zip", Body=zip_code({"app.py": ECHO}))
    client = lambda_client(server)
    name = unique_name()
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                           Code={"S3Bucket": bucket, "S3Key": "pkg/echo.zip"})
    _, result = invoke_json(client, name, {"x": 1})
    assert result == {"version": 1, "event": {"x": 1}}
    with raises_lambda("InvalidParameterValueException", 400):
        client.create_function(FunctionName=unique_name(), Runtime="python3.11", Role=ROLE,
                               Handler="app.handler", Code={"S3Bucket": bucket, "S3Key": "missing.zip"})


def test_versions_freeze_code_and_configuration(server):
    client = lambda_client(server)
    name = create_python_function(client, ECHO)
    first = client.publish_version(FunctionName=name)
    assert first["Version"] == "1"
    assert client.publish_version(FunctionName=name)["Version"] == "1", "nothing changed: same version"
    client.update_function_code(FunctionName=name, ZipFile=zip_code({"app.py": ECHO_V2}))
    assert invoke_json(client, name)[1]["version"] == 2
    response, result = invoke_json(client, name, Qualifier="1")
    assert result["version"] == 1 and response["ExecutedVersion"] == "1"
    second = client.publish_version(FunctionName=name)
    assert second["Version"] == "2" and second["FunctionArn"].endswith(f"{name}:2")
    assert client.get_function(FunctionName=name, Qualifier="1")["Configuration"]["CodeSha256"] == first["CodeSha256"]
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    with raises_lambda("ResourceNotFoundException", 404):
        client.get_function(FunctionName=name, Qualifier="9")


def test_update_configuration_applies_to_next_invoke(server):
    client = lambda_client(server)
    source = ("import os\n"
              "def handler(event, context):\n    return [os.environ.get('COLOR'), context.memory_limit_in_mb]\n")
    name = create_python_function(client, source, Environment={"Variables": {"COLOR": "red"}})
    assert invoke_json(client, name)[1] == ["red", "128"]
    revision = client.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    updated = client.update_function_configuration(FunctionName=name, MemorySize=512, Timeout=30,
                                                   Environment={"Variables": {"COLOR": "blue"}},
                                                   Description="recoloured", RevisionId=revision)
    assert (updated["MemorySize"], updated["Timeout"], updated["Description"]) == (512, 30, "recoloured")
    assert invoke_json(client, name)[1] == ["blue", "512"]
    with raises_lambda("PreconditionFailedException", 412):
        client.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=revision)
    with raises_lambda("InvalidParameterValueException", 400):
        client.update_function_configuration(FunctionName=name, Environment={"Variables": {"AWS_REGION": "x"}})
    assert client.get_function_configuration(FunctionName=name)["Timeout"] == 30


def test_list_functions_paginates(server):
    client = lambda_client(server)
    prefix = unique_name("ls")
    names = [create_python_function(client, ECHO, name=f"{prefix}-{i}") for i in range(3)]
    seen, marker = [], None
    for _ in range(1000):
        page = client.list_functions(MaxItems=1, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 1
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n.startswith(prefix)] == names


def test_concurrency_settings(server):
    client = lambda_client(server)
    name = create_python_function(client, ECHO)
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 0
    assert client.get_function(FunctionName=name)["Concurrency"]["ReservedConcurrentExecutions"] == 0
    with raises_lambda("TooManyRequestsException", 429):
        client.invoke(FunctionName=name, Payload=b"{}")
    client.delete_function_concurrency(FunctionName=name)
    assert invoke_json(client, name)[1]["version"] == 1


def test_delete_removes_every_version(server):
    client = lambda_client(server)
    name = create_python_function(client, ECHO, Publish=True)
    location = client.get_function(FunctionName=name, Qualifier="1")["Code"]["Location"]
    assert http_request(location).status == 200
    client.delete_function(FunctionName=name)
    assert http_request(location).status == 403
    for qualifier in (None, "1"):
        with raises_lambda("ResourceNotFoundException", 404):
            client.get_function(FunctionName=name, **({"Qualifier": qualifier} if qualifier else {}))
    with raises_lambda("ResourceNotFoundException", 404):
        client.delete_function(FunctionName=name)


def test_other_projects_cannot_see_functions(server):
    owner = lambda_client(server, server.create_key(unique_name("proj-a")))
    stranger = lambda_client(server, server.create_key(unique_name("proj-b")))
    name = create_python_function(owner, ECHO)
    with raises_lambda("ResourceNotFoundException", 404):
        stranger.get_function(FunctionName=name)
    with raises_lambda("ResourceNotFoundException", 404):
        stranger.invoke(FunctionName=name, Payload=b"{}")
    assert name not in [f["FunctionName"] for f in stranger.list_functions()["Functions"]]
    # The same name in another project is another function.
    create_python_function(stranger, ECHO_V2, name=name)
    assert invoke_json(owner, name)[1]["version"] == 1


def test_bad_signature_and_unknown_key_are_refused(server):
    from stratus_testlib import Creds
    admin = server.admin
    forged = lambda_client(server, Creds(admin.access_key_id, "wrong-secret"))
    with raises_lambda("InvalidSignatureException", 403):
        forged.list_functions()
    unknown = lambda_client(server, Creds("SKUNKNOWNKEY000000000", "x"))
    with raises_lambda("UnrecognizedClientException", 403):
        unknown.list_functions()
