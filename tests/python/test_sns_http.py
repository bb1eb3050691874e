"""SNS HTTP subscriptions end to end: the SubscriptionConfirmation handshake through an unsigned
SubscribeURL, Notification envelopes and headers, retries of a failing endpoint, filter policies,
raw delivery and per-protocol messages."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from sns_helpers import Endpoint, confirmed_http_subscription, sns_client, unique_topic


def test_confirmation_then_notification_envelope(server, endpoint):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    assert pending["SubscriptionArn"] == "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    endpoint.wait(1)
    request = endpoint.received[0]
    assert request["headers"]["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    confirmation = json.loads(request["body"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    assert confirmation["Token"] and confirmation["Signature"]
    assert "You have chosen to subscribe to the topic" in confirmation["Message"]
    # Publishing before confirmation delivers nothing.
    sns.publish(TopicArn=topic, Message="too early")

    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:
        body = response.read().decode()
    arn = body.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert arn.startswith(topic + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1"

    message_id = sns.publish(TopicArn=topic, Message="hello", Subject="greeting",
                             MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}})["MessageId"]
    endpoint.wait(2)
    note = endpoint.received[1]
    assert note["headers"]["x-amz-sns-message-type"] == "Notification"
    assert note["headers"]["x-amz-sns-message-id"] == message_id
    assert note["headers"]["x-amz-sns-topic-arn"] == topic
    assert note["headers"]["x-amz-sns-subscription-arn"] == arn
    assert note["headers"]["content-type"].startswith("text/plain")
    envelope = json.loads(note["body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert (envelope["Message"], envelope["Subject"], envelope["TopicArn"]) == ("hello", "greeting", topic)
    assert envelope["SignatureVersion"] == "1" and envelope["Signature"]
    assert envelope["Timestamp"].endswith("Z") and "." in envelope["Timestamp"]
    assert envelope["MessageAttributes"] == {"color": {"Type": "String", "Value": "red"}}
    assert "SubscriptionArn=" in envelope["UnsubscribeURL"]
    time.sleep(0.3)
    assert len(endpoint.received) == 2, "the message published before confirmation was delivered"
    # The UnsubscribeURL works unsigned, as the subscriber would follow it; then nothing arrives.
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=10) as response:
        assert response.status == 200 and "<UnsubscribeResponse" in response.read().decode()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="after unsubscribing")
    time.sleep(0.3)
    assert len(endpoint.received) == 2
    # A link for a subscription that does not exist changes nothing and says so.
    try:
        urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=10)
        raise AssertionError("unsubscribing twice succeeded")
    except urllib.error.HTTPError as error:
        assert error.code == 404 and b"NotFound" in error.read()


def test_boto3_confirm_subscription(server, endpoint):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    token = json.loads(endpoint.wait(1)[0]["body"])["Token"]
    arn = sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == arn


def test_failing_endpoint_is_retried(new_server):
    srv = new_server("retry")
    srv.extra_env["STRATUS_SNS_RETRY_BASE"] = "50ms"
    srv.start()
    flaky = Endpoint()
    try:
        sns = sns_client(srv)
        topic = sns.create_topic(Name=unique_topic())["TopicArn"]
        confirmed_http_subscription(sns, topic, flaky)
        flaky.failures = 2
        sns.publish(TopicArn=topic, Message="persistent")
        received = flaky.wait(2)
        assert json.loads(received[1]["body"])["Message"] == "persistent"
        assert flaky.attempts == 4, "confirmation + two failures + the delivery"
    finally:
        flaky.close()


def test_filter_policies_on_attributes_and_body(server):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    by_attributes, by_body = Endpoint(), Endpoint()
    try:
        confirmed_http_subscription(sns, topic, by_attributes, {
            "FilterPolicy": json.dumps({"color": ["red"], "size": [{"numeric": [">", 3]}]})})
        confirmed_http_subscription(sns, topic, by_body, {
            "FilterPolicy": json.dumps({"order": {"status": [{"prefix": "pai"}]}}),
            "FilterPolicyScope": "MessageBody"})
        attrs = lambda color, size: {"color": {"DataType": "String", "StringValue": color},  # noqa: E731
                                     "size": {"DataType": "Number", "StringValue": str(size)}}
        sns.publish(TopicArn=topic, Message="small red", MessageAttributes=attrs("red", 1))
        sns.publish(TopicArn=topic, Message="big blue", MessageAttributes=attrs("blue", 9))
        sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "open"}}))
        sns.publish(TopicArn=topic, Message="big red", MessageAttributes=attrs("red", 9))
        sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "paid"}}))
        assert [m["Message"] for m in by_attributes.wait(2) and by_attributes.messages("Notification")] == ["big red"]
        body = by_body.wait(2) and by_body.messages("Notification")
        assert [json.loads(m["Message"]) for m in body] == [{"order": {"status": "paid"}}]
        time.sleep(0.3)
        assert len(by_attributes.messages("Notification")) == 1
        assert len(by_body.messages("Notification")) == 1
    finally:
        by_attributes.close()
        by_body.close()


def test_raw_delivery_and_message_structure(server, endpoint):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    arn = confirmed_http_subscription(sns, topic, endpoint)
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "http": "for http"}))
    endpoint.wait(2)
    assert json.loads(endpoint.received[1]["body"])["Message"] == "for http"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="true")
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["RawMessageDelivery"] == "true"
    sns.publish(TopicArn=topic, Message="just the body")
    endpoint.wait(3)
    assert endpoint.received[2]["body"] == "just the body"
    assert endpoint.received[2]["headers"]["x-amz-sns-rawdelivery"] == "true"


def test_publish_batch_reaches_the_endpoint(server, endpoint):
    sns = sns_client(server)
    topic = sns.create_topic(Name=unique_topic())["TopicArn"]
    confirmed_http_subscription(sns, topic, endpoint)
    result = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two", "Subject": "s"}, {"Id": "c", "Message": ""}])
    assert sorted(s["Id"] for s in result["Successful"]) == ["a", "b"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [("c", "InvalidParameter", True)]
    endpoint.wait(3)
    assert sorted(m["Message"] for m in endpoint.messages("Notification")) == ["one", "two"]
