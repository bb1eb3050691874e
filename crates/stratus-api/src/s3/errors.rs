//! The one place store errors become S3 error codes.

use s3s::{S3Error, S3ErrorCode};
use stratus_store::StoreError;

pub(crate) fn s3_error(err: StoreError) -> S3Error {
    let code = match &err {
        StoreError::NoSuchBucket => S3ErrorCode::NoSuchBucket,
        StoreError::NoSuchKey => S3ErrorCode::NoSuchKey,
        StoreError::NoSuchUpload => S3ErrorCode::NoSuchUpload,
        StoreError::BucketAlreadyExists => S3ErrorCode::BucketAlreadyExists,
        StoreError::BucketAlreadyOwnedByYou => S3ErrorCode::BucketAlreadyOwnedByYou,
        StoreError::BucketNotEmpty => S3ErrorCode::BucketNotEmpty,
        StoreError::AccessDenied(_) => S3ErrorCode::AccessDenied,
        StoreError::PreconditionFailed => S3ErrorCode::PreconditionFailed,
        StoreError::InvalidPart(_) => S3ErrorCode::InvalidPart,
        StoreError::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
        StoreError::EntityTooSmall(_) => S3ErrorCode::EntityTooSmall,
        StoreError::InvalidArgument(_) => S3ErrorCode::InvalidArgument,
        StoreError::IncompleteBody(_) => S3ErrorCode::IncompleteBody,
        StoreError::EntityTooLarge => S3ErrorCode::EntityTooLarge,
        StoreError::NoSuchVersion => S3ErrorCode::NoSuchVersion,
        StoreError::ObjectLocked(_) => S3ErrorCode::AccessDenied,
        StoreError::InvalidBucketState(_) => S3ErrorCode::InvalidBucketState,
        StoreError::InvalidRequest(_) => S3ErrorCode::InvalidRequest,
        StoreError::NoObjectLockConfiguration => S3ErrorCode::ObjectLockConfigurationNotFoundError,
        StoreError::DeleteMarker {
            version_id,
            last_modified_ms,
            addressed,
        } => return delete_marker_error(version_id.as_deref(), *last_modified_ms, *addressed),
        StoreError::QuotaExceeded(message) => {
            // S3 has no quota error; MinIO answers its own code too. 403, as for a refused write.
            let mut error =
                S3Error::with_message(S3ErrorCode::Custom("QuotaExceeded".into()), message.clone());
            error.set_status_code(http::StatusCode::FORBIDDEN);
            return error;
        }
        StoreError::NoSuchConfiguration(code) => {
            return coded(code, http::StatusCode::NOT_FOUND, err.to_string());
        }
        StoreError::InvalidConfiguration { code, message } => {
            return coded(code, http::StatusCode::BAD_REQUEST, message.clone());
        }
        StoreError::Io(_) | StoreError::Meta(_) => {
            tracing::error!(error = ?err, "storage failure");
            return S3Error::with_message(
                S3ErrorCode::InternalError,
                "we encountered an internal error, please try again",
            );
        }
    };
    S3Error::with_message(code, err.to_string())
}

/// An error by its S3 code name and status (s3s knows no status for codes it does not list).
pub(crate) fn coded(code: &str, status: http::StatusCode, message: String) -> S3Error {
    let code = S3ErrorCode::from_bytes(code.as_bytes())
        .unwrap_or_else(|| S3ErrorCode::Custom(code.to_owned().into()));
    let mut error = S3Error::with_message(code, message);
    error.set_status_code(status);
    error
}

pub(crate) fn s3_err<T>(code: S3ErrorCode, message: impl Into<String>) -> Result<T, S3Error> {
    Err(S3Error::with_message(code, message.into()))
}

/// A read that met a delete marker: `NoSuchKey` (404) when it is the current version, S3's
/// `MethodNotAllowed` (405) when the request named it; both say so in `x-amz-delete-marker`.
fn delete_marker_error(
    version_id: Option<&str>,
    last_modified_ms: i64,
    addressed: bool,
) -> S3Error {
    let mut error = if addressed {
        S3Error::with_message(
            S3ErrorCode::MethodNotAllowed,
            "the specified method is not allowed against a delete marker",
        )
    } else {
        S3Error::with_message(S3ErrorCode::NoSuchKey, "the specified key does not exist")
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-amz-delete-marker",
        http::HeaderValue::from_static("true"),
    );
    if let Ok(value) = http::HeaderValue::from_str(version_id.unwrap_or("null")) {
        headers.insert("x-amz-version-id", value);
    }
    if addressed
        && let Some(date) = super::convert::http_date_ms(last_modified_ms)
        && let Ok(value) = http::HeaderValue::from_str(&date)
    {
        headers.insert(http::header::LAST_MODIFIED, value);
    }
    error.set_headers(headers);
    error
}
