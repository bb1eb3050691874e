//! Put/Get/DeleteBucketCors: s3s's DTOs to and from the store's `CorsRule`. The preflight and
//! the response headers of actual requests are `crate::browser`'s.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use stratus_store::CorsRule as StoreRule;

use super::StratusS3;
use super::errors::s3_error;

fn to_store(rule: CORSRule) -> StoreRule {
    StoreRule {
        id: rule.id,
        allowed_origins: rule.allowed_origins,
        allowed_methods: rule.allowed_methods,
        allowed_headers: rule.allowed_headers.unwrap_or_default(),
        expose_headers: rule.expose_headers.unwrap_or_default(),
        max_age_seconds: rule.max_age_seconds,
    }
}

fn to_dto(rule: StoreRule) -> CORSRule {
    CORSRule {
        id: rule.id,
        allowed_origins: rule.allowed_origins,
        allowed_methods: rule.allowed_methods,
        allowed_headers: (!rule.allowed_headers.is_empty()).then_some(rule.allowed_headers),
        expose_headers: (!rule.expose_headers.is_empty()).then_some(rule.expose_headers),
        max_age_seconds: rule.max_age_seconds,
    }
}

pub(super) async fn put_bucket_cors(
    s3: &StratusS3,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    let input = req.input;
    let rules = input
        .cors_configuration
        .cors_rules
        .into_iter()
        .map(to_store)
        .collect();
    s3.store
        .set_bucket_cors(&caller, &input.bucket, Some(rules))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketCorsOutput::default()))
}

pub(super) async fn get_bucket_cors(
    s3: &StratusS3,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    let rules = s3
        .store
        .bucket_cors(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(rules.into_iter().map(to_dto).collect()),
    }))
}

pub(super) async fn delete_bucket_cors(
    s3: &StratusS3,
    req: S3Request<DeleteBucketCorsInput>,
) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_bucket_cors(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketCorsOutput::default()))
}
