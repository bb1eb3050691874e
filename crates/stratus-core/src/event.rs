//! Bucket notification rules and the events they produce, in the AWS S3 event JSON shape.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What happened to an object, named as S3 names it after the `s3:` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Post,
    Copy,
    CompleteMultipartUpload,
    Delete,
    /// A delete without a version id in a versioned bucket: the key now reads as absent, every
    /// version is kept.
    DeleteMarkerCreated,
    /// A bucket lifecycle rule removed an object or version for good.
    LifecycleExpirationDelete,
    /// A bucket lifecycle rule expired the current version of a versioned object: a delete
    /// marker now hides it.
    LifecycleExpirationDeleteMarkerCreated,
}

impl EventKind {
    /// The event name as it appears in `Records[].eventName`, e.g. `ObjectCreated:Put`.
    #[must_use]
    pub fn record_name(self) -> &'static str {
        match self {
            EventKind::Put => "ObjectCreated:Put",
            EventKind::Post => "ObjectCreated:Post",
            EventKind::Copy => "ObjectCreated:Copy",
            EventKind::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
            EventKind::Delete => "ObjectRemoved:Delete",
            EventKind::DeleteMarkerCreated => "ObjectRemoved:DeleteMarkerCreated",
            EventKind::LifecycleExpirationDelete => "LifecycleExpiration:Delete",
            EventKind::LifecycleExpirationDeleteMarkerCreated => {
                "LifecycleExpiration:DeleteMarkerCreated"
            }
        }
    }

    /// The name used in notification configurations, e.g. `s3:ObjectCreated:Put`.
    #[must_use]
    pub fn config_name(self) -> String {
        format!("s3:{}", self.record_name())
    }
}

/// Where matching events go. Only recorded here; the consumers come with the pipelines issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "arn", rename_all = "lowercase")]
pub enum NotificationTarget {
    Lambda(String),
    Queue(String),
    Topic(String),
}

impl NotificationTarget {
    /// For a Lambda target, the function name and qualifier from its ARN
    /// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`). The account is not checked:
    /// a bucket's events only ever reach functions of the bucket's own project.
    #[must_use]
    pub fn lambda_function(&self) -> Option<(&str, Option<&str>)> {
        let NotificationTarget::Lambda(arn) = self else {
            return None;
        };
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "function", name] => Some((name, None)),
            ["arn", _, "lambda", _, _, "function", name, qualifier] => {
                Some((name, Some(qualifier)))
            }
            _ => None,
        }
    }
}

/// One rule of a bucket's notification configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRule {
    pub id: String,
    pub target: NotificationTarget,
    /// Patterns such as `s3:ObjectCreated:*` or `s3:ObjectRemoved:Delete`.
    pub events: Vec<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub suffix: Option<String>,
}

/// Reports whether `pattern` is an event name S3 accepts in a notification configuration.
#[must_use]
pub fn is_known_event_pattern(pattern: &str) -> bool {
    const KNOWN: [&str; 12] = [
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:*",
    ];
    KNOWN.contains(&pattern)
}

impl NotificationRule {
    /// True when an event of `kind` on `key` must be delivered to this rule's target.
    #[must_use]
    pub fn matches(&self, kind: EventKind, key: &str) -> bool {
        let name = kind.config_name();
        let event_matches = self
            .events
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(stem) => name.starts_with(stem),
                None => *pattern == name,
            });
        let prefix_ok = self.prefix.as_deref().is_none_or(|p| key.starts_with(p));
        let suffix_ok = self.suffix.as_deref().is_none_or(|s| key.ends_with(s));
        event_matches && prefix_ok && suffix_ok
    }
}

/// A change to an object, recorded in the outbox in the same transaction as the change itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub kind: EventKind,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The ETag without quotes; empty for deletions.
    pub etag: String,
    /// Monotonic per store; orders events for the same key, as S3's sequencer does.
    pub sequencer: u64,
    pub time: time::OffsetDateTime,
    /// The access key that caused the event.
    pub principal: String,
    /// How many event-triggered invocations led to the write (see [`crate::lineage`]).
    pub chain_depth: u32,
    /// The version written or removed, in a bucket that has (or had) versioning; set by the
    /// repository inside the write, when the version is known.
    pub version_id: Option<String>,
}

/// Keys in S3 event records are form-URL-encoded: everything but unreserved characters and `/`
/// is percent-encoded, and spaces become `+`.
const KEY_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

impl ObjectEvent {
    /// The AWS S3 event JSON (`{"Records": [...]}`) delivered for `rule`.
    #[must_use]
    pub fn to_record_json(&self, rule: &NotificationRule, region: &str) -> Value {
        let encoded_key = utf8_percent_encode(&self.key, KEY_ENCODE_SET)
            .to_string()
            .replace("%20", "+");
        let event_time = self
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"));
        let mut object =
            json!({ "key": encoded_key, "sequencer": format!("{:016X}", self.sequencer) });
        if !matches!(
            self.kind,
            EventKind::Delete | EventKind::DeleteMarkerCreated
        ) {
            object["size"] = json!(self.size);
            object["eTag"] = json!(self.etag);
        }
        if let Some(version_id) = &self.version_id {
            object["versionId"] = json!(version_id);
        }
        json!({ "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventTime": event_time,
            "eventName": self.kind.record_name(),
            "userIdentity": { "principalId": self.principal },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": rule.id,
                "bucket": {
                    "name": self.bucket,
                    "ownerIdentity": { "principalId": self.principal },
                    "arn": format!("arn:aws:s3:::{}", self.bucket),
                },
                "object": object,
            }
        }]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> NotificationRule {
        NotificationRule {
            id: "r".into(),
            target: NotificationTarget::Lambda(
                "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            ),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            prefix: prefix.map(str::to_owned),
            suffix: suffix.map(str::to_owned),
        }
    }

    #[test]
    fn wildcards_prefixes_and_suffixes_select_events() {
        let created = rule(&["s3:ObjectCreated:*"], Some("in/"), Some(".png"));
        assert!(created.matches(EventKind::Put, "in/a.png"));
        assert!(created.matches(EventKind::CompleteMultipartUpload, "in/b.png"));
        assert!(!created.matches(EventKind::Delete, "in/a.png"));
        assert!(!created.matches(EventKind::Put, "out/a.png"));
        assert!(!created.matches(EventKind::Put, "in/a.jpg"));
        let delete_only = rule(&["s3:ObjectRemoved:Delete"], None, None);
        assert!(
            delete_only.matches(EventKind::Delete, "x")
                && !delete_only.matches(EventKind::Put, "x")
        );
    }

    #[test]
    fn lambda_targets_name_their_function() {
        let plain = NotificationTarget::Lambda("arn:aws:lambda:us-east-1:1:function:ocr".into());
        assert_eq!(plain.lambda_function(), Some(("ocr", None)));
        let pinned = NotificationTarget::Lambda("arn:aws:lambda:r:1:function:ocr:3".into());
        assert_eq!(pinned.lambda_function(), Some(("ocr", Some("3"))));
        assert_eq!(
            NotificationTarget::Lambda("arn:aws:sqs:r:1:q".into()).lambda_function(),
            None
        );
        assert_eq!(
            NotificationTarget::Queue("q".into()).lambda_function(),
            None
        );
    }

    #[test]
    fn record_json_has_the_aws_shape() {
        let event = ObjectEvent {
            kind: EventKind::Put,
            bucket: "photos".into(),
            key: "in/a b+c.png".into(),
            size: 42,
            etag: "abc".into(),
            sequencer: 7,
            time: time::OffsetDateTime::UNIX_EPOCH,
            principal: "AKID".into(),
            chain_depth: 0,
            version_id: None,
        };
        let json = event.to_record_json(&rule(&["s3:ObjectCreated:*"], None, None), "us-east-1");
        let record = &json["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["s3"]["bucket"]["name"], "photos");
        assert_eq!(record["s3"]["object"]["key"], "in/a+b%2Bc.png");
        assert_eq!(record["s3"]["object"]["size"], 42);
        assert_eq!(record["s3"]["object"]["sequencer"], "0000000000000007");
        assert_eq!(record["eventTime"], "1970-01-01T00:00:00Z");
    }
}
