//! `x-amz-expected-bucket-owner` and `x-amz-source-expected-bucket-owner`: a client names the
//! account it believes owns the bucket, and S3 refuses with 403 AccessDenied when another
//! account does, so that a request never lands in a bucket that changed hands. A Stratus
//! bucket's owner is its project, whose account id is `stratus_core::arn::account_id`.
//!
//! Checked once per request in the access hook, before any handler, for every bucket and
//! object operation. A bucket that does not exist is left to the handler (NoSuchBucket).

use http::HeaderMap;
use s3s::{S3Result, s3_error};
use stratus_store::Store;

const EXPECTED: &str = "x-amz-expected-bucket-owner";
const SOURCE_EXPECTED: &str = "x-amz-source-expected-bucket-owner";

/// Refuses the request when a named expected owner is not the owner of the bucket it addresses
/// (or, for a copy, of its source bucket).
pub(crate) async fn check(
    store: &Store,
    bucket: Option<&str>,
    headers: &HeaderMap,
) -> S3Result<()> {
    if let (Some(bucket), Some(expected)) = (bucket, headers.get(EXPECTED)) {
        check_one(store, bucket, expected.to_str().unwrap_or("")).await?;
    }
    if let Some(expected) = headers.get(SOURCE_EXPECTED)
        && let Some(source) = headers
            .get("x-amz-copy-source")
            .and_then(|v| v.to_str().ok())
            .and_then(source_bucket)
    {
        check_one(store, &source, expected.to_str().unwrap_or("")).await?;
    }
    Ok(())
}

async fn check_one(store: &Store, bucket: &str, expected: &str) -> S3Result<()> {
    let owner = match store.bucket_project(bucket).await {
        Ok(owner) => owner,
        Err(error) => {
            tracing::error!(?error, "bucket owner lookup failed");
            return Err(s3_error!(
                InternalError,
                "the bucket owner could not be read"
            ));
        }
    };
    match owner {
        Some(project) if stratus_core::arn::account_id(&project) != expected => {
            Err(s3_error!(AccessDenied, "Access Denied"))
        }
        _ => Ok(()),
    }
}

/// The bucket of an `x-amz-copy-source` value (`bucket/key` or `/bucket/key`, percent-encoded,
/// maybe with `?versionId=`).
fn source_bucket(value: &str) -> Option<String> {
    let value = value.strip_prefix('/').unwrap_or(value);
    let bucket = value.split('/').next()?;
    let decoded = percent_decode(bucket)?;
    (!decoded.is_empty()).then_some(decoded)
}

pub(super) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_name_their_bucket() {
        assert_eq!(source_bucket("b1/k").as_deref(), Some("b1"));
        assert_eq!(source_bucket("/b1/a/b?versionId=x").as_deref(), Some("b1"));
        assert_eq!(source_bucket("my%2Dbucket/k").as_deref(), Some("my-bucket"));
        assert_eq!(source_bucket("/"), None);
    }
}
