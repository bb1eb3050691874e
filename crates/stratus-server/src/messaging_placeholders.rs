//! Stand-ins for the queue and topic services until they are wired in: the composition root
//! hands these to the Lambda destinations and the outbox relay. The integrator replaces them by
//! the real `Queues` and `Topics`.
//!
//! They answer `Transient`, not `Permanent`: an event for a queue is kept in the outbox (and
//! retried with backoff) until a queue service exists to take it, instead of being dropped.

use async_trait::async_trait;
use stratus_events::{DeliveryError, TopicDelivery, TopicMessage};

#[derive(Debug, Default)]
pub(crate) struct NoTopics;

#[async_trait]
impl TopicDelivery for NoTopics {
    async fn publish_to_topic(
        &self,
        _project: &str,
        _topic_arn: &str,
        _delivery_id: &str,
        _message: TopicMessage,
    ) -> Result<(), DeliveryError> {
        Err(DeliveryError::Transient("topics not available".into()))
    }
}
