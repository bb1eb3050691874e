//! `GET /v1/queues` and `GET /v1/topics`: the caller's queues (with their depth) and topics
//! (with their subscriptions), read through the same `Queues` and `Topics` services as SQS and
//! SNS, for the console's messaging page.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use http::StatusCode;
use serde_json::{Value, json};
use stratus_events::TopicError;
use stratus_events::queues::QueueError;
use stratus_events::{Queues, Topics};
use stratus_identity::Identity;

use crate::native::{ApiResult, Caller, KnowsIdentity, problem};

#[derive(Clone)]
struct MessagingState {
    identity: Arc<Identity>,
    queues: Arc<Queues>,
    topics: Arc<Topics>,
}

pub(crate) fn routes(
    identity: Arc<Identity>,
    queues: Arc<Queues>,
    topics: Arc<Topics>,
) -> axum::Router {
    axum::Router::new()
        .route("/v1/queues", get(list_queues))
        .route("/v1/topics", get(list_topics))
        .with_state(MessagingState {
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

fn queue_problem(error: &QueueError) -> http::Response<axum::body::Body> {
    match error {
        QueueError::AccessDenied(detail) => problem(StatusCode::FORBIDDEN, "forbidden", detail),
        QueueError::QueueDoesNotExist => problem(
            StatusCode::NOT_FOUND,
            "not found",
            "the queue does not exist",
        ),
        other => {
            tracing::error!(error = %other, "listing queues failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "listing queues failed",
            )
        }
    }
}

fn topic_problem(error: &TopicError) -> http::Response<axum::body::Body> {
    match error {
        TopicError::AuthorizationError(detail) => {
            problem(StatusCode::FORBIDDEN, "forbidden", detail)
        }
        TopicError::NotFound(detail) => problem(StatusCode::NOT_FOUND, "not found", detail),
        other => {
            tracing::error!(error = %other, "listing topics failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "listing topics failed",
            )
        }
    }
}

fn count(attributes: &std::collections::BTreeMap<String, String>, name: &str) -> Value {
    attributes
        .get(name)
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Value::Null, Value::from)
}

async fn list_queues(
    State(state): State<MessagingState>,
    Caller(principal): Caller,
) -> ApiResult<Json<Value>> {
    let mut queues = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = state
            .queues
            .list_queues(&principal, "", Some(1000), token.as_deref())
            .await
            .map_err(|e| queue_problem(&e))?;
        for name in page.names {
            // The queue URL's last segment is the name, whichever form the list gives.
            let name = name.rsplit('/').next().unwrap_or(&name).to_owned();
            let attributes = state
                .queues
                .get_attributes(&principal, &name, &["All".to_owned()])
                .await
                .map_err(|e| queue_problem(&e))?;
            queues.push(json!({
                "name": name,
                "fifo": attributes.get("FifoQueue").is_some_and(|v| v == "true"),
                "visible": count(&attributes, "ApproximateNumberOfMessages"),
                "in_flight": count(&attributes, "ApproximateNumberOfMessagesNotVisible"),
                "delayed": count(&attributes, "ApproximateNumberOfMessagesDelayed"),
                "attributes": attributes,
            }));
        }
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(Json(json!({ "queues": queues })))
}

async fn list_topics(
    State(state): State<MessagingState>,
    Caller(principal): Caller,
) -> ApiResult<Json<Value>> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = state
            .topics
            .list_topics(&principal, token.as_deref())
            .await
            .map_err(|e| topic_problem(&e))?;
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
                .await
                .map_err(|e| topic_problem(&e))?;
            subscriptions.extend(page.into_iter().map(|s| {
                json!({
                    "arn": s.subscription_arn,
                    "protocol": s.protocol,
                    "endpoint": s.endpoint,
                    "pending": s.subscription_arn == "PendingConfirmation",
                })
            }));
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let name = arn.rsplit(':').next().unwrap_or(&arn).to_owned();
        topics.push(json!({ "name": name, "arn": arn, "subscriptions": subscriptions }));
    }
    Ok(Json(json!({ "topics": topics })))
}
