//! The one place function-service errors become Lambda's wire errors: an HTTP status, the
//! `x-amzn-ErrorType` header botocore and the AWS SDKs read the code from, and a JSON body with
//! the message.

use axum::body::Body;
use http::{Response, StatusCode};
use stratus_runtime::RuntimeError;

pub(crate) fn lambda_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let reason = (code == "TooManyRequestsException")
        .then_some("ReservedFunctionConcurrentInvocationLimitExceeded");
    lambda_error_with_reason(status, code, message, reason)
}

/// As [`lambda_error`], with the `Reason` field Lambda adds to throttling errors.
fn lambda_error_with_reason(
    status: StatusCode,
    code: &str,
    message: &str,
    reason: Option<&str>,
) -> Response<Body> {
    let mut body = serde_json::json!({ "Type": "User", "message": message });
    if status.is_server_error() {
        body["Type"] = "Service".into();
    }
    if let Some(reason) = reason {
        body["Reason"] = reason.into();
    }
    Response::builder()
        .status(status)
        .header("x-amzn-ErrorType", code)
        .header("x-amzn-RequestId", stratus_runtime::request_id())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn invalid(message: &str) -> Response<Body> {
    lambda_error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValueException",
        message,
    )
}

pub(crate) fn from_runtime(error: &RuntimeError) -> Response<Body> {
    let (status, code) = match error {
        // Lambda's account-level concurrency limit: the project's quota is our account's.
        RuntimeError::ConcurrencyLimitExceeded(message) => {
            return lambda_error_with_reason(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                message,
                Some("ConcurrentInvocationLimitExceeded"),
            );
        }
        // Lambda has no function-count limit; its account quota on what functions occupy is
        // code storage, refused on CreateFunction with this 400, which botocore models.
        RuntimeError::QuotaExceeded(_) => (StatusCode::BAD_REQUEST, "CodeStorageExceededException"),
        RuntimeError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        RuntimeError::AlreadyExists(_) => (StatusCode::CONFLICT, "ResourceConflictException"),
        RuntimeError::Invalid { .. } => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        RuntimeError::Conflict(_) => (
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
        ),
        RuntimeError::Forbidden(_) => (StatusCode::FORBIDDEN, "AccessDeniedException"),
        RuntimeError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
        RuntimeError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException"),
        RuntimeError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceException"),
        RuntimeError::Storage(_) | RuntimeError::Io(_) => {
            tracing::error!(?error, "function service failure");
            (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException")
        }
    };
    let message = match error {
        RuntimeError::Invalid { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    };
    lambda_error(status, code, &message)
}
