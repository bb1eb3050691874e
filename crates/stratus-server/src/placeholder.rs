//! Stand-ins for services that are not wired yet.

use std::time::Duration;

use async_trait::async_trait;
use stratus_events::DeliveryError;
use stratus_events::mappings::{QueueSource, SourceMessage, SourceQueue};

pub(crate) struct NoQueues;

fn missing() -> DeliveryError {
    DeliveryError::Permanent("queues are not available".into())
}

#[async_trait]
impl QueueSource for NoQueues {
    async fn source_queue(&self, _: &str, _: &str) -> Result<SourceQueue, DeliveryError> {
        Err(missing())
    }
    async fn receive(
        &self,
        _: &str,
        _: &str,
        _: u32,
        _: Duration,
    ) -> Result<Vec<SourceMessage>, DeliveryError> {
        Err(missing())
    }
    async fn delete(&self, _: &str, _: &str, _: Vec<String>) -> Result<(), DeliveryError> {
        Err(missing())
    }
}
