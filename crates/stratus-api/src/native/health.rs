//! `GET /v1/health`: liveness and the server's version, without credentials.

use axum::Json;
use http::Method;
use stratus_client::system::Health;

use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/health", health)
}

/// Liveness and the server's version; needs no credentials.
#[utoipa::path(get, path = "/v1/health", tag = "system", security(()),
    responses((status = 200, description = "The server answers", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
