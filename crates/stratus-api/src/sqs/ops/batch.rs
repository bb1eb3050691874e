//! The framing every batch operation shares: `Entries` with an `Id` each in, `Successful` and
//! `Failed` lists out.

use serde_json::{Map, Value, json};
use stratus_events::queues::QueueResult;

use crate::sqs::errors::SqsError;
use crate::sqs::input::str_of;

pub(super) fn required_of<'v>(value: &'v Value, name: &str) -> Result<&'v str, SqsError> {
    str_of(value, name)?.ok_or_else(|| SqsError::missing(name))
}

pub(super) fn entries(value: &Value) -> Result<&Vec<Value>, SqsError> {
    match value.get("Entries") {
        Some(Value::Array(entries)) => Ok(entries),
        None | Some(Value::Null) => Err(SqsError::from(
            stratus_events::queues::QueueError::EmptyBatchRequest,
        )),
        Some(_) => Err(SqsError::invalid("Entries must be a list")),
    }
}

pub(super) fn entry_id(entry: &Value) -> Result<String, SqsError> {
    Ok(required_of(entry, "Id")?.to_owned())
}

/// `{"Successful": [...], "Failed": [...]}` from per-entry results.
pub(super) fn batch_json<T>(
    results: Vec<(String, QueueResult<T>)>,
    success: impl Fn(T) -> Map<String, Value>,
) -> Value {
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(value) => {
                let mut entry = success(value);
                entry.insert("Id".into(), id.into());
                successful.push(Value::Object(entry));
            }
            Err(error) => {
                let error = SqsError::from(error);
                failed.push(json!({
                    "Id": id,
                    "SenderFault": error.sender_fault,
                    "Code": error.code,
                    "Message": error.message,
                }));
            }
        }
    }
    json!({ "Successful": successful, "Failed": failed })
}
