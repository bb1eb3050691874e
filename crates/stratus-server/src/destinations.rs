//! Lambda destinations over the platform's services: an invocation record goes to an SQS queue
//! (as the message body), an SNS topic (as the message) or a Lambda function (as the payload of
//! an asynchronous invocation), chosen by the destination ARN's service.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use stratus_core::message::MessageAttributes;
use stratus_events::{DeliveryError, QueueDelivery, QueueMessage, TopicDelivery, TopicMessage};
use stratus_runtime::{DeliveryFailed, DestinationSink, Functions, RuntimeError};

pub(crate) struct Destinations {
    pub queues: Arc<dyn QueueDelivery>,
    pub topics: Arc<dyn TopicDelivery>,
    /// Weak: the function service holds this sink, and must still be dropped with the server.
    pub functions: Weak<Functions>,
}

fn failed(error: DeliveryError) -> DeliveryFailed {
    let retryable = matches!(error, DeliveryError::Transient(_));
    DeliveryFailed {
        message: error.to_string(),
        retryable,
    }
}

fn permanent(message: String) -> DeliveryFailed {
    DeliveryFailed {
        message,
        retryable: false,
    }
}

#[async_trait]
impl DestinationSink for Destinations {
    async fn deliver(
        &self,
        project: &str,
        destination_arn: &str,
        delivery_id: &str,
        record: serde_json::Value,
        chain_depth: u32,
    ) -> Result<(), DeliveryFailed> {
        // `chain_depth` is the depth of an invocation the record causes; a message carries its
        // sender's depth, and whoever consumes it adds one.
        let sender_depth = chain_depth.saturating_sub(1);
        let service = stratus_core::arn::Arn::parse(destination_arn).map(|arn| arn.service);
        match service {
            Some("sqs") => {
                let message = QueueMessage {
                    body: record.to_string(),
                    attributes: MessageAttributes::default(),
                    group_id: None,
                    chain_depth: sender_depth,
                };
                self.queues
                    .deliver_to_queue(project, destination_arn, delivery_id, message)
                    .await
                    .map_err(failed)
            }
            Some("sns") => {
                let message = TopicMessage {
                    message: record.to_string(),
                    subject: None,
                    attributes: MessageAttributes::default(),
                    chain_depth: sender_depth,
                };
                self.topics
                    .publish_to_topic(project, destination_arn, delivery_id, message)
                    .await
                    .map_err(failed)
            }
            Some("lambda") => {
                let Some(functions) = self.functions.upgrade() else {
                    return Err(permanent("the function service has stopped".into()));
                };
                let payload = record.to_string().into_bytes();
                match functions
                    .queue_event(project, destination_arn, delivery_id, payload, chain_depth)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(RuntimeError::NotFound(message)) => Err(permanent(message)),
                    Err(error) => Err(DeliveryFailed {
                        message: error.to_string(),
                        retryable: true,
                    }),
                }
            }
            _ => Err(permanent(format!(
                "{destination_arn} is not a queue, topic or function"
            ))),
        }
    }
}
