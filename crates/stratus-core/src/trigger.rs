//! What starts a function besides a direct call: uploads to a bucket and schedules. Declared in
//! `function.yaml` under `triggers:`, or by an application manifest, and sent with a deploy.

use serde::{Deserialize, Serialize};

use crate::event::is_known_event_pattern;

/// One entry of a function's `triggers:` list. The shape tells them apart: an entry with
/// `bucket` is a bucket trigger, one with `schedule` a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Trigger {
    Bucket(BucketTrigger),
    Schedule(ScheduleTrigger),
}

/// Objects created (or removed) in `bucket` invoke the function asynchronously with the AWS S3
/// event JSON, exactly as a `LambdaFunctionConfiguration` would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketTrigger {
    pub bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// S3 event patterns; `s3:ObjectCreated:*` when absent.
    #[serde(default = "default_events")]
    pub events: Vec<String>,
}

/// EventBridge-style schedule: `rate(5 minutes)` or `cron(0 12 * * ? *)`, with an optional
/// constant event (EventBridge's "constant input"); without one the function gets a
/// `Scheduled Event` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
}

fn default_events() -> Vec<String> {
    vec!["s3:ObjectCreated:*".to_owned()]
}

impl BucketTrigger {
    /// # Errors
    /// A message naming the unknown event pattern.
    pub fn validate(&self) -> Result<(), String> {
        if self.events.is_empty() {
            return Err(format!(
                "trigger on bucket {:?}: events must not be empty",
                self.bucket
            ));
        }
        if let Some(bad) = self.events.iter().find(|e| !is_known_event_pattern(e)) {
            return Err(format!(
                "trigger on bucket {:?}: unknown event {bad:?}",
                self.bucket
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_told_apart_by_shape() {
        let triggers: Vec<Trigger> = serde_json::from_str(
            r#"[{"bucket": "scans", "suffix": ".png"}, {"schedule": "rate(5 minutes)"}]"#,
        )
        .expect("valid triggers");
        assert_eq!(
            triggers[0],
            Trigger::Bucket(BucketTrigger {
                bucket: "scans".into(),
                prefix: None,
                suffix: Some(".png".into()),
                events: vec!["s3:ObjectCreated:*".into()],
            })
        );
        assert!(matches!(&triggers[1], Trigger::Schedule(s) if s.schedule == "rate(5 minutes)"));
    }

    #[test]
    fn unknown_fields_and_events_are_refused() {
        assert!(serde_json::from_str::<Trigger>(r#"{"bucket": "a", "sufix": ".png"}"#).is_err());
        let bad: Trigger = serde_json::from_str(r#"{"bucket": "a", "events": ["s3:ObjectMade"]}"#)
            .expect("a trigger");
        let Trigger::Bucket(bad) = bad else {
            panic!("a bucket trigger")
        };
        assert!(
            bad.validate()
                .expect_err("unknown event")
                .contains("s3:ObjectMade")
        );
    }
}
