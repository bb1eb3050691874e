//! Topic actions: create, list, delete, attributes and tags.

use http::StatusCode;

use super::{Context, Reply};
use crate::sns::errors::SnsError;
use crate::sns::xml::{element, entries, ok};

pub(super) async fn create_topic(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    let arn = cx
        .topics
        .create_topic(
            cx.caller,
            params.required("Name")?,
            params.map("Attributes"),
            params.tags(),
        )
        .await?;
    Ok(ok("CreateTopic", Some(&element("TopicArn", &arn))))
}

pub(super) async fn list_topics(cx: &Context<'_>) -> Reply {
    let (arns, next) = cx
        .topics
        .list_topics(cx.caller, cx.params.get("NextToken"))
        .await?;
    let members: String = arns
        .iter()
        .map(|arn| format!("<member>{}</member>", element("TopicArn", arn)))
        .collect();
    let next = next.map_or(String::new(), |n| element("NextToken", &n));
    Ok(ok(
        "ListTopics",
        Some(&format!("<Topics>{members}</Topics>{next}")),
    ))
}

pub(super) async fn delete_topic(cx: &Context<'_>) -> Reply {
    cx.topics
        .delete_topic(cx.caller, cx.params.required("TopicArn")?)
        .await?;
    Ok(ok("DeleteTopic", None))
}

pub(super) async fn get_topic_attributes(cx: &Context<'_>) -> Reply {
    let attributes = cx
        .topics
        .topic_attributes(cx.caller, cx.params.required("TopicArn")?)
        .await?;
    Ok(ok(
        "GetTopicAttributes",
        Some(&entries("Attributes", &attributes)),
    ))
}

pub(super) async fn set_topic_attributes(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    cx.topics
        .set_topic_attribute(
            cx.caller,
            params.required("TopicArn")?,
            params.required("AttributeName")?,
            params.get("AttributeValue").unwrap_or(""),
        )
        .await?;
    Ok(ok("SetTopicAttributes", None))
}

/// SNS answers a tag request for a missing resource with `ResourceNotFound`, not `NotFound`.
pub(super) async fn list_tags_for_resource(cx: &Context<'_>) -> Reply {
    let tags = cx
        .topics
        .topic_tags(cx.caller, cx.params.required("ResourceArn")?)
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
    Ok(ok(
        "ListTagsForResource",
        Some(&format!("<Tags>{members}</Tags>")),
    ))
}
