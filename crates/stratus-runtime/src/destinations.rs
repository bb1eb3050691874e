//! Lambda destinations: after an asynchronous invocation succeeds, or fails for good, an
//! *invocation record* goes to the configured OnSuccess / OnFailure destination. The runtime
//! only builds the record and decides when; a [`DestinationSink`] set by the composition root
//! knows how to reach queues, topics and functions.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use stratus_meta::InvocationRecord;

/// Why an invocation record is sent, as Lambda names it in `requestContext.condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::RetriesExhausted => "RetriesExhausted",
            Self::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// A destination that did not take a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailed {
    pub message: String,
    /// False when retrying cannot help (the destination is gone or refuses the record).
    pub retryable: bool,
}

/// Delivers invocation records to destination ARNs (implemented by the composition root over
/// the queue, topic and function services).
#[async_trait]
pub trait DestinationSink: Send + Sync {
    /// Delivers `record` to `destination_arn`, which belongs to `project`. `delivery_id` is the
    /// same on every retry and after a crash, so the destination keeps one copy. A function
    /// destination runs the record at `chain_depth`.
    async fn deliver(
        &self,
        project: &str,
        destination_arn: &str,
        delivery_id: &str,
        record: Value,
        chain_depth: u32,
    ) -> Result<(), DeliveryFailed>;
}

/// Tries a failed delivery this many times in all before giving up (logged).
const DELIVERY_ATTEMPTS: u32 = 4;
const DELIVERY_BACKOFF: Duration = Duration::from_millis(200);

/// Bytes as JSON when they are JSON, else as a JSON string (Lambda does the same for payloads
/// that are not JSON documents).
fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// The invocation record Lambda sends to a destination.
#[must_use]
pub fn invocation_record(
    invocation: &InvocationRecord,
    function_arn: &str,
    condition: Condition,
    error: Option<&str>,
    now: time::OffsetDateTime,
) -> Value {
    let timestamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut response_context = json!({
        "statusCode": 200,
        "executedVersion": invocation.qualifier,
    });
    let response_payload = match (&invocation.result, condition) {
        (Some(result), _) => json_or_text(result),
        // A failure with no error document (the function could not start, the event expired).
        (None, Condition::RetriesExhausted | Condition::EventAgeExceeded) => json!({
            "errorMessage": error.unwrap_or("the event was not processed"),
            "errorType": condition.as_str(),
        }),
        (None, Condition::Success) => Value::Null,
    };
    if condition != Condition::Success {
        response_context["functionError"] = "Unhandled".into();
    }
    json!({
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {
            "requestId": invocation.id,
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": invocation.attempts,
        },
        "requestPayload": json_or_text(&invocation.payload),
        "responseContext": response_context,
        "responsePayload": response_payload,
    })
}

/// `INVOCATION-ID:CONDITION`: fixed before the first attempt, so a crash between delivering and
/// recording the invocation's end re-delivers with the same id.
#[must_use]
pub fn delivery_id(invocation_id: &str, condition: Condition) -> String {
    format!("{invocation_id}:{}", condition.as_str())
}

/// Delivers with a few retries and backoff; a delivery that still fails is logged and dropped
/// (the invocation's own outcome is recorded regardless).
pub(crate) async fn deliver(
    sink: &Arc<dyn DestinationSink>,
    invocation: &InvocationRecord,
    destination: &str,
    condition: Condition,
    record: Value,
) {
    let id = delivery_id(&invocation.id, condition);
    let depth = invocation.chain_depth.saturating_add(1);
    let mut backoff = DELIVERY_BACKOFF;
    for attempt in 1..=DELIVERY_ATTEMPTS {
        match sink
            .deliver(&invocation.project, destination, &id, record.clone(), depth)
            .await
        {
            Ok(()) => return,
            Err(failure) if failure.retryable && attempt < DELIVERY_ATTEMPTS => {
                tracing::info!(id = %invocation.id, destination, attempt, error = %failure.message, "destination delivery failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(failure) => {
                tracing::warn!(id = %invocation.id, function = %invocation.function, destination, condition = condition.as_str(), error = %failure.message, "invocation record not delivered to its destination");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(result: Option<&[u8]>) -> InvocationRecord {
        let mut record = InvocationRecord::queued(
            "id-1".into(),
            ("p", "f", "$LATEST"),
            br#"{"order": 7}"#.to_vec(),
            0,
            0,
        );
        record.attempts = 3;
        record.result = result.map(<[u8]>::to_vec);
        record
    }

    #[test]
    fn failure_record_has_lambdas_shape() {
        let error = br#"{"errorMessage":"boom","errorType":"ValueError"}"#;
        let now =
            time::OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid timestamp");
        let record = invocation_record(
            &invocation(Some(error)),
            "arn:aws:lambda:us-east-1:1:function:f:$LATEST",
            Condition::RetriesExhausted,
            Some("function error"),
            now,
        );
        assert_eq!(record["version"], "1.0");
        assert_eq!(record["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(record["requestContext"]["requestId"], "id-1");
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(
            record["requestContext"]["functionArn"],
            "arn:aws:lambda:us-east-1:1:function:f:$LATEST"
        );
        assert_eq!(record["requestPayload"]["order"], 7);
        assert_eq!(record["responseContext"]["statusCode"], 200);
        assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
        assert_eq!(record["responseContext"]["functionError"], "Unhandled");
        assert_eq!(record["responsePayload"]["errorMessage"], "boom");
    }

    #[test]
    fn success_record_carries_the_result_and_no_function_error() {
        let now = time::OffsetDateTime::from_unix_timestamp(0).expect("valid timestamp");
        let record = invocation_record(
            &invocation(Some(b"\"done\"")),
            "arn",
            Condition::Success,
            None,
            now,
        );
        assert_eq!(record["responsePayload"], "done");
        assert!(record["responseContext"].get("functionError").is_none());
        assert_eq!(record["requestContext"]["condition"], "Success");
    }

    #[test]
    fn expired_event_without_an_attempt_explains_itself() {
        let now = time::OffsetDateTime::from_unix_timestamp(0).expect("valid timestamp");
        let mut never_ran = invocation(None);
        never_ran.payload = b"not json".to_vec();
        let record = invocation_record(
            &never_ran,
            "arn",
            Condition::EventAgeExceeded,
            Some("too old"),
            now,
        );
        assert_eq!(record["requestPayload"], "not json");
        assert_eq!(record["responsePayload"]["errorMessage"], "too old");
        assert_eq!(record["requestContext"]["condition"], "EventAgeExceeded");
        assert_eq!(
            delivery_id("id-1", Condition::EventAgeExceeded),
            "id-1:EventAgeExceeded"
        );
    }
}
