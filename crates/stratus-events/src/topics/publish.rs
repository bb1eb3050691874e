//! Publish and PublishBatch. One write job checks the topic and queues one delivery per
//! confirmed subscription whose filter policy matches, so an acknowledged publish cannot lose a
//! delivery; the worker is woken right after that commit.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use stratus_core::Action;
use stratus_core::arn::topic_arn;
use stratus_core::filter_policy::{FilterPolicy, Scope};
use stratus_core::message::{MessageAttributes, message_size, validate_attributes};
use stratus_identity::Principal;
use stratus_meta::{PublishOutcome, SnsDeliveryRecord, SubscriptionRecord};

use super::envelope::{Kind, Publication, timestamp};
use super::{TopicError, TopicResult, Topics, attributes, new_uuid, now_ms, require};
use crate::delivery::{DeliveryError, TopicDelivery, TopicMessage};

/// The largest message (body and attributes), as SNS.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// How long a system publish's idempotency id is remembered.
const IDEMPOTENCY_MS: i64 = 24 * 60 * 60 * 1000;

/// How `message` is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Structure {
    #[default]
    Plain,
    /// A JSON object of per-protocol messages with a `default`.
    Json,
}

/// One Publish.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    pub message: String,
    pub subject: Option<String>,
    pub structure: Structure,
    pub attributes: MessageAttributes,
}

fn invalid(message: &str) -> TopicError {
    TopicError::InvalidParameter(message.to_owned())
}

/// Checks a publish and returns its per-protocol messages (`default` always present).
fn validate(request: &PublishRequest) -> TopicResult<BTreeMap<String, String>> {
    if request.message.is_empty() {
        return Err(invalid("Invalid parameter: Empty message"));
    }
    if message_size(&request.message, &request.attributes) > MAX_MESSAGE_BYTES {
        return Err(invalid("Invalid parameter: Message too long"));
    }
    if let Some(subject) = &request.subject {
        let printable = subject.chars().all(|c| !c.is_control());
        if subject.is_empty() || subject.len() > 100 || !printable {
            return Err(invalid("Invalid parameter: Subject"));
        }
    }
    validate_attributes(&request.attributes)
        .map_err(|why| TopicError::InvalidParameterValue(why.to_string()))?;
    match request.structure {
        Structure::Plain => Ok(BTreeMap::from([(
            "default".to_owned(),
            request.message.clone(),
        )])),
        Structure::Json => {
            let parsed: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&request.message).map_err(|_| {
                    invalid(
                        "Invalid parameter: Message Structure - JSON message body failed to parse",
                    )
                })?;
            let messages: BTreeMap<String, String> = parsed
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect();
            if !messages.contains_key("default") {
                return Err(invalid(
                    "Invalid parameter: Message Structure - No default entry in JSON message body",
                ));
            }
            Ok(messages)
        }
    }
}

/// Whether a subscription's filter policy lets `message` through.
fn passes(subscription: &SubscriptionRecord, message: &str, attrs: &MessageAttributes) -> bool {
    let Some(text) = subscription.attributes.get("FilterPolicy") else {
        return true;
    };
    let scope = attributes::scope_of(&subscription.attributes);
    match FilterPolicy::parse(text, scope) {
        Ok(policy) => match scope {
            Scope::MessageAttributes => policy.matches_attributes(attrs),
            Scope::MessageBody => policy.matches_body(message),
        },
        // Stored policies were checked when set; an unreadable one delivers nothing.
        Err(_) => false,
    }
}

impl Topics {
    /// Publish: returns the message id once the publication is committed.
    ///
    /// # Errors
    /// NotFound, InvalidParameter(Value), AuthorizationError.
    pub async fn publish(
        &self,
        caller: &Principal,
        topic: &str,
        request: PublishRequest,
    ) -> TopicResult<String> {
        require(caller, Action::Write)?;
        let name = Self::topic_name(caller, topic)?;
        let messages = validate(&request)?;
        let message_id = new_uuid();
        self.commit_publication(
            &caller.project,
            &name,
            &message_id,
            None,
            request,
            messages,
            caller.chain_depth,
        )
        .await?;
        Ok(message_id)
    }

    /// PublishBatch after its batch-level checks: the topic must exist (else the whole call
    /// fails); each entry then succeeds or fails on its own.
    ///
    /// # Errors
    /// NotFound, AuthorizationError.
    pub async fn publish_batch(
        &self,
        caller: &Principal,
        topic: &str,
        entries: Vec<(String, PublishRequest)>,
    ) -> TopicResult<Vec<(String, TopicResult<String>)>> {
        require(caller, Action::Write)?;
        self.existing_topic(caller, topic).await?;
        // One after another: each publish is one short write job, and entry order is kept.
        let mut results = Vec::with_capacity(entries.len());
        for (id, request) in entries {
            let outcome = self.publish(caller, topic, request).await;
            results.push((id, outcome));
        }
        Ok(results)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one publication's parts, each computed by the caller; a struct would only rename them"
    )]
    async fn commit_publication(
        &self,
        project: &str,
        topic: &str,
        message_id: &str,
        idempotency_id: Option<String>,
        request: PublishRequest,
        messages: BTreeMap<String, String>,
        chain_depth: u32,
    ) -> TopicResult<PublishOutcome> {
        let now = now_ms();
        let topic_arn = topic_arn(project, topic);
        let message_id = message_id.to_owned();
        let stamp = timestamp(now);
        let select = Box::new(move |subscription: &SubscriptionRecord| {
            if !subscription.confirmed {
                return None;
            }
            let message = messages
                .get(&subscription.protocol)
                .or_else(|| messages.get("default"))?
                .clone();
            if !passes(subscription, &message, &request.attributes) {
                return None;
            }
            let publication = Publication {
                kind: Kind::Notification,
                message_id: message_id.clone(),
                topic_arn: topic_arn.clone(),
                subject: request.subject.clone(),
                message,
                attributes: request.attributes.clone(),
                timestamp: stamp.clone(),
                chain_depth,
                token: None,
                subscribe_url: None,
            };
            let suffix = subscription.arn.rsplit(':').next().unwrap_or("");
            Some(SnsDeliveryRecord {
                id: format!("{message_id}-{suffix}"),
                subscription_arn: subscription.arn.clone(),
                project: subscription.project.clone(),
                payload: serde_json::to_string(&publication).ok()?,
                attempts: 0,
                next_attempt_ms: now,
                created_ms: now,
            })
        });
        let idempotency = idempotency_id.map(|id| (id, now + IDEMPOTENCY_MS));
        let outcome = self
            .meta
            .publish(project, topic, idempotency, select)
            .await
            .map_err(|e| match e {
                stratus_meta::MetaError::NotFound(_) => {
                    TopicError::NotFound("Topic does not exist".into())
                }
                other => TopicError::Storage(other),
            })?;
        if matches!(outcome, PublishOutcome::Published(n) if n > 0) {
            self.wake.notify_one();
        }
        if let (PublishOutcome::Published(_), Some(metrics)) = (&outcome, &self.metrics) {
            metrics.sns_published.with(&[project, topic]).inc();
        }
        Ok(outcome)
    }
}

#[async_trait]
impl TopicDelivery for Topics {
    async fn publish_to_topic(
        &self,
        project: &str,
        topic_arn: &str,
        delivery_id: &str,
        message: TopicMessage,
    ) -> Result<(), DeliveryError> {
        let parsed = stratus_core::arn::Arn::parse(topic_arn)
            .filter(|a| a.service == "sns" && a.in_project(project) && !a.resource.contains(':'))
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("{topic_arn} is not a topic of this project"))
            })?;
        let chain_depth = message.chain_depth;
        let request = PublishRequest {
            message: message.message,
            subject: message.subject,
            structure: Structure::Plain,
            attributes: message.attributes,
        };
        let messages = validate(&request).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        // The message id derives from the delivery id, so a repeat names the same message. It
        // keeps the version-4 shape of every other SNS message id (the hash stands in for the
        // random bits).
        let digest = Sha256::digest(format!("{project}\n{topic_arn}\n{delivery_id}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let message_id = uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string();
        self.commit_publication(
            project,
            parsed.resource,
            &message_id,
            Some(message_id.clone()),
            request,
            messages,
            chain_depth,
        )
        .await
        .map(|_| ())
        .map_err(|e| match e {
            TopicError::Storage(e) => DeliveryError::Transient(e.to_string()),
            other => DeliveryError::Permanent(other.to_string()),
        })
    }
}
