"""SNS bad input: every refusal carries SNS's own error code and status and changes nothing;
another project's topics are invisible."""

from __future__ import annotations

import json

import pytest

from sns_helpers import raises_sns, sns_client, unique_topic


@pytest.fixture
def topic(server):
    sns = sns_client(server)
    return sns, sns.create_topic(Name=unique_topic())["TopicArn"]


def test_unknown_topic_is_not_found(topic):
    sns, arn = topic
    missing = arn + "-missing"
    for call in (lambda: sns.get_topic_attributes(TopicArn=missing),
                 lambda: sns.publish(TopicArn=missing, Message="x"),
                 lambda: sns.subscribe(TopicArn=missing, Protocol="http", Endpoint="http://127.0.0.1:9/"),
                 lambda: sns.list_subscriptions_by_topic(TopicArn=missing),
                 lambda: sns.set_topic_attributes(TopicArn=missing, AttributeName="DisplayName", AttributeValue="x"),
                 lambda: sns.publish_batch(TopicArn=missing, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])):
        with raises_sns("NotFound", 404):
            call()
    with raises_sns("NotFound", 404):
        sns.unsubscribe(SubscriptionArn=arn + ":00000000-0000-4000-8000-000000000000")


def test_invalid_names_attributes_and_messages(topic):
    sns, arn = topic
    with raises_sns("InvalidParameter", 400):
        sns.create_topic(Name="bad name!")
    with raises_sns("InvalidParameter", 400):
        sns.create_topic(Name=unique_topic(), Attributes={"NoSuchAttribute": "x"})
    with raises_sns("InvalidParameter", 400):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue="{not json")
    with raises_sns("InvalidParameter", 400):
        sns.publish(TopicArn=arn, Message="")
    with raises_sns("InvalidParameter", 400):
        sns.publish(TopicArn=arn, Message="x" * (256 * 1024 + 1))
    with raises_sns("InvalidParameter", 400):
        sns.publish(TopicArn=arn, Message="x", Subject="s" * 101)
    with raises_sns("InvalidParameter", 400) as info:
        sns.publish(TopicArn=arn, Message=json.dumps({"http": "x"}), MessageStructure="json")
    assert "No default entry" in info.value.response["Error"]["Message"]
    with raises_sns("InvalidParameter", 400):
        sns.publish(TopicArn=arn, Message="x", MessageStructure="json")
    with raises_sns("InvalidParameter", 400):
        sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="a@example.com")
    with raises_sns("InvalidParameter", 400):
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="ftp://example.com/")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == ""


def test_invalid_filter_policy_changes_nothing(topic):
    sns, arn = topic
    account = arn.split(":")[4]
    queue = f"arn:aws:sqs:us-east-1:{account}:q"
    with raises_sns("InvalidParameter", 400) as info:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue,
                      Attributes={"FilterPolicy": json.dumps({"a": [{"numeric": [">", "x"]}]})})
    assert info.value.response["Error"]["Message"].startswith("Invalid parameter: FilterPolicy:")
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    too_many = {k: ["v"] for k in "abcdef"}
    with raises_sns("InvalidParameter", 400):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                        AttributeValue=json.dumps(too_many))
    with raises_sns("InvalidParameter", 400):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                        AttributeValue="Everything")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


def test_batch_limits(topic):
    sns, arn = topic
    eleven = [{"Id": f"m{i}", "Message": "x"} for i in range(11)]
    with raises_sns("TooManyEntriesInBatchRequest", 400):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=eleven)
    with raises_sns("BatchEntryIdsNotDistinct", 400):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}] * 2)
    with raises_sns("InvalidBatchEntryId", 400):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "bad id!", "Message": "x"}])
    with raises_sns("EmptyBatchRequest", 400):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[])
    big = "x" * (100 * 1024)
    with raises_sns("BatchRequestTooLong", 400):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": f"b{i}", "Message": big} for i in range(3)])


def test_other_projects_are_invisible(server, topic):
    sns, arn = topic
    account = arn.split(":")[4]
    other = sns_client(server, server.create_key(unique_topic("proj")))
    for call in (lambda: other.get_topic_attributes(TopicArn=arn),
                 lambda: other.publish(TopicArn=arn, Message="x"),
                 lambda: other.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/")):
        with raises_sns("NotFound", 404):
            call()
    other.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in other.list_topics()["Topics"]]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    # Endpoints in another project's account are refused.
    own = other.create_topic(Name=unique_topic())["TopicArn"]
    with raises_sns("InvalidParameter", 400):
        other.subscribe(TopicArn=own, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{account}:q")
    with raises_sns("InvalidParameter", 400):
        other.subscribe(TopicArn=own, Protocol="lambda", Endpoint=f"arn:aws:lambda:us-east-1:{account}:function:f")
    assert other.list_subscriptions_by_topic(TopicArn=own)["Subscriptions"] == []


def test_read_only_keys_cannot_write(server, topic):
    sns, arn = topic
    reader = sns_client(server, server.create_key(server.admin.project or "admin", role="read-only"))
    with raises_sns("AuthorizationError", 403):
        reader.create_topic(Name=unique_topic())
    with raises_sns("AuthorizationError", 403):
        reader.publish(TopicArn=arn, Message="x")


def test_bad_signature_is_refused(server, topic):
    from stratus_testlib import Creds
    _, arn = topic
    admin = server.admin
    forged = sns_client(server, Creds(admin.access_key_id, "wrong-secret", admin.project, admin.role, None))
    with raises_sns("SignatureDoesNotMatch", 403):
        forged.publish(TopicArn=arn, Message="x")
