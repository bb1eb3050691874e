//! The native dependency-environment API under `/v1/environments` (what `stratus deploy` uses
//! for a `requirements.txt`).
//!
//! `PUT /v1/environments/HASH` answers with `application/x-ndjson`, one JSON object a line, so
//! a long pip run shows its progress as it happens:
//! `{"event":"output","line":…}` for each line pip prints, `{"event":"waiting"}` when another
//! request is building the same environment, and last either
//! `{"event":"done","status":"built"|"cached","environment":{…}}` or
//! `{"event":"failed","error":…}`. Failures found before the build starts are problem
//! documents with a 4xx/5xx status instead.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};
use stratus_runtime::{BuildEvent, EnvInfo, EnvironmentBuild};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

const NDJSON: &str = "application/x-ndjson";

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/environments", list)
        .add(Method::GET, "/v1/environments/{hash}", show)
        .add(Method::PUT, "/v1/environments/{hash}", build)
}

fn info_json(info: &EnvInfo) -> Value {
    json!({
        "hash": info.hash,
        "python": info.python,
        "size_bytes": info.size_bytes,
        "created_ms": info.created_ms,
        "build_seconds": info.build_seconds,
    })
}

/// The interpreter tag clients hash requirements with, and every built environment.
async fn list(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Json<Value>> {
    let functions = &state.functions;
    let environments = functions.environments(&caller).await?;
    Ok(Json(json!({
        "python": functions.environment_tag().ok(),
        "environments": environments.iter().map(info_json).collect::<Vec<_>>(),
    })))
}

async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let info = state.functions.environment(&caller, &hash).await?;
    Ok(Json(info_json(&info)))
}

/// The body is the requirements text.
async fn build(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(hash): Path<String>,
    body: Bytes,
) -> ApiResult<Response<Body>> {
    let requirements = std::str::from_utf8(&body).map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            "requirements must be UTF-8 text",
        )
    })?;
    let started = state
        .functions
        .build_environment(&caller, &hash, requirements)
        .await?;
    let body = match started {
        EnvironmentBuild::Cached(info) => Body::from(line(&done(&info, "cached"))),
        EnvironmentBuild::Started(events) => {
            let stream = futures::stream::unfold(events, |mut events| async move {
                let event = events.recv().await?;
                Some((
                    Ok::<_, std::convert::Infallible>(line(&event_json(&event))),
                    events,
                ))
            });
            Body::from_stream(stream)
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, NDJSON)
        .body(body)
        .map_err(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "response",
            )
        })
}

fn done(info: &EnvInfo, status: &str) -> Value {
    json!({ "event": "done", "status": status, "environment": info_json(info) })
}

fn event_json(event: &BuildEvent) -> Value {
    match event {
        BuildEvent::Output(text) => json!({ "event": "output", "line": text }),
        BuildEvent::Waiting => json!({ "event": "waiting" }),
        BuildEvent::Finished(Ok(built)) => done(
            &built.info,
            if built.by_this_request {
                "built"
            } else {
                "cached"
            },
        ),
        BuildEvent::Finished(Err(error)) => json!({ "event": "failed", "error": error }),
    }
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}
