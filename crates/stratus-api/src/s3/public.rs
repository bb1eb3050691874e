//! Requests from outside a bucket's project: anonymous ones (no signature) and keys of other
//! projects. The access hook asks the store's decision (`Store::public_grant`) and, when the
//! bucket grants the operation, leaves the principal to act as in the request's extensions,
//! where `StratusS3::caller` finds it; the handler then runs the normal store path. Anything not
//! granted to an anonymous request is refused here with `AccessDenied`.
//!
//! The hook also validates `x-amz-acl` before a handler reads a body: an unknown canned ACL is
//! `InvalidArgument`, a public one on an object write under `BlockPublicAcls` is `AccessDenied`.

use s3s::access::S3AccessContext;
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Result};
use stratus_identity::Principal;
use stratus_store::{CannedAcl, PublicOperation, Store, StoreError};

use super::errors::s3_error;

/// The principal an outsider's request is served as (read-only, or a writer of the owning
/// project for what a `public-read-write` bucket grants).
#[derive(Debug, Clone)]
pub(crate) struct ActingPrincipal(pub(crate) Principal);

fn operation(name: &str) -> Option<PublicOperation> {
    match name {
        "GetObject" | "HeadObject" => Some(PublicOperation::GetObject),
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => Some(PublicOperation::ListBucket),
        "PutObject" | "PostObject" | "DeleteObject" => Some(PublicOperation::WriteObject),
        _ => None,
    }
}

fn bucket_and_key<'a>(cx: &'a S3AccessContext<'_>) -> Option<(&'a str, Option<&'a str>)> {
    match cx.s3_path() {
        S3Path::Root => None,
        S3Path::Bucket { bucket } => Some((&**bucket, None)),
        S3Path::Object { bucket, key } => Some((&**bucket, Some(&**key))),
    }
}

/// What the bucket grants `requester` (`None`: anonymous) for this request, if it is an
/// outsider's and the operation is one a bucket can grant.
///
/// # Errors
/// `NoSuchBucket` for an anonymous request to a missing bucket (as S3 answers), storage
/// failures.
pub(crate) async fn grant(
    store: &Store,
    requester: Option<&Principal>,
    cx: &S3AccessContext<'_>,
) -> S3Result<Option<Principal>> {
    let Some(operation) = operation(cx.s3_op().name()) else {
        return Ok(None);
    };
    let Some((bucket, key)) = bucket_and_key(cx) else {
        return Ok(None);
    };
    match store.public_grant(requester, bucket, key, operation).await {
        Ok(granted) => Ok(granted),
        // A signed request to a missing bucket is answered by its handler, as before.
        Err(StoreError::NoSuchBucket) if requester.is_some() => Ok(None),
        Err(error) => Err(s3_error(error)),
    }
}

/// Operations whose `x-amz-acl` names an object ACL.
const OBJECT_ACL_OPERATIONS: [&str; 4] = [
    "PutObject",
    "CopyObject",
    "CreateMultipartUpload",
    "PutObjectAcl",
];

/// Validates the request's `x-amz-acl` header, if any.
///
/// # Errors
/// `InvalidArgument` for an unknown ACL, `AccessDenied` for a public object ACL while the bucket
/// blocks public ACLs.
pub(crate) async fn check_acl_header(store: &Store, cx: &S3AccessContext<'_>) -> S3Result<()> {
    let Some(value) = cx.headers().get("x-amz-acl") else {
        return Ok(());
    };
    let name = cx.s3_op().name();
    let object_write = OBJECT_ACL_OPERATIONS.contains(&name);
    if !object_write && name != "CreateBucket" && name != "PutBucketAcl" {
        return Ok(());
    }
    let acl: CannedAcl = match value.to_str().ok().map(str::parse) {
        Some(Ok(acl)) => acl,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "the canned ACL in x-amz-acl is not valid",
            ));
        }
    };
    if object_write && let Some((bucket, _)) = bucket_and_key(cx) {
        store
            .check_acl_allowed(bucket, acl)
            .await
            .map_err(s3_error)?;
    }
    Ok(())
}
