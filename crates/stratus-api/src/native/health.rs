//! `GET /v1/health`: liveness and the server's version, without credentials.

use axum::Json;
use http::Method;
use serde_json::json;

use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/health", health)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
