"""Empty lists in SQS, SNS, Lambda and Logs answers, member by member as AWS sends them.

AWS is not uniform: SQS omits `Messages` (ReceiveMessage) and `QueueUrls` (ListQueues) when
there is nothing, and code written against it tests `"Messages" in resp` before indexing; SNS
ListTopics sends an empty `<Topics/>`, Lambda ListFunctions `"Functions": []` and Logs
DescribeLogGroups `"logGroups": []`, which botocore hands on as empty lists.
"""

from __future__ import annotations

import json
import uuid

import pytest

from stratus_testlib import aws_client
from test_awscli import AwsCli


@pytest.fixture
def empty_project(server):
    """Keys of a project of its own, so that nothing another test made shows up in its lists."""
    return server.create_key(f"empty-{uuid.uuid4().hex[:10]}", role="admin")


def raw_bodies(client, operation: str) -> list[bytes]:
    """The raw response bodies of `operation`, to check the wire and not only botocore's view."""
    bodies: list[bytes] = []

    def keep(http_response, **_):
        bodies.append(http_response.content)

    client.meta.events.register(f"after-call.{client.meta.service_model.service_name}.{operation}",
                                lambda **kw: keep(kw["http_response"]))
    return bodies


def test_receive_message_on_an_empty_queue_omits_messages(server, empty_project):
    sqs = aws_client(server, "sqs", empty_project)
    url = sqs.create_queue(QueueName=f"empty-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bodies = raw_bodies(sqs, "ReceiveMessage")

    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert "Messages" not in resp
    assert json.loads(bodies[-1]) == {}

    # With a message there, the member is back (so the test above can fail).
    sqs.send_message(QueueUrl=url, MessageBody="one")
    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert [m["Body"] for m in resp["Messages"]] == ["one"]
    # Once it is in flight the queue is empty again to a receiver.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_list_queues_without_a_match_omits_queue_urls(server, empty_project):
    sqs = aws_client(server, "sqs", empty_project)
    bodies = raw_bodies(sqs, "ListQueues")
    resp = sqs.list_queues()
    assert "QueueUrls" not in resp and "NextToken" not in resp
    assert json.loads(bodies[-1]) == {}

    url = sqs.create_queue(QueueName="only-one")["QueueUrl"]
    assert sqs.list_queues()["QueueUrls"] == [url]
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="no-such-prefix")


def test_the_aws_cli_prints_nothing_for_an_empty_receive(server, empty_project, aws):
    sqs = aws_client(server, "sqs", empty_project)
    url = sqs.create_queue(QueueName="cli-empty")["QueueUrl"]
    cli = AwsCli(aws.endpoint, {**aws.env, "AWS_ACCESS_KEY_ID": empty_project.access_key_id,
                                "AWS_SECRET_ACCESS_KEY": empty_project.secret_access_key})
    out = cli("sqs", "receive-message", "--queue-url", url, "--output", "json").stdout
    # What the CLI prints against AWS: no document at all, since the member is absent.
    assert out.strip() == b"", out
    sqs.send_message(QueueUrl=url, MessageBody="now one")
    got = cli.json("sqs", "receive-message", "--queue-url", url)
    assert [m["Body"] for m in got["Messages"]] == ["now one"]


def test_sns_lambda_and_logs_send_empty_lists(server, empty_project):
    sns = aws_client(server, "sns", empty_project)
    bodies = raw_bodies(sns, "ListTopics")
    assert sns.list_topics()["Topics"] == []
    assert b"<Topics" in bodies[-1]
    assert sns.list_subscriptions()["Subscriptions"] == []

    lam = aws_client(server, "lambda", empty_project)
    assert lam.list_functions()["Functions"] == []
    logs = aws_client(server, "logs", empty_project)
    assert logs.describe_log_groups()["logGroups"] == []
