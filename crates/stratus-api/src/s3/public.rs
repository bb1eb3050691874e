//! Requests from outside a bucket's project: anonymous ones (no signature) and keys of other
//! projects. The access hook asks the store's decision (`Store::public_grant`) and, when the
//! bucket grants the operation, leaves the principal to act as in the request's extensions,
//! where `StratusS3::caller` finds it; the handler then runs the normal store path. Anything not
//! granted to an anonymous request is refused here with `AccessDenied`.
//!
//! The hook also validates `x-amz-acl` and `x-amz-grant-*` before a handler reads a body: an
//! unknown canned ACL or canonical id is `InvalidArgument`, a public ACL on an object write
//! under `BlockPublicAcls` is `AccessDenied`, any but the owner's full control on a bucket whose
//! owner enforces ownership is `AccessControlListNotSupported`.

use s3s::access::S3AccessContext;
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Result};
use stratus_identity::{Identity, Principal};
use stratus_store::{CannedAcl, Permission, PublicOperation, Store, StoreError};

use super::acl_grants;
use super::errors::s3_error;

/// The principal an outsider's request is served as (read-only, or a writer of the owning
/// project for what a `public-read-write` bucket grants).
#[derive(Debug, Clone)]
pub(crate) struct ActingPrincipal(pub(crate) Principal);

fn operation(name: &str) -> Option<PublicOperation> {
    match name {
        "GetObject" | "HeadObject" => Some(PublicOperation::GetObject),
        "ListObjects" | "ListObjectsV2" | "HeadBucket" | "ListMultipartUploads" => {
            Some(PublicOperation::ListBucket)
        }
        "PutObject"
        | "PostObject"
        | "DeleteObject"
        | "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload"
        | "AbortMultipartUpload" => Some(PublicOperation::WriteObject),
        "GetBucketAcl" | "GetObjectAcl" => Some(PublicOperation::ReadAcl),
        "PutBucketAcl" | "PutObjectAcl" => Some(PublicOperation::WriteAcl),
        _ => None,
    }
}

/// The bucket and key of an `x-amz-copy-source` (`bucket/key` or `/bucket/key`,
/// percent-encoded, maybe with `?versionId=`).
fn copy_source(value: &str) -> Option<(String, String)> {
    let value = value.strip_prefix('/').unwrap_or(value);
    let value = value.split_once('?').map_or(value, |(path, _)| path);
    let (bucket, key) = value.split_once('/')?;
    let bucket = super::expected_owner::percent_decode(bucket)?;
    let key = super::expected_owner::percent_decode(key)?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

fn bucket_and_key<'a>(cx: &'a S3AccessContext<'_>) -> Option<(&'a str, Option<&'a str>)> {
    match cx.s3_path() {
        S3Path::Root => None,
        S3Path::Bucket { bucket } => Some((&**bucket, None)),
        S3Path::Object { bucket, key } => Some((&**bucket, Some(&**key))),
    }
}

/// Operations a bucket policy may grant an outsider beyond those ACLs can grant (`operation`):
/// object tagging, parts, versions, multi-object delete. Bucket configuration stays the owner's.
const POLICY_ONLY_OPERATIONS: [&str; 10] = [
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "ListParts",
    "ListObjectVersions",
    "GetObjectAttributes",
    "DeleteObjects",
    "GetBucketLocation",
    "GetObjectRetention",
    "GetObjectLegalHold",
];

/// The store's access decision for this request (`Store::access_decision`): for the bucket's
/// own project, `Ok(None)` unless its policy explicitly denies (`AccessDenied`); for an
/// outsider (`None`: anonymous), the principal to act as when the bucket grants the operation.
///
/// # Errors
/// `AccessDenied` (the owner's policy denies), `NoSuchBucket` for an anonymous request to a
/// missing bucket (as S3 answers), storage failures.
pub(crate) async fn grant(
    store: &Store,
    requester: Option<&Principal>,
    cx: &S3AccessContext<'_>,
) -> S3Result<Option<Principal>> {
    let name = cx.s3_op().name();
    let Some((bucket, key)) = bucket_and_key(cx) else {
        return Ok(None);
    };
    let acl_operation = operation(name);
    let outsider_may = acl_operation.is_some() || POLICY_ONLY_OPERATIONS.contains(&name);
    if name == "CreateBucket" || (requester.is_none() && !outsider_may) {
        return Ok(None);
    }
    let mut request = super::policy_request::from_request(cx);
    let granted = store
        .access_decision(requester, bucket, key, acl_operation, &mut request)
        .await;
    // A copy is a write of the destination and a read of the source: an outsider copies only
    // what it may read, and only within the one project whose principal it acts as.
    let granted = match granted {
        Ok(Some(_)) if !outsider_may => Ok(None),
        Ok(Some(dest)) if name == "CopyObject" || name == "UploadPartCopy" => {
            match source_read(store, requester, cx).await {
                Ok(Some(read)) if read.project == dest.project => Ok(Some(dest)),
                Ok(_) => Ok(None),
                Err(error) => Err(error),
            }
        }
        other => other,
    };
    match granted {
        Ok(granted) => Ok(granted),
        // A signed request to a missing bucket is answered by its handler, as before.
        Err(StoreError::NoSuchBucket) if requester.is_some() => Ok(None),
        Err(error) => Err(s3_error(error)),
    }
}

/// The principal an UploadPartCopy reads its source as, when the source is in a bucket of
/// another project that grants the requester `s3:GetObject` on it (the destination is the
/// requester's own: its handler writes as the requester).
#[derive(Debug, Clone)]
pub(crate) struct CopySourcePrincipal(pub(crate) Principal);

/// See [`CopySourcePrincipal`].
///
/// # Errors
/// Storage failures.
pub(crate) async fn copy_source_grant(
    store: &Store,
    requester: Option<&Principal>,
    cx: &S3AccessContext<'_>,
) -> S3Result<Option<Principal>> {
    if cx.s3_op().name() != "UploadPartCopy" || requester.is_none() {
        return Ok(None);
    }
    source_read(store, requester, cx).await.map_err(s3_error)
}

/// Whom a copy's source (`x-amz-copy-source`) may be read as by `requester`, through what its
/// bucket grants outsiders; `None` without a source header, for a missing bucket or no grant.
async fn source_read(
    store: &Store,
    requester: Option<&Principal>,
    cx: &S3AccessContext<'_>,
) -> Result<Option<Principal>, StoreError> {
    let Some((source_bucket, source_key)) = cx
        .headers()
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .and_then(copy_source)
    else {
        return Ok(None);
    };
    match store
        .public_grant(
            requester,
            &source_bucket,
            Some(&source_key),
            PublicOperation::GetObject,
        )
        .await
    {
        Ok(granted) => Ok(granted),
        Err(StoreError::NoSuchBucket) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Operations whose `x-amz-acl` names an object ACL.
const OBJECT_ACL_OPERATIONS: [&str; 4] = [
    "PutObject",
    "CopyObject",
    "CreateMultipartUpload",
    "PutObjectAcl",
];

/// Validates the ACL an object write or bucket creation names (`x-amz-acl`, `x-amz-grant-*`)
/// before a handler reads a body.
///
/// # Errors
/// `InvalidArgument` for an unknown ACL or canonical id, `InvalidRequest` for a canned ACL with
/// grant headers, `UnresolvableGrantByEmailAddress`; for object writes `AccessDenied` (a public
/// ACL while the bucket blocks them) and `AccessControlListNotSupported` (ACLs disabled).
pub(crate) async fn check_acl_header(
    store: &Store,
    identity: &Identity,
    requester: Option<&Principal>,
    cx: &S3AccessContext<'_>,
) -> S3Result<()> {
    let name = cx.s3_op().name();
    let object_write = OBJECT_ACL_OPERATIONS.contains(&name);
    if !object_write && name != "CreateBucket" && name != "PutBucketAcl" {
        return Ok(());
    }
    let header = |h: &str| cx.headers().get(h).and_then(|v| v.to_str().ok());
    let Some(canned) = cx
        .headers()
        .get("x-amz-acl")
        .map(|v| v.to_str().unwrap_or(""))
    else {
        if !object_write || name == "PutObjectAcl" {
            return Ok(());
        }
        // Grant headers of an object write: checked here, as no handler re-checks them.
        let headers = [
            (Permission::FullControl, header("x-amz-grant-full-control")),
            (Permission::Read, header("x-amz-grant-read")),
            (Permission::Write, None),
            (Permission::ReadAcp, header("x-amz-grant-read-acp")),
            (Permission::WriteAcp, header("x-amz-grant-write-acp")),
        ];
        let owner = requester.map_or("", |r| r.project.as_str());
        let Some((_, acl)) = acl_grants::requested(None, &headers, None, owner)? else {
            return Ok(());
        };
        acl_grants::check_grantees(identity, &acl).await?;
        if let Some((bucket, _)) = bucket_and_key(cx) {
            return store
                .check_object_write_acl(bucket, None, &acl)
                .await
                .map_err(s3_error);
        }
        return Ok(());
    };
    let acl: CannedAcl = match canned.parse() {
        Ok(acl) => acl,
        Err(_) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "the canned ACL in x-amz-acl is not valid",
            ));
        }
    };
    if object_write
        && name != "PutObjectAcl"
        && let Some((bucket, _)) = bucket_and_key(cx)
    {
        store
            .check_object_write_acl(bucket, Some(acl), &acl.into())
            .await
            .map_err(s3_error)?;
    } else if name == "PutObjectAcl"
        && let Some((bucket, _)) = bucket_and_key(cx)
    {
        store
            .check_acl_allowed(bucket, &acl.into())
            .await
            .map_err(s3_error)?;
    }
    Ok(())
}
