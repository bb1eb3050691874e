//! Subscription actions: subscribe, confirm, unsubscribe, list, attributes.

use super::{Context, Reply};
use crate::sns::xml::{element, entries, ok};

pub(super) async fn subscribe(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    let arn = cx
        .topics
        .subscribe(
            cx.caller,
            params.required("TopicArn")?,
            params.required("Protocol")?,
            params.get("Endpoint").unwrap_or(""),
            params.map("Attributes"),
            params.flag("ReturnSubscriptionArn"),
        )
        .await?;
    Ok(ok("Subscribe", Some(&element("SubscriptionArn", &arn))))
}

/// The signed form; the unsigned link a subscriber follows is `SnsApi::handle_confirmation_link`.
pub(super) async fn confirm_subscription(cx: &Context<'_>) -> Reply {
    let arn = cx
        .topics
        .confirm_subscription(
            Some(cx.caller),
            cx.params.required("TopicArn")?,
            cx.params.required("Token")?,
        )
        .await?;
    Ok(ok(
        "ConfirmSubscription",
        Some(&element("SubscriptionArn", &arn)),
    ))
}

pub(super) async fn unsubscribe(cx: &Context<'_>) -> Reply {
    cx.topics
        .unsubscribe(cx.caller, cx.params.required("SubscriptionArn")?)
        .await?;
    Ok(ok("Unsubscribe", None))
}

pub(super) async fn list_subscriptions(cx: &Context<'_>) -> Reply {
    subscriptions_page(cx, "ListSubscriptions", None).await
}

pub(super) async fn list_subscriptions_by_topic(cx: &Context<'_>) -> Reply {
    let topic = cx.params.required("TopicArn")?;
    subscriptions_page(cx, "ListSubscriptionsByTopic", Some(topic)).await
}

/// One page of subscriptions, of every topic or of `topic`.
async fn subscriptions_page(cx: &Context<'_>, action: &str, topic: Option<&str>) -> Reply {
    let (rows, next) = cx
        .topics
        .list_subscriptions(cx.caller, topic, cx.params.get("NextToken"))
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

pub(super) async fn get_subscription_attributes(cx: &Context<'_>) -> Reply {
    let attributes = cx
        .topics
        .subscription_attributes(cx.caller, cx.params.required("SubscriptionArn")?)
        .await?;
    Ok(ok(
        "GetSubscriptionAttributes",
        Some(&entries("Attributes", &attributes)),
    ))
}

pub(super) async fn set_subscription_attributes(cx: &Context<'_>) -> Reply {
    let params = cx.params;
    cx.topics
        .set_subscription_attribute(
            cx.caller,
            params.required("SubscriptionArn")?,
            params.required("AttributeName")?,
            params.get("AttributeValue").unwrap_or(""),
        )
        .await?;
    Ok(ok("SetSubscriptionAttributes", None))
}
