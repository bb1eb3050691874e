//! Buckets and notification configuration, the outbox events writes leave behind, and their
//! delivery to an SQS queue.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter, TopicConfiguration,
};

use crate::harness::{TestServer, code, http};

#[tokio::test]
async fn bucket_lifecycle() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("life")
        .send()
        .await
        .expect("create");
    assert!(s3.head_bucket().bucket("life").send().await.is_ok());
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["life"]);
    let location = s3
        .get_bucket_location()
        .bucket("life")
        .send()
        .await
        .expect("location");
    assert!(
        location
            .location_constraint()
            .is_none_or(|c| c.as_str().is_empty())
    );
    let versioning = s3
        .get_bucket_versioning()
        .bucket("life")
        .send()
        .await
        .expect("versioning");
    assert!(versioning.status().is_none());
    s3.put_object()
        .bucket("life")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    assert_eq!(
        code(s3.delete_bucket().bucket("life").send().await),
        "BucketNotEmpty"
    );
    s3.delete_object()
        .bucket("life")
        .key("k")
        .send()
        .await
        .expect("delete");
    s3.delete_bucket()
        .bucket("life")
        .send()
        .await
        .expect("delete bucket");
    assert_eq!(
        code(s3.head_bucket().bucket("life").send().await),
        "NotFound"
    );
    assert_eq!(
        code(s3.list_objects_v2().bucket("life").send().await),
        "NoSuchBucket"
    );
}

fn filter(prefix: &str, suffix: &str) -> NotificationConfigurationFilter {
    let rule =
        |name: FilterRuleName, value: &str| FilterRule::builder().name(name).value(value).build();
    NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(rule(FilterRuleName::Prefix, prefix))
                .filter_rules(rule(FilterRuleName::Suffix, suffix))
                .build(),
        )
        .build()
}

#[tokio::test]
async fn notifications_are_stored_and_matching_writes_leave_outbox_events() {
    let server = TestServer::start();
    let s3 = server.s3();
    s3.create_bucket()
        .bucket("scans")
        .send()
        .await
        .expect("create");
    // S3 refuses destinations that do not exist, so the topic and queue come first.
    let topic_arn = server
        .sns()
        .create_topic()
        .name("scans")
        .send()
        .await
        .expect("create topic")
        .topic_arn()
        .expect("topic arn")
        .to_owned();
    assert_eq!(topic_arn, stratus_core::arn::topic_arn("admin", "scans"));
    let sqs = server.sqs();
    let queue_url = sqs
        .create_queue()
        .queue_name("deleted")
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue url")
        .to_owned();
    let topic = TopicConfiguration::builder()
        .id("ocr")
        .topic_arn(&topic_arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(filter("in/", ".png"))
        .build()
        .expect("topic config");
    let queue = QueueConfiguration::builder()
        .id("deletions")
        .queue_arn(stratus_core::arn::queue_arn("admin", "deleted"))
        .events(Event::from("s3:ObjectRemoved:*"))
        .build()
        .expect("queue config");
    let config = NotificationConfiguration::builder()
        .topic_configurations(topic)
        .queue_configurations(queue)
        .build();
    s3.put_bucket_notification_configuration()
        .bucket("scans")
        .notification_configuration(config)
        .send()
        .await
        .expect("put config");
    let stored = s3
        .get_bucket_notification_configuration()
        .bucket("scans")
        .send()
        .await
        .expect("get config");
    assert_eq!(stored.topic_configurations().len(), 1);
    assert_eq!(stored.topic_configurations()[0].id(), Some("ocr"));
    assert_eq!(stored.queue_configurations().len(), 1);

    for key in ["in/page one.png", "in/page.jpg", "out/page.png"] {
        s3.put_object()
            .bucket("scans")
            .key(key)
            .body(ByteStream::from_static(b"img"))
            .send()
            .await
            .expect("put");
    }
    s3.delete_object()
        .bucket("scans")
        .key("out/page.png")
        .send()
        .await
        .expect("delete");

    // The relay delivers queue and topic events at once, so an event may already be delivered.
    let events = recent_events(&server).await;
    assert_eq!(
        events.len(),
        2,
        "one created event for the matching png, one removal: {events:#?}"
    );
    let created = &events[0]["payload"]["Records"][0];
    assert_eq!(created["eventName"], "ObjectCreated:Put");
    assert_eq!(created["s3"]["bucket"]["name"], "scans");
    assert_eq!(created["s3"]["object"]["key"], "in/page+one.png");
    assert_eq!(created["s3"]["object"]["size"], 3);
    assert_eq!(created["s3"]["configurationId"], "ocr");
    let removed = &events[1]["payload"]["Records"][0];
    assert_eq!(removed["eventName"], "ObjectRemoved:Delete");
    assert_eq!(events[1]["target"]["kind"], "queue");
    let sequencers: Vec<_> = events
        .iter()
        .map(|e| {
            e["payload"]["Records"][0]["s3"]["object"]["sequencer"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(sequencers[0] < sequencers[1], "sequencers increase");
    for event in &events {
        let state = event["state"].as_str().expect("state");
        assert!(state == "pending" || state == "delivered", "{event:#?}");
    }

    // The removal reaches the queue as an S3 event record (skipping any s3:TestEvent).
    let record = receive_s3_record(&sqs, &queue_url).await;
    assert_eq!(record["eventName"], "ObjectRemoved:Delete");
    assert_eq!(record["s3"]["object"]["key"], "out/page.png");
    assert_eq!(record["s3"]["configurationId"], "deletions");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while recent_events(&server).await[1]["state"] != "delivered" {
        assert!(
            std::time::Instant::now() < deadline,
            "removal event not marked delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let bad = NotificationConfiguration::builder()
        .lambda_function_configurations(
            LambdaFunctionConfiguration::builder()
                .lambda_function_arn("arn:aws:lambda:us-east-1:000000000000:function:f")
                .events(Event::from("s3:ObjectExploded:*"))
                .build()
                .expect("config"),
        )
        .build();
    let refused = s3
        .put_bucket_notification_configuration()
        .bucket("scans")
        .notification_configuration(bad)
        .send()
        .await;
    assert_eq!(code(refused), "InvalidArgument");
    assert_eq!(
        s3.get_bucket_notification_configuration()
            .bucket("scans")
            .send()
            .await
            .expect("get")
            .topic_configurations()
            .len(),
        1
    );
}

/// The server's recent outbox events, oldest first, read with the operator token.
async fn recent_events(server: &TestServer) -> Vec<serde_json::Value> {
    let (status, _, body) = http(
        "GET",
        &format!("{}/v1/events", server.endpoint),
        &[("authorization", &format!("Bearer {}", server.token))],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    let mut events: serde_json::Value = serde_json::from_slice(&body).expect("events json");
    events["events"]
        .as_array_mut()
        .map(std::mem::take)
        .expect("array")
}

/// Long-polls `queue_url` for the first message carrying S3 event records; returns its first.
async fn receive_s3_record(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> serde_json::Value {
    for _ in 0..4 {
        let answer = sqs
            .receive_message()
            .queue_url(queue_url)
            .wait_time_seconds(5)
            .send()
            .await
            .expect("receive");
        for message in answer.messages() {
            let body: serde_json::Value =
                serde_json::from_str(message.body().expect("body")).expect("json body");
            if body["Records"].is_array() {
                return body["Records"][0].clone();
            }
        }
    }
    panic!("no S3 event arrived on the queue");
}

#[tokio::test]
async fn native_api_answers_health_and_problem_json() {
    let server = TestServer::start();
    let (status, _, body) = http(
        "GET",
        &format!("{}/v1/health", server.endpoint),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["status"],
        "ok"
    );
    let (status, headers, body) = http(
        "GET",
        &format!("{}/v1/events", server.endpoint),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["status"],
        401
    );
    // Unsigned S3-style requests get S3's own XML error, not a native one (for a bucket that
    // does not exist, NoSuchBucket, as AWS answers anonymous requests).
    let (status, _, body) = http(
        "GET",
        &format!("{}/somebucket/key", server.endpoint),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("<Code>NoSuchBucket</Code>"));
}
