//! The queue service over a real SQLite database: system deliveries are idempotent and confined
//! to their project, a long poll wakes when a message is sent, and the poller interface works.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stratus_core::Role;
use stratus_core::arn::queue_arn;
use stratus_events::queues::{QueueError, ReceiveRequest, SendRequest};
use stratus_events::{DeliveryError, QueueDelivery, QueueMessage, Queues};
use stratus_identity::Principal;
use stratus_meta::SqliteMeta;

fn principal(project: &str, role: Role) -> Principal {
    Principal {
        access_key_id: format!("AKID{project}"),
        project: project.into(),
        role,
        chain_depth: 0,
    }
}

fn queues() -> (tempfile::TempDir, Arc<Queues>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
    (dir, Arc::new(Queues::new(Arc::new(meta))))
}

fn text(body: &str) -> QueueMessage {
    QueueMessage {
        body: body.into(),
        attributes: BTreeMap::new(),
        group_id: None,
        chain_depth: 0,
    }
}

#[tokio::test]
async fn deliveries_are_idempotent_and_stay_in_their_project() {
    let (_dir, queues) = queues();
    let team = principal("team", Role::Member);
    let none = BTreeMap::new();
    queues
        .create_queue(&team, "jobs", &none, &none)
        .await
        .expect("test step");
    let arn = queue_arn("team", "jobs");
    queues
        .deliver_to_queue("team", &arn, "event-1", text("one"))
        .await
        .expect("test step");
    queues
        .deliver_to_queue("team", &arn, "event-1", text("one again"))
        .await
        .expect("test step");
    queues
        .deliver_to_queue("team", &arn, "event-2", text("two"))
        .await
        .expect("test step");
    let got = queues
        .receive_for("team", "jobs", 10, Some(30), Duration::ZERO)
        .await
        .expect("test step");
    let mut bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["one", "two"]);
    assert_eq!(got[0].attributes["ApproximateReceiveCount"], "1");
    // Another project cannot deliver to this queue, and a missing queue is permanent.
    let refused = queues.deliver_to_queue("other", &arn, "e", text("x")).await;
    assert!(matches!(refused, Err(DeliveryError::Permanent(_))));
    let missing = queue_arn("team", "nope");
    let refused = queues
        .deliver_to_queue("team", &missing, "e", text("x"))
        .await;
    assert!(matches!(refused, Err(DeliveryError::Permanent(_))));
    // The poller deletes by handle; a foreign handle is reported, not applied.
    let handles = got.iter().map(|m| m.receipt_handle.clone()).collect();
    assert!(
        queues
            .delete_for("team", "jobs", handles)
            .await
            .expect("test step")
            .is_empty()
    );
    let invalid = queues
        .delete_for("team", "jobs", vec!["bogus".into()])
        .await
        .expect("test step");
    assert_eq!(invalid, ["bogus"]);
}

#[tokio::test]
async fn fifo_deliveries_use_the_delivery_id_and_a_default_group() {
    let (_dir, queues) = queues();
    let team = principal("team", Role::Member);
    let none = BTreeMap::new();
    let fifo = BTreeMap::from([("FifoQueue".to_owned(), "true".to_owned())]);
    queues
        .create_queue(&team, "ordered.fifo", &fifo, &none)
        .await
        .expect("test step");
    let arn = queue_arn("team", "ordered.fifo");
    queues
        .deliver_to_queue("team", &arn, "d1", text("first"))
        .await
        .expect("test step");
    queues
        .deliver_to_queue("team", &arn, "d1", text("first"))
        .await
        .expect("test step");
    let got = queues
        .receive_for("team", "ordered.fifo", 10, None, Duration::ZERO)
        .await
        .expect("test step");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attributes["MessageDeduplicationId"], "d1");
    assert_eq!(got[0].attributes["MessageGroupId"], "default");
}

#[tokio::test]
async fn long_poll_wakes_when_a_message_is_sent() {
    let (_dir, queues) = queues();
    let team = principal("team", Role::Member);
    let none = BTreeMap::new();
    queues
        .create_queue(&team, "wait", &none, &none)
        .await
        .expect("test step");
    let waiting = {
        let queues = Arc::clone(&queues);
        let team = team.clone();
        tokio::spawn(async move {
            let request = ReceiveRequest {
                wait_seconds: Some(10),
                ..ReceiveRequest::default()
            };
            let started = Instant::now();
            let got = queues
                .receive_message(&team, "wait", &request)
                .await
                .expect("test step");
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request = SendRequest {
        body: "ping".into(),
        ..SendRequest::default()
    };
    queues
        .send_message(&team, "wait", request)
        .await
        .expect("test step");
    let (got, waited) = waiting.await.expect("test step");
    assert_eq!(got.len(), 1);
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn read_only_keys_and_other_projects_are_refused() {
    let (_dir, queues) = queues();
    let none = BTreeMap::new();
    let reader = principal("team", Role::ReadOnly);
    let refused = queues.create_queue(&reader, "q", &none, &none).await;
    assert!(matches!(refused, Err(QueueError::AccessDenied(_))));
    let team = principal("team", Role::Member);
    queues
        .create_queue(&team, "q", &none, &none)
        .await
        .expect("test step");
    let other = principal("other", Role::Member);
    let hidden = queues.get_queue(&other, "q").await;
    assert!(matches!(hidden, Err(QueueError::QueueDoesNotExist)));
}
