//! Topic and subscription attributes: which ones may be set, their checks, and the defaults
//! Get*Attributes report.

use std::collections::BTreeMap;

use stratus_core::filter_policy::{FilterPolicy, Scope};

use super::{TopicError, TopicResult};

/// Tags are kept among a topic's stored attributes under this prefix, never reported as
/// attributes.
pub(super) const TAG_PREFIX: &str = "tag:";

const TOPIC_SETTABLE: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "ArchivePolicy",
];

fn invalid(message: String) -> TopicError {
    TopicError::InvalidParameter(message)
}

fn boolean(name: &str, value: &str) -> TopicResult<()> {
    match value {
        "true" | "false" => Ok(()),
        _ => Err(invalid(format!(
            "Invalid parameter: Attributes Reason: {name}: Invalid value [{value}]. Must be true or false."
        ))),
    }
}

fn json_object(name: &str, value: &str) -> TopicResult<()> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(invalid(format!(
            "Invalid parameter: {name}: failed to parse JSON."
        ))),
    }
}

/// Checks topic attributes; `creating` also allows `FifoTopic`.
pub(super) fn validate_topic_attributes(
    attributes: &BTreeMap<String, String>,
    creating: bool,
) -> TopicResult<BTreeMap<String, String>> {
    for (name, value) in attributes {
        let allowed = TOPIC_SETTABLE.contains(&name.as_str()) || (creating && name == "FifoTopic");
        if !allowed {
            return Err(invalid("Invalid parameter: AttributeName".into()));
        }
        match name.as_str() {
            "FifoTopic" | "ContentBasedDeduplication" => boolean(name, value)?,
            "Policy" | "DeliveryPolicy" if !value.is_empty() => json_object(name, value)?,
            "DisplayName" if value.len() > 100 => {
                return Err(invalid("Invalid parameter: DisplayName".into()));
            }
            _ => {}
        }
    }
    Ok(attributes.clone())
}

/// What GetTopicAttributes reports before the stored attributes are laid over it.
pub(super) fn topic_defaults(arn: &str, account: &str) -> BTreeMap<String, String> {
    let policy = serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes", "SNS:SetTopicAttributes",
                       "SNS:DeleteTopic", "SNS:ListSubscriptionsByTopic", "SNS:Receive"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    });
    let delivery = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":10,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"exponential"},"disableSubscriptionOverrides":false}}"#;
    BTreeMap::from([
        ("TopicArn".to_owned(), arn.to_owned()),
        ("Owner".to_owned(), account.to_owned()),
        ("DisplayName".to_owned(), String::new()),
        ("Policy".to_owned(), policy.to_string()),
        ("EffectiveDeliveryPolicy".to_owned(), delivery.to_owned()),
    ])
}

const SUBSCRIPTION_SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
];

/// Checks subscription attributes as they would stand after applying `changes` to `current`;
/// returns the merged set. The filter policy is checked against the resulting scope.
pub(super) fn merge_subscription_attributes(
    project: &str,
    protocol: &str,
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, String>,
) -> TopicResult<BTreeMap<String, String>> {
    let mut merged = current.clone();
    for (name, value) in changes {
        if !SUBSCRIPTION_SETTABLE.contains(&name.as_str()) {
            return Err(invalid("Invalid parameter: AttributeName".into()));
        }
        match name.as_str() {
            "RawMessageDelivery" => {
                boolean(name, value)?;
                if protocol == "lambda" {
                    return Err(invalid(
                        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [true]. Raw message delivery is not supported for the lambda protocol.".into(),
                    ));
                }
            }
            "FilterPolicyScope" if Scope::parse(value).is_none() => {
                return Err(invalid(format!(
                    "Invalid parameter: FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
                )));
            }
            "RedrivePolicy" if !value.is_empty() => {
                json_object(name, value)?;
                let target = redrive_target_of(value).unwrap_or_default();
                let in_project = stratus_core::arn::Arn::parse(&target)
                    .is_some_and(|arn| arn.service == "sqs" && arn.in_project(project));
                if !in_project {
                    return Err(invalid(format!(
                        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn: {target:?} is not a queue of this account"
                    )));
                }
            }
            "DeliveryPolicy" if !value.is_empty() => json_object(name, value)?,
            _ => {}
        }
        if value.is_empty() && name == "FilterPolicy" {
            merged.remove(name);
        } else {
            merged.insert(name.clone(), value.clone());
        }
    }
    if let Some(policy) = merged.get("FilterPolicy") {
        FilterPolicy::parse(policy, scope_of(&merged))
            .map_err(|why| invalid(format!("Invalid parameter: FilterPolicy: {why}")))?;
    }
    Ok(merged)
}

/// The dead-letter queue of a subscription's `RedrivePolicy`, if it names one.
pub(super) fn dead_letter_queue(attributes: &BTreeMap<String, String>) -> Option<String> {
    attributes
        .get("RedrivePolicy")
        .and_then(|policy| redrive_target_of(policy))
}

fn redrive_target_of(policy: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(policy)
        .ok()?
        .get("deadLetterTargetArn")?
        .as_str()
        .map(str::to_owned)
}

pub(super) fn scope_of(attributes: &BTreeMap<String, String>) -> Scope {
    attributes
        .get("FilterPolicyScope")
        .and_then(|s| Scope::parse(s))
        .unwrap_or_default()
}

pub(super) fn raw_delivery(attributes: &BTreeMap<String, String>) -> bool {
    attributes
        .get("RawMessageDelivery")
        .is_some_and(|v| v == "true")
}
