//! The SQS event Lambda hands a function, and the partial-batch response it may answer.

use base64::Engine as _;
use serde_json::{Value, json};

use super::SourceMessage;

/// `{"Records": [...]}` with one record per message, as Lambda's SQS integration builds it.
pub(super) fn sqs_event(queue_arn: &str, messages: &[SourceMessage]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .attributes
                .iter()
                .map(|(name, value)| {
                    let binary = value
                        .binary_value
                        .as_ref()
                        .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
                    let mut attribute = json!({
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.data_type,
                    });
                    if let Some(text) = &value.string_value {
                        attribute["stringValue"] = json!(text);
                    }
                    if let Some(binary) = binary {
                        attribute["binaryValue"] = json!(binary);
                    }
                    (name.clone(), attribute)
                })
                .collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": m.system_attributes,
                "messageAttributes": attributes,
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": stratus_core::arn::REGION,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// With `ReportBatchItemFailures`, the message ids the function says failed. `None` when the
/// response is malformed or names a message not in the batch: Lambda then treats the whole
/// batch as failed. An empty or absent list means every message succeeded.
pub(super) fn failed_items(response: &[u8], batch: &[SourceMessage]) -> Option<Vec<String>> {
    let trimmed = std::str::from_utf8(response).ok()?.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Some(Vec::new());
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let Some(failures) = value.get("batchItemFailures") else {
        return Some(Vec::new());
    };
    if failures.is_null() {
        return Some(Vec::new());
    }
    let mut ids = Vec::new();
    for failure in failures.as_array()? {
        let id = failure.get("itemIdentifier")?.as_str()?;
        if id.is_empty() || !batch.iter().any(|m| m.message_id == id) {
            return None;
        }
        ids.push(id.to_owned());
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use stratus_core::message::{MessageAttributeValue, MessageAttributes};

    use super::*;

    fn message(id: &str) -> SourceMessage {
        let mut attributes = MessageAttributes::new();
        attributes.insert(
            "kind".into(),
            MessageAttributeValue {
                data_type: "String".into(),
                string_value: Some("scan".into()),
                binary_value: None,
            },
        );
        SourceMessage {
            message_id: id.into(),
            receipt_handle: format!("rh-{id}"),
            body: "{\"k\":1}".into(),
            md5_of_body: "abc".into(),
            system_attributes: BTreeMap::from([("ApproximateReceiveCount".into(), "1".into())]),
            attributes,
        }
    }

    #[test]
    fn builds_lambdas_sqs_event() {
        let event = sqs_event("arn:aws:sqs:us-east-1:1:q", &[message("a")]);
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "a");
        assert_eq!(record["receiptHandle"], "rh-a");
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:us-east-1:1:q");
        assert_eq!(record["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(record["messageAttributes"]["kind"]["stringValue"], "scan");
        assert_eq!(record["messageAttributes"]["kind"]["dataType"], "String");
    }

    #[test]
    fn reads_partial_batch_responses() {
        let batch = [message("a"), message("b")];
        assert_eq!(failed_items(b"", &batch), Some(vec![]));
        assert_eq!(failed_items(b"null", &batch), Some(vec![]));
        assert_eq!(
            failed_items(b"{\"batchItemFailures\": []}", &batch),
            Some(vec![])
        );
        assert_eq!(
            failed_items(
                b"{\"batchItemFailures\": [{\"itemIdentifier\": \"b\"}]}",
                &batch
            ),
            Some(vec!["b".to_owned()])
        );
        // Unknown ids and malformed entries fail the whole batch, as Lambda does.
        assert_eq!(
            failed_items(
                b"{\"batchItemFailures\": [{\"itemIdentifier\": \"zz\"}]}",
                &batch
            ),
            None
        );
        assert_eq!(failed_items(b"{\"batchItemFailures\": [{}]}", &batch), None);
        assert_eq!(failed_items(b"\"ok\"", &batch), Some(vec![]));
    }
}
