//! Create/Get/Update/Delete/ListFunctionUrlConfig(s): a function's HTTP endpoint at `/fn/NAME/`.
#![expect(
    clippy::result_large_err,
    reason = "the error is the finished wire response, built once per failed request"
)]

use axum::body::Body;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_meta::FunctionUrlRecord;
use stratus_runtime::{UrlAuth, UrlSettings};

use super::errors::{from_runtime, invalid};
use super::handlers::{function_ref, json_response};
use super::model::iso8601;
use super::{Call, LambdaApi};

type Reply = Result<Response<Body>, Response<Body>>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlConfigRequest {
    auth_type: Option<String>,
    cors: Option<Value>,
    invoke_mode: Option<String>,
}

fn settings(
    call: &Call,
    qualifier: Option<&str>,
    creating: bool,
) -> Result<UrlSettings, Response<Body>> {
    let body: &[u8] = if call.body.is_empty() {
        b"{}"
    } else {
        &call.body
    };
    let request: UrlConfigRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(&format!("could not parse request body: {e}")))?;
    if let Some(mode) = request.invoke_mode.as_deref()
        && mode != "BUFFERED"
    {
        return Err(invalid(&format!(
            "InvokeMode {mode:?}: only BUFFERED is supported (responses are returned whole)"
        )));
    }
    let auth = match request.auth_type.as_deref() {
        Some(text) => Some(UrlAuth::parse(text).map_err(|e| from_runtime(&e))?),
        None if creating => return Err(invalid("AuthType is required: NONE or AWS_IAM")),
        None => None,
    };
    if let Some(cors) = &request.cors
        && !cors.is_object()
    {
        return Err(invalid("Cors must be an object"));
    }
    Ok(UrlSettings {
        auth,
        qualifier: qualifier.map(str::to_owned),
        cors: request.cors.map(|c| Some(c.to_string())),
    })
}

fn document(api: &LambdaApi, call: &Call, url: &FunctionUrlRecord) -> Value {
    let qualifier = (url.qualifier != "$LATEST").then_some(url.qualifier.as_str());
    let mut document = json!({
        "FunctionUrl": crate::function_url::public_url(&call.headers, &url.function),
        "FunctionArn": stratus_runtime::function_arn(&api.functions.config().region, &url.project, &url.function, qualifier),
        "AuthType": url.auth_type,
        "CreationTime": iso8601(url.created_ms),
        "LastModifiedTime": iso8601(url.modified_ms),
        "InvokeMode": "BUFFERED",
    });
    if let Some(cors) = url
        .cors
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
    {
        document["Cors"] = cors;
    }
    document
}

pub(crate) async fn create(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let settings = settings(call, qualifier, true)?;
    let url = api
        .functions
        .create_url(&call.caller, name, settings)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(
        StatusCode::CREATED,
        &document(api, call, &url),
    ))
}

pub(crate) async fn get(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, call.query("Qualifier"))?;
    let url = api
        .functions
        .url(&call.caller, name)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(StatusCode::OK, &document(api, call, &url)))
}

pub(crate) async fn update(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let settings = settings(call, qualifier, false)?;
    let url = api
        .functions
        .update_url(&call.caller, name, settings)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(StatusCode::OK, &document(api, call, &url)))
}

pub(crate) async fn delete(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, call.query("Qualifier"))?;
    api.functions
        .delete_url(&call.caller, name)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default())
}

/// A function has at most one URL here (no aliases), so the list has zero or one entries.
pub(crate) async fn list(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let configs = match api.functions.url(&call.caller, name).await {
        Ok(url) => vec![document(api, call, &url)],
        Err(stratus_runtime::RuntimeError::NotFound(_))
            if api.functions.get(&call.caller, name, None).await.is_ok() =>
        {
            Vec::new()
        }
        Err(error) => return Err(from_runtime(&error)),
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({ "FunctionUrlConfigs": configs }),
    ))
}
