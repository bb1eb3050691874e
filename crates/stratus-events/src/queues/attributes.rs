//! Queue attributes: which names exist, their ranges and defaults, and the typed settings the
//! message operations use. Stored attributes always hold every settable value (defaults filled
//! in), so a repeated CreateQueue compares like with like.

use std::collections::BTreeMap;

use serde::Deserialize;
use stratus_core::arn::Arn;

use super::errors::{QueueError, QueueResult};

pub const VISIBILITY_TIMEOUT: &str = "VisibilityTimeout";
pub const RETENTION: &str = "MessageRetentionPeriod";
pub const DELAY: &str = "DelaySeconds";
pub const WAIT: &str = "ReceiveMessageWaitTimeSeconds";
pub const MAX_SIZE: &str = "MaximumMessageSize";
pub const REDRIVE: &str = "RedrivePolicy";
pub const FIFO: &str = "FifoQueue";
pub const CONTENT_DEDUP: &str = "ContentBasedDeduplication";

/// Settable numeric attributes: name, smallest, largest, default.
const NUMERIC: [(&str, u64, u64, u64); 5] = [
    (VISIBILITY_TIMEOUT, 0, 43_200, 30),
    (RETENTION, 60, 1_209_600, 345_600),
    (DELAY, 0, 900, 0),
    (WAIT, 0, 20, 0),
    (MAX_SIZE, 1024, 1_048_576, 262_144),
];

/// Accepted and stored as given; Stratus does not act on them (no KMS, no IAM policies).
const OPAQUE: [&str; 5] = [
    "Policy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedriveAllowPolicy",
];

/// FIFO-only attributes and their allowed values.
const FIFO_ONLY: [(&str, &[&str]); 2] = [
    ("DeduplicationScope", &["messageGroup", "queue"]),
    ("FifoThroughputLimit", &["perQueue", "perMessageGroupId"]),
];

/// Attributes GetQueueAttributes computes.
pub const COMPUTED: [&str; 6] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// Whether `name` is any attribute GetQueueAttributes knows.
#[must_use]
pub fn is_known(name: &str) -> bool {
    NUMERIC.iter().any(|(n, ..)| *n == name)
        || OPAQUE.contains(&name)
        || FIFO_ONLY.iter().any(|(n, _)| *n == name)
        || COMPUTED.contains(&name)
        || [REDRIVE, FIFO, CONTENT_DEDUP].contains(&name)
}

/// The redrive policy as SQS writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedriveJson {
    dead_letter_target_arn: String,
    max_receive_count: serde_json::Value,
}

/// A parsed redrive policy: the dead-letter queue's name (same project) and the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub queue: String,
    pub max_receive_count: u32,
}

/// Parses a `RedrivePolicy` value; checking that its target exists is the caller's.
///
/// # Errors
/// [`QueueError::InvalidAttributeValue`] for malformed JSON, ARN or count.
pub fn parse_redrive(project: &str, value: &str) -> QueueResult<Redrive> {
    let invalid = |why: &str| QueueError::InvalidAttributeValue(format!("{REDRIVE}: {why}"));
    let policy: RedriveJson =
        serde_json::from_str(value).map_err(|_| invalid("not a valid redrive policy"))?;
    let count = match &policy.max_receive_count {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|n| (1..=1000).contains(n))
    .ok_or_else(|| invalid("maxReceiveCount must be 1 to 1000"))?;
    let arn = Arn::parse(&policy.dead_letter_target_arn)
        .filter(|arn| arn.service == "sqs" && arn.in_project(project))
        .ok_or_else(|| invalid("deadLetterTargetArn must name a queue of this account"))?;
    Ok(Redrive {
        queue: arn.resource.to_owned(),
        max_receive_count: u32::try_from(count).unwrap_or(1000),
    })
}

/// Checks `given` for a queue named `name` and returns the full stored set: `base` (the
/// queue's current attributes, or empty for a new queue) overlaid with `given`, defaults filled.
///
/// # Errors
/// The first unknown name or out-of-range value.
pub fn normalise(
    name: &str,
    base: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
    creating: bool,
) -> QueueResult<BTreeMap<String, String>> {
    let fifo = name.ends_with(".fifo");
    if creating && fifo && !given.contains_key(FIFO) {
        // A standard queue's name has no '.': SQS refuses `NAME.fifo` without FifoQueue=true.
        return Err(QueueError::InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                .into(),
        ));
    }
    let mut out = base.clone();
    for (key, value) in given {
        let key = key.as_str();
        if let Some((_, min, max, _)) = NUMERIC.iter().find(|(n, ..)| *n == key) {
            let n: u64 = value
                .trim()
                .parse()
                .ok()
                .filter(|n| (*min..=*max).contains(n))
                .ok_or_else(|| {
                    QueueError::InvalidAttributeValue(format!("{key}: must be {min} to {max}"))
                })?;
            out.insert(key.to_owned(), n.to_string());
        } else if key == FIFO {
            let wants = parse_bool(key, value)?;
            if !creating {
                return Err(QueueError::InvalidAttributeName(format!(
                    "{key} cannot be changed"
                )));
            }
            if wants != fifo {
                return Err(QueueError::InvalidParameterValue(
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length".into(),
                ));
            }
        } else if key == CONTENT_DEDUP {
            if !fifo {
                return Err(QueueError::InvalidAttributeName(key.to_owned()));
            }
            out.insert(key.to_owned(), parse_bool(key, value)?.to_string());
        } else if let Some((_, allowed)) = FIFO_ONLY.iter().find(|(n, _)| *n == key) {
            if !fifo {
                return Err(QueueError::InvalidAttributeName(key.to_owned()));
            }
            if !allowed.contains(&value.as_str()) {
                return Err(QueueError::InvalidAttributeValue(key.to_owned()));
            }
            out.insert(key.to_owned(), value.clone());
        } else if key == REDRIVE {
            if value.is_empty() {
                out.remove(REDRIVE);
            } else {
                out.insert(key.to_owned(), value.clone());
            }
        } else if OPAQUE.contains(&key) {
            out.insert(key.to_owned(), value.clone());
        } else {
            return Err(QueueError::InvalidAttributeName(key.to_owned()));
        }
    }
    for (key, _, _, default) in NUMERIC {
        out.entry(key.to_owned())
            .or_insert_with(|| default.to_string());
    }
    if fifo {
        out.insert(FIFO.to_owned(), "true".to_owned());
        out.entry(CONTENT_DEDUP.to_owned())
            .or_insert_with(|| "false".to_owned());
    }
    Ok(out)
}

fn parse_bool(key: &str, value: &str) -> QueueResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(QueueError::InvalidAttributeValue(format!(
            "{key}: must be true or false"
        ))),
    }
}

/// The settings message operations need, read from stored attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub fifo: bool,
    pub content_dedup: bool,
    pub visibility_timeout_s: u32,
    pub delay_s: u32,
    pub wait_s: u32,
    pub max_size: usize,
    pub redrive: Option<Redrive>,
}

impl Settings {
    #[must_use]
    pub fn of(project: &str, attributes: &BTreeMap<String, String>) -> Self {
        let number = |key: &str, default: u32| {
            attributes
                .get(key)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            fifo: attributes.get(FIFO).is_some_and(|v| v == "true"),
            content_dedup: attributes.get(CONTENT_DEDUP).is_some_and(|v| v == "true"),
            visibility_timeout_s: number(VISIBILITY_TIMEOUT, 30),
            delay_s: number(DELAY, 0),
            wait_s: number(WAIT, 0),
            max_size: number(MAX_SIZE, 262_144) as usize,
            redrive: attributes
                .get(REDRIVE)
                .and_then(|v| parse_redrive(project, v).ok()),
        }
    }
}

/// A queue name: 1–80 of `A-Za-z0-9_-`, plus `.fifo` for FIFO queues.
#[must_use]
pub fn valid_queue_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty()
        && name.len() <= 80
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fills_defaults_and_checks_ranges() {
        let empty = BTreeMap::new();
        let out =
            normalise("q", &empty, &map(&[("VisibilityTimeout", "5")]), true).expect("test step");
        assert_eq!(out["VisibilityTimeout"], "5");
        assert_eq!(out["MaximumMessageSize"], "262144");
        assert!(!out.contains_key(FIFO));
        let too_long = map(&[("VisibilityTimeout", "43201")]);
        assert!(matches!(
            normalise("q", &empty, &too_long, true),
            Err(QueueError::InvalidAttributeValue(_))
        ));
        assert!(matches!(
            normalise("q", &empty, &map(&[("Nope", "1")]), true),
            Err(QueueError::InvalidAttributeName(_))
        ));
        assert!(normalise("q", &empty, &map(&[("FifoQueue", "true")]), true).is_err());
        let fifo =
            normalise("q.fifo", &empty, &map(&[("FifoQueue", "true")]), true).expect("test step");
        assert_eq!(fifo[CONTENT_DEDUP], "false");
    }

    #[test]
    fn parses_redrive_policies_of_the_same_project_only() {
        let arn = stratus_core::arn::queue_arn("team", "dlq");
        let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"3"}}"#);
        let redrive = parse_redrive("team", &policy).expect("test step");
        assert_eq!(redrive.queue, "dlq");
        assert_eq!(redrive.max_receive_count, 3);
        assert!(parse_redrive("other", &policy).is_err());
        assert!(parse_redrive("team", "{}").is_err());
    }

    #[test]
    fn queue_names() {
        assert!(valid_queue_name("jobs-1_a"));
        assert!(valid_queue_name("jobs.fifo"));
        assert!(!valid_queue_name(".fifo"));
        assert!(!valid_queue_name("a b"));
        assert!(!valid_queue_name(&"x".repeat(81)));
    }
}
