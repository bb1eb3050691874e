//! `GET /v1/events`: the newest outbox events with their delivery state (`pending`,
//! `delivered` or `failed` with the reason), read-only. Operators see all events; other callers
//! see only events of their project's buckets.

use axum::Json;
use axum::extract::{Query, State};
use http::Method;
use serde::Deserialize;
use serde_json::json;

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/events", recent_events)
}

#[derive(Deserialize)]
struct EventsQuery {
    limit: Option<usize>,
}

async fn recent_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = query.limit.unwrap_or(1000).min(10_000);
    let events = state.store.recent_events(limit).await.map_err(|error| {
        tracing::error!(?error, "reading the outbox failed");
        Problem::internal("reading the outbox failed")
    })?;
    let visible: Vec<_> = if caller.is_operator() {
        events
    } else {
        let own = state
            .store
            .list_buckets(&caller)
            .await
            .map_err(|_| Problem::internal("listing buckets failed"))?;
        let own: std::collections::HashSet<_> = own.into_iter().map(|b| b.name).collect();
        events
            .into_iter()
            .filter(|e| own.contains(&e.bucket))
            .collect()
    };
    let events: Vec<_> = visible
        .iter()
        .map(|e| {
            json!({
                "id": e.event_id,
                "seq": e.seq,
                "bucket": e.bucket,
                "key": e.key,
                "event_name": e.event_name,
                "target": e.target,
                "payload": e.payload,
                "created_ms": e.created_ms,
                "state": match (e.consumed_ms, &e.failure) {
                    (None, _) => "pending",
                    (Some(_), None) => "delivered",
                    (Some(_), Some(_)) => "failed",
                },
                "consumed_ms": e.consumed_ms,
                "failure": e.failure,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}
