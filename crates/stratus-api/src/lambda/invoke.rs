//! Invoke: `RequestResponse` (200 with the payload), `Event` (202, durably queued) and
//! `DryRun` (204), with Lambda's response headers.

use axum::body::Body;
use base64::Engine as _;
use http::{Response, StatusCode};
use stratus_runtime::InvokeRequest;

use super::errors::{from_runtime, invalid, lambda_error};
use super::handlers::function_ref;
use super::{Call, LambdaApi};

pub(crate) async fn invoke(
    api: &LambdaApi,
    call: &Call,
    raw: &str,
) -> Result<Response<Body>, Response<Body>> {
    let (name, qualifier) = function_ref(call, raw, call.query("Qualifier"))?;
    let invocation_type = call
        .header("x-amz-invocation-type")
        .unwrap_or("RequestResponse");
    match invocation_type {
        "RequestResponse" => {}
        "Event" => {
            let id = api
                .functions
                .invoke_async(&call.caller, name, qualifier, call.body.clone())
                .await
                .map_err(|e| from_runtime(&e))?;
            return Response::builder()
                .status(StatusCode::ACCEPTED)
                .header("x-amzn-RequestId", id)
                .body(Body::empty())
                .map_err(|_| {
                    lambda_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "ServiceException",
                        "response",
                    )
                });
        }
        "DryRun" => {
            let view = api
                .functions
                .dry_run(&call.caller, name, qualifier)
                .await
                .map_err(|e| from_runtime(&e))?;
            return Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header("x-amzn-RequestId", stratus_runtime::request_id())
                .header("X-Amz-Executed-Version", view.version.version)
                .body(Body::empty())
                .map_err(|_| {
                    lambda_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "ServiceException",
                        "response",
                    )
                });
        }
        other => {
            return Err(invalid(&format!(
                "InvocationType {other:?} must be RequestResponse, Event or DryRun"
            )));
        }
    }
    if call.body.len() > stratus_runtime::MAX_SYNC_PAYLOAD {
        return Err(lambda_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!(
                "Request must be smaller than {} bytes for the InvokeFunction operation",
                stratus_runtime::MAX_SYNC_PAYLOAD
            ),
        ));
    }
    if !call.body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&call.body).is_err()
    {
        return Err(lambda_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json",
        ));
    }
    let tail_log = match call.header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => return Err(invalid(&format!("LogType {other:?} must be None or Tail"))),
    };
    let request = InvokeRequest {
        qualifier: qualifier.map(str::to_owned),
        payload: call.body.clone(),
        tail_log,
        client_context: call.header("x-amz-client-context").map(str::to_owned),
    };
    let response = api
        .functions
        .invoke(&call.caller, name, request)
        .await
        .map_err(|e| from_runtime(&e))?;
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-amzn-RequestId", &response.request_id)
        .header("X-Amz-Executed-Version", &response.executed_version);
    if let Some(error) = response.function_error {
        builder = builder.header("X-Amz-Function-Error", error);
    }
    if let Some(tail) = &response.log_tail {
        builder = builder.header(
            "X-Amz-Log-Result",
            base64::engine::general_purpose::STANDARD.encode(tail),
        );
    }
    builder.body(Body::from(response.payload)).map_err(|_| {
        lambda_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "response",
        )
    })
}
