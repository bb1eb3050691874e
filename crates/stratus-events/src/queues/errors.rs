//! Why a queue operation was refused, named by meaning; `stratus-api` turns each into SQS's
//! error code in one place.

use stratus_meta::MetaError;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("access to the resource is denied: {0}")]
    AccessDenied(String),
    #[error("the specified queue does not exist")]
    QueueDoesNotExist,
    #[error("a queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    #[error("unknown attribute {0}")]
    InvalidAttributeName(String),
    #[error("invalid value for the parameter {0}")]
    InvalidAttributeValue(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("the request must contain the parameter {0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("the receipt handle {0:?} is not valid for this queue")]
    ReceiptHandleIsInvalid(String),
    #[error("maximum number of entries per request are 10")]
    TooManyEntriesInBatchRequest,
    #[error("batch requests cannot be longer than {0} bytes")]
    BatchRequestTooLong(usize),
    #[error("two or more batch entries in the request have the same id")]
    BatchEntryIdsNotDistinct,
    #[error("there should be at least one entry in the request")]
    EmptyBatchRequest,
    #[error(
        "a batch entry id can only contain alphanumeric characters, hyphens and underscores, at most 80"
    )]
    InvalidBatchEntryId,
    #[error("the message is not in flight")]
    MessageNotInflight,
    #[error("queue storage failed")]
    Storage(#[from] MetaError),
}

impl QueueError {
    /// Whether the caller caused it (SQS's `SenderFault` in batch results).
    #[must_use]
    pub fn is_sender_fault(&self) -> bool {
        !matches!(self, Self::Storage(_))
    }
}

pub type QueueResult<T> = Result<T, QueueError>;
