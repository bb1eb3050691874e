//! The one place topic errors become SNS error responses (`<ErrorResponse>`, query protocol).

use axum::body::Body;
use http::{Response, StatusCode};
use stratus_events::TopicError;

use super::xml;

/// An SNS error: HTTP status, `Code`, `Message`.
#[derive(Debug)]
pub(crate) struct SnsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl SnsError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
    }

    pub fn value(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ParameterValueInvalid", message)
    }

    pub fn response(&self) -> Response<Body> {
        let kind = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        xml::response(self.status, |request_id| {
            format!(
                "<ErrorResponse xmlns=\"{}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml::NAMESPACE,
                self.code,
                xml::escape(&self.message),
            )
        })
    }
}

impl From<TopicError> for SnsError {
    fn from(error: TopicError) -> Self {
        match error {
            TopicError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "NotFound", m),
            TopicError::InvalidParameter(m) => Self::invalid(m),
            TopicError::InvalidParameterValue(m) => Self::value(m),
            TopicError::AuthorizationError(m) => {
                Self::new(StatusCode::FORBIDDEN, "AuthorizationError", m)
            }
            TopicError::Storage(e) => {
                tracing::error!(error = %e, "topic storage failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "internal error",
                )
            }
        }
    }
}
