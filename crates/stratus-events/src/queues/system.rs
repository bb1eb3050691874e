//! The system-level interface: deliveries from SNS, S3 notifications and Lambda destinations
//! (`QueueDelivery`), and the calls an event-source-mapping poller makes. None takes a
//! principal: the caller has already decided the project.

use std::time::Duration;

use async_trait::async_trait;
use stratus_core::arn::{Arn, account_id};

use super::attributes::Settings;
use super::receive::{ReceiveRequest, ReceivedMessage};
use super::send::{SendRequest, prepare};
use super::{QueueError, QueueResult, Queues, now_ms};
use crate::{DeliveryError, QueueDelivery, QueueMessage};

/// The FIFO group of a delivery that names none.
const DEFAULT_GROUP: &str = "default";

impl Queues {
    /// Receives up to `max` (1–10) messages of `project`'s `queue`, hiding them for
    /// `visibility_timeout_s` seconds and waiting up to `wait` (at most 20 s) for the first.
    /// Every system and message attribute is returned.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, out-of-range parameters.
    pub async fn receive_for(
        &self,
        project: &str,
        queue: &str,
        max: u32,
        visibility_timeout_s: Option<u32>,
        wait: Duration,
    ) -> QueueResult<Vec<ReceivedMessage>> {
        let request = ReceiveRequest {
            max,
            visibility_timeout: visibility_timeout_s,
            wait_seconds: Some(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX)),
            system_attributes: vec!["All".into()],
            message_attributes: vec!["All".into()],
        };
        self.receive_in(project, queue, &request).await
    }

    /// Deletes messages by receipt handle; stale handles delete nothing and are not errors.
    /// Returns the handles that were not valid for this queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn delete_for(
        &self,
        project: &str,
        queue: &str,
        receipt_handles: Vec<String>,
    ) -> QueueResult<Vec<String>> {
        let mut invalid = Vec::new();
        for chunk in receipt_handles.chunks(super::MAX_BATCH) {
            let entries = chunk.iter().map(|h| (h.clone(), h.clone())).collect();
            for (handle, result) in self.delete_in(project, queue, entries).await? {
                if result.is_err() {
                    invalid.push(handle);
                }
            }
        }
        Ok(invalid)
    }
}

#[async_trait]
impl QueueDelivery for Queues {
    async fn deliver_to_queue(
        &self,
        project: &str,
        queue_arn: &str,
        delivery_id: &str,
        message: QueueMessage,
    ) -> Result<(), DeliveryError> {
        let arn = Arn::parse(queue_arn)
            .filter(|arn| arn.service == "sqs" && arn.in_project(project))
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("{queue_arn} is not a queue of project {project}"))
            })?;
        let record = match self.queue(project, arn.resource).await {
            Ok(record) => record,
            Err(QueueError::QueueDoesNotExist) => {
                return Err(DeliveryError::Permanent(format!(
                    "{queue_arn} does not exist"
                )));
            }
            Err(error) => return Err(DeliveryError::Transient(error.to_string())),
        };
        let settings = Settings::of(project, &record.attributes);
        let group = settings
            .fifo
            .then(|| message.group_id.unwrap_or_else(|| DEFAULT_GROUP.to_owned()));
        let request = SendRequest {
            body: message.body,
            attributes: message.attributes,
            trace_header: (message.chain_depth > 0)
                .then(|| stratus_core::lineage::trace_header(delivery_id, message.chain_depth)),
            ..SendRequest::default()
        };
        // Validated as a standard send, then the delivery id becomes the deduplication id on
        // every queue type: it is what makes a retried delivery add nothing.
        let mut prepared = prepare(
            &Settings {
                fifo: false,
                ..settings.clone()
            },
            &account_id(project),
            request,
            now_ms(),
        )
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        prepared.dedup_id = Some(delivery_id.to_owned());
        prepared.group_id = group;
        self.commit(&record, &settings, vec![prepared])
            .await
            .map(|_| ())
            .map_err(|e| match e {
                QueueError::QueueDoesNotExist => DeliveryError::Permanent(e.to_string()),
                other => DeliveryError::Transient(other.to_string()),
            })
    }
}
