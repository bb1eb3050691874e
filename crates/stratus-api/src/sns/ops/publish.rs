//! Publish and PublishBatch: the message, its subject and attributes from the form, checked
//! batch rules, one XML entry per message.

use std::collections::HashSet;

use http::StatusCode;
use stratus_events::topics::{MAX_MESSAGE_BYTES, PublishRequest, Structure};

use super::{Context, Reply};
use crate::sns::errors::SnsError;
use crate::sns::query::Params;
use crate::sns::xml::{element, ok};

/// Most entries in one PublishBatch.
const MAX_BATCH: usize = 10;

pub(super) async fn publish(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    let topic = params
        .get("TopicArn")
        .or_else(|| params.get("TargetArn"))
        .ok_or_else(|| {
            SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            )
        })?;
    let request = publish_request(params, "")?;
    let id = cx.topics.publish(cx.caller, topic, request).await?;
    Ok(ok("Publish", Some(&element("MessageId", &id))))
}

fn publish_request(params: &Params, base: &str) -> Result<PublishRequest, SnsError> {
    let field = |name: &str| params.get(&format!("{base}{name}"));
    let structure = match field("MessageStructure") {
        None => Structure::Plain,
        Some("json") => Structure::Json,
        Some(_) => return Err(SnsError::invalid("Invalid parameter: MessageStructure")),
    };
    Ok(PublishRequest {
        message: field("Message").unwrap_or("").to_owned(),
        subject: field("Subject").map(str::to_owned),
        structure,
        attributes: params.message_attributes(base)?,
    })
}

fn valid_entry_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 80
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(super) async fn publish_batch(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    let topic = params.required("TopicArn")?;
    let indices = params.members("PublishBatchRequestEntries");
    let bad =
        |code: &'static str, message: &str| SnsError::new(StatusCode::BAD_REQUEST, code, message);
    if indices.is_empty() {
        return Err(bad(
            "EmptyBatchRequest",
            "The batch request doesn't contain any entries",
        ));
    }
    if indices.len() > MAX_BATCH {
        return Err(bad(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible.",
        ));
    }
    let mut entries = Vec::with_capacity(indices.len());
    let mut seen = HashSet::new();
    let mut total = 0;
    for n in indices {
        let base = format!("PublishBatchRequestEntries.member.{n}.");
        let id = params.get(&format!("{base}Id")).unwrap_or("").to_owned();
        if !valid_entry_id(&id) {
            return Err(bad(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(bad(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            ));
        }
        let request = publish_request(params, &base)?;
        total += stratus_core::message::message_size(&request.message, &request.attributes);
        entries.push((id, request));
    }
    if total > MAX_MESSAGE_BYTES {
        return Err(bad(
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit.",
        ));
    }
    let results = cx.topics.publish_batch(cx.caller, topic, entries).await?;
    let (mut successful, mut failed) = (String::new(), String::new());
    for (id, outcome) in results {
        match outcome {
            Ok(message_id) => successful.push_str(&format!(
                "<member>{}{}</member>",
                element("Id", &id),
                element("MessageId", &message_id)
            )),
            Err(error) => {
                let error = SnsError::from(error);
                failed.push_str(&format!(
                    "<member>{}{}{}{}</member>",
                    element("Id", &id),
                    element("Code", error.code),
                    element("Message", &error.message),
                    element(
                        "SenderFault",
                        &(!error.status.is_server_error()).to_string()
                    )
                ));
            }
        }
    }
    Ok(ok(
        "PublishBatch",
        Some(&format!(
            "<Successful>{successful}</Successful><Failed>{failed}</Failed>"
        )),
    ))
}
