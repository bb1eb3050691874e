//! Queue operations: create, find, list, delete, purge, attributes, tags, dead-letter sources.

use serde_json::json;

use super::{Context, OpResult};
use crate::sqs::input::string_map;

pub(super) async fn create_queue(cx: &Context<'_>) -> OpResult {
    let input = cx.input;
    let name = input.required("QueueName")?;
    // The JSON protocol names the member `tags`; the query protocol's `Tag.N` become `Tags`.
    let tags = string_map(input.value.get("tags").or(input.value.get("Tags")), "tags")?;
    cx.queues
        .create_queue(cx.caller, name, &input.map("Attributes")?, &tags)
        .await?;
    Ok(json!({ "QueueUrl": input.queue_url(name) }))
}

pub(super) async fn get_queue_url(cx: &Context<'_>) -> OpResult {
    let name = cx.input.required("QueueName")?;
    cx.queues.get_queue(cx.caller, name).await?;
    Ok(json!({ "QueueUrl": cx.input.queue_url(name) }))
}

pub(super) async fn list_queues(cx: &Context<'_>) -> OpResult {
    let input = cx.input;
    let max = input.int("MaxResults")?.map(|n| n as usize);
    let prefix = input.str("QueueNamePrefix")?.unwrap_or("");
    let list = cx
        .queues
        .list_queues(cx.caller, prefix, max, input.str("NextToken")?)
        .await?;
    let urls: Vec<String> = list.names.iter().map(|n| input.queue_url(n)).collect();
    // AWS omits `QueueUrls` when no queue matches, in both protocols.
    let mut out = if urls.is_empty() {
        json!({})
    } else {
        json!({ "QueueUrls": urls })
    };
    if let Some(token) = list.next_token {
        out["NextToken"] = token.into();
    }
    Ok(out)
}

pub(super) async fn delete_queue(cx: &Context<'_>) -> OpResult {
    cx.queues
        .delete_queue(cx.caller, &cx.input.queue()?)
        .await?;
    Ok(json!({}))
}

pub(super) async fn purge_queue(cx: &Context<'_>) -> OpResult {
    cx.queues.purge_queue(cx.caller, &cx.input.queue()?).await?;
    Ok(json!({}))
}

/// Without names SQS returns no attributes (but still checks the queue).
pub(super) async fn get_queue_attributes(cx: &Context<'_>) -> OpResult {
    let names = cx.input.strings("AttributeNames")?;
    let attributes = cx
        .queues
        .get_attributes(cx.caller, &cx.input.queue()?, &names)
        .await?;
    if attributes.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Attributes": attributes }))
}

pub(super) async fn set_queue_attributes(cx: &Context<'_>) -> OpResult {
    cx.queues
        .set_attributes(cx.caller, &cx.input.queue()?, &cx.input.map("Attributes")?)
        .await?;
    Ok(json!({}))
}

pub(super) async fn tag_queue(cx: &Context<'_>) -> OpResult {
    cx.queues
        .tag_queue(cx.caller, &cx.input.queue()?, &cx.input.map("Tags")?)
        .await?;
    Ok(json!({}))
}

pub(super) async fn untag_queue(cx: &Context<'_>) -> OpResult {
    cx.queues
        .untag_queue(cx.caller, &cx.input.queue()?, &cx.input.strings("TagKeys")?)
        .await?;
    Ok(json!({}))
}

pub(super) async fn list_queue_tags(cx: &Context<'_>) -> OpResult {
    let tags = cx.queues.list_tags(cx.caller, &cx.input.queue()?).await?;
    Ok(json!({ "Tags": tags }))
}

pub(super) async fn list_dead_letter_source_queues(cx: &Context<'_>) -> OpResult {
    let names = cx
        .queues
        .dead_letter_sources(cx.caller, &cx.input.queue()?)
        .await?;
    let urls: Vec<String> = names.iter().map(|n| cx.input.queue_url(n)).collect();
    Ok(json!({ "queueUrls": urls }))
}
