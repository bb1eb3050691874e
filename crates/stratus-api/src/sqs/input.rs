//! Reading an operation's input, which both protocols deliver as the JSON protocol's shape
//! (`query.rs` converts form parameters into it), and queue URLs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use stratus_core::arn::account_id;
use stratus_core::message::{MessageAttributeValue, MessageAttributes};

use super::errors::SqsError;

/// An operation's input and where it arrived.
pub(crate) struct Input<'a> {
    pub value: &'a Value,
    pub project: &'a str,
    /// `http://HOST` of the request, for the queue URLs we answer with.
    pub base_url: &'a str,
    /// The request's `X-Amzn-Trace-Id`: sends store it as the message's `AWSTraceHeader`.
    pub trace_header: Option<&'a str>,
}

impl Input<'_> {
    pub fn str(&self, name: &str) -> Result<Option<&str>, SqsError> {
        str_of(self.value, name)
    }

    pub fn required(&self, name: &str) -> Result<&str, SqsError> {
        self.str(name)?.ok_or_else(|| SqsError::missing(name))
    }

    pub fn int(&self, name: &str) -> Result<Option<u32>, SqsError> {
        int_of(self.value, name)
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, SqsError> {
        match self.value.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| SqsError::invalid(format!("{name} must hold strings")))
                })
                .collect(),
            Some(_) => Err(SqsError::invalid(format!("{name} must be a list"))),
        }
    }

    pub fn map(&self, name: &str) -> Result<BTreeMap<String, String>, SqsError> {
        string_map(self.value.get(name), name)
    }

    /// The queue named by `QueueUrl`, in the caller's project.
    pub fn queue(&self) -> Result<String, SqsError> {
        queue_name(self.required("QueueUrl")?, self.project)
    }

    pub fn queue_url(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.base_url, account_id(self.project))
    }
}

pub(crate) fn str_of<'v>(value: &'v Value, name: &str) -> Result<Option<&'v str>, SqsError> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SqsError::invalid(format!("{name} must be a string"))),
    }
}

pub(crate) fn int_of(value: &Value, name: &str) -> Result<Option<u32>, SqsError> {
    let invalid = || {
        SqsError::invalid(format!(
            "Value for parameter {name} is invalid. Reason: must be a non-negative integer"
        ))
    };
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

pub(crate) fn string_map(
    value: Option<&Value>,
    name: &str,
) -> Result<BTreeMap<String, String>, SqsError> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(SqsError::invalid(format!("{name}.{k} must be a string"))),
            })
            .collect(),
        Some(_) => Err(SqsError::invalid(format!("{name} must be a map"))),
    }
}

/// `MessageAttributes` as the JSON protocol carries them (binary values base64-encoded).
pub(crate) fn message_attributes(value: Option<&Value>) -> Result<MessageAttributes, SqsError> {
    let Some(Value::Object(map)) = value else {
        return match value {
            None | Some(Value::Null) => Ok(MessageAttributes::new()),
            Some(_) => Err(SqsError::invalid("MessageAttributes must be a map")),
        };
    };
    let mut attributes = MessageAttributes::new();
    for (name, v) in map {
        let data_type = str_of(v, "DataType")?
            .ok_or_else(|| SqsError::missing(&format!("MessageAttributes.{name}.DataType")))?;
        let binary_value = str_of(v, "BinaryValue")?
            .map(|b| STANDARD.decode(b))
            .transpose()
            .map_err(|_| SqsError::invalid(format!("{name}.BinaryValue is not base64")))?;
        attributes.insert(
            name.clone(),
            MessageAttributeValue {
                data_type: data_type.to_owned(),
                string_value: str_of(v, "StringValue")?.map(str::to_owned),
                binary_value,
            },
        );
    }
    Ok(attributes)
}

/// The queue name in a queue URL (`http://HOST/ACCOUNT/NAME`, any host) or a bare name. An URL
/// naming another account names a queue the caller cannot see.
pub(crate) fn queue_name(url: &str, project: &str) -> Result<String, SqsError> {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let not_found = || SqsError::from(stratus_events::queues::QueueError::QueueDoesNotExist);
    match segments.as_slice() {
        [name] => Ok((*name).to_owned()),
        [account, name] if *account == account_id(project) => Ok((*name).to_owned()),
        [_, _] => Err(not_found()),
        _ if !url.contains('/') && !url.is_empty() => Ok(url.to_owned()),
        _ => Err(SqsError::invalid(format!(
            "Value {url} for parameter QueueUrl is invalid. Reason: Invalid queue URL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queue_urls_of_the_callers_account() {
        let account = account_id("team");
        let url = format!("http://localhost:4566/{account}/jobs");
        assert_eq!(queue_name(&url, "team").expect("test step"), "jobs");
        assert_eq!(queue_name("jobs", "team").expect("test step"), "jobs");
        assert_eq!(
            queue_name(
                &format!("https://sqs.us-east-1.amazonaws.com/{account}/q.fifo"),
                "team"
            )
            .expect("test step"),
            "q.fifo"
        );
        assert_eq!(
            queue_name(&url, "other").expect_err("must fail").shape,
            "QueueDoesNotExist"
        );
        assert!(queue_name("http://h/a/b/c", "team").is_err());
    }
}
