//! `POST /v1/cost/compare`: serverless against an always-on fleet for a synthetic trace, the
//! same computation as `stratus cost compare --json` (for the console's chart).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use http::{Method, StatusCode};
use serde_json::Value;
use stratus_client::cost::CompareRequest;
use stratus_cost::compare::{Synthetic, SyntheticKind, Workload};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::POST, "/v1/cost/compare", compare)
}

/// Serverless against an always-on fleet for a synthetic trace.
#[utoipa::path(post, operation_id = "compare_cost", path = "/v1/cost/compare", tag = "cost", request_body = CompareRequest,
    responses((status = 200, description = "Both prices, the fleet and the break-even", body = Object)))]
pub(crate) async fn compare(
    State(state): State<AppState>,
    Caller(_caller): Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let bad = |detail: &str| Problem::new(StatusCode::BAD_REQUEST, "invalid request", detail);
    let request: CompareRequest =
        serde_json::from_slice(&body).map_err(|e| bad(&format!("invalid JSON body: {e}")))?;
    let kind: SyntheticKind = request
        .synthetic
        .parse()
        .map_err(|e| bad(&format!("{e}")))?;
    let synthetic = Synthetic {
        kind,
        mean_rate: request.rate,
        days: request.days,
        active_minutes: request.active_minutes,
    };
    let workload = Workload {
        service_ms: request.service_ms,
        memory_mb: request.memory_mb,
        p95_bound_ms: request.p95_ms,
        gpu: request.gpu,
    };
    let prices = std::sync::Arc::clone(&state.billing.prices);
    // A month of minutes and a fleet search: CPU work, off the async threads.
    let outcome = tokio::task::spawn_blocking(move || {
        let trace = synthetic.generate()?;
        stratus_cost::compare::compare(&trace, &workload, &prices)
    })
    .await
    .map_err(|_| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "the comparison failed",
        )
    })?;
    let comparison = outcome.map_err(|e| bad(&e.to_string()))?;
    serde_json::to_value(&comparison).map(Json).map_err(|_| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "the comparison could not be written",
        )
    })
}
