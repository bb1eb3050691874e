//! The S3 API: an [`s3s::S3`] implementation that translates requests into store calls.
//! s3s handles the wire protocol (routing, XML, SigV4 and `aws-chunked` decoding); everything
//! semantic — tenancy, durability, validation — lives in the store.

mod attributes;
mod auth;
mod bucket_pages;
mod buckets;
mod checksums;
mod convert;
mod errors;
mod expected_owner;
mod listing;
mod multipart;
mod multipart_checksums;
mod objects;
mod part_reads;
mod usage;

use std::sync::Arc;
use stratus_events::{Queues, Topics};

use s3s::dto::*;
use s3s::{S3, S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_identity::{Identity, IdentityError, Principal};
use stratus_runtime::Functions;
use stratus_store::Store;

use errors::s3_err;

/// The S3 service over a store, with SigV4 verification against the identity service.
pub(crate) fn service(
    store: Arc<Store>,
    identity: Arc<Identity>,
    functions: Arc<Functions>,
    messaging: (Arc<Queues>, Arc<Topics>),
    usage: Arc<stratus_meta::UsageMeter>,
) -> s3s::service::S3Service {
    let (queues, topics) = messaging;
    let s3 = StratusS3 {
        store: Arc::clone(&store),
        identity: Arc::clone(&identity),
        functions,
        queues,
        topics,
    };
    let attributes = attributes::AttributesRoute { s3: s3.clone() };
    let mut builder = s3s::service::S3ServiceBuilder::new(s3);
    builder.set_route(attributes);
    builder.set_auth(auth::KeyAuth {
        identity: Arc::clone(&identity),
    });
    builder.set_access(usage::MeteredAccess {
        identity,
        usage,
        store,
    });
    builder.build()
}

#[derive(Clone)]
pub(crate) struct StratusS3 {
    store: Arc<Store>,
    identity: Arc<Identity>,
    /// Only to check that a notification configuration's functions, queues and topics exist.
    functions: Arc<Functions>,
    queues: Arc<Queues>,
    topics: Arc<Topics>,
}

impl StratusS3 {
    /// The principal behind a verified request. s3s has already checked the signature, and
    /// denies anonymous requests before they get here.
    async fn caller<T>(&self, req: &S3Request<T>) -> S3Result<Principal> {
        let Some(credentials) = req.credentials.as_ref() else {
            return s3_err(S3ErrorCode::AccessDenied, "anonymous access is not allowed");
        };
        match self.identity.principal(&credentials.access_key).await {
            Ok(principal) => Ok(Principal {
                chain_depth: crate::chain_depth(&req.headers),
                ..principal
            }),
            Err(IdentityError::NotFound(_)) => s3_err(
                S3ErrorCode::InvalidAccessKeyId,
                "the access key does not exist",
            ),
            Err(error) => {
                tracing::error!(?error, "principal lookup failed");
                s3_err(S3ErrorCode::InternalError, "identity lookup failed")
            }
        }
    }
}

#[async_trait::async_trait]
impl S3 for StratusS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        buckets::create_bucket(self, req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        buckets::head_bucket(self, req).await
    }
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        buckets::list_buckets(self, req).await
    }
    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        buckets::delete_bucket(self, req).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        buckets::get_bucket_location(self, req).await
    }
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        buckets::get_bucket_versioning(self, req).await
    }
    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        buckets::put_notification(self, req).await
    }
    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        buckets::get_notification(self, req).await
    }
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        objects::put_object(self, req).await
    }
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        objects::get_object(self, req).await
    }
    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        objects::head_object(self, req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        objects::delete_object(self, req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        objects::delete_objects(self, req).await
    }
    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        objects::copy_object(self, req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        listing::list_objects_v2(self, req).await
    }
    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        listing::list_objects(self, req).await
    }
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        listing::list_object_versions(self, req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create(self, req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        multipart::upload_part(self, req).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        multipart::upload_part_copy(self, req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        multipart::complete(self, req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort(self, req).await
    }
    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(self, req).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        multipart::list_uploads(self, req).await
    }
}
