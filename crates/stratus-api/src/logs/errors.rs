//! The one place function-log errors become CloudWatch Logs' wire errors: AWS JSON 1.1
//! `{"__type": ..., "message": ...}`, status 400 for everything the caller can fix (as AWS
//! answers them), 500 for our own failures.

use http::StatusCode;
use stratus_runtime::RuntimeError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl LogsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }

    /// An authentication failure from `aws_auth` (`code`, message).
    pub fn auth(code: &'static str, message: String) -> Self {
        Self::new(code, message)
    }
}

impl From<RuntimeError> for LogsError {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::NotFound(message) => Self::not_found(message),
            RuntimeError::Invalid { message, .. } => Self::invalid(message),
            RuntimeError::Forbidden(message) => Self::new("AccessDeniedException", message),
            RuntimeError::Throttled(message) | RuntimeError::ConcurrencyLimitExceeded(message) => {
                Self::new("ThrottlingException", message)
            }
            other => {
                tracing::error!(error = ?other, "logs request failed");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "ServiceUnavailableException",
                    message: other.to_string(),
                }
            }
        }
    }
}
