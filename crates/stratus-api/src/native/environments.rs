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
use stratus_client::environments::{BuildEvent as Event, Environment, EnvironmentList};
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

fn environment_of(info: &EnvInfo) -> Environment {
    Environment {
        hash: info.hash.clone(),
        python: info.python.clone(),
        size_bytes: info.size_bytes,
        created_ms: info.created_ms,
        build_seconds: info.build_seconds,
    }
}

/// The interpreter tag clients hash requirements with, and every built environment.
#[utoipa::path(get, operation_id = "list_environments", path = "/v1/environments", tag = "environments",
    responses((status = 200, description = "Environments", body = EnvironmentList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<EnvironmentList>> {
    let functions = &state.functions;
    let environments = functions.environments(&caller).await?;
    Ok(Json(EnvironmentList {
        python: functions.environment_tag().ok(),
        environments: environments.iter().map(environment_of).collect(),
    }))
}

/// One built environment.
#[utoipa::path(get, operation_id = "get_environment", path = "/v1/environments/{hash}", tag = "environments",
    params(("hash" = String, Path)),
    responses((status = 200, description = "The environment", body = Environment)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(hash): Path<String>,
) -> ApiResult<Json<Environment>> {
    let info = state.functions.environment(&caller, &hash).await?;
    Ok(Json(environment_of(&info)))
}

/// The body is the requirements text; the answer streams build events, one JSON object a line.
#[utoipa::path(put, operation_id = "build_environment", path = "/v1/environments/{hash}", tag = "environments",
    params(("hash" = String, Path)),
    request_body(content = String, content_type = "text/plain", description = "requirements.txt"),
    responses((status = 200, description = "Build events, one a line", body = Event,
        content_type = "application/x-ndjson")))]
pub(crate) async fn build(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(hash): Path<String>,
    body: Bytes,
) -> ApiResult<Response<Body>> {
    let requirements = std::str::from_utf8(&body)
        .map_err(|_| Problem::invalid("requirements must be UTF-8 text"))?;
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
                    Ok::<_, std::convert::Infallible>(line(&event_of(&event))),
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
        .map_err(|_| Problem::internal("response"))
}

fn done(info: &EnvInfo, status: &str) -> Event {
    Event::Done {
        status: status.to_owned(),
        environment: environment_of(info),
    }
}

fn event_of(event: &BuildEvent) -> Event {
    match event {
        BuildEvent::Output(text) => Event::Output { line: text.clone() },
        BuildEvent::Waiting => Event::Waiting,
        BuildEvent::Finished(Ok(built)) => done(
            &built.info,
            if built.by_this_request {
                "built"
            } else {
                "cached"
            },
        ),
        BuildEvent::Finished(Err(error)) => Event::Failed {
            error: error.to_string(),
        },
    }
}

fn line(event: &Event) -> Bytes {
    let mut text = serde_json::to_string(event).unwrap_or_default();
    text.push('\n');
    Bytes::from(text)
}
