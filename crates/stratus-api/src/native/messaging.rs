//! `GET /v1/queues` and `GET /v1/topics`: the caller's queues (with their depth) and topics
//! (with their subscriptions), read through the same `Queues` and `Topics` services as SQS and
//! SNS, for the console's messaging page.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use http::Method;
use stratus_client::messaging::{Queue, QueueList, Subscription, Topic, TopicList};
use stratus_events::{Queues, Topics};
use stratus_identity::Identity;

use super::caller::{Caller, KnowsIdentity};
use super::problem::ApiResult;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<MessagingState> {
    RouteTable::new()
        .add(Method::GET, "/v1/queues", list_queues)
        .add(Method::GET, "/v1/topics", list_topics)
}

#[derive(Clone)]
pub(crate) struct MessagingState {
    identity: Arc<Identity>,
    queues: Arc<Queues>,
    topics: Arc<Topics>,
}

pub(crate) fn routes(
    identity: Arc<Identity>,
    queues: Arc<Queues>,
    topics: Arc<Topics>,
) -> axum::Router {
    table().into_router().with_state(MessagingState {
        identity,
        queues,
        topics,
    })
}

impl KnowsIdentity for MessagingState {
    fn identity(&self) -> &Identity {
        &self.identity
    }
}

fn count(attributes: &std::collections::BTreeMap<String, String>, name: &str) -> Option<u64> {
    attributes.get(name).and_then(|v| v.parse::<u64>().ok())
}

/// The project's queues with their depth.
#[utoipa::path(get, path = "/v1/queues", tag = "messaging",
    responses((status = 200, description = "Queues", body = QueueList)))]
pub(crate) async fn list_queues(
    State(state): State<MessagingState>,
    Caller(principal): Caller,
) -> ApiResult<Json<QueueList>> {
    let mut queues = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = state
            .queues
            .list_queues(&principal, "", Some(1000), token.as_deref())
            .await?;
        for name in page.names {
            // The queue URL's last segment is the name, whichever form the list gives.
            let name = name.rsplit('/').next().unwrap_or(&name).to_owned();
            let attributes = state
                .queues
                .get_attributes(&principal, &name, &["All".to_owned()])
                .await?;
            queues.push(Queue {
                fifo: attributes.get("FifoQueue").is_some_and(|v| v == "true"),
                visible: count(&attributes, "ApproximateNumberOfMessages"),
                in_flight: count(&attributes, "ApproximateNumberOfMessagesNotVisible"),
                delayed: count(&attributes, "ApproximateNumberOfMessagesDelayed"),
                name,
                attributes,
            });
        }
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(Json(QueueList { queues }))
}

/// The project's topics with their subscriptions.
#[utoipa::path(get, path = "/v1/topics", tag = "messaging",
    responses((status = 200, description = "Topics", body = TopicList)))]
pub(crate) async fn list_topics(
    State(state): State<MessagingState>,
    Caller(principal): Caller,
) -> ApiResult<Json<TopicList>> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = state
            .topics
            .list_topics(&principal, token.as_deref())
            .await?;
        arns.extend(page);
        match next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let mut topics = Vec::new();
    for arn in arns {
        let mut subscriptions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, next) = state
                .topics
                .list_subscriptions(&principal, Some(&arn), token.as_deref())
                .await?;
            subscriptions.extend(page.into_iter().map(|s| Subscription {
                pending: s.subscription_arn == "PendingConfirmation",
                arn: s.subscription_arn,
                protocol: s.protocol,
                endpoint: s.endpoint,
            }));
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let name = arn.rsplit(':').next().unwrap_or(&arn).to_owned();
        topics.push(Topic {
            name,
            arn,
            subscriptions,
        });
    }
    Ok(Json(TopicList { topics }))
}
