//! Applications under `/v1/apps`: the ledger `stratus apply` keeps of what each application
//! created, and `DELETE`, which removes exactly that. The resources themselves are created and
//! changed through their own APIs; this API only records ownership and tears down.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_core::AppResources;
use stratus_meta::AppRecord;
use stratus_runtime::RuntimeError;
use stratus_store::StoreError;

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/apps", list)
        .add(Method::GET, "/v1/apps/{name}", show)
        .add(Method::PUT, "/v1/apps/{name}", record)
        .add(Method::DELETE, "/v1/apps/{name}", remove)
}

fn app_json(app: &AppRecord) -> Value {
    json!({
        "name": app.name,
        "resources": app.resources,
        "manifest_digest": app.manifest_digest,
        "updated_ms": app.updated_ms,
    })
}

fn no_such_app(name: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not found",
        format!("application {name} does not exist"),
    )
}

async fn list(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Json<Value>> {
    let apps = state.apps.list(&caller).await?;
    Ok(Json(
        json!({ "apps": apps.iter().map(app_json).collect::<Vec<_>>() }),
    ))
}

async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    match state.apps.get(&caller, &name).await {
        Ok(Some(app)) => Ok(Json(app_json(&app))),
        Ok(None) => Err(no_such_app(&name)),
        Err(error) => Err(Problem::from(error)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    resources: AppResources,
    #[serde(default)]
    manifest_digest: String,
}

async fn record(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let request: Record = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            format!("invalid application document: {e}"),
        )
    })?;
    let app = state
        .apps
        .put(&caller, &name, request.resources, request.manifest_digest)
        .await?;
    Ok(Json(app_json(&app)))
}

/// Deletes the application's functions (with their triggers), then the buckets it created
/// when they are empty; a bucket holding objects is kept, like CloudFormation's retained
/// resources, and reported. Each deletion is checked by its own service, so a read-only key
/// or a record naming another project's resource changes nothing. A function that cannot be
/// deleted stops the teardown with the record kept, so it can be retried.
async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = match state.apps.get(&caller, &name).await {
        Ok(Some(app)) => app,
        Ok(None) => return Err(no_such_app(&name)),
        Err(error) => return Err(Problem::from(error)),
    };
    let mut deleted_functions = Vec::new();
    for function in &app.resources.functions {
        let deleted = crate::triggers::delete_function(
            &state.store,
            &state.functions,
            &caller,
            &function.name,
        )
        .await;
        match deleted {
            Ok(()) => deleted_functions.push(function.name.clone()),
            // Already removed by hand: nothing left to do.
            Err(RuntimeError::NotFound(_)) => {}
            Err(error) => return Err(Problem::from(&error)),
        }
    }
    let mut deleted_buckets = Vec::new();
    let mut kept_buckets = Vec::new();
    for bucket in &app.resources.buckets {
        match state.store.delete_bucket(&caller, bucket).await {
            Ok(()) => deleted_buckets.push(bucket.clone()),
            Err(StoreError::NoSuchBucket) => {}
            Err(error @ (StoreError::BucketNotEmpty | StoreError::AccessDenied(_))) => {
                kept_buckets.push(json!({ "name": bucket, "reason": error.to_string() }));
            }
            Err(error) => {
                tracing::error!(?error, bucket, "deleting an application's bucket failed");
                return Err(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                    format!("deleting bucket {bucket} failed"),
                ));
            }
        }
    }
    state.apps.delete(&caller, &name).await?;
    Ok(Json(json!({
        "name": app.name,
        "deleted_functions": deleted_functions,
        "deleted_buckets": deleted_buckets,
        "kept_buckets": kept_buckets,
    })))
}
