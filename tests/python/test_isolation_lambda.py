"""Isolation through the Lambda API, function URLs and triggers: no key of project B reaches any
function of project A, and refusals are Lambda's own `ResourceNotFoundException` (they reveal
nothing), or S3's `AccessDenied` for buckets."""

from __future__ import annotations

import json
from urllib.parse import quote

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from isolation_helpers import ECHO, clients, error_code, token, world
from lambda_helpers import ROLE, create_python_function, unique_name, zip_code
from stratus_testlib import REGION, http_request, run_stratus

NOT_FOUND = ("ResourceNotFoundException", 404)
DENIED = ("AccessDeniedException", 403)


@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("isolation"))


def b_keys(w):
    return [w.b.admin, w.b.member, w.b.read_only]


def test_b_cannot_see_or_touch_as_functions(server, w):
    for creds in b_keys(w):
        lam = clients(server, creds)["lam"]
        names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
        assert w.function not in names and w.open_function not in names
        for ref in (w.function, w.function_arn, f"{w.function}:{w.version}", w.function_arn + ":" + w.version):
            assert error_code(lambda: lam.get_function(FunctionName=ref)) == NOT_FOUND, (creds.role, ref)
            assert error_code(lambda: lam.get_function_configuration(FunctionName=ref)) == NOT_FOUND
        # Invoking needs a writer's role: a read-only key is refused before any lookup, for any name.
        expected = NOT_FOUND if creds.role != "read-only" else DENIED
        assert error_code(lambda: lam.invoke(FunctionName=w.function, Payload=b"{}")) == expected
        # An ARN of another account is refused as missing before anything else, for every role.
        assert error_code(lambda: lam.invoke(FunctionName=w.function_arn, InvocationType="Event",
                                             Payload=b"{}")) == NOT_FOUND
        assert error_code(lambda: lam.invoke(FunctionName=unique_name("missing"), Payload=b"{}")) == expected
        assert error_code(lambda: lam.list_versions_by_function(FunctionName=w.function)) == NOT_FOUND
        assert error_code(lambda: lam.get_function_concurrency(FunctionName=w.function)) == NOT_FOUND
        assert error_code(lambda: lam.get_function_url_config(FunctionName=w.function)) == NOT_FOUND
        assert error_code(lambda: lam.get_function_url_config(FunctionName=w.open_function)) == NOT_FOUND
        assert error_code(lambda: lam.get_function_event_invoke_config(FunctionName=w.function)) == NOT_FOUND
        assert error_code(lambda: lam.get_event_source_mapping(UUID=w.mapping_uuid)) == NOT_FOUND
        mapped = lam.list_event_source_mappings(EventSourceArn=w.mapped_queue_arn)["EventSourceMappings"]
        assert mapped == [] and all(m["UUID"] != w.mapping_uuid for m in
                                    lam.list_event_source_mappings()["EventSourceMappings"])


def test_b_writes_to_a_functions_are_not_found_and_change_nothing(server, w):
    a = clients(server, w.a.read_only)["lam"]
    before = a.get_function(FunctionName=w.function)["Configuration"]
    for creds in (w.b.admin, w.b.member):
        lam = clients(server, creds)["lam"]
        for index, call in enumerate((
            lambda: lam.update_function_configuration(FunctionName=w.function, Timeout=3),
            lambda: lam.update_function_code(FunctionName=w.function, ZipFile=zip_code({"app.py": ECHO})),
            lambda: lam.publish_version(FunctionName=w.function),
            lambda: lam.put_function_concurrency(FunctionName=w.function, ReservedConcurrentExecutions=1),
            lambda: lam.delete_function_concurrency(FunctionName=w.function),
            lambda: lam.delete_function_url_config(FunctionName=w.open_function),
            lambda: lam.update_function_url_config(FunctionName=w.open_function, AuthType="AWS_IAM"),
            lambda: lam.put_function_event_invoke_config(FunctionName=w.function, MaximumRetryAttempts=2),
            lambda: lam.delete_function_event_invoke_config(FunctionName=w.function),
            lambda: lam.update_event_source_mapping(UUID=w.mapping_uuid, BatchSize=5),
            lambda: lam.delete_event_source_mapping(UUID=w.mapping_uuid),
            lambda: lam.delete_function(FunctionName=w.function),
        )):
            assert error_code(call) == NOT_FOUND, (creds.role, index)
    after = a.get_function(FunctionName=w.function)["Configuration"]
    assert (after["Timeout"], after["CodeSha256"], after["RevisionId"]) == (
        before["Timeout"], before["CodeSha256"], before["RevisionId"])
    assert a.get_function_concurrency(FunctionName=w.function)["ReservedConcurrentExecutions"] == 5
    assert a.get_function_url_config(FunctionName=w.open_function)["AuthType"] == "NONE"
    assert a.get_event_source_mapping(UUID=w.mapping_uuid)["BatchSize"] == 1
    assert a.get_function_event_invoke_config(FunctionName=w.function)["MaximumRetryAttempts"] == 0
    assert [v["Version"] for v in a.list_versions_by_function(FunctionName=w.function)["Versions"]] == [
        "$LATEST", w.version]


def signed(url: str, creds, body: bytes) -> dict:
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body,
                                             headers={"Content-Type": "application/json"})
    credentials = botocore.credentials.Credentials(creds.access_key_id, creds.secret_access_key)
    botocore.auth.SigV4Auth(credentials, "lambda", REGION).add_auth(request)
    return dict(request.headers.items())


def test_function_urls(server, w):
    url = f"{server.endpoint}/fn/{w.function}/"
    for creds in b_keys(w):
        assert http_request(url, method="POST", data=b"{}", headers=signed(url, creds, b"{}")).status == 403
        assert http_request(url, headers={"Authorization": f"Bearer {token(creds)}"}).status == 403
    for creds in (w.a.admin, w.a.member):
        reply = http_request(url, method="POST", data=b"{}", headers=signed(url, creds, b"{}"))
        assert reply.status == 200, (creds.role, reply.body)
    # Invoking is a write: A's read-only key may read the function but not run it.
    reply = http_request(url, method="POST", data=b"{}", headers=signed(url, w.a.read_only, b"{}"))
    assert reply.status == 403
    # An open URL is open to everyone by design: that is what AuthType NONE means.
    assert http_request(f"{server.endpoint}/fn/{w.open_function}/").status == 200


def test_presigned_code_link_is_only_given_to_the_owner(server, w):
    a = clients(server, w.a.read_only)["lam"]
    location = a.get_function(FunctionName=w.function)["Code"]["Location"]
    assert http_request(location).status == 200
    # B never gets a link, and cannot forge one for A's function from a link of its own.
    b = clients(server, w.b.member)["lam"]
    own = b.get_function(FunctionName=w.b_function)["Code"]["Location"]
    path, query = own.split("?", 1)
    forged = (path.rsplit("/", 2)[0] + f"/{quote(w.function, safe='')}/code?"
              + query.replace(quote(w.b.project, safe=""), quote(w.a.project, safe="")))
    assert forged != own and http_request(forged).status == 403


def test_b_cannot_map_or_route_to_a_resources(server, w):
    lam = clients(server, w.b.member)["lam"]
    # B's function from A's queue.
    code, status = error_code(lambda: lam.create_event_source_mapping(
        EventSourceArn=w.mapped_queue_arn, FunctionName=w.b_function, BatchSize=1))
    assert (code, status) in (NOT_FOUND, ("InvalidParameterValueException", 400)), code
    assert lam.list_event_source_mappings(FunctionName=w.b_function)["EventSourceMappings"] == []
    # A's function from B's queue, named by ARN.
    assert error_code(lambda: lam.create_event_source_mapping(
        EventSourceArn=w.b_queue_arn, FunctionName=w.function_arn)) == NOT_FOUND
    # Destinations in A's project.
    for destination in (w.events_queue_arn, w.topic_arn, w.function_arn):
        code, _ = error_code(lambda: lam.put_function_event_invoke_config(
            FunctionName=w.b_function, DestinationConfig={"OnFailure": {"Destination": destination}}))
        assert code in ("InvalidParameterValueException", "ResourceNotFoundException"), (destination, code)
    assert error_code(lambda: lam.get_function_event_invoke_config(FunctionName=w.b_function)) == NOT_FOUND


def test_bucket_triggers_cross_project(server, w, tmp_path):
    # B's function.yaml naming A's bucket is refused, and A's rules are untouched.
    name = unique_name("iso-b-trig")
    code = tmp_path / name
    code.mkdir()
    (code / "app.py").write_text(ECHO)
    (code / "function.yaml").write_text(
        f"name: {name}\nruntime: python3.11\nhandler: app.handler\ntriggers:\n  - bucket: {w.bucket}\n")
    refused = run_stratus("deploy", str(code), env=server.cli_env(token=token(w.b.member)), check=False)
    assert refused.returncode != 0 and w.bucket in refused.stderr, refused.stderr
    s3a = clients(server, w.a.member)["s3"]
    rules = s3a.get_bucket_notification_configuration(Bucket=w.bucket)
    assert [r["Id"] for r in rules.get("QueueConfigurations", [])] == ["a-rule"]
    assert rules.get("LambdaFunctionConfigurations", []) == []
    # B cannot set A's bucket notifications, even naming its own function.
    s3b = clients(server, w.b.member)["s3"]
    b_fn_arn = clients(server, w.b.member)["lam"].get_function(FunctionName=w.b_function)["Configuration"][
        "FunctionArn"]
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": b_fn_arn, "Events": ["s3:ObjectCreated:*"]}]}
    assert error_code(lambda: s3b.put_bucket_notification_configuration(
        Bucket=w.bucket, NotificationConfiguration=config)) == ("AccessDenied", 403)
    # A's bucket notification naming B's function, queue or topic is refused.
    for kind, arn_field, arn in (("LambdaFunctionConfigurations", "LambdaFunctionArn", b_fn_arn),
                                 ("QueueConfigurations", "QueueArn", w.b_queue_arn),
                                 ("TopicConfigurations", "TopicArn", w.b_topic_arn)):
        bad = {kind: [{arn_field: arn, "Events": ["s3:ObjectCreated:*"]}]}
        code, status = error_code(lambda: s3a.put_bucket_notification_configuration(
            Bucket=w.bucket, NotificationConfiguration=bad))
        assert status == 400 and code in ("InvalidArgument", "InvalidRequest"), (kind, code)
    rules = s3a.get_bucket_notification_configuration(Bucket=w.bucket)
    assert [r["Id"] for r in rules.get("QueueConfigurations", [])] == ["a-rule"]


def test_same_names_in_b_are_b_own(server, w):
    """Function names are per project: B may create one named like A's, and each sees its own."""
    lam_b = clients(server, w.b.member)["lam"]
    create_python_function(lam_b, "def handler(e, c):\n    return 'beta'\n", name=w.function)
    try:
        assert json.loads(lam_b.invoke(FunctionName=w.function)["Payload"].read()) == "beta"
        # A's ARN names A's account: it never resolves to B's function of the same name either.
        partial = ":".join(w.function_arn.split(":")[4:])  # ACCOUNT:function:NAME
        for call in (lambda: lam_b.get_function(FunctionName=w.function_arn),
                     lambda: lam_b.get_function(FunctionName=partial),
                     lambda: lam_b.invoke(FunctionName=w.function_arn, Payload=b"{}"),
                     lambda: lam_b.update_function_configuration(FunctionName=w.function_arn, Timeout=9),
                     lambda: lam_b.get_function_url_config(FunctionName=w.function_arn),
                     lambda: lam_b.delete_function(FunctionName=w.function_arn)):
            assert error_code(call) == NOT_FOUND
        assert lam_b.get_function(FunctionName=w.function)["Configuration"]["Timeout"] == 3
        own_arn = lam_b.get_function(FunctionName=w.function)["Configuration"]["FunctionArn"]
        assert own_arn != w.function_arn
        assert json.loads(lam_b.invoke(FunctionName=own_arn)["Payload"].read()) == "beta"
        a = clients(server, w.a.member)["lam"]
        reply = json.loads(a.invoke(FunctionName=w.function, Payload=b'{"k": 1}')["Payload"].read())
        assert reply == {"echo": {"k": 1}}
        # B's own function of that name does not get A's URL, schedule or mapping.
        assert error_code(lambda: lam_b.get_function_url_config(FunctionName=w.function)) == NOT_FOUND
        assert lam_b.list_event_source_mappings(FunctionName=w.function)["EventSourceMappings"] == []
    finally:
        lam_b.delete_function(FunctionName=w.function)
    assert a.get_function(FunctionName=w.function)["Configuration"]["Timeout"] == 30
    assert json.loads(a.invoke(FunctionName=w.function, Payload=b'{"k": 2}')["Payload"].read()) == {"echo": {"k": 2}}


def test_read_only_key_reads_but_cannot_write_functions(server, w):
    lam = clients(server, w.a.read_only)["lam"]
    assert w.function in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert lam.get_function_url_config(FunctionName=w.open_function)["AuthType"] == "NONE"
    denied = DENIED
    for call in (
        lambda: lam.update_function_configuration(FunctionName=w.function, Timeout=3),
        lambda: lam.publish_version(FunctionName=w.function),
        lambda: lam.put_function_concurrency(FunctionName=w.function, ReservedConcurrentExecutions=1),
        lambda: lam.delete_function_url_config(FunctionName=w.open_function),
        lambda: lam.put_function_event_invoke_config(FunctionName=w.function, MaximumRetryAttempts=2),
        lambda: lam.delete_event_source_mapping(UUID=w.mapping_uuid),
        lambda: lam.delete_function(FunctionName=w.function),
        lambda: lam.create_function(FunctionName=unique_name("ro"), Runtime="python3.11", Role=ROLE,
                                    Handler="app.handler", Code={"ZipFile": zip_code({"app.py": ECHO})}),
    ):
        assert error_code(call) == denied
    assert lam.get_function(FunctionName=w.function)["Configuration"]["Timeout"] == 30
    # Invoking is a write (it runs code and costs money), as in AWS where it needs lambda:InvokeFunction.
    assert error_code(lambda: lam.invoke(FunctionName=w.function, Payload=b"{}")) == denied
