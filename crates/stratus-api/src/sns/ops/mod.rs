//! One function per SNS action: decode the form parameters, call `Topics`, write the XML
//! result. `dispatch` maps the `Action` parameter to its function; the functions are grouped
//! by what they act on (`topics.rs`, `subscriptions.rs`, `publish.rs`).

mod publish;
mod subscriptions;
mod topics;

use axum::body::Body;
use http::{Response, StatusCode};
use stratus_events::Topics;
use stratus_identity::Principal;

use super::errors::SnsError;
use super::query::Params;

type Reply = Result<Response<Body>, SnsError>;

/// What every operation works with: the service, the verified caller, the request's
/// parameters (query and form body together).
pub(crate) struct Context<'a> {
    pub topics: &'a Topics,
    pub caller: &'a Principal,
    pub params: &'a Params,
}

pub(crate) async fn dispatch(context: &Context<'_>) -> Reply {
    match context.params.get("Action").unwrap_or("") {
        "CreateTopic" => topics::create_topic(context).await,
        "ListTopics" => topics::list_topics(context).await,
        "DeleteTopic" => topics::delete_topic(context).await,
        "GetTopicAttributes" => topics::get_topic_attributes(context).await,
        "SetTopicAttributes" => topics::set_topic_attributes(context).await,
        "ListTagsForResource" => topics::list_tags_for_resource(context).await,
        "Subscribe" => subscriptions::subscribe(context).await,
        "ConfirmSubscription" => subscriptions::confirm_subscription(context).await,
        "Unsubscribe" => subscriptions::unsubscribe(context).await,
        "ListSubscriptions" => subscriptions::list_subscriptions(context).await,
        "ListSubscriptionsByTopic" => subscriptions::list_subscriptions_by_topic(context).await,
        "GetSubscriptionAttributes" => subscriptions::get_subscription_attributes(context).await,
        "SetSubscriptionAttributes" => subscriptions::set_subscription_attributes(context).await,
        "Publish" => publish::publish(context).await,
        "PublishBatch" => publish::publish_batch(context).await,
        "" => Err(SnsError::invalid("Invalid parameter: Action")),
        other => Err(SnsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("The action {other} is not valid for this endpoint."),
        )),
    }
}
