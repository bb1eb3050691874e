//! The native side of function URLs: `PUT/GET/DELETE /v1/functions/NAME/url`, what
//! `stratus deploy` uses for `url:` in function.yaml. `auth` is `none` or `bearer` (Lambda's
//! `AWS_IAM`: a bearer token or a SigV4 signature of the function's project).

use axum::Json;
use axum::extract::{Path, State};
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_meta::FunctionUrlRecord;
use stratus_runtime::{RuntimeError, UrlAuth, UrlSettings};

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::PUT, "/v1/functions/{name}/url", expose)
        .add(Method::GET, "/v1/functions/{name}/url", show)
        .add(Method::DELETE, "/v1/functions/{name}/url", remove)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expose {
    auth: String,
    #[serde(default)]
    cors: Option<Value>,
}

fn auth_of(text: &str) -> Result<UrlAuth, Problem> {
    match text {
        "none" => Ok(UrlAuth::None),
        "bearer" | "iam" => Ok(UrlAuth::AwsIam),
        other => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            format!("auth {other:?} must be none or bearer"),
        )),
    }
}

fn document(headers: &HeaderMap, url: &FunctionUrlRecord) -> Value {
    json!({
        "function": url.function,
        "url": crate::function_url::public_url(headers, &url.function),
        "auth": if url.auth_type == UrlAuth::None.as_str() { "none" } else { "bearer" },
        "qualifier": url.qualifier,
        "cors": url.cors.as_deref().and_then(|c| serde_json::from_str::<Value>(c).ok()),
    })
}

/// Creates the URL, or changes its settings when it exists: deploys converge.
async fn expose(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let request: Expose = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid request",
            format!("invalid URL settings: {e}"),
        )
    })?;
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
    Ok(Json(document(&headers, &url)))
}

async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let url = state.functions.url(&caller, &name).await?;
    Ok(Json(document(&headers, &url)))
}

async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.functions.delete_url(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
