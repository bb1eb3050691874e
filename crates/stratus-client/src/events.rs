//! `GET /v1/events`: the outbox of bucket notifications.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxEvent {
    pub id: String,
    pub seq: i64,
    pub bucket: String,
    pub key: String,
    pub event_name: String,
    /// Where the event is delivered (a function, queue or topic).
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// The S3 notification document.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_ms: i64,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub consumed_ms: Option<i64>,
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    pub events: Vec<OutboxEvent>,
}
