//! Rows of SNS-compatible topics: topics, their subscriptions and the delivery outbox.

use std::collections::BTreeMap;

/// A topic of one project; its attributes (DisplayName, Policy, ...) are kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    pub project: String,
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub created_ms: i64,
}

/// A subscription of an endpoint to a topic. `token` confirms a pending (HTTP) one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub arn: String,
    pub project: String,
    pub topic: String,
    pub protocol: String,
    pub endpoint: String,
    pub attributes: BTreeMap<String, String>,
    pub confirmed: bool,
    pub token: String,
    pub created_ms: i64,
}

/// One pending delivery to one subscription; `payload` is the publication as JSON, rendered for
/// the subscription when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsDeliveryRecord {
    pub id: String,
    pub subscription_arn: String,
    pub project: String,
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub created_ms: i64,
}

/// Chooses, inside the publish transaction, the delivery (if any) each subscription gets.
pub type DeliverySelector = Box<dyn Fn(&SubscriptionRecord) -> Option<SnsDeliveryRecord> + Send>;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Committed, with this many deliveries queued.
    Published(usize),
    /// The idempotency id was already published; nothing was added.
    Duplicate,
}
