//! Rows of queues and their messages (SQS-compatible queues in `stratus-events`).

use std::collections::BTreeMap;

use stratus_core::message::MessageAttributes;

/// A queue: its settings as SQS attribute names and values, and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub project: String,
    pub name: String,
    /// Settable attributes (`VisibilityTimeout`, `RedrivePolicy`, ...) as SQS spells them.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A message about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: MessageAttributes,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
    pub sent_ms: i64,
    /// When it may first be received (sent time plus its delay).
    pub visible_ms: i64,
    pub sender_id: String,
    pub group_id: Option<String>,
    /// FIFO deduplication id, or a system delivery's idempotency id.
    pub dedup_id: Option<String>,
    /// The sender's `X-Amzn-Trace-Id` (SQS's `AWSTraceHeader`), which carries the event-chain
    /// depth a consuming function inherits.
    pub trace_header: Option<String>,
}

/// What one send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    pub message_id: String,
    /// Increases with every message committed to any queue; FIFO queues show it.
    pub sequence_number: i64,
    /// True when the deduplication id was seen within its window: nothing was added.
    pub duplicate: bool,
}

/// A stored message as a receive returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub seq: i64,
    pub message_id: String,
    pub body: String,
    pub attributes: MessageAttributes,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub receive_count: u32,
    pub first_receive_ms: Option<i64>,
    /// The nonce of the latest receive; a receipt handle is valid only while it matches.
    pub receipt: Option<String>,
    pub sender_id: String,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub trace_header: Option<String>,
}

/// How to claim messages in one receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub max: usize,
    pub now_ms: i64,
    /// Claimed messages become visible again at this time.
    pub visible_until_ms: i64,
    /// Stored on every claimed message; receipt handles carry it.
    pub receipt: String,
    /// FIFO rules: per-group order, a group with a message in flight is skipped.
    pub fifo: bool,
    /// Redrive: a message that would be received more than `max_receive_count` times moves to
    /// this queue (same project) instead.
    pub dead_letter: Option<DeadLetter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub queue: String,
    pub max_receive_count: u32,
}

/// The claimed messages, and when the earliest message not yet visible becomes visible (a long
/// poll sleeps until then at most).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimOutcome {
    pub messages: Vec<MessageRecord>,
    pub next_visible_ms: Option<i64>,
}

/// One visibility change: message `seq`, valid while its receipt is `receipt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityChange {
    pub seq: i64,
    pub receipt: String,
    pub visible_ms: i64,
}

/// What happened to a receipt-addressed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    Done,
    /// The message was received again since this receipt was issued.
    Stale,
    /// The message no longer exists.
    Gone,
}

/// Message counts for `ApproximateNumberOf*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}
