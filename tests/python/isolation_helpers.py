"""Two tenants for the isolation tests: project A owns one of everything, project B owns a little,
and each has an admin, a member and a read-only key.

The world is built once per server (it deploys sandboxed functions, which is slow) and cached on
the server object, so every `test_isolation*.py` module shares it.
"""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python_function, lambda_client, unique_name
from sns_helpers import sns_client
from sqs_helpers import new_queue, sqs_client
from stratus_testlib import Creds, HttpResult, aws_client, http_request, run_stratus, unique_bucket, wait_until

ROLES = ("admin", "member", "read-only")

ECHO = "def handler(event, context):\n    print('isolation secret line')\n    return {'echo': event}\n"


@dataclass
class Tenant:
    project: str
    keys: dict[str, Creds]

    @property
    def admin(self) -> Creds:
        return self.keys["admin"]

    @property
    def member(self) -> Creds:
        return self.keys["member"]

    @property
    def read_only(self) -> Creds:
        return self.keys["read-only"]


@dataclass
class World:
    a: Tenant
    b: Tenant
    bucket: str = ""
    b_bucket: str = ""
    upload_id: str = ""
    function: str = ""
    function_arn: str = ""
    open_function: str = ""
    version: str = ""
    async_id: str = ""
    queue_url: str = ""
    queue_arn: str = ""
    receipt: str = ""
    events_queue_url: str = ""
    events_queue_arn: str = ""
    mapped_queue_arn: str = ""
    mapping_uuid: str = ""
    topic_arn: str = ""
    subscription_arn: str = ""
    app: str = ""
    b_function: str = ""
    b_queue_url: str = ""
    b_queue_arn: str = ""
    b_topic_arn: str = ""
    extra: dict = field(default_factory=dict)


def token(creds: Creds) -> str:
    return creds.token or f"{creds.access_key_id}.{creds.secret_access_key}"


def native(server, method: str, path: str, creds: Creds, data: bytes | None = None,
           headers: dict | None = None) -> HttpResult:
    return http_request(server.endpoint + path, method=method, data=data,
                        headers={"Authorization": f"Bearer {token(creds)}", **(headers or {})})


def assert_problem(res: HttpResult, status: int) -> dict:
    """A refusal of the native API: the status and an RFC 9457 problem document."""
    assert res.status == status, (res.status, res.body[:400])
    assert res.headers.get("content-type", "").startswith("application/problem+json"), res.headers
    return res.json()


def error_code(call) -> tuple[str, int]:
    """The (code, HTTP status) of the ClientError that `call` raises; fails if it succeeds."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def new_tenant(server, stem: str) -> Tenant:
    project = f"{stem}-{uuid.uuid4().hex[:8]}"
    return Tenant(project, {role: server.create_key(project, role) for role in ROLES})


def world(server, tmp_root: Path) -> World:
    cached = getattr(server, "_isolation_world", None)
    if cached is None:
        cached = _build(server, tmp_root)
        server._isolation_world = cached
    return cached


def _build(server, root: Path) -> World:
    w = World(a=new_tenant(server, "iso-a"), b=new_tenant(server, "iso-b"))
    a, b = w.a.member, w.b.member
    s3a, s3b = server.client(a), server.client(b)
    sqsa, snsa, lama = sqs_client(server, a), sns_client(server, a), lambda_client(server, a)

    # Messaging first: the bucket notification and the destinations point at these.
    w.queue_url, w.queue_arn = new_queue(sqsa, "iso-a")
    for n in range(3):
        sqsa.send_message(QueueUrl=w.queue_url, MessageBody=f"a-secret-{n}")
    got = sqsa.receive_message(QueueUrl=w.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    w.receipt = got["Messages"][0]["ReceiptHandle"]
    w.events_queue_url, w.events_queue_arn = new_queue(sqsa, "iso-a-events")
    _, w.mapped_queue_arn = new_queue(sqsa, "iso-a-mapped")
    w.topic_arn = snsa.create_topic(Name=f"iso-a-{uuid.uuid4().hex[:8]}")["TopicArn"]
    w.subscription_arn = snsa.subscribe(TopicArn=w.topic_arn, Protocol="sqs", Endpoint=w.events_queue_arn,
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]

    # Storage.
    w.bucket = unique_bucket("iso-a")
    s3a.create_bucket(Bucket=w.bucket)
    s3a.put_object(Bucket=w.bucket, Key="secret.txt", Body=b"alpha secret")
    s3a.put_object(Bucket=w.bucket, Key="dir/nested.txt", Body=b"nested")
    w.upload_id = s3a.create_multipart_upload(Bucket=w.bucket, Key="in-progress")["UploadId"]
    s3a.put_bucket_notification_configuration(Bucket=w.bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "a-rule", "QueueArn": w.events_queue_arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "notify/"}]}}}]})

    # Functions: one deployed with a schedule and an IAM URL, one with an open URL.
    w.function = unique_name("iso-a-fn")
    code = root / w.function
    code.mkdir(parents=True)
    (code / "app.py").write_text(ECHO)
    (code / "function.yaml").write_text(
        f"name: {w.function}\nruntime: python3.11\nhandler: app.handler\ntimeout: 30\nurl: bearer\n"
        'triggers:\n  - schedule: "rate(1 day)"\n')
    run_stratus("deploy", str(code), env=server.cli_env(token=token(a)))
    w.function_arn = lama.get_function(FunctionName=w.function)["Configuration"]["FunctionArn"]
    w.version = lama.publish_version(FunctionName=w.function)["Version"]
    lama.put_function_concurrency(FunctionName=w.function, ReservedConcurrentExecutions=5)
    lama.put_function_event_invoke_config(FunctionName=w.function, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": w.events_queue_arn}})
    w.open_function = create_python_function(lama, ECHO, name=unique_name("iso-a-open"))
    lama.create_function_url_config(FunctionName=w.open_function, AuthType="NONE")
    w.mapping_uuid = lama.create_event_source_mapping(EventSourceArn=w.mapped_queue_arn,
                                                      FunctionName=w.function, BatchSize=1)["UUID"]
    lama.invoke(FunctionName=w.function, Payload=b'{"sync": true}')
    accepted = run_stratus("invoke", w.function, "--payload", '{"async": true}', "--async",
                           env=server.cli_env(token=token(a)))
    w.async_id = accepted.stdout.strip()
    wait_until(lambda: native(server, "GET", f"/v1/invocations/{w.async_id}", a).json().get("state")
               not in (None, "queued"), what="A's async invocation")

    # An application.
    w.app = f"iso-app-{uuid.uuid4().hex[:6]}"
    app_fn = root / "appfn"
    app_fn.mkdir()
    (app_fn / "function.yaml").write_text(
        f"name: {unique_name('iso-a-appfn')}\nruntime: python3.11\nhandler: main.handler\n")
    (app_fn / "main.py").write_text("def handler(event, context):\n    return 1\n")
    app_bucket = unique_bucket("iso-a-app")
    manifest = root / "app.yaml"
    manifest.write_text(textwrap.dedent(f"""\
        application: {w.app}
        buckets: [{app_bucket}]
        functions:
          - {{path: appfn, input: {app_bucket}}}
        """))
    run_stratus("apply", str(manifest), env=server.cli_env(token=token(a)), timeout=120)
    w.extra["app_bucket"] = app_bucket

    # Project B: a bucket, a queue, a topic, a function of its own.
    w.b_bucket = unique_bucket("iso-b")
    s3b.create_bucket(Bucket=w.b_bucket)
    s3b.put_object(Bucket=w.b_bucket, Key="mine.txt", Body=b"beta data")
    w.b_queue_url, w.b_queue_arn = new_queue(sqs_client(server, b), "iso-b")
    w.b_topic_arn = sns_client(server, b).create_topic(Name=f"iso-b-{uuid.uuid4().hex[:8]}")["TopicArn"]
    w.b_function = create_python_function(lambda_client(server, b), ECHO, name=unique_name("iso-b-fn"))
    return w


def clients(server, creds: Creds) -> dict:
    """Every AWS client for one key."""
    return dict(s3=server.client(creds), lam=lambda_client(server, creds), sqs=sqs_client(server, creds),
                sns=sns_client(server, creds), logs=aws_client(server, "logs", creds))


__all__ = ["World", "Tenant", "world", "clients", "native", "assert_problem", "error_code", "token",
           "wait_until", "ECHO"]
