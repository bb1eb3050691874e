//! One function per SNS action: decode parameters, call `Topics`, write the XML result.

use std::collections::HashSet;

use axum::body::Body;
use http::{Response, StatusCode};
use stratus_events::topics::{MAX_MESSAGE_BYTES, PublishRequest, Structure};
use stratus_identity::Principal;

use super::SnsApi;
use super::errors::SnsError;
use super::query::Params;
use super::xml::{element, entries, ok};

type Reply = Result<Response<Body>, SnsError>;

/// Most entries in one PublishBatch.
const MAX_BATCH: usize = 10;

pub(super) async fn dispatch(api: &SnsApi, caller: &Principal, params: &Params) -> Reply {
    let topics = &api.topics;
    let action = params.get("Action").unwrap_or("");
    match action {
        "CreateTopic" => {
            let name = params.required("Name")?;
            let arn = topics
                .create_topic(caller, name, params.map("Attributes"), params.tags())
                .await?;
            Ok(ok(action, Some(&element("TopicArn", &arn))))
        }
        "ListTopics" => {
            let (arns, next) = topics.list_topics(caller, params.get("NextToken")).await?;
            let members: String = arns
                .iter()
                .map(|arn| format!("<member>{}</member>", element("TopicArn", arn)))
                .collect();
            let next = next.map_or(String::new(), |n| element("NextToken", &n));
            Ok(ok(
                action,
                Some(&format!("<Topics>{members}</Topics>{next}")),
            ))
        }
        "DeleteTopic" => {
            topics
                .delete_topic(caller, params.required("TopicArn")?)
                .await?;
            Ok(ok(action, None))
        }
        "GetTopicAttributes" => {
            let attributes = topics
                .topic_attributes(caller, params.required("TopicArn")?)
                .await?;
            Ok(ok(action, Some(&entries("Attributes", &attributes))))
        }
        "SetTopicAttributes" => {
            topics
                .set_topic_attribute(
                    caller,
                    params.required("TopicArn")?,
                    params.required("AttributeName")?,
                    params.get("AttributeValue").unwrap_or(""),
                )
                .await?;
            Ok(ok(action, None))
        }
        "ListTagsForResource" => {
            let tags = topics
                .topic_tags(caller, params.required("ResourceArn")?)
                .await
                .map_err(|e| match SnsError::from(e) {
                    e if e.code == "NotFound" => SnsError::new(
                        StatusCode::NOT_FOUND,
                        "ResourceNotFound",
                        "Resource does not exist",
                    ),
                    e => e,
                })?;
            let members: String = tags
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<member>{}{}</member>",
                        element("Key", k),
                        element("Value", v)
                    )
                })
                .collect();
            Ok(ok(action, Some(&format!("<Tags>{members}</Tags>"))))
        }
        "Subscribe" => {
            let arn = topics
                .subscribe(
                    caller,
                    params.required("TopicArn")?,
                    params.required("Protocol")?,
                    params.get("Endpoint").unwrap_or(""),
                    params.map("Attributes"),
                    params.flag("ReturnSubscriptionArn"),
                )
                .await?;
            Ok(ok(action, Some(&element("SubscriptionArn", &arn))))
        }
        "ConfirmSubscription" => {
            let arn = topics
                .confirm_subscription(
                    Some(caller),
                    params.required("TopicArn")?,
                    params.required("Token")?,
                )
                .await?;
            Ok(ok(action, Some(&element("SubscriptionArn", &arn))))
        }
        "Unsubscribe" => {
            topics
                .unsubscribe(caller, params.required("SubscriptionArn")?)
                .await?;
            Ok(ok(action, None))
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic = if action == "ListSubscriptions" {
                None
            } else {
                Some(params.required("TopicArn")?)
            };
            let (rows, next) = topics
                .list_subscriptions(caller, topic, params.get("NextToken"))
                .await?;
            let members: String = rows
                .iter()
                .map(|s| {
                    format!(
                        "<member>{}{}{}{}{}</member>",
                        element("SubscriptionArn", &s.subscription_arn),
                        element("Owner", &s.owner),
                        element("Protocol", &s.protocol),
                        element("Endpoint", &s.endpoint),
                        element("TopicArn", &s.topic_arn)
                    )
                })
                .collect();
            let next = next.map_or(String::new(), |n| element("NextToken", &n));
            Ok(ok(
                action,
                Some(&format!("<Subscriptions>{members}</Subscriptions>{next}")),
            ))
        }
        "GetSubscriptionAttributes" => {
            let attributes = topics
                .subscription_attributes(caller, params.required("SubscriptionArn")?)
                .await?;
            Ok(ok(action, Some(&entries("Attributes", &attributes))))
        }
        "SetSubscriptionAttributes" => {
            topics
                .set_subscription_attribute(
                    caller,
                    params.required("SubscriptionArn")?,
                    params.required("AttributeName")?,
                    params.get("AttributeValue").unwrap_or(""),
                )
                .await?;
            Ok(ok(action, None))
        }
        "Publish" => {
            let topic = params
                .get("TopicArn")
                .or_else(|| params.get("TargetArn"))
                .ok_or_else(|| SnsError::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"))?;
            let request = publish_request(params, "")?;
            let id = topics.publish(caller, topic, request).await?;
            Ok(ok(action, Some(&element("MessageId", &id))))
        }
        "PublishBatch" => publish_batch(api, caller, params).await,
        "" => Err(SnsError::invalid("Invalid parameter: Action")),
        other => Err(SnsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("The action {other} is not valid for this endpoint."),
        )),
    }
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

async fn publish_batch(api: &SnsApi, caller: &Principal, params: &Params) -> Reply {
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
    let results = api.topics.publish_batch(caller, topic, entries).await?;
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
