"""Isolation through SQS and SNS: no key of project B can find, send to, receive from, change or
subscribe to project A's queues and topics, and deliveries resolve names in the owner's project,
so a same-named queue of another project never receives A's messages."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from isolation_helpers import clients, error_code, world
from sqs_helpers import drain, queue_arn
from stratus_testlib import unique_bucket

NO_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
SNS_NOT_FOUND = ("NotFound", 404)


@pytest.fixture(scope="module")
def w(server, tmp_path_factory):
    return world(server, tmp_path_factory.mktemp("isolation"))


def b_keys(w):
    return [w.b.admin, w.b.member, w.b.read_only]


def queue_name_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def sqs_refused(call) -> str:
    code, status = error_code(call)
    assert status == 400, (code, status)
    return code


def test_b_cannot_find_or_read_a_queues(server, w):
    for creds in b_keys(w):
        sqs = clients(server, creds)["sqs"]
        assert w.queue_url not in sqs.list_queues().get("QueueUrls", [])
        assert sqs.list_queues(QueueNamePrefix="iso-a").get("QueueUrls", []) == []
        assert sqs_refused(lambda: sqs.get_queue_url(QueueName=queue_name_of(w.queue_url))) == NO_QUEUE
        a_account = w.queue_arn.split(":")[4]
        assert sqs_refused(lambda: sqs.get_queue_url(QueueName=queue_name_of(w.queue_url),
                                                     QueueOwnerAWSAccountId=a_account)) == NO_QUEUE
        assert sqs_refused(lambda: sqs.get_queue_attributes(QueueUrl=w.queue_url,
                                                            AttributeNames=["All"])) == NO_QUEUE
        assert sqs_refused(lambda: sqs.list_queue_tags(QueueUrl=w.queue_url)) == NO_QUEUE
        assert sqs_refused(lambda: sqs.list_dead_letter_source_queues(QueueUrl=w.queue_url)) == NO_QUEUE


def test_b_cannot_write_a_queues(server, w):
    sqs = clients(server, w.b.member)["sqs"]
    own = w.b_queue_url
    for call in (
        lambda: sqs.receive_message(QueueUrl=w.queue_url),
        lambda: sqs.send_message(QueueUrl=w.queue_url, MessageBody="planted"),
        lambda: sqs.send_message_batch(QueueUrl=w.queue_url, Entries=[{"Id": "1", "MessageBody": "planted"}]),
        lambda: sqs.delete_message(QueueUrl=w.queue_url, ReceiptHandle=w.receipt),
        lambda: sqs.change_message_visibility(QueueUrl=w.queue_url, ReceiptHandle=w.receipt,
                                              VisibilityTimeout=0),
        lambda: sqs.purge_queue(QueueUrl=w.queue_url),
        lambda: sqs.set_queue_attributes(QueueUrl=w.queue_url, Attributes={"VisibilityTimeout": "1"}),
        lambda: sqs.tag_queue(QueueUrl=w.queue_url, Tags={"owner": "b"}),
        lambda: sqs.untag_queue(QueueUrl=w.queue_url, TagKeys=["owner"]),
        lambda: sqs.delete_queue(QueueUrl=w.queue_url),
    ):
        assert sqs_refused(call) == NO_QUEUE
    # A's receipt handle used on B's own queue does not reach A's message either.
    code = sqs_refused(lambda: sqs.delete_message(QueueUrl=own, ReceiptHandle=w.receipt))
    assert code in ("ReceiptHandleIsInvalid", "InvalidParameterValue"), code
    code = sqs_refused(lambda: sqs.change_message_visibility(QueueUrl=own, ReceiptHandle=w.receipt,
                                                             VisibilityTimeout=0))
    assert code in ("ReceiptHandleIsInvalid", "InvalidParameterValue", "MessageNotInflight"), code
    # B's queue redriving into A's queue is refused.
    redrive = json.dumps({"deadLetterTargetArn": w.queue_arn, "maxReceiveCount": "2"})
    assert sqs_refused(lambda: sqs.set_queue_attributes(QueueUrl=own, Attributes={"RedrivePolicy": redrive})) in (
        NO_QUEUE, "InvalidParameterValue", "InvalidAttributeValue")
    # A's queue is as A left it: two visible messages, one in flight, attributes unchanged.
    sqsa = clients(server, w.a.read_only)["sqs"]
    attrs = sqsa.get_queue_attributes(QueueUrl=w.queue_url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("2", "1")
    assert attrs["VisibilityTimeout"] == "30"
    assert sqsa.list_queue_tags(QueueUrl=w.queue_url).get("Tags", {}) == {}


def test_b_cannot_see_or_use_a_topics(server, w):
    for creds in b_keys(w):
        sns = clients(server, creds)["sns"]
        assert w.topic_arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
        assert w.subscription_arn not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
        assert error_code(lambda: sns.get_topic_attributes(TopicArn=w.topic_arn)) == SNS_NOT_FOUND
        assert error_code(lambda: sns.list_subscriptions_by_topic(TopicArn=w.topic_arn)) == SNS_NOT_FOUND
        assert error_code(lambda: sns.get_subscription_attributes(
            SubscriptionArn=w.subscription_arn)) == SNS_NOT_FOUND
    sns = clients(server, w.b.member)["sns"]
    for index, call in enumerate((
        lambda: sns.publish(TopicArn=w.topic_arn, Message="planted"),
        lambda: sns.set_topic_attributes(TopicArn=w.topic_arn, AttributeName="DisplayName", AttributeValue="b"),
        lambda: sns.subscribe(TopicArn=w.topic_arn, Protocol="sqs", Endpoint=w.b_queue_arn),
        lambda: sns.unsubscribe(SubscriptionArn=w.subscription_arn),
        lambda: sns.set_subscription_attributes(SubscriptionArn=w.subscription_arn,
                                                AttributeName="RawMessageDelivery", AttributeValue="true"),
    )):
        assert error_code(call) == SNS_NOT_FOUND, index
    # DeleteTopic succeeds for a topic that does not exist (SNS's idempotence): for B, A's topic
    # is one of those, so the call answers as for any absent topic and deletes nothing.
    sns.delete_topic(TopicArn=w.topic_arn)
    # B's topic delivering into A's queue is refused.
    code, status = error_code(lambda: sns.subscribe(TopicArn=w.b_topic_arn, Protocol="sqs",
                                                    Endpoint=w.queue_arn))
    assert status in (400, 404) and code in ("InvalidParameter", "NotFound"), code
    assert sns.list_subscriptions_by_topic(TopicArn=w.b_topic_arn)["Subscriptions"] == []
    snsa = clients(server, w.a.read_only)["sns"]
    subs = snsa.list_subscriptions_by_topic(TopicArn=w.topic_arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == [w.subscription_arn]
    assert snsa.get_topic_attributes(TopicArn=w.topic_arn)["Attributes"].get("DisplayName", "") == ""
    # A topic of B with the same name has B's ARN; A's ARN still names A's topic only.
    namesake = sns.create_topic(Name=w.topic_arn.rsplit(":", 1)[1])["TopicArn"]
    assert namesake != w.topic_arn
    assert error_code(lambda: sns.publish(TopicArn=w.topic_arn, Message="planted")) == SNS_NOT_FOUND
    assert error_code(lambda: sns.subscribe(TopicArn=w.topic_arn, Protocol="sqs",
                                            Endpoint=w.b_queue_arn)) == SNS_NOT_FOUND
    sns.delete_topic(TopicArn=namesake)


def test_read_only_key_reads_but_cannot_write_messaging(server, w):
    ro = clients(server, w.a.read_only)
    sqs, sns = ro["sqs"], ro["sns"]
    assert w.queue_url in sqs.list_queues().get("QueueUrls", [])
    assert sqs.get_queue_url(QueueName=queue_name_of(w.queue_url))["QueueUrl"] == w.queue_url
    assert w.topic_arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    for call in (
        lambda: sqs.send_message(QueueUrl=w.queue_url, MessageBody="ro"),
        # Receiving changes the queue (it hides and counts the message): a write, as in SQS's IAM.
        lambda: sqs.receive_message(QueueUrl=w.queue_url),
        lambda: sqs.delete_message(QueueUrl=w.queue_url, ReceiptHandle=w.receipt),
        lambda: sqs.purge_queue(QueueUrl=w.queue_url),
        lambda: sqs.set_queue_attributes(QueueUrl=w.queue_url, Attributes={"VisibilityTimeout": "1"}),
        lambda: sqs.create_queue(QueueName=f"ro-{uuid.uuid4().hex[:8]}"),
        lambda: sqs.delete_queue(QueueUrl=w.queue_url),
    ):
        assert error_code(call) == ("AccessDenied", 403)
    for call in (
        lambda: sns.publish(TopicArn=w.topic_arn, Message="ro"),
        lambda: sns.create_topic(Name=f"ro-{uuid.uuid4().hex[:8]}"),
        lambda: sns.subscribe(TopicArn=w.topic_arn, Protocol="sqs", Endpoint=w.queue_arn),
        lambda: sns.unsubscribe(SubscriptionArn=w.subscription_arn),
        lambda: sns.set_topic_attributes(TopicArn=w.topic_arn, AttributeName="DisplayName", AttributeValue="ro"),
        lambda: sns.delete_topic(TopicArn=w.topic_arn),
    ):
        assert error_code(call) == ("AuthorizationError", 403)
    attrs = sqs.get_queue_attributes(QueueUrl=w.queue_url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["VisibilityTimeout"]) == ("2", "30")
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=w.topic_arn)["Subscriptions"]] \
        == [w.subscription_arn]


def test_subscriptions_deliver_only_to_the_owner_project(server, w):
    """A subscription names a queue by ARN, and an ARN carries the project's account: a queue of
    the same name in B, or one recreated by B after A deleted its own, never gets A's messages."""
    a, b = clients(server, w.a.member), clients(server, w.b.member)
    name = f"iso-shared-{uuid.uuid4().hex[:8]}"
    a_url = a["sqs"].create_queue(QueueName=name)["QueueUrl"]
    b_url = b["sqs"].create_queue(QueueName=name)["QueueUrl"]
    a_arn, b_arn = queue_arn(a["sqs"], a_url), queue_arn(b["sqs"], b_url)
    assert a_arn != b_arn and a_arn.split(":")[5] == b_arn.split(":")[5] == name
    topic = a["sns"].create_topic(Name=f"iso-deliver-{uuid.uuid4().hex[:8]}")["TopicArn"]
    a["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a_arn, Attributes={"RawMessageDelivery": "true"})
    bucket = unique_bucket("iso-a-notify")
    a["s3"].create_bucket(Bucket=bucket)
    a["s3"].put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": a_arn, "Events": ["s3:ObjectCreated:*"]}]})
    a["sns"].publish(TopicArn=topic, Message="first")
    a["s3"].put_object(Bucket=bucket, Key="first.txt", Body=b"x")
    assert len(drain(a["sqs"], a_url, 2)) == 2
    # A deletes its queue; B's queue of the same name (also recreated after the deletion) must
    # not receive what A's subscription or A's bucket notification carries.
    a["sqs"].delete_queue(QueueUrl=a_url)
    b["sqs"].delete_queue(QueueUrl=b_url)
    b_url = b["sqs"].create_queue(QueueName=name)["QueueUrl"]
    a["sns"].publish(TopicArn=topic, Message="second")
    a["s3"].put_object(Bucket=bucket, Key="second.txt", Body=b"x")
    time.sleep(3)
    assert b["sqs"].receive_message(QueueUrl=b_url, WaitTimeSeconds=1).get("Messages", []) == []
    # The control: B's queue does receive what is sent to it.
    b["sqs"].send_message(QueueUrl=b_url, MessageBody="own")
    assert [m["Body"] for m in drain(b["sqs"], b_url, 1)] == ["own"]


def test_mapping_polls_only_its_owner_queue(server, w):
    """A's event source mapping reads A's queue; B sending to a same-named queue feeds nothing."""
    a, b = clients(server, w.a.read_only), clients(server, w.b.member)
    mapped_name = w.mapped_queue_arn.split(":")[5]
    b_url = b["sqs"].create_queue(QueueName=mapped_name)["QueueUrl"]
    b["sqs"].send_message(QueueUrl=b_url, MessageBody="for b only")
    time.sleep(2)
    attrs = b["sqs"].get_queue_attributes(QueueUrl=b_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert a["lam"].get_event_source_mapping(UUID=w.mapping_uuid)["EventSourceArn"] == w.mapped_queue_arn
    # A's URL for that name (A's account in its path) is not B's queue, though the names match.
    a_account, b_account = w.queue_arn.split(":")[4], w.b_queue_arn.split(":")[4]
    a_url = b_url.replace(f"/{b_account}/", f"/{a_account}/")
    assert a_url != b_url
    assert sqs_refused(lambda: b["sqs"].send_message(QueueUrl=a_url, MessageBody="x")) == NO_QUEUE
    assert sqs_refused(lambda: b["sqs"].receive_message(QueueUrl=a_url)) == NO_QUEUE


def test_function_targets_resolve_in_the_owner_project(server, w):
    """A's topic subscription and A's bucket notification name A's function; once A deletes it, a
    function of the same name in B is never invoked by them (B's log groups stay empty)."""
    from lambda_helpers import create_python_function, unique_name

    a, b = clients(server, w.a.member), clients(server, w.b.member)
    name = unique_name("iso-target")
    source = "def handler(event, context):\n    print('invoked')\n    return 1\n"
    create_python_function(a["lam"], source, name=name)
    arn = a["lam"].get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    topic = a["sns"].create_topic(Name=f"iso-fn-{uuid.uuid4().hex[:8]}")["TopicArn"]
    a["sns"].subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    bucket = unique_bucket("iso-a-fn")
    a["s3"].create_bucket(Bucket=bucket)
    a["s3"].put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    # B cannot subscribe A's function to its own topic either.
    code, status = error_code(lambda: b["sns"].subscribe(TopicArn=w.b_topic_arn, Protocol="lambda",
                                                         Endpoint=arn))
    assert (code, status) == ("InvalidParameter", 400)

    a["lam"].delete_function(FunctionName=name)
    create_python_function(b["lam"], source, name=name)
    a["sns"].publish(TopicArn=topic, Message="for a")
    a["s3"].put_object(Bucket=bucket, Key="for-a.txt", Body=b"x")
    time.sleep(3)
    group = f"/aws/lambda/{name}"
    assert b["logs"].describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    # The control: B's function does run, and then has its log group.
    b["lam"].invoke(FunctionName=name, Payload=b"{}")
    assert [g["logGroupName"] for g in b["logs"].describe_log_groups(logGroupNamePrefix=group)["logGroups"]] == [
        group]
