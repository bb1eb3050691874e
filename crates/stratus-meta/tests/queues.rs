//! Conformance checks for `QueueRepository`: claims, visibility, receipts, redrive, FIFO group
//! order, deduplication and retention. Each takes `&dyn QueueRepository`, so a later backend runs
//! the same functions.

use std::collections::BTreeMap;

use stratus_meta::{
    ClaimRequest, DeadLetter, NewMessage, QueueRecord, QueueRepository, ReceiptOutcome, SqliteMeta,
    VisibilityChange,
};

fn queue(project: &str, name: &str, attributes: &[(&str, &str)]) -> QueueRecord {
    QueueRecord {
        project: project.into(),
        name: name.into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        tags: BTreeMap::new(),
        created_ms: 1,
        modified_ms: 1,
    }
}

fn message(body: &str, sent_ms: i64, group: Option<&str>, dedup: Option<&str>) -> NewMessage {
    NewMessage {
        message_id: format!("id-{body}"),
        body: body.into(),
        attributes: BTreeMap::new(),
        md5_of_body: "md5".into(),
        md5_of_attributes: None,
        sent_ms,
        visible_ms: sent_ms,
        sender_id: "AKID".into(),
        group_id: group.map(str::to_owned),
        dedup_id: dedup.map(str::to_owned),
        trace_header: None,
    }
}

fn claim(now_ms: i64, max: usize, visible_for: i64, receipt: &str, fifo: bool) -> ClaimRequest {
    ClaimRequest {
        max,
        now_ms,
        visible_until_ms: now_ms + visible_for,
        receipt: receipt.into(),
        fifo,
        dead_letter: None,
    }
}

fn bodies(messages: &[stratus_meta::MessageRecord]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}

async fn claims_hide_messages_until_visibility_ends(repo: &dyn QueueRepository) {
    repo.create_queue(queue("p", "q", &[]))
        .await
        .expect("test step");
    let sent = repo
        .send_messages(
            "p",
            "q",
            vec![message("a", 100, None, None), message("b", 100, None, None)],
            0,
        )
        .await
        .expect("test step");
    assert!(sent[0].sequence_number < sent[1].sequence_number);
    let first = repo
        .claim_messages("p", "q", claim(200, 1, 1000, "r1", false))
        .await
        .expect("test step");
    assert_eq!(bodies(&first.messages), ["a"]);
    assert_eq!(first.messages[0].receive_count, 1);
    let second = repo
        .claim_messages("p", "q", claim(200, 10, 1000, "r2", false))
        .await
        .expect("test step");
    assert_eq!(bodies(&second.messages), ["b"]);
    let none = repo
        .claim_messages("p", "q", claim(300, 10, 1000, "r3", false))
        .await
        .expect("test step");
    assert!(none.messages.is_empty());
    assert_eq!(none.next_visible_ms, Some(1200));
    let counts = repo.queue_counts("p", "q", 300).await.expect("test step");
    assert_eq!(
        (counts.visible, counts.in_flight, counts.delayed),
        (0, 2, 0)
    );
    // After the timeout the message comes back with its count raised and first receive kept.
    let again = repo
        .claim_messages("p", "q", claim(1200, 1, 1000, "r4", false))
        .await
        .expect("test step");
    assert_eq!(bodies(&again.messages), ["a"]);
    assert_eq!(again.messages[0].receive_count, 2);
    assert_eq!(again.messages[0].first_receive_ms, Some(200));
    // The first receipt is stale now: neither delete nor visibility change apply.
    let seq = again.messages[0].seq;
    let stale = repo
        .delete_messages("p", "q", vec![(seq, "r1".into())])
        .await
        .expect("test step");
    assert_eq!(stale, [ReceiptOutcome::Stale]);
    let change = VisibilityChange {
        seq,
        receipt: "r1".into(),
        visible_ms: 0,
    };
    let stale = repo
        .change_visibility("p", "q", vec![change])
        .await
        .expect("test step");
    assert_eq!(stale, [ReceiptOutcome::Stale]);
    let done = repo
        .delete_messages("p", "q", vec![(seq, "r4".into())])
        .await
        .expect("test step");
    assert_eq!(done, [ReceiptOutcome::Done]);
    let gone = repo
        .delete_messages("p", "q", vec![(seq, "r4".into())])
        .await
        .expect("test step");
    assert_eq!(gone, [ReceiptOutcome::Gone]);
    // Another project's queue of the same name is another queue.
    assert!(
        repo.claim_messages("other", "q", claim(2000, 1, 1, "x", false))
            .await
            .is_err()
    );
}

async fn redrive_moves_messages_past_max_receive_count(repo: &dyn QueueRepository) {
    repo.create_queue(queue("p", "src", &[]))
        .await
        .expect("test step");
    repo.create_queue(queue("p", "dlq", &[]))
        .await
        .expect("test step");
    repo.send_messages("p", "src", vec![message("poison", 0, None, None)], 0)
        .await
        .expect("test step");
    let redriving = |now: i64| ClaimRequest {
        dead_letter: Some(DeadLetter {
            queue: "dlq".into(),
            max_receive_count: 2,
        }),
        ..claim(now, 1, 10, "r", false)
    };
    for now in [0, 10] {
        let got = repo
            .claim_messages("p", "src", redriving(now))
            .await
            .expect("test step");
        assert_eq!(bodies(&got.messages), ["poison"]);
    }
    let third = repo
        .claim_messages("p", "src", redriving(20))
        .await
        .expect("test step");
    assert!(third.messages.is_empty());
    let moved = repo
        .claim_messages("p", "dlq", claim(20, 10, 10, "d", false))
        .await
        .expect("test step");
    assert_eq!(bodies(&moved.messages), ["poison"]);
    assert_eq!(moved.messages[0].message_id, "id-poison");
    // Moved, not sent anew: two receives on the source, then this one.
    assert_eq!(moved.messages[0].receive_count, 3);
}

async fn fifo_groups_deliver_in_order_one_batch_at_a_time(repo: &dyn QueueRepository) {
    repo.create_queue(queue("p", "f.fifo", &[]))
        .await
        .expect("test step");
    let batch = vec![
        message("a1", 0, Some("a"), Some("1")),
        message("b1", 0, Some("b"), Some("2")),
        message("a2", 0, Some("a"), Some("3")),
    ];
    repo.send_messages("p", "f.fifo", batch, 1000)
        .await
        .expect("test step");
    let first = repo
        .claim_messages("p", "f.fifo", claim(1, 1, 100, "r1", true))
        .await
        .expect("test step");
    assert_eq!(bodies(&first.messages), ["a1"]);
    // Group a is blocked while a1 is in flight; b is not.
    let second = repo
        .claim_messages("p", "f.fifo", claim(2, 10, 100, "r2", true))
        .await
        .expect("test step");
    assert_eq!(bodies(&second.messages), ["b1"]);
    repo.delete_messages("p", "f.fifo", vec![(first.messages[0].seq, "r1".into())])
        .await
        .expect("test step");
    let third = repo
        .claim_messages("p", "f.fifo", claim(3, 10, 100, "r3", true))
        .await
        .expect("test step");
    assert_eq!(bodies(&third.messages), ["a2"]);
    // Deduplication: the same id inside the window adds nothing and names the first message.
    let dup = repo
        .send_messages(
            "p",
            "f.fifo",
            vec![message("again", 500, Some("a"), Some("1"))],
            1000,
        )
        .await
        .expect("test step");
    assert!(dup[0].duplicate);
    assert_eq!(dup[0].message_id, "id-a1");
    let later = repo
        .send_messages(
            "p",
            "f.fifo",
            vec![message("later", 1500, Some("a"), Some("1"))],
            1000,
        )
        .await
        .expect("test step");
    assert!(!later[0].duplicate);
}

async fn sweeping_removes_expired_messages(repo: &dyn QueueRepository) {
    repo.create_queue(queue("p", "short", &[("MessageRetentionPeriod", "60")]))
        .await
        .expect("test step");
    repo.send_messages("p", "short", vec![message("old", 0, None, None)], 0)
        .await
        .expect("test step");
    repo.send_messages("p", "short", vec![message("new", 50_000, None, None)], 0)
        .await
        .expect("test step");
    assert_eq!(repo.sweep_queues(70_000).await.expect("test step"), 1);
    let left = repo
        .claim_messages("p", "short", claim(70_000, 10, 1, "r", false))
        .await
        .expect("test step");
    assert_eq!(bodies(&left.messages), ["new"]);
    assert!(repo.delete_queue("p", "short").await.expect("test step"));
    assert!(!repo.delete_queue("p", "short").await.expect("test step"));
}

fn sqlite() -> (tempfile::TempDir, SqliteMeta) {
    let dir = tempfile::tempdir().expect("test step");
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("test step");
    (dir, meta)
}

#[tokio::test]
async fn sqlite_claims_hide_messages_until_visibility_ends() {
    let (_dir, meta) = sqlite();
    claims_hide_messages_until_visibility_ends(&meta).await;
}

#[tokio::test]
async fn sqlite_redrive_moves_messages_past_max_receive_count() {
    let (_dir, meta) = sqlite();
    redrive_moves_messages_past_max_receive_count(&meta).await;
}

#[tokio::test]
async fn sqlite_fifo_groups_deliver_in_order_one_batch_at_a_time() {
    let (_dir, meta) = sqlite();
    fifo_groups_deliver_in_order_one_batch_at_a_time(&meta).await;
}

#[tokio::test]
async fn sqlite_sweeping_removes_expired_messages() {
    let (_dir, meta) = sqlite();
    sweeping_removes_expired_messages(&meta).await;
}
