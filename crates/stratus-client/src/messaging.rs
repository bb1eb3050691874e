//! `GET /v1/queues` and `GET /v1/topics`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    pub name: String,
    pub fifo: bool,
    /// Messages ready to receive.
    pub visible: Option<u64>,
    /// Received and not yet deleted.
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    /// Every SQS attribute, as `GetQueueAttributes` names them.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueList {
    pub queues: Vec<Queue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    /// `PendingConfirmation` until an HTTP endpoint confirms.
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub pending: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Topic {
    pub name: String,
    pub arn: String,
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicList {
    pub topics: Vec<Topic>,
}
