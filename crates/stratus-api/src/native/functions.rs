//! The native functions API under `/v1/functions` (what `stratus deploy`, `invoke`, `functions`
//! and `logs` use), with problem documents for errors.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_core::FunctionConfig;
use stratus_runtime::{
    CodeUpdate, ConfigUpdate, FunctionView, InvokeRequest, NewFunction, RuntimeError,
    ScheduleSpecs, ScheduleView,
};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/functions", list)
        .add(Method::GET, "/v1/functions/{name}", show)
        .add(Method::PUT, "/v1/functions/{name}", deploy)
        .add(Method::PATCH, "/v1/functions/{name}", configure)
        .add(Method::DELETE, "/v1/functions/{name}", remove)
        .add(Method::POST, "/v1/functions/{name}/invoke", invoke)
        .add(Method::GET, "/v1/functions/{name}/logs", logs)
        .add(
            Method::GET,
            "/v1/functions/{name}/dead-letters",
            dead_letters,
        )
        .add(Method::GET, "/v1/invocations/{id}", invocation)
}

fn summary(view: &FunctionView) -> Value {
    let config = &view.version.config;
    json!({
        "name": view.version.name,
        "version": view.version.version,
        "runtime": config.runtime,
        "handler": config.handler,
        "memory_mb": config.memory_mb,
        "timeout_s": config.timeout_s,
        "min_instances": config.min_instances,
        "reserved_concurrency": view.function.reserved_concurrency,
        "description": config.description,
        "environment": config.environment,
        "volumes": config.volumes,
        "dependencies": config.dependencies,
        "code_sha256": view.version.code_sha256,
        "code_size": view.version.code_size,
        "last_modified_ms": view.version.last_modified_ms,
        "revision_id": view.version.revision_id,
    })
}

fn schedules_json(schedules: &[ScheduleView]) -> Value {
    schedules
        .iter()
        .map(|s| {
            json!({
                "schedule": s.expression,
                "input": s.input,
                "rule_arn": s.rule_arn,
                "next_fire": s.next_fire,
                "next_fire_ms": s.next_fire_ms,
            })
        })
        .collect()
}

async fn list(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Json<Value>> {
    let views = state.functions.list(&caller, "", 10_000).await?;
    Ok(Json(
        json!({ "functions": views.iter().map(summary).collect::<Vec<_>>() }),
    ))
}

async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let versions = state.functions.versions(&caller, &name).await?;
    let mut body = versions.first().map(summary).unwrap_or_default();
    body["versions"] = versions.iter().map(|v| json!(v.version.version)).collect();
    body["triggers"] = json!(bucket_triggers(&state, &caller, &name).await?);
    let schedules = state.functions.schedules(&caller, &name).await;
    body["schedules"] = schedules_json(&schedules?);
    Ok(Json(body))
}

async fn bucket_triggers(
    state: &AppState,
    caller: &stratus_identity::Principal,
    name: &str,
) -> ApiResult<Vec<stratus_core::BucketTrigger>> {
    crate::triggers::of(&state.store, caller, name)
        .await
        .map_err(|e| Problem::from(&e))
}

/// `stratus deploy`: create the function, or update its code and configuration to match.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deploy {
    config: FunctionConfig,
    /// The zipped code, base64.
    zip: String,
    #[serde(default)]
    reserved_concurrency: Option<u32>,
    #[serde(default)]
    publish: bool,
    /// Replaces the function's bucket triggers and schedules.
    #[serde(default)]
    triggers: Vec<stratus_core::Trigger>,
}

async fn deploy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: Deploy = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            format!("invalid deploy document: {e}"),
        )
    })?;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(&request.zip)
        .map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid request",
                format!("zip is not base64: {e}"),
            )
        })?;
    crate::triggers::check(&state.store, &caller, &request.triggers)
        .await
        .map_err(|detail| Problem::new(StatusCode::BAD_REQUEST, "invalid request", &detail))?;
    // Validated before anything changes: a bad schedule leaves the function as it was.
    let schedules = ScheduleSpecs::from_triggers(&request.triggers)?;
    let functions = &state.functions;
    let (status, mut view) = match functions.get(&caller, &name, None).await {
        Ok(_) => {
            let config = request.config;
            let tmp_mb = config.ephemeral_storage_mb();
            let update = ConfigUpdate {
                runtime: Some(config.runtime),
                handler: Some(config.handler),
                memory_mb: Some(config.memory_mb),
                timeout_s: Some(config.timeout_s),
                environment: Some(config.environment),
                description: Some(config.description),
                min_instances: Some(config.min_instances),
                volumes: Some(config.volumes),
                role: Some(config.role),
                dependencies: Some(config.dependencies),
                ephemeral_storage_mb: Some(tmp_mb),
                revision_id: None,
            };
            functions.update_config(&caller, &name, update).await?;
            let code = CodeUpdate {
                zip,
                publish: false,
                revision_id: None,
            };
            (
                StatusCode::OK,
                functions.update_code(&caller, &name, code).await?,
            )
        }
        Err(RuntimeError::NotFound(_)) => {
            let new = NewFunction {
                name: name.clone(),
                config: request.config,
                zip,
                publish: false,
            };
            (StatusCode::CREATED, functions.create(&caller, new).await?)
        }
        Err(error) => return Err(Problem::from(&error)),
    };
    functions
        .set_concurrency(&caller, &name, request.reserved_concurrency)
        .await?;
    if request.publish {
        view = functions.publish(&caller, &name).await?;
    }
    crate::triggers::replace(&state.store, functions, &caller, &name, &request.triggers)
        .await
        .map_err(|e| Problem::from(&e))?;
    view.function.reserved_concurrency = request.reserved_concurrency;
    let mut body = summary(&view);
    body["triggers"] = json!(bucket_triggers(&state, &caller, &name).await?);
    let schedules = functions.set_schedules(&caller, &name, schedules).await;
    body["schedules"] = schedules_json(&schedules?);
    Ok((status, Json(body)))
}

/// `PATCH /v1/functions/NAME`: change configuration only (what `stratus profile` uses to try
/// memory sizes). Every update is a new revision, so the next invocation starts a fresh worker.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Configure {
    memory_mb: Option<u32>,
    timeout_s: Option<u32>,
}

async fn configure(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let request: Configure = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            format!("invalid configuration document: {e}"),
        )
    })?;
    let update = ConfigUpdate {
        memory_mb: request.memory_mb,
        timeout_s: request.timeout_s,
        ..ConfigUpdate::default()
    };
    let view = state
        .functions
        .update_config(&caller, &name, update)
        .await?;
    Ok(Json(summary(&view)))
}

async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    crate::triggers::delete_function(&state.store, &state.functions, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct InvokeQuery {
    #[serde(default)]
    r#async: bool,
    qualifier: Option<String>,
}

/// The body is the event; the response body is the function's result, with its request id,
/// version and error (if any) in `X-Stratus-*` headers, and its REPORT figures.
async fn invoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    Query(query): Query<InvokeQuery>,
    body: Bytes,
) -> ApiResult<Response<Body>> {
    if query.r#async {
        let id = state
            .functions
            .invoke_async(&caller, &name, query.qualifier.as_deref(), body)
            .await?;
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "invocation_id": id, "status": "queued" })),
        )
            .into_response_ok());
    }
    let request = InvokeRequest {
        qualifier: query.qualifier,
        payload: body,
        tail_log: true,
        client_context: None,
    };
    let response = state.functions.invoke(&caller, &name, request).await?;
    let m = &response.metering;
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-stratus-request-id", &response.request_id)
        .header("x-stratus-executed-version", &response.executed_version)
        .header("x-stratus-duration-ms", format!("{:.3}", m.duration_ms))
        .header("x-stratus-billed-ms", m.billed_ms.to_string())
        .header("x-stratus-max-memory-mb", m.max_memory_mb.to_string());
    if let Some(init) = m.init_ms {
        builder = builder.header("x-stratus-init-ms", format!("{init:.3}"));
    }
    if let Some(error) = response.function_error {
        builder = builder.header("x-stratus-function-error", error);
    }
    if let Some(tail) = &response.log_tail {
        builder = builder.header(
            "x-stratus-log-tail",
            base64::engine::general_purpose::STANDARD.encode(tail),
        );
    }
    builder.body(Body::from(response.payload)).map_err(|_| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "response",
        )
    })
}

trait IntoResponseOk {
    fn into_response_ok(self) -> Response<Body>;
}

impl<T: axum::response::IntoResponse> IntoResponseOk for T {
    fn into_response_ok(self) -> Response<Body> {
        self.into_response()
    }
}

#[derive(Deserialize)]
struct LogsQuery {
    #[serde(default)]
    since_ms: i64,
    limit: Option<usize>,
}

async fn logs(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Json<Value>> {
    let limit = query.limit.unwrap_or(1000).min(100_000);
    let lines = state
        .functions
        .read_logs(&caller, &name, query.since_ms, limit)
        .await?;
    let events: Vec<Value> = lines
        .iter()
        .map(|l| json!({ "timestamp_ms": l.timestamp_ms, "version": l.version, "stream": l.stream, "message": l.message }))
        .collect();
    Ok(Json(json!({ "events": events })))
}

fn invocation_json(record: &stratus_meta::InvocationRecord) -> Value {
    let text = |bytes: &Option<Vec<u8>>| {
        bytes
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    json!({
        "id": record.id,
        "function": record.function,
        "qualifier": record.qualifier,
        "state": record.state.as_str(),
        "attempts": record.attempts,
        "accepted_ms": record.accepted_ms,
        "next_attempt_ms": record.next_attempt_ms,
        "finished_ms": record.finished_ms,
        "result": text(&record.result),
        "error": record.error,
        "payload": String::from_utf8_lossy(&record.payload),
        "chain_depth": record.chain_depth,
    })
}

async fn invocation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let record = state.functions.invocation(&caller, &id).await?;
    Ok(Json(invocation_json(&record)))
}

async fn dead_letters(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let records = state.functions.dead_letters(&caller, &name, 1000).await?;
    Ok(Json(
        json!({ "dead_letters": records.iter().map(invocation_json).collect::<Vec<_>>() }),
    ))
}
