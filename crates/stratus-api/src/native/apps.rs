//! Applications under `/v1/apps`: the ledger `stratus apply` keeps of what each application
//! created, and `DELETE`, which removes exactly that. The resources themselves are created and
//! changed through their own APIs; this API only records ownership and tears down.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::Method;
use stratus_client::apps::{App, AppList, AppTeardown, KeptBucket, RecordApp};
use stratus_meta::AppRecord;
use stratus_runtime::RuntimeError;
use stratus_store::StoreError;

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/apps", list)
        .add(Method::GET, "/v1/apps/{name}", show)
        .add(Method::PUT, "/v1/apps/{name}", record)
        .add(Method::DELETE, "/v1/apps/{name}", remove)
}

fn app_of(app: AppRecord) -> App {
    App {
        name: app.name,
        resources: app.resources,
        manifest_digest: app.manifest_digest,
        updated_ms: app.updated_ms,
    }
}

fn no_such_app(name: &str) -> Problem {
    Problem::not_found(format!("application {name} does not exist"))
}

/// The project's applications.
#[utoipa::path(get, operation_id = "list_apps", path = "/v1/apps", tag = "apps",
    responses((status = 200, description = "Applications", body = AppList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<AppList>> {
    let apps = state.apps.list(&caller).await?;
    Ok(Json(AppList {
        apps: apps.into_iter().map(app_of).collect(),
    }))
}

/// What the application owns.
#[utoipa::path(get, operation_id = "get_app", path = "/v1/apps/{name}", tag = "apps", params(("name" = String, Path)),
    responses((status = 200, description = "The application", body = App)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<App>> {
    match state.apps.get(&caller, &name).await? {
        Some(app) => Ok(Json(app_of(app))),
        None => Err(no_such_app(&name)),
    }
}

/// Records what the application owns now (`stratus apply`).
#[utoipa::path(put, operation_id = "record_app", path = "/v1/apps/{name}", tag = "apps", params(("name" = String, Path)),
    request_body = RecordApp,
    responses((status = 200, description = "The record", body = App)))]
pub(crate) async fn record(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<App>> {
    let request: RecordApp = parse_json(&body, "invalid application document")?;
    let app = state
        .apps
        .put(&caller, &name, request.resources, request.manifest_digest)
        .await?;
    Ok(Json(app_of(app)))
}

/// Deletes the application's functions (with their triggers), then the buckets it created
/// when they are empty; a bucket holding objects is kept, like CloudFormation's retained
/// resources, and reported. Each deletion is checked by its own service, so a read-only key
/// or a record naming another project's resource changes nothing. A function that cannot be
/// deleted stops the teardown with the record kept, so it can be retried.
#[utoipa::path(delete, operation_id = "delete_app", path = "/v1/apps/{name}", tag = "apps", params(("name" = String, Path)),
    responses((status = 200, description = "What was deleted and kept", body = AppTeardown)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<AppTeardown>> {
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
                kept_buckets.push(KeptBucket {
                    name: bucket.clone(),
                    reason: error.to_string(),
                });
            }
            Err(error) => {
                tracing::error!(?error, bucket, "deleting an application's bucket failed");
                return Err(Problem::internal(format!(
                    "deleting bucket {bucket} failed"
                )));
            }
        }
    }
    state.apps.delete(&caller, &name).await?;
    Ok(Json(AppTeardown {
        name: app.name,
        deleted_functions,
        deleted_buckets,
        kept_buckets,
    }))
}
