//! Conversions between s3s DTO values and store records.

use s3s::dto::{ETag, ETagCondition, Metadata, Timestamp, TimestampFormat};
use s3s::{S3ErrorCode, S3Result};
use stratus_store::{ObjectHeaders, ObjectRecord};

use super::errors::s3_err;

pub(crate) fn timestamp(ms: i64) -> Timestamp {
    let nanos = i128::from(ms) * 1_000_000;
    Timestamp::from(
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

fn unix_seconds(ts: &Timestamp) -> i64 {
    let mut buf = Vec::new();
    if ts.format(TimestampFormat::EpochSeconds, &mut buf).is_err() {
        return 0;
    }
    String::from_utf8_lossy(&buf)
        .split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

fn http_date(ts: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    ts.format(TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

/// `ms` as an HTTP date (`Last-Modified`).
pub(crate) fn http_date_ms(ms: i64) -> Option<String> {
    http_date(&timestamp(ms))
}

pub(crate) fn parse_http_date(value: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, value).ok()
}

const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// `aws-chunked` describes the request's transfer framing, not the object: S3 drops it from the
/// stored Content-Encoding and keeps the rest (`gzip,aws-chunked` is stored as `gzip`).
fn without_aws_chunked(encoding: &str) -> Option<String> {
    let kept: Vec<&str> = encoding
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// The standard headers of an s3s write input; PutObject, CopyObject and CreateMultipartUpload
/// name the fields alike.
macro_rules! header_input {
    ($input:expr) => {
        $crate::s3::convert::HeaderInput {
            content_type: $input.content_type,
            content_encoding: $input.content_encoding,
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires,
            metadata: $input.metadata,
            // Validated (and checked against Block Public Access) by the access hook.
            acl: $input
                .acl
                .as_ref()
                .map(|acl| acl.as_str().to_owned())
                .filter(|acl| acl != "private"),
        }
    };
}
pub(crate) use header_input;

/// The standard headers of a write request.
#[derive(Default)]
pub(crate) struct HeaderInput {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<Timestamp>,
    pub metadata: Option<Metadata>,
    /// The canned ACL (`x-amz-acl`), `None` for `private`.
    pub acl: Option<String>,
}

impl HeaderInput {
    pub(crate) fn into_headers(self) -> ObjectHeaders {
        ObjectHeaders {
            // S3 stores this default when a client sends no Content-Type.
            content_type: Some(
                self.content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            content_encoding: self
                .content_encoding
                .as_deref()
                .and_then(without_aws_chunked),
            content_disposition: self.content_disposition,
            content_language: self.content_language,
            cache_control: self.cache_control,
            expires: self.expires.as_ref().and_then(http_date),
            user_metadata: self.metadata.unwrap_or_default().into_iter().collect(),
            acl: self.acl,
            ..ObjectHeaders::default()
        }
    }
}

pub(crate) fn metadata(headers: &ObjectHeaders) -> Option<Metadata> {
    (!headers.user_metadata.is_empty()).then(|| headers.user_metadata.clone().into_iter().collect())
}

fn etag_matches(condition: &ETagCondition, record: &ObjectRecord) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == record.etag,
    }
}

/// Read preconditions in RFC 9110 order: If-Match, If-Unmodified-Since (412), then
/// If-None-Match, If-Modified-Since (304). Times compare at second precision, as HTTP dates do.
pub(crate) fn check_read_conditions(
    record: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified_secs = record.last_modified_ms.div_euclid(1000);
    let precondition_failed = match (if_match, if_unmodified_since) {
        (Some(condition), _) => !etag_matches(condition, record),
        (None, Some(since)) => modified_secs > unix_seconds(since),
        (None, None) => false,
    };
    if precondition_failed {
        return s3_err(
            S3ErrorCode::PreconditionFailed,
            "at least one of the preconditions you specified did not hold",
        );
    }
    let not_modified = match (if_none_match, if_modified_since) {
        (Some(condition), _) => etag_matches(condition, record),
        (None, Some(since)) => modified_secs <= unix_seconds(since),
        (None, None) => false,
    };
    if not_modified {
        // A 304 still identifies the representation the client holds (RFC 9110 §15.4.5).
        let mut err = s3s::S3Error::with_message(S3ErrorCode::NotModified, "not modified");
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(&format!("\"{}\"", record.etag)) {
            headers.insert(http::header::ETAG, value);
        }
        if let Some(value) = http_date(&timestamp(record.last_modified_ms))
            .and_then(|date| http::HeaderValue::from_str(&date).ok())
        {
            headers.insert(http::header::LAST_MODIFIED, value);
        }
        err.set_headers(headers);
        return Err(err);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::without_aws_chunked;

    #[test]
    fn aws_chunked_is_transfer_framing_not_content_encoding() {
        assert_eq!(without_aws_chunked("aws-chunked"), None);
        assert_eq!(without_aws_chunked("gzip,aws-chunked"), Some("gzip".into()));
        assert_eq!(without_aws_chunked("gzip"), Some("gzip".into()));
    }
}
