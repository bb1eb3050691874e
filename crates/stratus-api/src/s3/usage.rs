//! The S3 access check, s3s's one hook per routed request with the operation known (called
//! before the handler runs): it notes the operation for the metrics and counts the request for
//! its caller's project in AWS's price class for billing. It is also where requests from outside
//! a bucket's project are let in when the bucket grants them (`public.rs`).

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::{S3Result, s3_error};
use stratus_identity::Identity;
use stratus_meta::{RequestClass, UsageMeter};

pub(crate) struct MeteredAccess {
    pub(crate) identity: Arc<Identity>,
    /// For what buckets grant outsiders (`public.rs`) and the `x-amz-expected-bucket-owner`
    /// check (`expected_owner.rs`).
    pub(crate) store: Arc<stratus_store::Store>,
    pub(crate) usage: Arc<UsageMeter>,
}

/// AWS's S3 price class of an operation: PUT, COPY, POST and LIST are write-class, DELETE
/// and AbortMultipartUpload (a cancel) are free, everything else (GET, HEAD, ...) is read-class.
pub(crate) fn request_class(operation: &str) -> Option<RequestClass> {
    const WRITES: [&str; 8] = [
        "Put",
        "Copy",
        "Create",
        "Complete",
        "UploadPart",
        "List",
        "Restore",
        "Post",
    ];
    if operation.starts_with("Delete") || operation == "AbortMultipartUpload" {
        None
    } else if WRITES.iter().any(|prefix| operation.starts_with(prefix)) {
        Some(RequestClass::Write)
    } else {
        Some(RequestClass::Read)
    }
}

#[async_trait::async_trait]
impl S3Access for MeteredAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        crate::metrics_endpoint::note_operation(cx);
        // The key was just verified, so the lookup is a cache hit; a failure here is the
        // handler's to report, not the meter's.
        let requester = match cx.credentials() {
            Some(credentials) => self.identity.principal(&credentials.access_key).await.ok(),
            None => None,
        };
        super::public::check_acl_header(&self.store, &self.identity, requester.as_ref(), cx)
            .await?;
        // An outsider (anonymous, or another project's key) gets what the bucket grants.
        let acting = super::public::grant(&self.store, requester.as_ref(), cx).await?;
        if acting.is_none() && cx.credentials().is_none() {
            // The edge adds the request id (`request_ids.rs`).
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        // AWS bills the bucket owner for what a bucket grants outsiders.
        if let (Some(class), Some(payer)) = (
            request_class(cx.s3_op().name()),
            acting.as_ref().or(requester.as_ref()),
        ) {
            self.usage.record_s3_request(&payer.project, class);
        }
        if let Some(acting) = acting {
            cx.extensions_mut()
                .insert(super::public::ActingPrincipal(acting));
        } else if let Some(source) =
            super::public::copy_source_grant(&self.store, requester.as_ref(), cx).await?
        {
            cx.extensions_mut()
                .insert(super::public::CopySourcePrincipal(source));
        }
        let bucket = cx.s3_path().get_bucket_name();
        super::expected_owner::check(&self.store, bucket, cx.headers()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_fall_in_awss_price_classes() {
        let write = Some(RequestClass::Write);
        let read = Some(RequestClass::Read);
        for op in [
            "PutObject",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPart",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "ListObjects",
            "ListObjectsV2",
            "ListBuckets",
            "ListMultipartUploads",
            "CreateBucket",
            "PutBucketNotificationConfiguration",
        ] {
            assert_eq!(request_class(op), write, "{op}");
        }
        for op in ["GetObject", "HeadObject", "HeadBucket", "GetBucketLocation"] {
            assert_eq!(request_class(op), read, "{op}");
        }
        for op in [
            "DeleteObject",
            "DeleteObjects",
            "DeleteBucket",
            "AbortMultipartUpload",
        ] {
            assert_eq!(request_class(op), None, "{op}");
        }
    }
}
