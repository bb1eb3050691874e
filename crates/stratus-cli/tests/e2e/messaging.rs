//! SQS and SNS driven by the official Rust SDKs: batches, long polling, FIFO order and
//! deduplication, SNS fan-out to a queue, and the SDKs' typed "does not exist" errors.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use md5::{Digest as _, Md5};

use crate::harness::TestServer;

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// SQS's MD5 of message attributes, computed here from the documented algorithm (names in
/// order, each field length-prefixed, transport byte 1 for String and Number) so that the
/// server's value is checked against an independent implementation.
fn md5_of_string_attributes(attributes: &[(&str, &str, &str)]) -> String {
    let mut sorted = attributes.to_vec();
    sorted.sort_by_key(|(name, _, _)| *name);
    fn field(buffer: &mut Vec<u8>, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).expect("short field");
        buffer.extend_from_slice(&len.to_be_bytes());
        buffer.extend_from_slice(bytes);
    }
    let mut buffer = Vec::new();
    for (name, data_type, value) in sorted {
        field(&mut buffer, name.as_bytes());
        field(&mut buffer, data_type.as_bytes());
        buffer.push(1);
        field(&mut buffer, value.as_bytes());
    }
    md5_hex(&buffer)
}

fn attribute(data_type: &str, value: &str) -> MessageAttributeValue {
    let builder = MessageAttributeValue::builder().data_type(data_type);
    builder.string_value(value).build().expect("attribute")
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str, fifo: bool) -> String {
    let mut request = sqs.create_queue().queue_name(name);
    if fifo {
        request = request.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let created = request.send().await.expect("create queue");
    created.queue_url().expect("queue url").to_owned()
}

async fn queue_attribute(sqs: &aws_sdk_sqs::Client, url: &str, name: QueueAttributeName) -> String {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("get queue attributes");
    answer
        .attributes()
        .and_then(|a| a.get(&name))
        .cloned()
        .unwrap_or_default()
}

/// One receive of up to ten messages with all their attributes, long-polling `wait_seconds`.
async fn receive_once(sqs: &aws_sdk_sqs::Client, url: &str, wait_seconds: i32) -> Vec<Message> {
    let request = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10);
    let request = request
        .wait_time_seconds(wait_seconds)
        .message_attribute_names("All");
    request
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

/// Long-polls until `count` messages arrived (or 20 s passed), deleting none.
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, count: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut received = Vec::new();
    while received.len() < count && Instant::now() < deadline {
        received.extend(receive_once(sqs, url, 2).await);
    }
    received
}

#[tokio::test]
async fn sqs_batches_long_polling_and_unknown_queues() {
    let server = TestServer::start();
    let sqs = server.sqs();
    let url = create_queue(&sqs, "work", false).await;

    // A long poll that starts on the empty queue returns as soon as the batch lands.
    let poller = tokio::spawn({
        let (sqs, url) = (sqs.clone(), url.clone());
        async move {
            let started = Instant::now();
            (receive_once(&sqs, &url, 15).await, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = (0..3).map(|i| {
        SendMessageBatchRequestEntry::builder()
            .id(format!("e{i}"))
            .message_body(format!("job {i}"))
            .message_attributes("kind", attribute("String", "report"))
            .message_attributes("n", attribute("Number", &i.to_string()))
            .build()
            .expect("entry")
    });
    let sent = sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries.collect()))
        .send()
        .await
        .expect("send batch");
    assert!(sent.failed().is_empty(), "{:?}", sent.failed());
    assert_eq!(sent.successful().len(), 3);
    for entry in sent.successful() {
        let i = entry.id().trim_start_matches('e');
        assert_eq!(
            entry.md5_of_message_body(),
            md5_hex(format!("job {i}").as_bytes())
        );
        let expected =
            md5_of_string_attributes(&[("kind", "String", "report"), ("n", "Number", i)]);
        assert_eq!(entry.md5_of_message_attributes(), Some(expected.as_str()));
    }
    let (mut messages, waited) = poller.await.expect("poller");
    assert!(!messages.is_empty(), "the long poll saw the batch");
    assert!(
        waited < Duration::from_secs(10),
        "the long poll answered on arrival, not at its timeout: {waited:?}"
    );
    let rest = 3 - messages.len();
    messages.extend(receive(&sqs, &url, rest).await);
    assert_eq!(messages.len(), 3);
    for message in &messages {
        let body = message.body().expect("body");
        assert_eq!(
            message.md5_of_body(),
            Some(md5_hex(body.as_bytes()).as_str())
        );
        let attributes: HashMap<_, _> = message.message_attributes().cloned().unwrap_or_default();
        assert_eq!(attributes["kind"].string_value(), Some("report"));
        let number = ("n", "Number", &body[4..]);
        let expected = md5_of_string_attributes(&[("kind", "String", "report"), number]);
        assert_eq!(message.md5_of_message_attributes(), Some(expected.as_str()));
        assert_eq!(Some(&body[4..]), attributes["n"].string_value());
    }
    let in_flight = QueueAttributeName::ApproximateNumberOfMessagesNotVisible;
    assert_eq!(queue_attribute(&sqs, &url, in_flight.clone()).await, "3");

    let deletions = messages.iter().enumerate().map(|(i, m)| {
        DeleteMessageBatchRequestEntry::builder()
            .id(format!("d{i}"))
            .receipt_handle(m.receipt_handle().expect("handle"))
            .build()
            .expect("delete entry")
    });
    let deleted = sqs
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(deletions.collect()))
        .send()
        .await
        .expect("delete batch");
    assert!(deleted.failed().is_empty(), "{:?}", deleted.failed());
    assert_eq!(deleted.successful().len(), 3);
    let visible = QueueAttributeName::ApproximateNumberOfMessages;
    assert_eq!(queue_attribute(&sqs, &url, visible).await, "0");
    assert_eq!(queue_attribute(&sqs, &url, in_flight).await, "0");

    let missing = sqs.get_queue_url().queue_name("missing").send().await;
    let error = missing.expect_err("unknown queue").into_service_error();
    assert!(error.is_queue_does_not_exist(), "{error:?}");
    let missing_url = url.replace("/work", "/missing");
    let send = sqs.send_message().queue_url(missing_url).message_body("x");
    let send = send.send().await;
    let error = send.expect_err("unknown queue url").into_service_error();
    assert!(error.is_queue_does_not_exist(), "{error:?}");
}

#[tokio::test]
async fn fifo_keeps_group_order_and_drops_duplicates() {
    let server = TestServer::start();
    let sqs = server.sqs();
    let url = create_queue(&sqs, "orders.fifo", true).await;
    let send = |body: String, group: &'static str, dedup: String| {
        let request = sqs.send_message().queue_url(&url).message_body(body);
        let request = request
            .message_group_id(group)
            .message_deduplication_id(dedup);
        async move { request.send().await.expect("send").message_id.expect("id") }
    };
    let mut first_ids = HashMap::new();
    for i in 0..3 {
        for group in ["a", "b"] {
            let id = send(format!("{group}{i}"), group, format!("{group}-{i}")).await;
            first_ids.insert(format!("{group}-{i}"), id);
        }
    }
    // Same deduplication id within the window: accepted, answered with the first id, dropped.
    let again = send("a1 again".into(), "a", "a-1".into()).await;
    assert_eq!(again, first_ids["a-1"]);

    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while bodies.len() < 6 && Instant::now() < deadline {
        for message in receive(&sqs, &url, 1).await {
            bodies.push(message.body().expect("body").to_owned());
            let handle = message.receipt_handle().expect("handle");
            let delete = sqs.delete_message().queue_url(&url).receipt_handle(handle);
            delete.send().await.expect("delete");
        }
    }
    assert_eq!(
        bodies.len(),
        6,
        "the duplicate is not delivered: {bodies:?}"
    );
    for group in ["a", "b"] {
        let order: Vec<&str> = bodies
            .iter()
            .map(String::as_str)
            .filter(|b| b.starts_with(group))
            .collect();
        assert_eq!(
            order,
            (0..3).map(|i| format!("{group}{i}")).collect::<Vec<_>>()
        );
    }
    assert!(receive_once(&sqs, &url, 1).await.is_empty());
}

#[tokio::test]
async fn sns_fans_out_raw_messages_to_a_queue_and_unknown_topics_are_not_found() {
    let server = TestServer::start();
    let (sns, sqs) = (server.sns(), server.sqs());
    let created = sns.create_topic().name("alerts").send().await;
    let topic = created.expect("create topic").topic_arn.expect("topic arn");
    assert_eq!(topic, stratus_core::arn::topic_arn("admin", "alerts"));
    let url = create_queue(&sqs, "inbox", false).await;
    let queue_arn = queue_attribute(&sqs, &url, QueueAttributeName::QueueArn).await;
    assert_eq!(queue_arn, stratus_core::arn::queue_arn("admin", "inbox"));
    let subscribed = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "true")
        .return_subscription_arn(true)
        .send()
        .await
        .expect("subscribe");
    let subscription = subscribed.subscription_arn().expect("subscription arn");
    assert!(
        subscription.starts_with(&format!("{topic}:")),
        "{subscription}"
    );

    let level = aws_sdk_sns::types::MessageAttributeValue::builder().data_type("String");
    let level = level.string_value("high").build().expect("attribute");
    let published = sns
        .publish()
        .topic_arn(&topic)
        .message("disk almost full")
        .message_attributes("level", level)
        .send()
        .await
        .expect("publish");
    assert!(published.message_id().is_some_and(|id| !id.is_empty()));
    let messages = receive(&sqs, &url, 1).await;
    assert_eq!(messages.len(), 1, "exactly one delivery");
    assert_eq!(messages[0].body(), Some("disk almost full"));
    let attributes = messages[0]
        .message_attributes()
        .expect("raw delivery keeps attributes");
    assert_eq!(attributes["level"].string_value(), Some("high"));

    let unknown = stratus_core::arn::topic_arn("admin", "nope");
    let publish = sns.publish().topic_arn(&unknown).message("m").send().await;
    let error = publish.expect_err("unknown topic").into_service_error();
    assert!(error.is_not_found_exception(), "{error:?}");
    let get = sns.get_topic_attributes().topic_arn(&unknown).send().await;
    let error = get.expect_err("unknown topic").into_service_error();
    assert!(error.is_not_found_exception(), "{error:?}");
}
