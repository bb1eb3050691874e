//! The native side of function URLs: `PUT/GET/DELETE /v1/functions/NAME/url`, what
//! `stratus deploy` uses for `url:` in function.yaml. `auth` is `none` or `bearer` (Lambda's
//! `AWS_IAM`: a bearer token or a SigV4 signature of the function's project).

use axum::Json;
use axum::extract::{Path, State};
use http::{HeaderMap, Method, StatusCode};
use stratus_client::functions::{ExposeRequest, FunctionUrl};
use stratus_meta::FunctionUrlRecord;
use stratus_runtime::{RuntimeError, UrlAuth, UrlSettings};

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::PUT, "/v1/functions/{name}/url", expose)
        .add(Method::GET, "/v1/functions/{name}/url", show)
        .add(Method::DELETE, "/v1/functions/{name}/url", remove)
}

fn auth_of(text: &str) -> Result<UrlAuth, Problem> {
    match text {
        "none" => Ok(UrlAuth::None),
        "bearer" | "iam" => Ok(UrlAuth::AwsIam),
        other => Err(Problem::invalid(format!(
            "auth {other:?} must be none or bearer"
        ))),
    }
}

fn document(headers: &HeaderMap, url: FunctionUrlRecord) -> FunctionUrl {
    let auth = if url.auth_type == UrlAuth::None.as_str() {
        "none"
    } else {
        "bearer"
    };
    FunctionUrl {
        url: crate::function_url::public_url(headers, &url.function),
        auth: auth.to_owned(),
        cors: url
            .cors
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
        function: url.function,
        qualifier: url.qualifier,
    }
}

/// Creates the URL, or changes its settings when it exists: deploys converge.
#[utoipa::path(put, operation_id = "put_function_url", path = "/v1/functions/{name}/url", tag = "functions",
    params(("name" = String, Path)), request_body = ExposeRequest,
    responses((status = 200, description = "The URL", body = FunctionUrl)))]
pub(crate) async fn expose(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<FunctionUrl>> {
    let request: ExposeRequest = parse_json(&body, "invalid URL settings")?;
    let settings = UrlSettings {
        auth: Some(auth_of(&request.auth)?),
        qualifier: None,
        cors: Some(request.cors.map(|c| c.to_string())),
    };
    let url = match state.functions.url(&caller, &name).await {
        Ok(_) => state.functions.update_url(&caller, &name, settings).await,
        Err(RuntimeError::NotFound(_)) => {
            state.functions.create_url(&caller, &name, settings).await
        }
        Err(error) => Err(error),
    }?;
    Ok(Json(document(&headers, url)))
}

/// The function's URL and its settings.
#[utoipa::path(get, operation_id = "get_function_url", path = "/v1/functions/{name}/url", tag = "functions",
    params(("name" = String, Path)),
    responses((status = 200, description = "The URL", body = FunctionUrl)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<FunctionUrl>> {
    let url = state.functions.url(&caller, &name).await?;
    Ok(Json(document(&headers, url)))
}

/// Removes the URL; the function stays.
#[utoipa::path(delete, operation_id = "delete_function_url", path = "/v1/functions/{name}/url", tag = "functions",
    params(("name" = String, Path)),
    responses((status = 204, description = "Removed")))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.functions.delete_url(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
