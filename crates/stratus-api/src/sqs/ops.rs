//! One function per SQS operation, over inputs and outputs in the JSON protocol's shapes; the
//! query protocol converts to and from them, so both protocols share every rule.

use serde_json::{Map, Value, json};
use stratus_events::Queues;
use stratus_events::queues::{
    QueueResult, ReceiveRequest, ReceivedMessage, SendRequest, Sent, VisibilityEntry,
};
use stratus_identity::Principal;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::errors::SqsError;
use super::input::{Input, int_of, message_attributes, str_of, string_map};

type OpResult = Result<Value, SqsError>;

pub(crate) async fn dispatch(
    queues: &Queues,
    caller: &Principal,
    operation: &str,
    input: &Input<'_>,
) -> OpResult {
    match operation {
        "CreateQueue" => {
            let name = input.required("QueueName")?;
            let tags = string_map(input.value.get("tags").or(input.value.get("Tags")), "tags")?;
            queues
                .create_queue(caller, name, &input.map("Attributes")?, &tags)
                .await?;
            Ok(json!({ "QueueUrl": input.queue_url(name) }))
        }
        "GetQueueUrl" => {
            let name = input.required("QueueName")?;
            queues.get_queue(caller, name).await?;
            Ok(json!({ "QueueUrl": input.queue_url(name) }))
        }
        "ListQueues" => {
            let max = input.int("MaxResults")?.map(|n| n as usize);
            let prefix = input.str("QueueNamePrefix")?.unwrap_or("");
            let list = queues
                .list_queues(caller, prefix, max, input.str("NextToken")?)
                .await?;
            let urls: Vec<String> = list.names.iter().map(|n| input.queue_url(n)).collect();
            let mut out = json!({ "QueueUrls": urls });
            if let Some(token) = list.next_token {
                out["NextToken"] = token.into();
            }
            Ok(out)
        }
        "DeleteQueue" => {
            queues.delete_queue(caller, &input.queue()?).await?;
            Ok(json!({}))
        }
        "PurgeQueue" => {
            queues.purge_queue(caller, &input.queue()?).await?;
            Ok(json!({}))
        }
        "GetQueueAttributes" => {
            // Without names SQS returns no attributes (but still checks the queue).
            let names = input.strings("AttributeNames")?;
            let attributes = queues
                .get_attributes(caller, &input.queue()?, &names)
                .await?;
            if attributes.is_empty() {
                return Ok(json!({}));
            }
            Ok(json!({ "Attributes": attributes }))
        }
        "SetQueueAttributes" => {
            queues
                .set_attributes(caller, &input.queue()?, &input.map("Attributes")?)
                .await?;
            Ok(json!({}))
        }
        "TagQueue" => {
            queues
                .tag_queue(caller, &input.queue()?, &input.map("Tags")?)
                .await?;
            Ok(json!({}))
        }
        "UntagQueue" => {
            queues
                .untag_queue(caller, &input.queue()?, &input.strings("TagKeys")?)
                .await?;
            Ok(json!({}))
        }
        "ListQueueTags" => {
            let tags = queues.list_tags(caller, &input.queue()?).await?;
            Ok(json!({ "Tags": tags }))
        }
        "ListDeadLetterSourceQueues" => {
            let names = queues.dead_letter_sources(caller, &input.queue()?).await?;
            let urls: Vec<String> = names.iter().map(|n| input.queue_url(n)).collect();
            Ok(json!({ "queueUrls": urls }))
        }
        "SendMessage" => {
            let sent = queues
                .send_message(
                    caller,
                    &input.queue()?,
                    send_request(input.value, input.trace_header)?,
                )
                .await?;
            Ok(sent_json(&sent, None))
        }
        "SendMessageBatch" => send_batch(queues, caller, input).await,
        "ReceiveMessage" => receive(queues, caller, input).await,
        "DeleteMessage" => {
            queues
                .delete_message(caller, &input.queue()?, input.required("ReceiptHandle")?)
                .await?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" => {
            let entries = entries(input.value)?
                .iter()
                .map(|e| Ok((entry_id(e)?, required_of(e, "ReceiptHandle")?.to_owned())))
                .collect::<Result<Vec<_>, SqsError>>()?;
            let results = queues
                .delete_batch(caller, &input.queue()?, entries)
                .await?;
            Ok(batch_json(results, |()| Map::new()))
        }
        "ChangeMessageVisibility" => {
            let timeout = input
                .int("VisibilityTimeout")?
                .ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
            queues
                .change_visibility(
                    caller,
                    &input.queue()?,
                    input.required("ReceiptHandle")?,
                    timeout,
                )
                .await?;
            Ok(json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let entries = entries(input.value)?
                .iter()
                .map(|e| {
                    let entry = VisibilityEntry {
                        receipt_handle: required_of(e, "ReceiptHandle")?.to_owned(),
                        visibility_timeout: int_of(e, "VisibilityTimeout")?.unwrap_or(0),
                    };
                    Ok((entry_id(e)?, entry))
                })
                .collect::<Result<Vec<_>, SqsError>>()?;
            let results = queues
                .change_visibility_batch(caller, &input.queue()?, entries)
                .await?;
            Ok(batch_json(results, |()| Map::new()))
        }
        other => Err(SqsError::new(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("the operation {other} is not supported"),
        )),
    }
}

fn required_of<'v>(value: &'v Value, name: &str) -> Result<&'v str, SqsError> {
    str_of(value, name)?.ok_or_else(|| SqsError::missing(name))
}

fn entries(value: &Value) -> Result<&Vec<Value>, SqsError> {
    match value.get("Entries") {
        Some(Value::Array(entries)) => Ok(entries),
        None | Some(Value::Null) => Err(SqsError::from(
            stratus_events::queues::QueueError::EmptyBatchRequest,
        )),
        Some(_) => Err(SqsError::invalid("Entries must be a list")),
    }
}

fn entry_id(entry: &Value) -> Result<String, SqsError> {
    Ok(required_of(entry, "Id")?.to_owned())
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

fn sent_json(sent: &Sent, id: Option<&str>) -> Value {
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("Id".into(), id.into());
    }
    out.insert("MessageId".into(), sent.message_id.clone().into());
    out.insert("MD5OfMessageBody".into(), sent.md5_of_body.clone().into());
    if let Some(md5) = &sent.md5_of_attributes {
        out.insert("MD5OfMessageAttributes".into(), md5.clone().into());
    }
    if let Some(seq) = &sent.sequence_number {
        out.insert("SequenceNumber".into(), seq.clone().into());
    }
    Value::Object(out)
}

async fn send_batch(queues: &Queues, caller: &Principal, input: &Input<'_>) -> OpResult {
    let entries = entries(input.value)?
        .iter()
        .map(|e| Ok((entry_id(e)?, send_request(e, input.trace_header)?)))
        .collect::<Result<Vec<_>, SqsError>>()?;
    let results = queues.send_batch(caller, &input.queue()?, entries).await?;
    Ok(batch_json(results, |sent| match sent_json(&sent, None) {
        Value::Object(map) => map,
        _ => Map::new(),
    }))
}

/// `{"Successful": [...], "Failed": [...]}` from per-entry results.
fn batch_json<T>(
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

async fn receive(queues: &Queues, caller: &Principal, input: &Input<'_>) -> OpResult {
    let mut system = input.strings("AttributeNames")?;
    system.extend(input.strings("MessageSystemAttributeNames")?);
    let request = ReceiveRequest {
        max: input.int("MaxNumberOfMessages")?.unwrap_or(1),
        visibility_timeout: input.int("VisibilityTimeout")?,
        wait_seconds: input.int("WaitTimeSeconds")?,
        system_attributes: system,
        message_attributes: input.strings("MessageAttributeNames")?,
    };
    let messages = queues
        .receive_message(caller, &input.queue()?, &request)
        .await?;
    let messages: Vec<Value> = messages.into_iter().map(message_json).collect();
    Ok(json!({ "Messages": messages }))
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
