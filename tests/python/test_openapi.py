"""The native API's OpenAPI 3.1 document (`GET /v1/openapi.json`): valid by
openapi-spec-validator, and good enough that a client generated from it by
openapi-python-client works against a live server, errors included. (That the document lists
exactly the router's routes is checked in Rust, next to the router: stratus-api's
`native::openapi::tests`.)"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import jsonschema
import pytest
from openapi_spec_validator import validate

from stratus_testlib import http_request, unique_bucket

PACKAGE = "stratus_native_api_client"

# Operations whose bodies openapi-python-client cannot type (it reads JSON, form and binary
# bodies): requirements.txt text, a YAML spec, a zip download. The generator leaves them out
# (or their answer untyped) with a warning; any other warning fails the test.
UNGENERATED = ("PUT /v1/environments/{hash}", "POST /v1/plan", "GET /v1/functions/{name}/code")


def fetch_document(server) -> dict:
    # Unsigned and without a token: the description of the API is public.
    answer = http_request(server.endpoint + "/v1/openapi.json")
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def test_the_document_is_valid_openapi_3_1(server):
    document = fetch_document(server)
    validate(document)  # raises on the first violation
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    for expected in [("get", "/v1/buckets"), ("put", "/v1/buckets/{bucket}"), ("get", "/v1/functions"),
                     ("put", "/v1/functions/{name}"), ("get", "/v1/openapi.json")]:
        assert expected in operations
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operation ids must be unique (generated clients name functions by them)"


def test_errors_are_the_documented_problem_document(server):
    document = fetch_document(server)
    schema = {**document["components"]["schemas"]["ProblemDocument"], "unevaluatedProperties": False}
    errors = document["paths"]["/v1/buckets"]["get"]["responses"]["4XX"]
    assert errors["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDocument"}
    for path, headers, status in [
        ("/v1/buckets", {}, 401),
        ("/v1/apps/no-such-app", {"Authorization": f"Bearer {server.admin.token}"}, 404),
        ("/v1/no/such/endpoint", {"Authorization": f"Bearer {server.admin.token}"}, 404),
    ]:
        answer = http_request(server.endpoint + path, headers=headers)
        assert answer.status == status, answer.body
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        jsonschema.validate(problem, schema)
        assert problem["status"] == status and problem["type"] == "about:blank"


@pytest.fixture(scope="session")
def generated_client(server, tmp_path_factory):
    """The package openapi-python-client generates from the live document, imported once."""
    root = tmp_path_factory.mktemp("openapi-client")
    spec = root / "openapi.json"
    spec.write_text(json.dumps(fetch_document(server)))
    # No formatter hooks: the generated code is imported, never read.
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")
    out = root / "client"
    generator = [sys.executable, "-c", "from openapi_python_client.cli import app; app()"]
    done = subprocess.run([*generator, "generate", "--path", str(spec), "--output-path", str(out),
                           "--meta", "none", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    unexpected = [w for w in warnings if not any(op in w for op in UNGENERATED)]
    assert not unexpected, output
    if not (out / "__init__.py").exists():
        pytest.fail(f"no package generated under {out}")
    out.rename(root / PACKAGE)
    sys.path.insert(0, str(root))
    return importlib.import_module(PACKAGE)


def test_a_generated_client_works_against_the_server(server, generated_client):
    api = generated_client
    client = api.AuthenticatedClient(base_url=server.endpoint, token=server.admin.token)
    create_bucket = importlib.import_module(f"{PACKAGE}.api.buckets.create_bucket")
    list_buckets = importlib.import_module(f"{PACKAGE}.api.buckets.list_buckets")
    list_functions = importlib.import_module(f"{PACKAGE}.api.functions.list_functions")
    get_app = importlib.import_module(f"{PACKAGE}.api.apps.get_app")

    name = unique_bucket("oa")
    created = create_bucket.sync_detailed(bucket=name, client=client)
    assert created.status_code == 201, created.content
    assert created.parsed.name == name and created.parsed.project == server.admin.project
    listed = list_buckets.sync(client=client)
    assert name in [bucket.name for bucket in listed.buckets]
    functions = list_functions.sync_detailed(client=client)
    assert functions.status_code == 200 and isinstance(functions.parsed.functions, list)

    missing = get_app.sync_detailed(name="no-such-app", client=client)
    assert missing.status_code == 404
    assert missing.parsed.title == "not found" and missing.parsed.status == 404
    assert "no-such-app" in missing.parsed.detail

    anonymous = api.Client(base_url=server.endpoint)
    refused = list_buckets.sync_detailed(client=anonymous)
    assert refused.status_code == 401 and refused.parsed.title == "unauthorized"
