//! Create/Get/List/Update/DeleteEventSourceMapping (`/2015-03-31/event-source-mappings/...`):
//! a queue consumed by a function. The service (`stratus_events::mappings`) validates and runs
//! the pollers; this file is the wire format and the one place its errors become Lambda's.
#![expect(
    clippy::result_large_err,
    reason = "the error is the finished wire response, built once per failed request"
)]

use axum::body::Body;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_events::mappings::{MappingError, MappingUpdate, NewMapping};
use stratus_meta::MappingRecord;

use super::errors::{invalid, lambda_error};
use super::handlers::json_response;
use super::{Call, LambdaApi};

type Reply = Result<Response<Body>, Response<Body>>;

const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScalingConfig {
    maximum_concurrency: Option<u32>,
}

/// The members of Create/UpdateEventSourceMapping Stratus acts on. Members for stream and Kafka
/// sources are refused rather than ignored, so nobody believes a filter or a starting
/// position took effect.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MappingBody {
    event_source_arn: Option<String>,
    function_name: Option<String>,
    enabled: Option<bool>,
    batch_size: Option<u32>,
    maximum_batching_window_in_seconds: Option<u32>,
    function_response_types: Option<Vec<String>>,
    scaling_config: Option<ScalingConfig>,
    filter_criteria: Option<Value>,
    starting_position: Option<Value>,
}

fn parse(call: &Call) -> Result<MappingBody, Response<Body>> {
    let body: &[u8] = if call.body.is_empty() {
        b"{}"
    } else {
        &call.body
    };
    let parsed: MappingBody = serde_json::from_slice(body)
        .map_err(|e| invalid(&format!("could not parse request body: {e}")))?;
    if parsed.filter_criteria.is_some() {
        return Err(invalid(
            "FilterCriteria is not supported by Stratus event source mappings",
        ));
    }
    if parsed.starting_position.is_some() {
        return Err(invalid(
            "StartingPosition applies to stream sources; Stratus maps SQS queues only",
        ));
    }
    Ok(parsed)
}

fn report_item_failures(types: Option<&[String]>) -> Result<Option<bool>, Response<Body>> {
    let Some(types) = types else { return Ok(None) };
    if let Some(other) = types.iter().find(|t| *t != REPORT_BATCH_ITEM_FAILURES) {
        return Err(invalid(&format!(
            "1 validation error detected: Value '[{other}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]"
        )));
    }
    Ok(Some(!types.is_empty()))
}

fn error(error: &MappingError) -> Response<Body> {
    let (status, code) = match error {
        MappingError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        MappingError::Conflict(_) => (StatusCode::CONFLICT, "ResourceConflictException"),
        MappingError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        MappingError::Forbidden => (StatusCode::FORBIDDEN, "AccessDeniedException"),
        MappingError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceException"),
        MappingError::Storage(_) => {
            tracing::error!(?error, "event source mapping storage failure");
            (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException")
        }
    };
    lambda_error(status, code, &error.to_string())
}

fn document(api: &LambdaApi, mapping: &MappingRecord, state: &str) -> Value {
    let mut doc = json!({
        "UUID": mapping.uuid,
        "EventSourceArn": mapping.source_arn,
        "FunctionArn": api.mappings.function_arn(mapping),
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.batching_window_s,
        "LastModified": mapping.modified_ms as f64 / 1000.0,
        "LastProcessingResult": mapping.last_result,
        "State": state,
        "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": if mapping.report_item_failures { vec![REPORT_BATCH_ITEM_FAILURES] } else { vec![] },
        "EventSourceMappingArn": format!(
            "arn:aws:lambda:{}:{}:event-source-mapping:{}",
            stratus_core::arn::REGION,
            stratus_core::arn::account_id(&mapping.project),
            mapping.uuid
        ),
    });
    if let Some(concurrency) = mapping.maximum_concurrency {
        doc["ScalingConfig"] = json!({ "MaximumConcurrency": concurrency });
    }
    doc
}

fn steady_state(mapping: &MappingRecord) -> &'static str {
    if mapping.enabled {
        "Enabled"
    } else {
        "Disabled"
    }
}

pub(crate) async fn create(api: &LambdaApi, call: &Call) -> Reply {
    let body = parse(call)?;
    let source_arn = body
        .event_source_arn
        .ok_or_else(|| invalid("EventSourceArn is required"))?;
    let function = body
        .function_name
        .ok_or_else(|| invalid("FunctionName is required"))?;
    let new = NewMapping {
        source_arn,
        function,
        batch_size: body.batch_size,
        batching_window_s: body.maximum_batching_window_in_seconds,
        report_item_failures: report_item_failures(body.function_response_types.as_deref())?
            .unwrap_or(false),
        enabled: body.enabled,
        maximum_concurrency: body.scaling_config.and_then(|s| s.maximum_concurrency),
    };
    let mapping = api
        .mappings
        .create(&call.caller, new)
        .await
        .map_err(|e| error(&e))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &document(api, &mapping, steady_state(&mapping)),
    ))
}

pub(crate) async fn get(api: &LambdaApi, call: &Call, uuid: &str) -> Reply {
    let mapping = api
        .mappings
        .get(&call.caller, uuid)
        .await
        .map_err(|e| error(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &document(api, &mapping, steady_state(&mapping)),
    ))
}

pub(crate) async fn list(api: &LambdaApi, call: &Call) -> Reply {
    let max_items = match call.query("MaxItems") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| invalid("MaxItems must be between 1 and 10000"))?,
        None => 100,
    };
    let start = match call.query("Marker") {
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| invalid("Marker is not a marker this API returned"))?,
        None => 0,
    };
    let mappings = api
        .mappings
        .list(
            &call.caller,
            call.query("EventSourceArn"),
            call.query("FunctionName"),
        )
        .await
        .map_err(|e| error(&e))?;
    let page: Vec<Value> = mappings
        .iter()
        .skip(start)
        .take(max_items)
        .map(|m| document(api, m, steady_state(m)))
        .collect();
    let mut doc = json!({ "EventSourceMappings": page });
    if start + max_items < mappings.len() {
        doc["NextMarker"] = json!((start + max_items).to_string());
    }
    Ok(json_response(StatusCode::OK, &doc))
}

pub(crate) async fn update(api: &LambdaApi, call: &Call, uuid: &str) -> Reply {
    let body = parse(call)?;
    if body.event_source_arn.is_some() {
        return Err(invalid(
            "EventSourceArn cannot be changed; create a new mapping",
        ));
    }
    let update = MappingUpdate {
        function: body.function_name,
        batch_size: body.batch_size,
        batching_window_s: body.maximum_batching_window_in_seconds,
        report_item_failures: report_item_failures(body.function_response_types.as_deref())?,
        enabled: body.enabled,
        maximum_concurrency: body.scaling_config.map(|s| s.maximum_concurrency),
    };
    let mapping = api
        .mappings
        .update(&call.caller, uuid, update)
        .await
        .map_err(|e| error(&e))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &document(api, &mapping, steady_state(&mapping)),
    ))
}

pub(crate) async fn delete(api: &LambdaApi, call: &Call, uuid: &str) -> Reply {
    let mapping = api
        .mappings
        .delete(&call.caller, uuid)
        .await
        .map_err(|e| error(&e))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &document(api, &mapping, "Deleting"),
    ))
}
