//! `Queues` as the source of event source mappings.

use std::time::Duration;

use async_trait::async_trait;
use stratus_core::arn::Arn;

use super::{QueueSource, SourceMessage, SourceQueue};
use crate::DeliveryError;
use crate::queues::{QueueError, Queues, Settings};

/// The queue name in `queue_arn` when it is an SQS ARN of `project`.
fn queue_name<'a>(project: &str, queue_arn: &'a str) -> Result<&'a str, DeliveryError> {
    Arn::parse(queue_arn)
        .filter(|arn| arn.service == "sqs" && arn.in_project(project))
        .map(|arn| arn.resource)
        .ok_or_else(|| {
            DeliveryError::Permanent(format!("{queue_arn} is not a queue of project {project}"))
        })
}

fn delivery_error(error: QueueError) -> DeliveryError {
    match error {
        QueueError::QueueDoesNotExist => DeliveryError::Permanent(error.to_string()),
        other => DeliveryError::Transient(other.to_string()),
    }
}

#[async_trait]
impl QueueSource for Queues {
    async fn source_queue(
        &self,
        project: &str,
        queue_arn: &str,
    ) -> Result<SourceQueue, DeliveryError> {
        let name = queue_name(project, queue_arn)?;
        let record = self.queue(project, name).await.map_err(delivery_error)?;
        let settings = Settings::of(project, &record.attributes);
        Ok(SourceQueue {
            fifo: settings.fifo,
        })
    }

    async fn receive(
        &self,
        project: &str,
        queue_arn: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<SourceMessage>, DeliveryError> {
        let name = queue_name(project, queue_arn)?;
        let received = self
            .receive_for(project, name, max, None, wait)
            .await
            .map_err(delivery_error)?;
        Ok(received
            .into_iter()
            .map(|m| SourceMessage {
                message_id: m.message_id,
                receipt_handle: m.receipt_handle,
                body: m.body,
                md5_of_body: m.md5_of_body,
                system_attributes: m.attributes,
                attributes: m.message_attributes,
            })
            .collect())
    }

    async fn delete(
        &self,
        project: &str,
        queue_arn: &str,
        receipt_handles: Vec<String>,
    ) -> Result<(), DeliveryError> {
        let name = queue_name(project, queue_arn)?;
        let invalid = self
            .delete_for(project, name, receipt_handles)
            .await
            .map_err(delivery_error)?;
        if !invalid.is_empty() {
            tracing::warn!(queue = %queue_arn, count = invalid.len(), "receipt handles refused on delete");
        }
        Ok(())
    }
}
