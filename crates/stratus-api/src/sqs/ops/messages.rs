//! Message operations: send, receive, delete and change visibility, singly and in batches.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use stratus_events::queues::{ReceiveRequest, ReceivedMessage, SendRequest, Sent, VisibilityEntry};

use super::batch::{batch_json, entries, entry_id, required_of};
use super::{Context, OpResult};
use crate::sqs::errors::SqsError;
use crate::sqs::input::{int_of, message_attributes, str_of};

pub(super) async fn send_message(cx: &Context<'_>) -> OpResult {
    let queue = cx.input.queue()?;
    let request = send_request(cx.input.value, cx.input.trace_header)?;
    let sent = cx.queues.send_message(cx.caller, &queue, request).await?;
    Ok(Value::Object(sent_json(&sent)))
}

pub(super) async fn send_message_batch(cx: &Context<'_>) -> OpResult {
    let entries = entries(cx.input.value)?
        .iter()
        .map(|e| Ok((entry_id(e)?, send_request(e, cx.input.trace_header)?)))
        .collect::<Result<Vec<_>, SqsError>>()?;
    let results = cx
        .queues
        .send_batch(cx.caller, &cx.input.queue()?, entries)
        .await?;
    Ok(batch_json(results, |sent| sent_json(&sent)))
}

pub(super) async fn receive_message(cx: &Context<'_>) -> OpResult {
    let input = cx.input;
    let mut system = input.strings("AttributeNames")?;
    system.extend(input.strings("MessageSystemAttributeNames")?);
    let request = ReceiveRequest {
        max: input.int("MaxNumberOfMessages")?.unwrap_or(1),
        visibility_timeout: input.int("VisibilityTimeout")?,
        wait_seconds: input.int("WaitTimeSeconds")?,
        system_attributes: system,
        message_attributes: input.strings("MessageAttributeNames")?,
    };
    let messages = cx
        .queues
        .receive_message(cx.caller, &input.queue()?, &request)
        .await?;
    // AWS omits the member when nothing was received (both protocols), and clients written
    // against AWS test `"Messages" in resp` before indexing it.
    if messages.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = messages.into_iter().map(message_json).collect();
    Ok(json!({ "Messages": messages }))
}

pub(super) async fn delete_message(cx: &Context<'_>) -> OpResult {
    cx.queues
        .delete_message(
            cx.caller,
            &cx.input.queue()?,
            cx.input.required("ReceiptHandle")?,
        )
        .await?;
    Ok(json!({}))
}

pub(super) async fn delete_message_batch(cx: &Context<'_>) -> OpResult {
    let entries = entries(cx.input.value)?
        .iter()
        .map(|e| Ok((entry_id(e)?, required_of(e, "ReceiptHandle")?.to_owned())))
        .collect::<Result<Vec<_>, SqsError>>()?;
    let results = cx
        .queues
        .delete_batch(cx.caller, &cx.input.queue()?, entries)
        .await?;
    Ok(batch_json(results, |()| Map::new()))
}

pub(super) async fn change_message_visibility(cx: &Context<'_>) -> OpResult {
    let input = cx.input;
    let timeout = input
        .int("VisibilityTimeout")?
        .ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
    cx.queues
        .change_visibility(
            cx.caller,
            &input.queue()?,
            input.required("ReceiptHandle")?,
            timeout,
        )
        .await?;
    Ok(json!({}))
}

pub(super) async fn change_message_visibility_batch(cx: &Context<'_>) -> OpResult {
    let entries = entries(cx.input.value)?
        .iter()
        .map(|e| {
            let entry = VisibilityEntry {
                receipt_handle: required_of(e, "ReceiptHandle")?.to_owned(),
                visibility_timeout: int_of(e, "VisibilityTimeout")?.unwrap_or(0),
            };
            Ok((entry_id(e)?, entry))
        })
        .collect::<Result<Vec<_>, SqsError>>()?;
    let results = cx
        .queues
        .change_visibility_batch(cx.caller, &cx.input.queue()?, entries)
        .await?;
    Ok(batch_json(results, |()| Map::new()))
}

/// One message to send. Its `AWSTraceHeader` is the one given in `MessageSystemAttributes`,
/// else the request's own trace header, as SQS records it.
fn send_request(value: &Value, request_trace: Option<&str>) -> Result<SendRequest, SqsError> {
    let explicit_trace = value
        .get("MessageSystemAttributes")
        .and_then(|a| a.get("AWSTraceHeader"))
        .and_then(|a| a.get("StringValue"))
        .and_then(Value::as_str);
    Ok(SendRequest {
        trace_header: explicit_trace.or(request_trace).map(str::to_owned),
        body: required_of(value, "MessageBody")?.to_owned(),
        attributes: message_attributes(value.get("MessageAttributes"))?,
        delay_seconds: int_of(value, "DelaySeconds")?,
        group_id: str_of(value, "MessageGroupId")?.map(str::to_owned),
        dedup_id: str_of(value, "MessageDeduplicationId")?.map(str::to_owned),
    })
}

fn sent_json(sent: &Sent) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("MessageId".into(), sent.message_id.clone().into());
    out.insert("MD5OfMessageBody".into(), sent.md5_of_body.clone().into());
    if let Some(md5) = &sent.md5_of_attributes {
        out.insert("MD5OfMessageAttributes".into(), md5.clone().into());
    }
    if let Some(seq) = &sent.sequence_number {
        out.insert("SequenceNumber".into(), seq.clone().into());
    }
    out
}

fn message_json(message: ReceivedMessage) -> Value {
    let mut out = json!({
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    });
    if !message.attributes.is_empty() {
        out["Attributes"] = json!(message.attributes);
    }
    if let Some(md5) = message.md5_of_attributes {
        out["MD5OfMessageAttributes"] = md5.into();
        let attributes: Map<String, Value> = message
            .message_attributes
            .into_iter()
            .map(|(name, v)| {
                let mut value = json!({ "DataType": v.data_type });
                if let Some(s) = v.string_value {
                    value["StringValue"] = s.into();
                }
                if let Some(b) = v.binary_value {
                    value["BinaryValue"] = STANDARD.encode(b).into();
                }
                (name, value)
            })
            .collect();
        out["MessageAttributes"] = Value::Object(attributes);
    }
    out
}
