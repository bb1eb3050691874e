//! `POST /v1/plan`: the placement planner (`stratus plan`) on the server, for the web console
//! and scripts. The body is a SPACE4AI system description (JSON) or a Stratus application spec
//! (YAML); the answer is the cheapest feasible placement, its cost and its response times.
//! The search runs on a blocking thread under a time limit, and every run is counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_core::metrics::Metrics;
use stratus_identity::Identity;
use stratus_planner::{Options, SolveError, System};

use super::caller::{Caller, KnowsIdentity};
use super::problem::{ApiResult, Problem};
use super::table::RouteTable;

/// The longest search a request may ask for; the default is shorter.
const MAX_TIME_LIMIT: Duration = Duration::from_secs(60);
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

pub(crate) fn table() -> RouteTable<PlanState> {
    RouteTable::new().add(Method::POST, "/v1/plan", plan)
}

#[derive(Clone)]
pub(crate) struct PlanState {
    identity: Arc<Identity>,
    metrics: Arc<Metrics>,
}

impl KnowsIdentity for PlanState {
    fn identity(&self) -> &Identity {
        &self.identity
    }
}

pub(crate) fn routes(identity: Arc<Identity>, metrics: Arc<Metrics>) -> axum::Router {
    table()
        .into_router()
        .with_state(PlanState { identity, metrics })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PlanQuery {
    /// Arrival rate at the entry component (requests/s), overriding the document's.
    lambda: Option<f64>,
    /// Time horizon the costs cover, overriding the document's.
    time: Option<f64>,
    /// How long the exact search may run, in milliseconds (at most 60 000).
    time_limit_ms: Option<u64>,
}

/// The cheapest feasible placement of a SPACE4AI system description (JSON) or an application
/// spec (YAML), or why none is feasible.
#[utoipa::path(post, path = "/v1/plan", tag = "plan", params(PlanQuery),
    request_body(content = String, content_type = "application/yaml",
        description = "An application spec (YAML) or a SPACE4AI system description (JSON)"),
    responses((status = 200, description = "The placement, its cost and response times, or `feasible: false` with the reason", body = Object)))]
pub(crate) async fn plan(
    State(state): State<PlanState>,
    query: Result<Query<PlanQuery>, axum::extract::rejection::QueryRejection>,
    Caller(_caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let Query(query) = query.map_err(|e| invalid(&state.metrics, &e.body_text()))?;
    let system = parse(&headers, &body, query.lambda, query.time)
        .map_err(|why| invalid(&state.metrics, &why))?;
    let time_limit = query
        .time_limit_ms
        .map_or(DEFAULT_TIME_LIMIT, Duration::from_millis)
        .min(MAX_TIME_LIMIT);
    let started = Instant::now();
    let solved = tokio::task::spawn_blocking(move || {
        let options = Options {
            time_limit: Some(time_limit),
        };
        match stratus_planner::solve(&system, &options) {
            Ok(plan) => Ok(stratus_planner::summary(&system, &plan)),
            Err(SolveError::Infeasible) => {
                let deadline = Instant::now() + time_limit;
                Err(Some(
                    stratus_planner::explain(&system, Some(deadline)).to_string(),
                ))
            }
            Err(SolveError::OutOfTime { .. }) => Err(None),
        }
    })
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let record = |outcome: &str| {
        state.metrics.planner_runs.with(&[outcome]).inc();
        state.metrics.planner_run_seconds.with(&[]).observe(seconds);
    };
    match solved {
        Ok(Ok(mut placement)) => {
            record("solved");
            placement["seconds"] = json!(seconds);
            Ok(Json(placement))
        }
        Ok(Err(Some(why))) => {
            record("infeasible");
            Ok(Json(
                json!({ "feasible": false, "reason": why, "seconds": seconds }),
            ))
        }
        Ok(Err(None)) => {
            record("timeout");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no answer",
                format!("no feasible placement found within {time_limit:?}; raise time_limit_ms"),
            ))
        }
        Err(error) => {
            record("error");
            tracing::error!(%error, "planner run failed");
            Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "the planner failed",
            ))
        }
    }
}

fn invalid(metrics: &Metrics, why: &str) -> Problem {
    metrics.planner_runs.with(&["invalid"]).inc();
    Problem::new(StatusCode::BAD_REQUEST, "invalid request", why)
}

/// A YAML spec when the content type says so or the body is not a JSON object.
fn parse(
    headers: &HeaderMap,
    body: &[u8],
    lambda: Option<f64>,
    time: Option<f64>,
) -> Result<System, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    if text.trim().is_empty() {
        return Err(
            "send a SPACE4AI system description (JSON) or an application spec (YAML)".into(),
        );
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_yaml = content_type.contains("yaml") || !text.trim_start().starts_with('{');
    if !is_yaml {
        return System::parse(text, lambda, time).map_err(|e| e.to_string());
    }
    let mut system = stratus_planner::Spec::from_yaml(text)
        .and_then(|spec| spec.to_system())
        .map_err(|e| e.to_string())?;
    if let Some(l) = lambda {
        system.lambda = l;
    }
    if let Some(t) = time {
        system.time = t;
    }
    Ok(system)
}
