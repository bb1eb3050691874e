//! The CloudWatch Logs API (a subset), signed with SigV4 for `logs`: AWS JSON 1.1,
//! `X-Amz-Target: Logs_20140328.Operation`. Function logs appear as groups `/aws/lambda/NAME`
//! with one stream per worker; see `docs/logs.md`. Operations are in `ops.rs`, errors become
//! wire errors only in `errors.rs`.

mod errors;
mod input;
mod ops;

use std::sync::Arc;

use axum::body::Body;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use serde_json::Value;
use stratus_identity::Identity;
use stratus_runtime::Functions;

use errors::LogsError;

/// Requests are small JSON documents; CloudWatch's own limit on a request is 1 MB.
const MAX_BODY: usize = 1024 * 1024;
const JSON_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "Logs_20140328.";

#[derive(Clone)]
pub(crate) struct LogsApi {
    pub functions: Arc<Functions>,
    pub identity: Arc<Identity>,
}

impl LogsApi {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        match self.answer(request).await {
            Ok(output) => respond(StatusCode::OK, &output),
            Err(error) => respond(
                error.status,
                &serde_json::json!({ "__type": error.code, "message": error.message }),
            ),
        }
    }

    async fn answer(&self, request: Request<Incoming>) -> Result<Value, LogsError> {
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| LogsError::invalid("the request body is larger than 1 MB"))?
            .to_bytes();
        let caller = crate::aws_auth::verify_request(&self.identity, &parts, &body)
            .await
            .map_err(|(code, message)| LogsError::auth(code, message))?;
        let operation = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .ok_or_else(|| {
                LogsError::new(
                    "UnknownOperationException",
                    "the X-Amz-Target header must name a Logs_20140328 operation",
                )
            })?;
        let input = if body.is_empty() {
            Value::Object(serde_json::Map::new())
        } else {
            match serde_json::from_slice(&body) {
                Ok(value @ Value::Object(_)) => value,
                _ => {
                    return Err(LogsError::new(
                        "SerializationException",
                        "the request body is not a JSON object",
                    ));
                }
            }
        };
        let context = ops::Context {
            functions: &self.functions,
            caller: &caller,
            input: &input,
        };
        ops::dispatch(&context, operation).await
    }
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("x-amzn-RequestId", stratus_runtime::request_id())
        .header(http::header::CONTENT_TYPE, JSON_TYPE)
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
