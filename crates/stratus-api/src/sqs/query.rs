//! The query protocol (form-encoded `Action=...`, XML answers): form parameters become the JSON
//! protocol's input shape, outputs are written as SQS's XML.

use crate::xml::escape;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::errors::SqsError;

/// `XML` namespace of every SQS query response.
const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// Lists flattened as `Name.N` and the input member they fill.
const LISTS: [(&str, &str); 4] = [
    ("AttributeName", "AttributeNames"),
    ("MessageSystemAttributeName", "MessageSystemAttributeNames"),
    ("MessageAttributeName", "MessageAttributeNames"),
    ("TagKey", "TagKeys"),
];

/// Converts decoded form parameters (without `Action`) into the JSON protocol's input shape.
pub(crate) fn to_input(params: &[(String, String)]) -> Value {
    Value::Object(build(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

fn build<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Map<String, Value> {
    let mut out = Map::new();
    // (member, index) -> (rest of the key, value)
    let mut groups: BTreeMap<(&str, u32), Vec<(&str, &str)>> = BTreeMap::new();
    for (key, value) in pairs {
        match key.split_once('.') {
            None => {
                out.insert(key.to_owned(), Value::String(value.to_owned()));
            }
            Some((head, rest)) => {
                let (index, tail) = rest.split_once('.').unwrap_or((rest, ""));
                if let Ok(index) = index.parse::<u32>() {
                    groups.entry((head, index)).or_default().push((tail, value));
                }
            }
        }
    }
    for ((head, _), fields) in groups {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Value::String((*v).to_owned()))
        };
        if let Some((_, member)) = LISTS.iter().find(|(singular, _)| *singular == head) {
            if let Some(value) = field("") {
                push(&mut out, member, value);
            }
        } else if head == "Attribute" {
            insert_pair(&mut out, "Attributes", field("Name"), field("Value"));
        } else if head == "Tag" {
            insert_pair(&mut out, "Tags", field("Key"), field("Value"));
        } else if head == "MessageAttribute" {
            let mut value = Map::new();
            for part in ["DataType", "StringValue", "BinaryValue"] {
                if let Some(v) = field(&format!("Value.{part}")) {
                    value.insert(part.to_owned(), v);
                }
            }
            insert_pair(
                &mut out,
                "MessageAttributes",
                field("Name"),
                Some(Value::Object(value)),
            );
        } else if head.ends_with("RequestEntry") {
            let entry = build(fields.iter().copied());
            push(&mut out, "Entries", Value::Object(entry));
        }
    }
    out
}

fn push(out: &mut Map<String, Value>, member: &str, value: Value) {
    if let Value::Array(items) = out
        .entry(member.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        items.push(value);
    }
}

fn insert_pair(
    out: &mut Map<String, Value>,
    member: &str,
    key: Option<Value>,
    value: Option<Value>,
) {
    if let (Some(Value::String(key)), Some(value)) = (key, value)
        && let Value::Object(map) = out
            .entry(member.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
    {
        map.insert(key, value);
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

/// `<OpResponse><OpResult>...</OpResult><ResponseMetadata>...</OpResponse>`.
pub(crate) fn response_xml(operation: &str, output: &Value, request_id: &str) -> String {
    let mut body = String::new();
    if let Value::Object(map) = output {
        for (key, value) in map {
            render(&mut body, operation, key, value);
        }
    }
    let result = if body.is_empty() {
        String::new()
    } else {
        format!("<{operation}Result>{body}</{operation}Result>")
    };
    format!(
        "<?xml version=\"1.0\"?><{operation}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
    )
}

fn render(out: &mut String, operation: &str, key: &str, value: &Value) {
    match (key, value) {
        ("QueueUrls" | "queueUrls", Value::Array(urls)) => {
            for url in urls {
                let _ = write!(out, "<QueueUrl>{}</QueueUrl>", scalar(url));
            }
        }
        ("Attributes", Value::Object(map)) => {
            for (name, v) in map {
                let _ = write!(
                    out,
                    "<Attribute><Name>{}</Name><Value>{}</Value></Attribute>",
                    escape(name),
                    scalar(v)
                );
            }
        }
        ("Tags", Value::Object(map)) => {
            for (name, v) in map {
                let _ = write!(
                    out,
                    "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                    escape(name),
                    scalar(v)
                );
            }
        }
        ("MessageAttributes", Value::Object(map)) => {
            for (name, v) in map {
                let _ = write!(
                    out,
                    "<MessageAttribute><Name>{}</Name><Value>",
                    escape(name)
                );
                if let Value::Object(parts) = v {
                    for (part, pv) in parts {
                        let _ = write!(out, "<{part}>{}</{part}>", scalar(pv));
                    }
                }
                out.push_str("</Value></MessageAttribute>");
            }
        }
        ("Messages", Value::Array(messages)) => {
            for message in messages {
                element(out, operation, "Message", message);
            }
        }
        ("Successful", Value::Array(entries)) => {
            for entry in entries {
                element(out, operation, &format!("{operation}ResultEntry"), entry);
            }
        }
        ("Failed", Value::Array(entries)) => {
            for entry in entries {
                element(out, operation, "BatchResultErrorEntry", entry);
            }
        }
        (key, value) => {
            let _ = write!(out, "<{key}>{}</{key}>", scalar(value));
        }
    }
}

fn element(out: &mut String, operation: &str, name: &str, value: &Value) {
    let _ = write!(out, "<{name}>");
    if let Value::Object(map) = value {
        for (key, v) in map {
            render(out, operation, key, v);
        }
    }
    let _ = write!(out, "</{name}>");
}

pub(crate) fn error_xml(error: &SqsError, request_id: &str) -> String {
    let kind = if error.sender_fault {
        "Sender"
    } else {
        "Receiver"
    };
    format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message><Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(error.code),
        escape(&error.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn converts_flattened_parameters() {
        let input = to_input(&params(&[
            ("QueueName", "q"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "5"),
            ("AttributeName.2", "B"),
            ("AttributeName.1", "A"),
            ("MessageAttribute.1.Name", "color"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "red"),
            ("SendMessageBatchRequestEntry.1.Id", "a"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "hello"),
            ("SendMessageBatchRequestEntry.2.Id", "b"),
        ]));
        assert_eq!(input["QueueName"], "q");
        assert_eq!(input["Attributes"]["VisibilityTimeout"], "5");
        assert_eq!(input["AttributeNames"], serde_json::json!(["A", "B"]));
        assert_eq!(input["MessageAttributes"]["color"]["StringValue"], "red");
        assert_eq!(input["Entries"][0]["MessageBody"], "hello");
        assert_eq!(input["Entries"][1]["Id"], "b");
    }

    #[test]
    fn writes_results_and_errors_as_xml() {
        let output = serde_json::json!({"QueueUrl": "http://h/1/q&"});
        let xml = response_xml("CreateQueue", &output, "r1");
        assert!(xml.contains(
            "<CreateQueueResult><QueueUrl>http://h/1/q&amp;</QueueUrl></CreateQueueResult>"
        ));
        let error = SqsError::missing("QueueName");
        assert!(error_xml(&error, "r2").contains("<Code>MissingParameter</Code>"));
    }
}
