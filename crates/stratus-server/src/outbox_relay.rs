//! The outbox relay: delivers the S3 events that bucket rules naming a queue or a topic left in
//! the outbox, then marks them consumed. The delivery id is the event id, so a crash between
//! delivering and marking re-delivers an id the receiver already has, which it ignores.
//!
//! It runs when the store reports a commit that wrote such events, and every few seconds for
//! leftovers (a restart, a destination that was unavailable). Events of one bucket go in order:
//! a transient failure holds back that bucket's later events until the next pass, with backoff;
//! other buckets proceed, concurrently. A permanent failure (the queue is gone) is logged and the
//! event consumed with the reason, so it cannot block the bucket forever.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use stratus_core::NotificationTarget;
use stratus_core::message::MessageAttributes;
use stratus_events::{DeliveryError, QueueDelivery, QueueMessage, TopicDelivery, TopicMessage};
use stratus_meta::OutboxRecord;
use stratus_store::Store;
use tokio::sync::Notify;

/// Events read per pass.
const BATCH: usize = 256;
/// How often leftovers are looked for when nothing wakes the relay.
const POLL: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The subject S3 gives the notifications it publishes to SNS.
const S3_SUBJECT: &str = "Amazon S3 Notification";

pub(crate) struct OutboxRelay {
    /// Weak: the relay stops when the server's store is dropped.
    pub store: Weak<Store>,
    pub queues: Arc<dyn QueueDelivery>,
    pub topics: Arc<dyn TopicDelivery>,
    pub wake: Arc<Notify>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pass {
    pub delivered: usize,
    pub dropped: usize,
    /// Buckets whose next event failed transiently and waits for a later pass.
    pub held_back: usize,
    /// The pass read a full batch: more may be waiting.
    pub full: bool,
}

enum Outcome {
    Delivered,
    Dropped,
    HeldBack,
}

impl OutboxRelay {
    /// Relays until the store is dropped.
    pub(crate) async fn run(self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let Some(store) = self.store.upgrade() else {
                return;
            };
            let pause = match self.pass(&store).await {
                Ok(pass) if pass.held_back > 0 => {
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    pause
                }
                Ok(pass) => {
                    backoff = FIRST_BACKOFF;
                    if pass.full { Duration::ZERO } else { POLL }
                }
                Err(error) => {
                    tracing::error!(%error, "cannot read the event outbox");
                    POLL
                }
            };
            drop(store);
            let _ = tokio::time::timeout(pause, self.wake.notified()).await;
        }
    }

    /// Delivers the pending events once: buckets concurrently, each bucket's events in order.
    pub(crate) async fn pass(&self, store: &Store) -> stratus_store::StoreResult<Pass> {
        let events = store.pending_events(BATCH).await?;
        let full = events.len() == BATCH;
        let mut by_bucket: HashMap<String, Vec<OutboxRecord>> = HashMap::new();
        for event in events {
            by_bucket
                .entry(event.bucket.clone())
                .or_default()
                .push(event);
        }
        let outcomes = futures::future::join_all(
            by_bucket
                .into_values()
                .map(|events| self.relay_bucket(store, events)),
        )
        .await;
        let mut pass = Pass {
            full,
            ..Pass::default()
        };
        for outcome in outcomes.into_iter().flatten() {
            match outcome {
                Outcome::Delivered => pass.delivered += 1,
                Outcome::Dropped => pass.dropped += 1,
                Outcome::HeldBack => pass.held_back += 1,
            }
        }
        Ok(pass)
    }

    /// One bucket's events in order, stopping at the first that must wait.
    async fn relay_bucket(&self, store: &Store, events: Vec<OutboxRecord>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let (outcome, failure) = match self.deliver(store, &event).await {
                Ok(()) => (Outcome::Delivered, None),
                Err(DeliveryError::Permanent(reason)) => {
                    tracing::warn!(event = %event.event_id, bucket = %event.bucket, %reason, "bucket notification dropped: its destination refuses it");
                    (Outcome::Dropped, Some(reason))
                }
                Err(DeliveryError::Transient(reason)) => {
                    tracing::info!(event = %event.event_id, bucket = %event.bucket, %reason, "bucket notification not delivered yet; will retry");
                    outcomes.push(Outcome::HeldBack);
                    break;
                }
            };
            if let Err(error) = store.consume_event(&event.event_id, failure).await {
                // Delivered but not marked: the next pass re-delivers the same id.
                tracing::error!(%error, event = %event.event_id, "cannot mark an outbox event consumed");
                outcomes.push(Outcome::HeldBack);
                break;
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    async fn deliver(&self, store: &Store, event: &OutboxRecord) -> Result<(), DeliveryError> {
        let project = store
            .bucket_project(&event.bucket)
            .await
            .map_err(|e| DeliveryError::Transient(format!("cannot read the bucket: {e}")))?
            .ok_or_else(|| DeliveryError::Permanent("the bucket no longer exists".into()))?;
        let document = event.payload.to_string();
        match &event.target {
            NotificationTarget::Queue(arn) => {
                let message = QueueMessage {
                    body: document,
                    attributes: MessageAttributes::default(),
                    group_id: None,
                    chain_depth: event.chain_depth,
                };
                self.queues
                    .deliver_to_queue(&project, arn, &event.event_id, message)
                    .await
            }
            NotificationTarget::Topic(arn) => {
                let message = TopicMessage {
                    message: document,
                    subject: Some(S3_SUBJECT.into()),
                    attributes: MessageAttributes::default(),
                    chain_depth: event.chain_depth,
                };
                self.topics
                    .publish_to_topic(&project, arn, &event.event_id, message)
                    .await
            }
            // Function rules are queued in the upload's own transaction; a row left pending here
            // names no valid function ARN.
            NotificationTarget::Lambda(arn) => Err(DeliveryError::Permanent(format!(
                "{arn} is not a function ARN"
            ))),
        }
    }
}

#[cfg(test)]
#[path = "outbox_relay_tests.rs"]
mod tests;
