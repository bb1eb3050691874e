//! The one place queue-service errors become SQS's wire errors. Each has two names: the JSON
//! protocol's error shape (`__type`) and the legacy query-protocol code, which the JSON protocol
//! also sends in `x-amzn-query-error` (botocore then reports the legacy code, as against AWS).

use http::StatusCode;
use stratus_events::queues::QueueError;

/// An SQS error ready for either protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqsError {
    pub status: StatusCode,
    /// The JSON protocol's shape name (`QueueDoesNotExist`).
    pub shape: &'static str,
    /// The query protocol's code (`AWS.SimpleQueueService.NonExistentQueue`).
    pub code: &'static str,
    pub sender_fault: bool,
    pub message: String,
}

impl SqsError {
    pub fn new(shape: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            shape,
            code,
            sender_fault: true,
            message: message.into(),
        }
    }

    /// A parameter the operation needs is absent.
    pub fn missing(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            "MissingParameter",
            format!("The request must contain the parameter {name}."),
        )
    }

    /// A parameter has the wrong type or form.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", "InvalidParameterValue", message)
    }

    /// An authentication failure from `aws_auth` (`code`, message).
    pub fn auth(code: &'static str, message: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            ..Self::new(code, code, message)
        }
    }
}

impl From<QueueError> for SqsError {
    fn from(error: QueueError) -> Self {
        let message = error.to_string();
        let (shape, code) = match &error {
            QueueError::AccessDenied(_) => {
                return Self {
                    status: StatusCode::FORBIDDEN,
                    ..Self::new("AccessDenied", "AccessDenied", message)
                };
            }
            QueueError::QueueDoesNotExist => (
                "QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue",
            ),
            QueueError::QueueNameExists(_) => ("QueueNameExists", "QueueAlreadyExists"),
            QueueError::InvalidAttributeName(_) => ("InvalidAttributeName", "InvalidAttributeName"),
            QueueError::InvalidAttributeValue(_) => {
                ("InvalidAttributeValue", "InvalidAttributeValue")
            }
            QueueError::InvalidParameterValue(_) => {
                ("InvalidParameterValue", "InvalidParameterValue")
            }
            QueueError::MissingParameter(name) => return Self::missing(name),
            QueueError::InvalidMessageContents(_) => {
                ("InvalidMessageContents", "InvalidMessageContents")
            }
            QueueError::ReceiptHandleIsInvalid(_) => {
                ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")
            }
            QueueError::TooManyEntriesInBatchRequest => (
                "TooManyEntriesInBatchRequest",
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            ),
            QueueError::BatchRequestTooLong(_) => (
                "BatchRequestTooLong",
                "AWS.SimpleQueueService.BatchRequestTooLong",
            ),
            QueueError::BatchEntryIdsNotDistinct => (
                "BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            ),
            QueueError::EmptyBatchRequest => (
                "EmptyBatchRequest",
                "AWS.SimpleQueueService.EmptyBatchRequest",
            ),
            QueueError::InvalidBatchEntryId => (
                "InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
            ),
            QueueError::MessageNotInflight => (
                "MessageNotInflight",
                "AWS.SimpleQueueService.MessageNotInflight",
            ),
            QueueError::Storage(_) => {
                tracing::error!(?error, "queue service failure");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    sender_fault: false,
                    ..Self::new("InternalError", "InternalError", "internal error")
                };
            }
        };
        Self::new(shape, code, message)
    }
}
