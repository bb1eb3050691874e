//! The delivery worker: sends due outbox rows to their subscriptions, deletes each once
//! delivered, and retries failures with exponential backoff until the retry policy gives up.
//! A crash loses nothing: rows still in the outbox at start are simply sent (at least once;
//! queue and function deliveries are idempotent by the row's id).

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use stratus_meta::{SnsDeliveryRecord, SubscriptionRecord};

use super::envelope::{Kind, Publication, Signer};
use super::{Topics, attributes, now_ms};
use crate::delivery::{DeliveryError, QueueMessage};

/// Rows one pass looks at.
const BATCH: usize = 256;
/// The longest the worker sleeps without being woken.
const IDLE_POLL: Duration = Duration::from_secs(1);

impl Topics {
    /// Runs until the service is dropped: spawn it once per server, with a weak reference so
    /// the worker does not keep the service alive.
    pub async fn run_deliveries(service: Weak<Topics>) {
        loop {
            let Some(topics) = service.upgrade() else {
                return;
            };
            let now = now_ms();
            let sleep_for = match topics.meta.due_sns_deliveries(now, BATCH).await {
                Ok((due, next)) => {
                    for delivery in due {
                        topics.start(delivery);
                    }
                    next.map_or(IDLE_POLL, |at| {
                        Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(IDLE_POLL)
                    })
                }
                Err(error) => {
                    tracing::error!(%error, "cannot read pending SNS deliveries");
                    IDLE_POLL
                }
            };
            let _ = tokio::time::timeout(sleep_for, topics.wake.notified()).await;
        }
    }

    fn start(self: &Arc<Self>, delivery: SnsDeliveryRecord) {
        let lock = || {
            self.running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if !lock().insert(delivery.id.clone()) {
            return;
        }
        let topics = Arc::clone(self);
        tokio::spawn(async move {
            let id = delivery.id.clone();
            topics.attempt(delivery).await;
            topics
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
        });
    }

    async fn attempt(&self, delivery: SnsDeliveryRecord) {
        let outcome = self.send(&delivery).await;
        let result = match outcome {
            Ok(()) => self.meta.delete_sns_delivery(&delivery.id).await,
            Err(DeliveryError::Permanent(why)) => {
                tracing::error!(id = %delivery.id, subscription = %delivery.subscription_arn, reason = %why, "SNS delivery refused");
                self.give_up(&delivery).await
            }
            Err(DeliveryError::Transient(why)) => {
                let attempts = delivery.attempts + 1;
                if attempts >= self.retry.attempts {
                    tracing::error!(id = %delivery.id, subscription = %delivery.subscription_arn, attempts, reason = %why, "SNS delivery failed after every retry");
                    self.give_up(&delivery).await
                } else {
                    let factor = 1u32 << (attempts - 1).min(20);
                    let wait = self.retry.base.saturating_mul(factor).min(self.retry.max);
                    tracing::warn!(id = %delivery.id, attempts, reason = %why, retry_in = ?wait, "SNS delivery failed; will retry");
                    let at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    let result = self
                        .meta
                        .retry_sns_delivery(&delivery.id, attempts, at)
                        .await;
                    self.wake.notify_one();
                    result
                }
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, id = %delivery.id, "cannot record an SNS delivery attempt");
        }
    }

    /// Ends a delivery that will not succeed: into the subscription's dead-letter queue when its
    /// `RedrivePolicy` names one (before the outbox row goes, with an id derived from the
    /// delivery's, so a crash in between cannot lose or double it), otherwise dropped.
    async fn give_up(&self, delivery: &SnsDeliveryRecord) -> Result<(), stratus_meta::MetaError> {
        if let Err(why) = self.dead_letter(delivery).await {
            tracing::error!(id = %delivery.id, reason = %why, "SNS delivery dropped");
        }
        self.meta.delete_sns_delivery(&delivery.id).await
    }

    async fn dead_letter(&self, delivery: &SnsDeliveryRecord) -> Result<(), DeliveryError> {
        let subscription = self
            .meta
            .get_subscription(&delivery.subscription_arn)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent("the subscription is gone".into()))?;
        let queue = attributes::dead_letter_queue(&subscription.attributes).ok_or_else(|| {
            DeliveryError::Permanent("the subscription has no dead-letter queue".into())
        })?;
        let publication: Publication = serde_json::from_str(&delivery.payload)
            .map_err(|e| DeliveryError::Permanent(format!("unreadable delivery: {e}")))?;
        let message = self.queue_message(&publication, &subscription);
        self.queues
            .deliver_to_queue(
                &subscription.project,
                &queue,
                &format!("{}:dlq", delivery.id),
                message,
            )
            .await?;
        tracing::warn!(id = %delivery.id, %queue, "SNS delivery moved to the subscription's dead-letter queue");
        Ok(())
    }

    /// What an `sqs` subscription (or a dead-letter queue) receives: the JSON envelope, or the
    /// message and its attributes with raw delivery.
    fn queue_message(
        &self,
        publication: &Publication,
        subscription: &SubscriptionRecord,
    ) -> QueueMessage {
        if attributes::raw_delivery(&subscription.attributes) {
            QueueMessage {
                body: publication.message.clone(),
                attributes: publication.attributes.clone(),
                group_id: None,
                chain_depth: publication.chain_depth,
            }
        } else {
            let signer = Signer {
                key: &self.signing_key,
                public_endpoint: &self.public_endpoint,
            };
            QueueMessage {
                body: signer.envelope(publication, &subscription.arn).to_string(),
                attributes: BTreeMap::new(),
                group_id: None,
                chain_depth: publication.chain_depth,
            }
        }
    }

    async fn send(&self, delivery: &SnsDeliveryRecord) -> Result<(), DeliveryError> {
        let Some(subscription) = self
            .meta
            .get_subscription(&delivery.subscription_arn)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?
        else {
            return Err(DeliveryError::Permanent("the subscription is gone".into()));
        };
        let publication: Publication = serde_json::from_str(&delivery.payload)
            .map_err(|e| DeliveryError::Permanent(format!("unreadable delivery: {e}")))?;
        let signer = Signer {
            key: &self.signing_key,
            public_endpoint: &self.public_endpoint,
        };
        let raw = attributes::raw_delivery(&subscription.attributes);
        let envelope = || signer.envelope(&publication, &subscription.arn).to_string();
        let result: Result<(), DeliveryError> = async {
            match subscription.protocol.as_str() {
                "sqs" => {
                    let message = self.queue_message(&publication, &subscription);
                    self.queues
                        .deliver_to_queue(
                            &subscription.project,
                            &subscription.endpoint,
                            &delivery.id,
                            message,
                        )
                        .await
                }
                "lambda" => {
                    let event = signer
                        .lambda_event(&publication, &subscription.arn)
                        .to_string();
                    self.functions
                        .invoke_async(
                            &subscription.project,
                            &subscription.endpoint,
                            &delivery.id,
                            event.into_bytes(),
                            // The publisher's depth; the function it triggers runs one deeper.
                            publication.chain_depth.saturating_add(1),
                        )
                        .await
                }
                "http" | "https" => {
                    let body = if raw && publication.kind == Kind::Notification {
                        publication.message.clone()
                    } else {
                        envelope()
                    };
                    let mut headers = BTreeMap::from([
                        (
                            "x-amz-sns-message-type".to_owned(),
                            publication.kind.as_str().to_owned(),
                        ),
                        (
                            "x-amz-sns-message-id".to_owned(),
                            publication.message_id.clone(),
                        ),
                        (
                            "x-amz-sns-topic-arn".to_owned(),
                            publication.topic_arn.clone(),
                        ),
                        (
                            "content-type".to_owned(),
                            "text/plain; charset=UTF-8".to_owned(),
                        ),
                        (
                            "user-agent".to_owned(),
                            "Amazon Simple Notification Service Agent".to_owned(),
                        ),
                    ]);
                    if publication.kind == Kind::Notification {
                        headers.insert(
                            "x-amz-sns-subscription-arn".into(),
                            subscription.arn.clone(),
                        );
                    }
                    if raw {
                        headers.insert("x-amz-sns-rawdelivery".into(), "true".into());
                    }
                    let status = self
                        .http
                        .post(&subscription.endpoint, headers, body.into_bytes())
                        .await?;
                    if (200..300).contains(&status) {
                        Ok(())
                    } else {
                        Err(DeliveryError::Transient(format!(
                            "the endpoint answered {status}"
                        )))
                    }
                }
                other => Err(DeliveryError::Permanent(format!(
                    "protocol {other} is not delivered"
                ))),
            }
        }
        .await;
        if let Some(metrics) = &self.metrics {
            let outcome = if result.is_ok() { "success" } else { "failure" };
            metrics
                .sns_deliveries
                .with(&[subscription.protocol.as_str(), outcome])
                .inc();
        }
        result
    }
}
