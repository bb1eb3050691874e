//! `Problem`: the RFC 9457 problem document every `/v1` error is answered with
//! (`application/problem+json`, `{"type": "about:blank", "title", "status", "detail"}`), and
//! how each domain error becomes one, so handlers can use `?` on service calls.

use axum::body::Body;
use axum::response::IntoResponse;
use http::{Response, StatusCode};
use stratus_client::ProblemDocument;
use stratus_events::TopicError;
use stratus_events::queues::QueueError;
use stratus_identity::IdentityError;
use stratus_runtime::RuntimeError;
use stratus_store::StoreError;

/// A failed `/v1` request: its status, a short title naming the kind of failure and a detail
/// for the human reading it.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
        }
    }

    /// 400 `invalid request`: the request itself is wrong.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid request", detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found", detail)
    }

    /// 500 `internal error`; the cause belongs in the server log, not in the answer.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response<Body> {
        // The documented type (`ProblemDocument` in the OpenAPI document) is what is sent.
        let document = ProblemDocument {
            kind: "about:blank".to_owned(),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let body = serde_json::to_vec(&document).unwrap_or_default();
        Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, "application/problem+json")
            .body(Body::from(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// A problem document response, for the edge's non-`/v1` services that answer in the same
/// format (console, metrics, OSCAR).
pub(crate) fn problem(status: StatusCode, title: &'static str, detail: &str) -> Response<Body> {
    Problem::new(status, title, detail).into_response()
}

pub(crate) fn identity_problem(error: IdentityError) -> Response<Body> {
    Problem::from(error).into_response()
}

pub(crate) fn runtime_problem(error: &RuntimeError) -> Response<Body> {
    Problem::from(error).into_response()
}

impl From<&StoreError> for Problem {
    fn from(error: &StoreError) -> Self {
        use StoreError as E;
        let (status, title) = match error {
            E::NoSuchBucket
            | E::NoSuchKey
            | E::NoSuchUpload
            | E::NoSuchVersion
            | E::DeleteMarker { .. }
            | E::NoObjectLockConfiguration
            | E::NoSuchConfiguration(_) => (StatusCode::NOT_FOUND, "not found"),
            E::AccessDenied(_) | E::ObjectLocked(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::InvalidBucketState(_) => (StatusCode::CONFLICT, "conflict"),
            E::BucketAlreadyExists | E::BucketAlreadyOwnedByYou | E::BucketNotEmpty => {
                (StatusCode::CONFLICT, "conflict")
            }
            E::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition failed"),
            E::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "quota exceeded"),
            E::EntityTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too large"),
            E::InvalidPart(_)
            | E::InvalidPartOrder
            | E::EntityTooSmall(_)
            | E::InvalidArgument(_)
            | E::InvalidRequest(_)
            | E::IncompleteBody(_)
            | E::InvalidConfiguration { .. } => (StatusCode::BAD_REQUEST, "invalid request"),
            E::Io(_) | E::Meta(_) => {
                tracing::error!(?error, "store failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        };
        Self::new(status, title, error.to_string())
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        Self::from(&error)
    }
}

impl From<IdentityError> for Problem {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Forbidden(detail) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
            }
            IdentityError::NotFound(id) => {
                Self::not_found(format!("access key {id} does not exist"))
            }
            IdentityError::Invalid(detail) => Self::invalid(detail),
            IdentityError::Storage(error) => {
                tracing::error!(?error, "identity storage failed");
                Self::internal("identity storage failed")
            }
        }
    }
}

impl From<&RuntimeError> for Problem {
    fn from(error: &RuntimeError) -> Self {
        let (status, title) = match error {
            RuntimeError::NotFound(_) => (StatusCode::NOT_FOUND, "not found"),
            RuntimeError::AlreadyExists(_) | RuntimeError::Conflict(_) => {
                (StatusCode::CONFLICT, "conflict")
            }
            RuntimeError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid request"),
            RuntimeError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            RuntimeError::Throttled(_) | RuntimeError::ConcurrencyLimitExceeded(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "throttled")
            }
            RuntimeError::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "quota exceeded"),
            RuntimeError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too large"),
            RuntimeError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            RuntimeError::Storage(_) | RuntimeError::Io(_) => {
                tracing::error!(?error, "function service failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        };
        Self::new(status, title, error.to_string())
    }
}

impl From<RuntimeError> for Problem {
    fn from(error: RuntimeError) -> Self {
        Self::from(&error)
    }
}

impl From<QueueError> for Problem {
    fn from(error: QueueError) -> Self {
        match error {
            QueueError::AccessDenied(detail) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
            }
            QueueError::QueueDoesNotExist => Self::not_found("the queue does not exist"),
            other => {
                tracing::error!(error = %other, "listing queues failed");
                Self::internal("listing queues failed")
            }
        }
    }
}

impl From<TopicError> for Problem {
    fn from(error: TopicError) -> Self {
        match error {
            TopicError::AuthorizationError(detail) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
            }
            TopicError::NotFound(detail) => Self::not_found(detail),
            other => {
                tracing::error!(error = %other, "listing topics failed");
                Self::internal("listing topics failed")
            }
        }
    }
}

/// A request body that is not the JSON document the route takes: 400 with serde's reason,
/// prefixed with what the document is (`invalid deploy document: …`).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| Problem::invalid(format!("{what}: {e}")))
}

/// What a `/v1` handler returns.
pub(crate) type ApiResult<T> = Result<T, Problem>;
