//! `GET /v1/events`: the newest outbox events with their delivery state (`pending`,
//! `delivered` or `failed` with the reason), read-only. Operators see all events; other callers
//! see only events of their project's buckets.

use axum::Json;
use axum::extract::{Query, State};
use http::Method;
use serde::Deserialize;
use stratus_client::events::{EventList, OutboxEvent};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/events", recent_events)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// At most this many events (default 1000, at most 10 000).
    limit: Option<usize>,
}

/// The newest outbox events the caller may see.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, description = "Events, newest first", body = EventList)))]
pub(crate) async fn recent_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Json<EventList>> {
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
    let events = visible
        .into_iter()
        .map(|e| OutboxEvent {
            state: match (e.consumed_ms, &e.failure) {
                (None, _) => "pending",
                (Some(_), None) => "delivered",
                (Some(_), Some(_)) => "failed",
            }
            .to_owned(),
            target: serde_json::to_value(&e.target).unwrap_or_default(),
            id: e.event_id,
            seq: e.seq,
            bucket: e.bucket,
            key: e.key,
            event_name: e.event_name,
            payload: e.payload,
            created_ms: e.created_ms,
            consumed_ms: e.consumed_ms,
            failure: e.failure,
        })
        .collect();
    Ok(Json(EventList { events }))
}
