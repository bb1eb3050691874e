//! What messaging needs from the rest of the platform, as traits: the crate that owns a kind of
//! destination implements its trait (queues here, functions in the composition root over
//! `stratus-runtime`, HTTP in `stratus-api`, the only crate that speaks HTTP). Every delivery
//! carries an id chosen before its first attempt, so a retry after a crash cannot duplicate it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use stratus_core::message::MessageAttributes;

/// Why a delivery did not happen. `Permanent` failures are not retried (the destination is gone
/// or refuses the message for good); `Transient` ones are retried with backoff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("destination refuses the message: {0}")]
    Permanent(String),
    #[error("delivery failed, will retry: {0}")]
    Transient(String),
}

/// One message for a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub body: String,
    pub attributes: MessageAttributes,
    /// FIFO queues: the group; standard queues ignore it.
    pub group_id: Option<String>,
    /// The event-chain depth of what sent it (see `stratus_core::lineage`), kept as the
    /// message's `AWSTraceHeader`: a function consuming it runs one level deeper.
    pub chain_depth: u32,
}

/// Puts messages on queues (implemented by `queues::Queues`).
#[async_trait]
pub trait QueueDelivery: Send + Sync {
    /// Commits `message` on `queue_arn`, which must belong to `project`. `delivery_id` makes the
    /// call idempotent: a second call with the same id adds nothing (it is also the FIFO
    /// deduplication id). Resolves once the message is committed.
    async fn deliver_to_queue(
        &self,
        project: &str,
        queue_arn: &str,
        delivery_id: &str,
        message: QueueMessage,
    ) -> Result<(), DeliveryError>;
}

/// Queues asynchronous function invocations (implemented over `stratus-runtime`).
#[async_trait]
pub trait FunctionDelivery: Send + Sync {
    /// Queues an asynchronous invocation of `function_arn` (in `project`) with `payload`; the
    /// invocation's id is `delivery_id`, so a repeat queues nothing new. `chain_depth` is the
    /// event-chain depth of the invocation (see `stratus_core::lineage`).
    async fn invoke_async(
        &self,
        project: &str,
        function_arn: &str,
        delivery_id: &str,
        payload: Vec<u8>,
        chain_depth: u32,
    ) -> Result<(), DeliveryError>;
}

/// Sends HTTP(S) POSTs to subscriber endpoints (implemented in `stratus-api`).
#[async_trait]
pub trait HttpDelivery: Send + Sync {
    /// POSTs `body` with `headers` to `url` and returns the response status; an error means no
    /// response arrived (refused, reset, timed out).
    async fn post(
        &self,
        url: &str,
        headers: BTreeMap<String, String>,
        body: Vec<u8>,
    ) -> Result<u16, DeliveryError>;
}

/// Publishes messages to topics (implemented by `topics::Topics`).
#[async_trait]
pub trait TopicDelivery: Send + Sync {
    /// Publishes `message` to `topic_arn`, which must belong to `project`, exactly as an SNS
    /// Publish would (fan-out, filter policies). `delivery_id` makes it idempotent: a repeat
    /// publishes nothing new. Resolves once the publication is committed.
    async fn publish_to_topic(
        &self,
        project: &str,
        topic_arn: &str,
        delivery_id: &str,
        message: TopicMessage,
    ) -> Result<(), DeliveryError>;
}

/// One message for a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMessage {
    pub message: String,
    pub subject: Option<String>,
    pub attributes: MessageAttributes,
    /// The event-chain depth of what sent it, as for [`QueueMessage`].
    pub chain_depth: u32,
}
