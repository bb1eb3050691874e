//! The native functions API under `/v1/functions` (what `stratus deploy`, `invoke`, `functions`
//! and `logs` use), with problem documents for errors.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse as _;
use base64::Engine as _;
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use stratus_client::functions::{
    ConfigureRequest, DeadLetters, DeployRequest, FunctionDetails, FunctionList, FunctionSummary,
    Invocation, InvocationAccepted, LogEvent, LogList, Schedule,
};
use stratus_runtime::{
    CodeUpdate, ConfigUpdate, FunctionView, InvokeRequest, NewFunction, RuntimeError,
    ScheduleSpecs, ScheduleView,
};

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
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

fn summary(view: &FunctionView) -> FunctionSummary {
    let config = &view.version.config;
    FunctionSummary {
        name: view.version.name.clone(),
        version: view.version.version.clone(),
        runtime: config.runtime.clone(),
        handler: config.handler.clone(),
        memory_mb: config.memory_mb,
        timeout_s: config.timeout_s,
        min_instances: config.min_instances,
        reserved_concurrency: view.function.reserved_concurrency,
        description: config.description.clone(),
        environment: config.environment.clone(),
        volumes: config.volumes.clone(),
        dependencies: config.dependencies.clone(),
        code_sha256: view.version.code_sha256.clone(),
        code_size: view.version.code_size,
        last_modified_ms: view.version.last_modified_ms,
        revision_id: view.version.revision_id.clone(),
    }
}

fn schedules_of(schedules: Vec<ScheduleView>) -> Vec<Schedule> {
    schedules
        .into_iter()
        .map(|s| Schedule {
            schedule: s.expression,
            input: s.input,
            rule_arn: s.rule_arn,
            next_fire: s.next_fire,
            next_fire_ms: s.next_fire_ms,
        })
        .collect()
}

/// The project's functions, each at its latest version.
#[utoipa::path(get, operation_id = "list_functions", path = "/v1/functions", tag = "functions",
    responses((status = 200, description = "The project's functions", body = FunctionList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<FunctionList>> {
    let views = state.functions.list(&caller, "", 10_000).await?;
    Ok(Json(FunctionList {
        functions: views.iter().map(summary).collect(),
    }))
}

/// The function's latest version, its published versions, triggers and schedules.
#[utoipa::path(get, operation_id = "get_function", path = "/v1/functions/{name}", tag = "functions",
    params(("name" = String, Path)),
    responses((status = 200, description = "The function", body = FunctionDetails)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<FunctionDetails>> {
    let versions = state.functions.versions(&caller, &name).await?;
    let Some(current) = versions.first() else {
        return Err(Problem::not_found(format!(
            "function {name} does not exist"
        )));
    };
    let schedules = state.functions.schedules(&caller, &name).await?;
    Ok(Json(FunctionDetails {
        summary: summary(current),
        versions: Some(versions.iter().map(|v| v.version.version.clone()).collect()),
        triggers: bucket_triggers(&state, &caller, &name).await?,
        schedules: schedules_of(schedules),
    }))
}

async fn bucket_triggers(
    state: &AppState,
    caller: &stratus_identity::Principal,
    name: &str,
) -> ApiResult<Vec<stratus_core::BucketTrigger>> {
    Ok(crate::triggers::of(&state.store, caller, name).await?)
}

/// `stratus deploy`: create the function, or update its code and configuration to match.
#[utoipa::path(put, operation_id = "deploy_function", path = "/v1/functions/{name}", tag = "functions",
    params(("name" = String, Path)),
    request_body = DeployRequest,
    responses(
        (status = 201, description = "Created", body = FunctionDetails),
        (status = 200, description = "Updated", body = FunctionDetails)))]
pub(crate) async fn deploy(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<FunctionDetails>)> {
    let request: DeployRequest = parse_json(&body, "invalid deploy document")?;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(&request.zip)
        .map_err(|e| Problem::invalid(format!("zip is not base64: {e}")))?;
    crate::triggers::check(&state.store, &caller, &request.triggers)
        .await
        .map_err(Problem::invalid)?;
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
    crate::triggers::replace(&state.store, functions, &caller, &name, &request.triggers).await?;
    view.function.reserved_concurrency = request.reserved_concurrency;
    let triggers = bucket_triggers(&state, &caller, &name).await?;
    let schedules = functions.set_schedules(&caller, &name, schedules).await?;
    let details = FunctionDetails {
        summary: summary(&view),
        versions: None,
        triggers,
        schedules: schedules_of(schedules),
    };
    Ok((status, Json(details)))
}

/// `PATCH /v1/functions/NAME`: change configuration only (what `stratus profile` uses to try
/// memory sizes). Every update is a new revision, so the next invocation starts a fresh worker.
#[utoipa::path(patch, operation_id = "configure_function", path = "/v1/functions/{name}", tag = "functions",
    params(("name" = String, Path)),
    request_body = ConfigureRequest,
    responses((status = 200, description = "The new configuration", body = FunctionSummary)))]
pub(crate) async fn configure(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<FunctionSummary>> {
    let request: ConfigureRequest = parse_json(&body, "invalid configuration document")?;
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

/// Deletes the function with its triggers, schedules and URL.
#[utoipa::path(delete, operation_id = "delete_function", path = "/v1/functions/{name}", tag = "functions",
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    crate::triggers::delete_function(&state.store, &state.functions, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvokeQuery {
    /// Queue the invocation and answer 202 at once.
    #[serde(default)]
    r#async: bool,
    /// A version number or alias; the latest version by default.
    qualifier: Option<String>,
}

/// The body is the event; the response body is the function's result, with its request id,
/// version and error (if any) in `X-Stratus-*` headers, and its REPORT figures.
#[utoipa::path(post, operation_id = "invoke_function", path = "/v1/functions/{name}/invoke", tag = "functions",
    params(("name" = String, Path), InvokeQuery),
    request_body(content = Object, description = "The event (any JSON)"),
    responses(
        (status = 200, description = "The function's result (its own JSON)", body = Object),
        (status = 202, description = "Queued (`async=true`)", body = InvocationAccepted)))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    Query(query): Query<InvokeQuery>,
    body: Bytes,
) -> ApiResult<Response<Body>> {
    if query.r#async {
        let invocation_id = state
            .functions
            .invoke_async(&caller, &name, query.qualifier.as_deref(), body)
            .await?;
        let accepted = InvocationAccepted {
            invocation_id,
            status: "queued".to_owned(),
        };
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
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
    builder
        .body(Body::from(response.payload))
        .map_err(|_| Problem::internal("response"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogsQuery {
    /// Only lines at or after this time (ms since the epoch).
    #[serde(default)]
    since_ms: i64,
    /// At most this many lines (default 1000).
    limit: Option<usize>,
}

/// The function's log lines, oldest first.
#[utoipa::path(get, operation_id = "function_logs", path = "/v1/functions/{name}/logs", tag = "functions",
    params(("name" = String, Path), LogsQuery),
    responses((status = 200, description = "Log lines", body = LogList)))]
pub(crate) async fn logs(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Json<LogList>> {
    let limit = query.limit.unwrap_or(1000).min(100_000);
    let lines = state
        .functions
        .read_logs(&caller, &name, query.since_ms, limit)
        .await?;
    let events = lines
        .into_iter()
        .map(|l| LogEvent {
            timestamp_ms: l.timestamp_ms,
            version: l.version,
            stream: l.stream,
            message: l.message,
        })
        .collect();
    Ok(Json(LogList { events }))
}

fn invocation_of(record: stratus_meta::InvocationRecord) -> Invocation {
    Invocation {
        state: record.state.as_str().to_owned(),
        result: record
            .result
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        payload: String::from_utf8_lossy(&record.payload).into_owned(),
        id: record.id,
        function: record.function,
        qualifier: record.qualifier,
        attempts: record.attempts,
        accepted_ms: record.accepted_ms,
        next_attempt_ms: record.next_attempt_ms,
        finished_ms: record.finished_ms,
        error: record.error,
        chain_depth: record.chain_depth,
    }
}

/// An asynchronous invocation and where it stands.
#[utoipa::path(get, operation_id = "get_invocation", path = "/v1/invocations/{id}", tag = "functions",
    params(("id" = String, Path, description = "The `invocation_id` of an asynchronous invoke")),
    responses((status = 200, description = "The invocation", body = Invocation)))]
pub(crate) async fn invocation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Invocation>> {
    let record = state.functions.invocation(&caller, &id).await?;
    Ok(Json(invocation_of(record)))
}

/// Asynchronous invocations that failed every attempt.
#[utoipa::path(get, operation_id = "function_dead_letters", path = "/v1/functions/{name}/dead-letters", tag = "functions",
    params(("name" = String, Path)),
    responses((status = 200, description = "Dead letters, newest first", body = DeadLetters)))]
pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<DeadLetters>> {
    let records = state.functions.dead_letters(&caller, &name, 1000).await?;
    Ok(Json(DeadLetters {
        dead_letters: records.into_iter().map(invocation_of).collect(),
    }))
}
