//! Subscribe, confirm, unsubscribe, list, and subscription attributes. `sqs` and `lambda`
//! subscriptions (to the caller's own project) are confirmed at once; `http`/`https` ones stay
//! pending until the endpoint confirms with the token sent to it.

use std::collections::BTreeMap;

use stratus_core::Action;
use stratus_core::arn::{Arn, account_id, topic_arn};
use stratus_identity::Principal;
use stratus_meta::{SnsDeliveryRecord, SubscriptionRecord};

use super::envelope::{Kind, Publication, encode, timestamp};
use super::{
    SUBSCRIPTIONS_PAGE, TopicError, TopicResult, Topics, attributes, new_uuid, now_ms, require,
};

/// One row of ListSubscriptions(ByTopic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSummary {
    /// The ARN, or `PendingConfirmation` while unconfirmed (as SNS lists them).
    pub subscription_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub topic_arn: String,
}

fn invalid(message: &str) -> TopicError {
    TopicError::InvalidParameter(message.to_owned())
}

fn not_found_subscription() -> TopicError {
    TopicError::NotFound("Subscription does not exist".into())
}

/// Checks an endpoint for its protocol. Queues and functions must be the caller's own: another
/// project's ARN is refused like a malformed one, revealing nothing.
fn validate_endpoint(caller: &Principal, protocol: &str, endpoint: &str) -> TopicResult<()> {
    let own = |service: &str| {
        Arn::parse(endpoint).is_some_and(|arn| {
            arn.service == service
                && arn.in_project(&caller.project)
                && (service != "lambda" || arn.resource.starts_with("function:"))
        })
    };
    match protocol {
        "sqs" if own("sqs") => Ok(()),
        "sqs" => Err(invalid("Invalid parameter: SQS endpoint ARN")),
        "lambda" if own("lambda") => Ok(()),
        "lambda" => Err(invalid("Invalid parameter: Lambda endpoint ARN")),
        "http" | "https" => {
            let rest = endpoint.strip_prefix(&format!("{protocol}://"));
            if rest.is_some_and(|host| !host.is_empty()) {
                Ok(())
            } else {
                Err(invalid("Invalid parameter: Endpoint"))
            }
        }
        other => Err(TopicError::InvalidParameter(format!(
            "Invalid parameter: Amazon SNS does not support this protocol string: {other}"
        ))),
    }
}

impl Topics {
    fn summary(subscription: &SubscriptionRecord) -> SubscriptionSummary {
        SubscriptionSummary {
            subscription_arn: if subscription.confirmed {
                subscription.arn.clone()
            } else {
                "PendingConfirmation".into()
            },
            owner: account_id(&subscription.project),
            protocol: subscription.protocol.clone(),
            endpoint: subscription.endpoint.clone(),
            topic_arn: topic_arn(&subscription.project, &subscription.topic),
        }
    }

    /// The caller's subscription an ARN names; NotFound otherwise.
    async fn own_subscription(
        &self,
        caller: &Principal,
        arn: &str,
    ) -> TopicResult<SubscriptionRecord> {
        let parsed = Arn::parse(arn).filter(|a| a.service == "sns" && a.resource.contains(':'));
        let Some(parsed) = parsed else {
            return Err(invalid("Invalid parameter: SubscriptionArn"));
        };
        if !parsed.in_project(&caller.project) {
            return Err(not_found_subscription());
        }
        match self.meta.get_subscription(arn).await? {
            Some(s) if s.project == caller.project => Ok(s),
            _ => Err(not_found_subscription()),
        }
    }

    /// Subscribe: returns the subscription ARN, or `pending confirmation` for an unconfirmed
    /// HTTP subscription unless `return_arn`.
    ///
    /// # Errors
    /// NotFound (topic), InvalidParameter (protocol, endpoint, attributes), AuthorizationError.
    pub async fn subscribe(
        &self,
        caller: &Principal,
        topic: &str,
        protocol: &str,
        endpoint: &str,
        attributes: BTreeMap<String, String>,
        return_arn: bool,
    ) -> TopicResult<String> {
        require(caller, Action::Write)?;
        let existing = self.existing_topic(caller, topic).await?;
        validate_endpoint(caller, protocol, endpoint)?;
        let attributes = attributes::merge_subscription_attributes(
            &caller.project,
            protocol,
            &BTreeMap::new(),
            &attributes,
        )?;
        let arn = format!(
            "{}:{}",
            topic_arn(&caller.project, &existing.name),
            new_uuid()
        );
        let needs_confirmation = matches!(protocol, "http" | "https");
        let token: String = (0..4)
            .map(|_| format!("{:016x}", rand::random::<u64>()))
            .collect();
        let now = now_ms();
        let record = SubscriptionRecord {
            arn: arn.clone(),
            project: caller.project.clone(),
            topic: existing.name.clone(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
            attributes,
            confirmed: !needs_confirmation,
            token: token.clone(),
            created_ms: now,
        };
        let confirmation = needs_confirmation
            .then(|| self.confirmation(&record, &token, now))
            .transpose()?;
        let stored = self.meta.subscribe(record, confirmation).await?;
        if stored.arn == arn && needs_confirmation {
            self.wake.notify_one();
        }
        Ok(if stored.confirmed || return_arn {
            stored.arn
        } else {
            "pending confirmation".into()
        })
    }

    fn confirmation(
        &self,
        subscription: &SubscriptionRecord,
        token: &str,
        now: i64,
    ) -> TopicResult<SnsDeliveryRecord> {
        let topic = topic_arn(&subscription.project, &subscription.topic);
        let publication = Publication {
            kind: Kind::SubscriptionConfirmation,
            message_id: new_uuid(),
            topic_arn: topic.clone(),
            subject: None,
            message: format!(
                "You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
            ),
            attributes: BTreeMap::new(),
            timestamp: timestamp(now),
            chain_depth: 0,
            token: Some(token.to_owned()),
            subscribe_url: Some(format!(
                "{}/?Action=ConfirmSubscription&TopicArn={}&Token={token}",
                self.public_endpoint,
                encode(&topic)
            )),
        };
        Ok(SnsDeliveryRecord {
            id: new_uuid(),
            subscription_arn: subscription.arn.clone(),
            project: subscription.project.clone(),
            payload: serde_json::to_string(&publication)
                .map_err(|e| TopicError::InvalidParameter(e.to_string()))?,
            attempts: 0,
            next_attempt_ms: now,
            created_ms: now,
        })
    }

    /// ConfirmSubscription, signed (the caller must own the topic) or not (`caller` None: the
    /// SubscribeURL an endpoint GETs, where the token is the credential). Returns the ARN.
    ///
    /// # Errors
    /// NotFound for an unknown topic, InvalidParameter for a token that is not this topic's.
    pub async fn confirm_subscription(
        &self,
        caller: Option<&Principal>,
        topic: &str,
        token: &str,
    ) -> TopicResult<String> {
        if let Some(caller) = caller {
            require(caller, Action::Write)?;
            self.existing_topic(caller, topic).await?;
        }
        let bad_token = || invalid("Invalid parameter: Token");
        if token.is_empty() {
            return Err(bad_token());
        }
        let mut subscription = self
            .meta
            .subscription_by_token(token)
            .await?
            .ok_or_else(bad_token)?;
        let owner_matches = caller.is_none_or(|c| c.project == subscription.project);
        if topic_arn(&subscription.project, &subscription.topic) != topic || !owner_matches {
            return Err(bad_token());
        }
        if !subscription.confirmed {
            subscription.confirmed = true;
            if !self.meta.update_subscription(subscription.clone()).await? {
                return Err(bad_token());
            }
        }
        Ok(subscription.arn)
    }

    /// Unsubscribe through a notification's `UnsubscribeURL`, unsigned: whoever holds the
    /// subscription ARN (its last part is random) may end it, as on AWS.
    ///
    /// # Errors
    /// NotFound.
    pub async fn unsubscribe_by_link(&self, arn: &str) -> TopicResult<()> {
        let subscription = self
            .meta
            .get_subscription(arn)
            .await?
            .ok_or_else(not_found_subscription)?;
        self.meta.delete_subscription(&subscription.arn).await?;
        Ok(())
    }

    /// Unsubscribe.
    ///
    /// # Errors
    /// NotFound, AuthorizationError.
    pub async fn unsubscribe(&self, caller: &Principal, arn: &str) -> TopicResult<()> {
        require(caller, Action::Write)?;
        let subscription = self.own_subscription(caller, arn).await?;
        self.meta.delete_subscription(&subscription.arn).await?;
        Ok(())
    }

    /// ListSubscriptions (`topic` None) or ListSubscriptionsByTopic: one page and the next token.
    ///
    /// # Errors
    /// NotFound (topic), AuthorizationError.
    pub async fn list_subscriptions(
        &self,
        caller: &Principal,
        topic: Option<&str>,
        next_token: Option<&str>,
    ) -> TopicResult<(Vec<SubscriptionSummary>, Option<String>)> {
        require(caller, Action::Read)?;
        let topic_name = match topic {
            Some(arn) => Some(self.existing_topic(caller, arn).await?.name),
            None => None,
        };
        let mut rows = self
            .meta
            .list_subscriptions(
                &caller.project,
                topic_name.as_deref(),
                next_token,
                SUBSCRIPTIONS_PAGE + 1,
            )
            .await?;
        let more = rows.len() > SUBSCRIPTIONS_PAGE;
        rows.truncate(SUBSCRIPTIONS_PAGE);
        let next = more.then(|| rows.last().map(|s| s.arn.clone())).flatten();
        Ok((rows.iter().map(Self::summary).collect(), next))
    }

    /// GetSubscriptionAttributes.
    ///
    /// # Errors
    /// NotFound, AuthorizationError.
    pub async fn subscription_attributes(
        &self,
        caller: &Principal,
        arn: &str,
    ) -> TopicResult<BTreeMap<String, String>> {
        require(caller, Action::Read)?;
        let s = self.own_subscription(caller, arn).await?;
        let mut out = BTreeMap::from([
            ("SubscriptionArn".to_owned(), s.arn.clone()),
            ("TopicArn".to_owned(), topic_arn(&s.project, &s.topic)),
            ("Owner".to_owned(), account_id(&s.project)),
            ("Protocol".to_owned(), s.protocol.clone()),
            ("Endpoint".to_owned(), s.endpoint.clone()),
            ("PendingConfirmation".to_owned(), (!s.confirmed).to_string()),
            ("ConfirmationWasAuthenticated".to_owned(), "true".to_owned()),
            ("RawMessageDelivery".to_owned(), "false".to_owned()),
            (
                "SubscriptionPrincipal".to_owned(),
                format!("arn:aws:iam::{}:root", account_id(&s.project)),
            ),
        ]);
        if s.attributes.contains_key("FilterPolicy") {
            out.insert("FilterPolicyScope".into(), "MessageAttributes".into());
        }
        out.extend(s.attributes);
        Ok(out)
    }

    /// SetSubscriptionAttributes: one attribute.
    ///
    /// # Errors
    /// NotFound, InvalidParameter, AuthorizationError.
    pub async fn set_subscription_attribute(
        &self,
        caller: &Principal,
        arn: &str,
        name: &str,
        value: &str,
    ) -> TopicResult<()> {
        require(caller, Action::Write)?;
        let mut subscription = self.own_subscription(caller, arn).await?;
        let change = BTreeMap::from([(name.to_owned(), value.to_owned())]);
        subscription.attributes = attributes::merge_subscription_attributes(
            &caller.project,
            &subscription.protocol,
            &subscription.attributes,
            &change,
        )?;
        if !self.meta.update_subscription(subscription).await? {
            return Err(not_found_subscription());
        }
        Ok(())
    }
}
