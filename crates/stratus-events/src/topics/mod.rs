//! SNS-compatible topics: topics and subscriptions of a project, publishing (one transaction
//! queues a delivery per matching confirmed subscription) and the worker that sends them.
//! Every public method takes the caller and checks its project and role; another project's
//! topics and subscriptions answer "not found".

mod attributes;
mod envelope;
mod publish;
mod subscriptions;
mod worker;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stratus_core::Action;
use stratus_core::arn::{Arn, account_id, topic_arn};
use stratus_identity::Principal;
use stratus_meta::{MetaError, TopicRecord, TopicRepository};
use tokio::sync::Notify;

use crate::delivery::{FunctionDelivery, HttpDelivery, QueueDelivery};

pub use publish::{MAX_MESSAGE_BYTES, PublishRequest, Structure};
pub use subscriptions::SubscriptionSummary;

/// Topics per `ListTopics` page, as SNS.
pub const TOPICS_PAGE: usize = 100;
/// Subscriptions per `ListSubscriptions` page, as SNS.
pub const SUBSCRIPTIONS_PAGE: usize = 100;

/// Failures by meaning; `stratus-api` maps them to SNS error codes.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("{0}")]
    NotFound(String),
    /// SNS's `InvalidParameter`; the message is complete ("Invalid parameter: ...").
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    AuthorizationError(String),
    #[error("topic storage failed")]
    Storage(#[from] MetaError),
}

pub type TopicResult<T> = Result<T, TopicError>;

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Wait before the second attempt; doubles after each failure.
    pub base: Duration,
    /// Longest wait between attempts.
    pub max: Duration,
    /// Attempts before a delivery is dropped.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
            attempts: 10,
        }
    }
}

/// The topic service.
pub struct Topics {
    meta: Arc<dyn TopicRepository>,
    queues: Arc<dyn QueueDelivery>,
    functions: Arc<dyn FunctionDelivery>,
    http: Arc<dyn HttpDelivery>,
    /// `http://HOST:PORT` as subscribers reach this server (SubscribeURL, UnsubscribeURL).
    public_endpoint: String,
    /// Signs envelopes (HMAC-SHA256); per server start, as nobody can verify them anyway.
    signing_key: [u8; 32],
    retry: RetryPolicy,
    /// Signalled after each commit that queued deliveries.
    wake: Notify,
    /// Deliveries being attempted now, so a pass does not start one twice.
    running: Mutex<HashSet<String>>,
    /// Counts publications and deliveries when the server shares its metrics.
    pub(crate) metrics: Option<Arc<stratus_core::metrics::Metrics>>,
}

impl std::fmt::Debug for Topics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topics")
            .field("public_endpoint", &self.public_endpoint)
            .finish_non_exhaustive()
    }
}

fn require(caller: &Principal, action: Action) -> TopicResult<()> {
    if caller.may(action) {
        Ok(())
    } else {
        Err(TopicError::AuthorizationError(format!(
            "User: {} is not authorized to perform this action",
            caller.access_key_id
        )))
    }
}

pub(crate) use stratus_core::clock::now_ms;

/// A random UUID (version 4) in its usual text form.
pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn not_found_topic() -> TopicError {
    TopicError::NotFound("Topic does not exist".into())
}

fn valid_topic_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty()
        && name.len() <= 256
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Topics {
    #[must_use]
    pub fn new(
        meta: Arc<dyn TopicRepository>,
        queues: Arc<dyn QueueDelivery>,
        functions: Arc<dyn FunctionDelivery>,
        http: Arc<dyn HttpDelivery>,
        public_endpoint: String,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            meta,
            queues,
            functions,
            http,
            public_endpoint,
            signing_key: rand::random(),
            retry,
            wake: Notify::new(),
            running: Mutex::new(HashSet::new()),
            metrics: None,
        }
    }

    /// Records publications and delivery attempts in `metrics` (`GET /metrics`).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<stratus_core::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The topic name an ARN names in the caller's project; NotFound for anything else (a
    /// malformed ARN is InvalidParameter, as SNS answers).
    pub(crate) fn topic_name(caller: &Principal, arn: &str) -> TopicResult<String> {
        let parsed = Arn::parse(arn)
            .ok_or_else(|| TopicError::InvalidParameter("Invalid parameter: TopicArn".into()))?;
        if parsed.service != "sns" || parsed.resource.contains(':') {
            return Err(TopicError::InvalidParameter(
                "Invalid parameter: TopicArn".into(),
            ));
        }
        if !parsed.in_project(&caller.project) {
            return Err(not_found_topic());
        }
        Ok(parsed.resource.to_owned())
    }

    async fn existing_topic(&self, caller: &Principal, arn: &str) -> TopicResult<TopicRecord> {
        let name = Self::topic_name(caller, arn)?;
        self.meta
            .get_topic(&caller.project, &name)
            .await?
            .ok_or_else(not_found_topic)
    }

    /// CreateTopic: idempotent by name; the same name with different attributes is refused.
    ///
    /// # Errors
    /// InvalidParameter for a bad name or attribute; AuthorizationError.
    pub async fn create_topic(
        &self,
        caller: &Principal,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> TopicResult<String> {
        require(caller, Action::Write)?;
        if !valid_topic_name(name) {
            return Err(TopicError::InvalidParameter(
                "Invalid parameter: Topic Name".into(),
            ));
        }
        let mut stored = attributes::validate_topic_attributes(&attributes, true)?;
        let fifo = stored.get("FifoTopic").is_some_and(|v| v == "true");
        if fifo != name.ends_with(".fifo") {
            return Err(TopicError::InvalidParameter(
                "Invalid parameter: Fifo Topic names must end with .fifo and Standard Topic cannot end with .fifo".into(),
            ));
        }
        for (key, value) in tags {
            stored.insert(format!("{}{key}", attributes::TAG_PREFIX), value);
        }
        let record = TopicRecord {
            project: caller.project.clone(),
            name: name.to_owned(),
            attributes: stored.clone(),
            created_ms: now_ms(),
        };
        let existing = self.meta.create_topic(record).await?;
        let visible = |map: &BTreeMap<String, String>| {
            map.iter()
                .filter(|(k, _)| !k.starts_with(attributes::TAG_PREFIX))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        if visible(&existing.attributes) != visible(&stored) && !attributes.is_empty() {
            return Err(TopicError::InvalidParameter(
                "Invalid parameter: Attributes Reason: Topic already exists with different attributes".into(),
            ));
        }
        Ok(topic_arn(&caller.project, name))
    }

    /// ListTopics: one page of the caller's topic ARNs and the next page's token.
    ///
    /// # Errors
    /// AuthorizationError, storage failures.
    pub async fn list_topics(
        &self,
        caller: &Principal,
        next_token: Option<&str>,
    ) -> TopicResult<(Vec<String>, Option<String>)> {
        require(caller, Action::Read)?;
        let mut topics = self
            .meta
            .list_topics(&caller.project, next_token, TOPICS_PAGE + 1)
            .await?;
        let more = topics.len() > TOPICS_PAGE;
        topics.truncate(TOPICS_PAGE);
        let next = more
            .then(|| topics.last().map(|t| t.name.clone()))
            .flatten();
        let arns = topics
            .iter()
            .map(|t| topic_arn(&caller.project, &t.name))
            .collect();
        Ok((arns, next))
    }

    /// DeleteTopic: removes the topic and its subscriptions; deleting a missing topic succeeds,
    /// as in SNS.
    ///
    /// # Errors
    /// AuthorizationError, a malformed ARN, storage failures.
    pub async fn delete_topic(&self, caller: &Principal, arn: &str) -> TopicResult<()> {
        require(caller, Action::Write)?;
        let name = match Self::topic_name(caller, arn) {
            Ok(name) => name,
            // Another project's topic: as absent, which deleting ignores.
            Err(TopicError::NotFound(_)) => return Ok(()),
            Err(other) => return Err(other),
        };
        self.meta.delete_topic(&caller.project, &name).await?;
        Ok(())
    }

    /// GetTopicAttributes.
    ///
    /// # Errors
    /// NotFound, AuthorizationError.
    pub async fn topic_attributes(
        &self,
        caller: &Principal,
        arn: &str,
    ) -> TopicResult<BTreeMap<String, String>> {
        require(caller, Action::Read)?;
        let topic = self.existing_topic(caller, arn).await?;
        let subscriptions = self
            .meta
            .list_subscriptions(&caller.project, Some(&topic.name), None, usize::MAX >> 1)
            .await?;
        let confirmed = subscriptions.iter().filter(|s| s.confirmed).count();
        let account = account_id(&caller.project);
        let arn = topic_arn(&caller.project, &topic.name);
        let mut out = attributes::topic_defaults(&arn, &account);
        out.extend(
            topic
                .attributes
                .into_iter()
                .filter(|(k, _)| !k.starts_with(attributes::TAG_PREFIX)),
        );
        out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        out.insert(
            "SubscriptionsPending".into(),
            (subscriptions.len() - confirmed).to_string(),
        );
        out.insert("SubscriptionsDeleted".into(), "0".into());
        Ok(out)
    }

    /// SetTopicAttributes: one attribute.
    ///
    /// # Errors
    /// NotFound, InvalidParameter, AuthorizationError.
    pub async fn set_topic_attribute(
        &self,
        caller: &Principal,
        arn: &str,
        name: &str,
        value: &str,
    ) -> TopicResult<()> {
        require(caller, Action::Write)?;
        let mut topic = self.existing_topic(caller, arn).await?;
        let single = BTreeMap::from([(name.to_owned(), value.to_owned())]);
        let checked = attributes::validate_topic_attributes(&single, false)?;
        topic.attributes.extend(checked);
        if !self
            .meta
            .set_topic_attributes(&caller.project, &topic.name, topic.attributes)
            .await?
        {
            return Err(not_found_topic());
        }
        Ok(())
    }

    /// ListTagsForResource on a topic.
    ///
    /// # Errors
    /// NotFound (ResourceNotFound in SNS), AuthorizationError.
    pub async fn topic_tags(
        &self,
        caller: &Principal,
        arn: &str,
    ) -> TopicResult<BTreeMap<String, String>> {
        require(caller, Action::Read)?;
        let topic = self.existing_topic(caller, arn).await?;
        Ok(topic
            .attributes
            .into_iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(attributes::TAG_PREFIX)
                    .map(|k| (k.to_owned(), v))
            })
            .collect())
    }
}
