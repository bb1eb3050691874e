//! Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) (`/2019-09-25/functions/NAME/
//! event-invoke-config`): retries, maximum event age and destinations of asynchronous
//! invocations.
#![expect(
    clippy::result_large_err,
    reason = "the error is the finished wire response, built once per failed request"
)]

use axum::body::Body;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_meta::EventInvokeConfigRecord;
use stratus_runtime::{EventInvokeSettings, MAX_RETRY_ATTEMPTS};

use super::errors::{from_runtime, invalid};
use super::handlers::{function_ref, json_response};
use super::{Call, LambdaApi};

type Reply = Result<Response<Body>, Response<Body>>;

/// Lambda's bounds on `MaxItems`.
const MAX_LIST_ITEMS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigRequest {
    // Wider than the valid range so out-of-range values (negative ones too) get Lambda's
    // validation error instead of a parse error.
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfig {
    on_success: Option<Destination>,
    on_failure: Option<Destination>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Destination {
    destination: Option<String>,
}

fn settings(call: &Call) -> Result<EventInvokeSettings, Response<Body>> {
    let body: &[u8] = if call.body.is_empty() {
        b"{}"
    } else {
        &call.body
    };
    let request: ConfigRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(&format!("could not parse request body: {e}")))?;
    let bounded = |value: Option<i64>, name: &str, range: std::ops::RangeInclusive<i64>| {
        value
            .map(|v| {
                if range.contains(&v) {
                    u32::try_from(v).map_err(|_| ())
                } else {
                    Err(())
                }
                .map_err(|()| {
                    invalid(&format!(
                        "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must have value between {} and {}",
                        range.start(),
                        range.end()
                    ))
                })
            })
            .transpose()
    };
    let destinations = request.destination_config.unwrap_or_default();
    // An empty Destination removes it; an absent OnSuccess/OnFailure leaves it as it is.
    let destination = |d: Option<Destination>| d.map(|d| d.destination.unwrap_or_default());
    Ok(EventInvokeSettings {
        maximum_retry_attempts: bounded(
            request.maximum_retry_attempts,
            "maximumRetryAttempts",
            0..=i64::from(MAX_RETRY_ATTEMPTS),
        )?,
        maximum_event_age_s: bounded(
            request.maximum_event_age_in_seconds,
            "maximumEventAgeInSeconds",
            i64::from(stratus_runtime::MIN_EVENT_AGE_S)
                ..=i64::from(stratus_runtime::MAX_EVENT_AGE_S),
        )?,
        on_success: destination(destinations.on_success),
        on_failure: destination(destinations.on_failure),
    })
}

fn document(api: &LambdaApi, config: &EventInvokeConfigRecord) -> Value {
    let destination = |arn: &Option<String>| match arn {
        Some(arn) => json!({ "Destination": arn }),
        None => json!({}),
    };
    let mut document = json!({
        // Lambda's REST-JSON timestamps are epoch seconds.
        "LastModified": config.last_modified_ms as f64 / 1000.0,
        "FunctionArn": stratus_runtime::function_arn(
            &api.functions.config().region,
            &config.project,
            &config.function,
            Some(&config.qualifier),
        ),
        "DestinationConfig": {
            "OnSuccess": destination(&config.on_success),
            "OnFailure": destination(&config.on_failure),
        },
    });
    if let Some(retries) = config.maximum_retry_attempts {
        document["MaximumRetryAttempts"] = retries.into();
    }
    if let Some(age) = config.maximum_event_age_s {
        document["MaximumEventAgeInSeconds"] = age.into();
    }
    document
}

/// PUT: replaces the configuration.
pub(crate) async fn put(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let settings = settings(call)?;
    let config = api
        .functions
        .put_event_invoke_config(&call.caller, name, qualifier, settings)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(StatusCode::OK, &document(api, &config)))
}

/// POST: changes only the settings given.
pub(crate) async fn update(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let settings = settings(call)?;
    let config = api
        .functions
        .update_event_invoke_config(&call.caller, name, qualifier, settings)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(StatusCode::OK, &document(api, &config)))
}

pub(crate) async fn get(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let config = api
        .functions
        .event_invoke_config(&call.caller, name, qualifier)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(json_response(StatusCode::OK, &document(api, &config)))
}

pub(crate) async fn delete(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    api.functions
        .delete_event_invoke_config(&call.caller, name, qualifier)
        .await
        .map_err(|e| from_runtime(&e))?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default())
}

/// GET .../list: one entry per qualifier with a configuration; `Marker` is the position to
/// continue from.
pub(crate) async fn list(api: &LambdaApi, call: &Call, raw: &str) -> Reply {
    let (name, _) = function_ref(call, raw, None)?;
    let max_items = match call.query("MaxItems") {
        None => MAX_LIST_ITEMS,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIST_ITEMS).contains(n))
            .ok_or_else(|| {
                invalid(&format!(
                    "MaxItems {text:?} must be a number between 1 and {MAX_LIST_ITEMS}"
                ))
            })?,
    };
    let start = match call.query("Marker") {
        None | Some("") => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| invalid(&format!("invalid Marker {text:?}")))?,
    };
    let configs = api
        .functions
        .event_invoke_configs(&call.caller, name)
        .await
        .map_err(|e| from_runtime(&e))?;
    let page: Vec<Value> = configs
        .iter()
        .skip(start)
        .take(max_items)
        .map(|c| document(api, c))
        .collect();
    let mut body = json!({ "FunctionEventInvokeConfigs": page });
    if start + max_items < configs.len() {
        body["NextMarker"] = (start + max_items).to_string().into();
    }
    Ok(json_response(StatusCode::OK, &body))
}
