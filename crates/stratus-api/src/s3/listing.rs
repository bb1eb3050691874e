//! ListObjectsV2 and ListObjects (v1); ListObjectVersions is in `versioning.rs`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_identity::Principal;
use stratus_store::{ListPage, ListRequest};

use super::StratusS3;
use super::convert::{etag, timestamp};
use super::errors::{s3_err, s3_error};

const DEFAULT_MAX_KEYS: i32 = 1000;

pub(super) fn max_keys(requested: Option<i32>) -> S3Result<usize> {
    match requested.unwrap_or(DEFAULT_MAX_KEYS) {
        n if n < 0 => s3_err(
            S3ErrorCode::InvalidArgument,
            "max-keys must be a non-negative integer",
        ),
        n => Ok(usize::try_from(n.min(DEFAULT_MAX_KEYS)).unwrap_or(0)),
    }
}

/// The exclusive bound to resume after `marker`. A marker that is itself a rolled-up common
/// prefix must skip everything under that prefix, or the next page would repeat it.
pub(super) fn resume_after(marker: &str, prefix: &str, delimiter: Option<&str>) -> Vec<u8> {
    let rolled_up = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
        let rest = marker.strip_prefix(prefix)?;
        rest.find(d)
            .map(|at| &marker[..prefix.len() + at + d.len()])
    });
    match rolled_up {
        Some(common) => [common.as_bytes(), &[0xFF]].concat(),
        None => marker.as_bytes().to_vec(),
    }
}

/// The store request for a listing of `bucket` resuming after `marker` (start-after, marker or
/// key-marker, depending on the API).
fn list_request(
    bucket: &str,
    prefix: Option<&str>,
    delimiter: Option<&str>,
    marker: Option<&str>,
    requested_max: Option<i32>,
) -> S3Result<ListRequest> {
    let prefix = prefix.unwrap_or_default().to_owned();
    let after = marker
        .map(|m| resume_after(m, &prefix, delimiter))
        .unwrap_or_default();
    Ok(ListRequest {
        bucket: bucket.to_owned(),
        prefix,
        delimiter: delimiter.filter(|d| !d.is_empty()).map(str::to_owned),
        after,
        max_keys: max_keys(requested_max)?,
    })
}

/// `encoding-type=url`: keys are percent-encoded in the response, as the aws CLI requests.
const URL_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub(super) struct Encoder(bool);

impl Encoder {
    pub(super) fn new(encoding: Option<&EncodingType>) -> Self {
        Self(encoding.is_some_and(|e| e.as_str().eq_ignore_ascii_case("url")))
    }

    pub(super) fn apply(&self, value: &str) -> String {
        if self.0 {
            utf8_percent_encode(value, URL_ENCODE_SET).to_string()
        } else {
            value.to_owned()
        }
    }
}

async fn list_page(s3: &StratusS3, caller: &Principal, request: ListRequest) -> S3Result<ListPage> {
    s3.store
        .list_objects(caller, request)
        .await
        .map_err(s3_error)
}

/// The owner listings name: the bucket's project, as ListBuckets names it.
async fn bucket_owner(s3: &StratusS3, bucket: &str) -> S3Result<Option<Owner>> {
    let project = s3.store.bucket_project(bucket).await.map_err(s3_error)?;
    Ok(project.as_deref().map(super::access_config::project_owner))
}

fn contents(page: &ListPage, encoder: &Encoder, owner: Option<&Owner>) -> Vec<Object> {
    page.objects
        .iter()
        .map(|o| Object {
            key: Some(encoder.apply(&o.key)),
            owner: owner.cloned(),
            size: i64::try_from(o.size).ok(),
            e_tag: Some(etag(&o.etag)),
            last_modified: Some(timestamp(o.last_modified_ms)),
            storage_class: Some(ObjectStorageClass::from_static(
                ObjectStorageClass::STANDARD,
            )),
            ..Default::default()
        })
        .collect()
}

fn common_prefixes(page: &ListPage, encoder: &Encoder) -> Vec<CommonPrefix> {
    page.common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(encoder.apply(p)),
        })
        .collect()
}

pub(super) async fn list_objects_v2(
    s3: &StratusS3,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let mut request = list_request(
        &input.bucket,
        input.prefix.as_deref(),
        input.delimiter.as_deref(),
        input.start_after.as_deref(),
        input.max_keys,
    )?;
    // A continuation token is the hex of the exclusive bound the previous page ended at.
    if let Some(token) = input.continuation_token.as_deref() {
        request.after = match hex::decode(token) {
            Ok(bound) => bound,
            Err(_) => {
                return s3_err(
                    S3ErrorCode::InvalidArgument,
                    "the continuation token provided is incorrect",
                );
            }
        };
    }
    let page = list_page(s3, &caller, request).await?;
    let encoder = Encoder::new(input.encoding_type.as_ref());
    let key_count = page.objects.len() + page.common_prefixes.len();
    let owner = if input.fetch_owner == Some(true) {
        bucket_owner(s3, &input.bucket).await?
    } else {
        None
    };
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: input.prefix.map(|p| encoder.apply(&p)),
        delimiter: non_empty(input.delimiter).map(|d| encoder.apply(&d)),
        max_keys: Some(input.max_keys.unwrap_or(DEFAULT_MAX_KEYS)),
        key_count: i32::try_from(key_count).ok(),
        continuation_token: input.continuation_token,
        start_after: input.start_after.map(|s| encoder.apply(&s)),
        is_truncated: Some(page.next_after.is_some()),
        next_continuation_token: page.next_after.as_ref().map(hex::encode),
        contents: Some(contents(&page, &encoder, owner.as_ref())),
        common_prefixes: Some(common_prefixes(&page, &encoder)),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}

/// The last key or prefix of a page, which v1 clients send back as the next marker.
fn last_entry(page: &ListPage) -> Option<String> {
    let last_key = page.objects.last().map(|o| o.key.clone());
    let last_prefix = page.common_prefixes.last().cloned();
    last_key.into_iter().chain(last_prefix).max()
}

pub(super) async fn list_objects(
    s3: &StratusS3,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let request = list_request(
        &input.bucket,
        input.prefix.as_deref(),
        input.delimiter.as_deref(),
        input.marker.as_deref(),
        input.max_keys,
    )?;
    let page = list_page(s3, &caller, request).await?;
    let encoder = Encoder::new(input.encoding_type.as_ref());
    let truncated = page.next_after.is_some();
    // Version 1 always names each object's owner.
    let owner = bucket_owner(s3, &input.bucket).await?;
    Ok(S3Response::new(ListObjectsOutput {
        // v1 echoes the prefix as given, even with encoding-type=url (S3 encodes Delimiter,
        // Marker, NextMarker and keys only, which is what SDKs decode).
        prefix: input.prefix,
        delimiter: non_empty(input.delimiter).map(|d| encoder.apply(&d)),
        // The marker is always echoed, empty when none was given.
        marker: Some(encoder.apply(&input.marker.unwrap_or_default())),
        max_keys: Some(input.max_keys.unwrap_or(DEFAULT_MAX_KEYS)),
        is_truncated: Some(truncated),
        next_marker: if truncated {
            last_entry(&page).map(|m| encoder.apply(&m))
        } else {
            None
        },
        contents: Some(contents(&page, &encoder, owner.as_ref())),
        common_prefixes: Some(common_prefixes(&page, &encoder)),
        encoding_type: input.encoding_type,
        name: Some(input.bucket),
        ..Default::default()
    }))
}

/// An empty delimiter is no delimiter: S3 leaves it out of the answer.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::resume_after;

    #[test]
    fn markers_that_are_common_prefixes_skip_their_subtree() {
        assert_eq!(
            resume_after("photos/", "", Some("/")),
            b"photos/\xff".to_vec()
        );
        assert_eq!(resume_after("a/b/c", "a/", Some("/")), b"a/b/\xff".to_vec());
        assert_eq!(resume_after("a/key", "a/", Some("/")), b"a/key".to_vec());
        assert_eq!(resume_after("x/y", "", None), b"x/y".to_vec());
    }
}
