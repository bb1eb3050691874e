//! The relay against a real store (SQLite metadata in a temporary directory) and in-memory
//! destinations that record what they receive and fail as scripted.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use stratus_core::{BucketName, EventKind, NotificationRule, NotificationTarget, Role};
use stratus_identity::Principal;
use stratus_meta::SqliteMeta;
use stratus_store::{BodyStream, ObjectHeaders, ObjectWrite, WriteCondition};

use super::*;

/// What a destination received: project, ARN, delivery id, body, subject.
type Received = (String, String, String, String, Option<String>);

/// A destination that records deliveries; scripted failures are answered first, in order.
#[derive(Default)]
struct Recorder {
    received: Mutex<Vec<Received>>,
    failures: Mutex<VecDeque<DeliveryError>>,
}

impl Recorder {
    fn take(
        &self,
        project: &str,
        arn: &str,
        id: &str,
        body: String,
        subject: Option<String>,
    ) -> Result<(), DeliveryError> {
        if let Some(failure) = self.failures.lock().expect("lock").pop_front() {
            return Err(failure);
        }
        self.received.lock().expect("lock").push((
            project.to_owned(),
            arn.to_owned(),
            id.to_owned(),
            body,
            subject,
        ));
        Ok(())
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

#[async_trait]
impl QueueDelivery for Recorder {
    async fn deliver_to_queue(
        &self,
        project: &str,
        queue_arn: &str,
        delivery_id: &str,
        message: QueueMessage,
    ) -> Result<(), DeliveryError> {
        self.take(project, queue_arn, delivery_id, message.body, None)
    }
}

#[async_trait]
impl TopicDelivery for Recorder {
    async fn publish_to_topic(
        &self,
        project: &str,
        topic_arn: &str,
        delivery_id: &str,
        message: TopicMessage,
    ) -> Result<(), DeliveryError> {
        self.take(
            project,
            topic_arn,
            delivery_id,
            message.message,
            message.subject,
        )
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    queues: Arc<Recorder>,
    topics: Arc<Recorder>,
    relay: OutboxRelay,
}

fn caller() -> Principal {
    Principal {
        access_key_id: "AK".into(),
        project: "team".into(),
        role: Role::Admin,
        chain_depth: 0,
    }
}

fn queue_arn() -> String {
    stratus_core::arn::queue_arn("team", "uploads")
}

fn topic_arn() -> String {
    stratus_core::arn::topic_arn("team", "documents")
}

async fn fixture(buckets: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().expect("valid test input");
    let meta = Arc::new(SqliteMeta::open(&dir.path().join("meta.db")).expect("valid test input"));
    let store = Arc::new(
        Store::open(dir.path(), meta, "us-east-1")
            .await
            .expect("valid test input"),
    );
    for bucket in buckets {
        store
            .create_bucket(
                &caller(),
                &BucketName::parse(bucket).expect("valid test input"),
            )
            .await
            .expect("valid test input");
        let rules = vec![
            NotificationRule {
                id: "q".into(),
                target: NotificationTarget::Queue(queue_arn()),
                events: vec!["s3:ObjectCreated:*".into()],
                prefix: Some("in/".into()),
                suffix: None,
            },
            NotificationRule {
                id: "t".into(),
                target: NotificationTarget::Topic(topic_arn()),
                events: vec!["s3:ObjectCreated:*".into()],
                prefix: None,
                suffix: Some(".pdf".into()),
            },
        ];
        store
            .set_notifications(&caller(), bucket, rules)
            .await
            .expect("valid test input");
    }
    let (queues, topics) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let relay = OutboxRelay {
        store: Arc::downgrade(&store),
        queues: queues.clone(),
        topics: topics.clone(),
        wake: Arc::new(Notify::new()),
    };
    Fixture {
        _dir: dir,
        store,
        queues,
        topics,
        relay,
    }
}

async fn upload(store: &Store, bucket: &str, key: &str) {
    let body: BodyStream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"x"))]));
    let staged = store.stage(body, true).await.expect("valid test input");
    let write = ObjectWrite {
        bucket: bucket.into(),
        key: key.into(),
        headers: ObjectHeaders::default(),
        condition: WriteCondition::Always,
        kind: EventKind::Put,
    };
    store
        .put_object(&caller(), write, staged)
        .await
        .expect("valid test input");
}

fn key_of(body: &str) -> String {
    let event: serde_json::Value = serde_json::from_str(body).expect("valid test input");
    event["Records"][0]["s3"]["object"]["key"]
        .as_str()
        .expect("valid test input")
        .to_owned()
}

#[tokio::test]
async fn delivers_matching_events_once_with_the_event_id() {
    let f = fixture(&["scans"]).await;
    upload(&f.store, "scans", "in/a.txt").await;
    upload(&f.store, "scans", "out/b.txt").await; // matches no rule
    upload(&f.store, "scans", "in/c.pdf").await; // matches both
    let event_ids: Vec<String> = f
        .store
        .pending_events(10)
        .await
        .expect("valid test input")
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(event_ids.len(), 3);
    let pass = f.relay.pass(&f.store).await.expect("valid test input");
    assert_eq!((pass.delivered, pass.dropped, pass.held_back), (3, 0, 0));

    let queued = f.queues.received();
    assert_eq!(
        queued.iter().map(|m| key_of(&m.3)).collect::<Vec<_>>(),
        ["in/a.txt", "in/c.pdf"]
    );
    assert!(queued.iter().all(|m| m.0 == "team" && m.1 == queue_arn()));
    let published = f.topics.received();
    assert_eq!(published.len(), 1);
    assert_eq!(key_of(&published[0].3), "in/c.pdf");
    assert_eq!(published[0].4.as_deref(), Some("Amazon S3 Notification"));
    // The delivery id is the outbox event id, and the event is consumed.
    let delivered_ids: Vec<&String> = queued.iter().chain(&published).map(|m| &m.2).collect();
    assert!(
        delivered_ids.iter().all(|id| event_ids.contains(id)),
        "{delivered_ids:?}"
    );
    let body: serde_json::Value = serde_json::from_str(&queued[0].3).expect("valid test input");
    assert_eq!(body["Records"][0]["eventName"], "ObjectCreated:Put");
    assert!(
        f.store
            .pending_events(10)
            .await
            .expect("valid test input")
            .is_empty()
    );
    let again = f.relay.pass(&f.store).await.expect("valid test input");
    assert_eq!(again.delivered, 0);
    assert_eq!(f.queues.received().len(), 2);
}

#[tokio::test]
async fn a_transient_failure_holds_back_only_that_buckets_later_events() {
    let f = fixture(&["first", "second"]).await;
    upload(&f.store, "first", "in/1").await;
    upload(&f.store, "first", "in/2").await;
    f.queues
        .failures
        .lock()
        .expect("valid test input")
        .push_back(DeliveryError::Transient("busy".into()));
    let pass = f.relay.pass(&f.store).await.expect("valid test input");
    assert_eq!((pass.delivered, pass.held_back), (0, 1));
    assert!(
        f.queues.received().is_empty(),
        "in/2 must not overtake in/1"
    );
    assert_eq!(
        f.store
            .pending_events(10)
            .await
            .expect("valid test input")
            .len(),
        2
    );

    upload(&f.store, "second", "in/3").await;
    let pass = f.relay.pass(&f.store).await.expect("valid test input");
    assert_eq!(pass.delivered, 3);
    let mut keys: Vec<_> = f.queues.received().iter().map(|m| key_of(&m.3)).collect();
    let first: Vec<_> = keys.iter().filter(|k| *k != "in/3").cloned().collect();
    assert_eq!(first, ["in/1", "in/2"]);
    keys.sort();
    assert_eq!(keys, ["in/1", "in/2", "in/3"]);
}

#[tokio::test]
async fn a_permanent_failure_is_consumed_and_does_not_block() {
    let f = fixture(&["scans"]).await;
    upload(&f.store, "scans", "in/gone").await;
    upload(&f.store, "scans", "in/next").await;
    f.queues
        .failures
        .lock()
        .expect("valid test input")
        .push_back(DeliveryError::Permanent("no such queue".into()));
    let pass = f.relay.pass(&f.store).await.expect("valid test input");
    assert_eq!((pass.delivered, pass.dropped), (1, 1));
    assert_eq!(
        f.queues
            .received()
            .iter()
            .map(|m| key_of(&m.3))
            .collect::<Vec<_>>(),
        ["in/next"]
    );
    assert!(
        f.store
            .pending_events(10)
            .await
            .expect("valid test input")
            .is_empty()
    );
}

#[tokio::test]
async fn an_upload_wakes_the_running_relay() {
    let f = fixture(&["scans"]).await;
    f.store.notify_outbox_written(Arc::clone(&f.relay.wake));
    let queues = Arc::clone(&f.queues);
    let store = Arc::clone(&f.store);
    let relay = tokio::spawn(f.relay.run());
    // Let the first (empty) pass finish so the relay is waiting on its 5 s poll.
    tokio::time::sleep(Duration::from_millis(200)).await;
    upload(&store, "scans", "in/woken").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while queues.received().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload did not wake the relay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.abort();
}
