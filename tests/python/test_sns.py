"""SNS topics with boto3: topic and subscription lifecycle, attributes, tags, listing, and a
Lambda subscription whose function receives the SNS event."""

from __future__ import annotations

import json

from sns_helpers import raises_sns, sns_client, unique_topic
from stratus_testlib import unique_bucket
from trigger_helpers import deploy_handler, wait_for_object

RECORDER = """
import json, os, s3mini

def handler(event, context):
    record = event["Records"][0]
    s3mini.put(os.environ["OUT_BUCKET"], record["Sns"]["MessageId"] + ".json", json.dumps(event).encode())
    return "ok"
"""


def test_topic_lifecycle(server):
    sns = sns_client(server)
    name = unique_topic()
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Orders"},
                           Tags=[{"Key": "team", "Value": "shop"}])["TopicArn"]
    assert arn.startswith("arn:aws:sns:us-east-1:") and arn.endswith(":" + name)
    assert sns.create_topic(Name=name)["TopicArn"] == arn, "CreateTopic is idempotent"
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Orders"
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == arn.split(":")[4]
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Renamed")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Renamed"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "shop"}]
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with raises_sns("NotFound", 404):
        sns.get_topic_attributes(TopicArn=arn)


def test_list_topics_pages(fresh_server):
    sns = sns_client(fresh_server)
    made = {sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5 and "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == made
    paginated = [t for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert len(paginated) == 105


def test_subscriptions_lifecycle_and_topic_deletion(server):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    account = topic.split(":")[4]
    queue = f"arn:aws:sqs:us-east-1:{account}:jobs"
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    assert again == sub, "subscribing the same endpoint twice returns the same subscription"
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attributes["Protocol"], attributes["Endpoint"], attributes["TopicArn"]) == ("sqs", queue, topic)
    assert attributes["RawMessageDelivery"] == "true" and attributes["PendingConfirmation"] == "false"
    policy = json.dumps({"kind": ["a"]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy)
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicy"] == policy
    listed = sns.list_subscriptions()["Subscriptions"]
    assert {"SubscriptionArn": sub, "Owner": account, "Protocol": "sqs", "Endpoint": queue,
            "TopicArn": topic} in listed
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    other = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic)
    with raises_sns("NotFound", 404):
        sns.get_subscription_attributes(SubscriptionArn=other)


def test_publish_returns_message_ids(server):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    first = sns.publish(TopicArn=topic, Message="a")["MessageId"]
    second = sns.publish(TargetArn=topic, Message="b", Subject="s")["MessageId"]
    assert first != second and len(first) == 36


def test_lambda_subscription_receives_the_sns_event(server, tmp_path):
    s3 = server.client()
    out = unique_bucket("sns")
    s3.create_bucket(Bucket=out)
    name = unique_topic("rec")
    deploy_handler(server, tmp_path, name, RECORDER, f"environment:\n  OUT_BUCKET: {out}\n")
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    account = topic.split(":")[4]
    function_arn = f"arn:aws:lambda:us-east-1:{account}:function:{name}"
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic, Message="to the function", Subject="hi",
                             MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}})["MessageId"]
    event = json.loads(wait_for_object(s3, out, message_id + ".json", timeout=60))
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    body = record["Sns"]
    assert (body["Type"], body["MessageId"], body["TopicArn"]) == ("Notification", message_id, topic)
    assert (body["Message"], body["Subject"]) == ("to the function", "hi")
    assert body["MessageAttributes"] == {"n": {"Type": "Number", "Value": "7"}}
    assert body["Signature"] and body["SigningCertUrl"] and body["UnsubscribeUrl"]
