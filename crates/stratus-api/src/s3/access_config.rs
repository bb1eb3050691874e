//! Who may do what to a bucket: ACLs (buckets and objects, `acl_grants.rs`), Object Ownership,
//! the bucket policy and Block Public Access. The store validates and enforces (`stratus_store::bucket_config`,
//! `public_access`); this file converts the wire shapes.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_store::{Acl, ObjectOwnership};

use super::errors::{s3_err, s3_error};
use super::{StratusS3, acl_grants};

/// The Owner S3 names for anything of `project`: its canonical id and display name are both
/// the project's name, as ListBuckets shows it.
pub(super) fn project_owner(project: &str) -> Owner {
    Owner {
        display_name: Some(project.to_owned()),
        id: Some(project.to_owned()),
    }
}

/// The ACL a PutBucketAcl/PutObjectAcl asks for, with its grantees checked.
async fn acl_to_put(
    s3: &StratusS3,
    canned: Option<&str>,
    headers: &acl_grants::GrantHeaders<'_>,
    body: Option<&AccessControlPolicy>,
    project: &str,
) -> S3Result<Acl> {
    let Some((_, acl)) = acl_grants::requested(canned, headers, body, project)? else {
        return s3_err(
            S3ErrorCode::MissingSecurityHeader,
            "Your request was missing a required header",
        );
    };
    acl_grants::check_grantees(&s3.identity, &acl).await?;
    Ok(acl)
}

pub(super) async fn put_bucket_acl(
    s3: &StratusS3,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let acl = acl_to_put(
        s3,
        input.acl.as_ref().map(BucketCannedACL::as_str),
        &acl_grants::grant_headers!(input, input.grant_write.as_deref()),
        input.access_control_policy.as_ref(),
        &caller.project,
    )
    .await?;
    s3.store
        .set_bucket_acl(&caller, &input.bucket, acl)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketAclOutput::default()))
}

pub(super) async fn get_bucket_acl(
    s3: &StratusS3,
    req: S3Request<GetBucketAclInput>,
) -> S3Result<S3Response<GetBucketAclOutput>> {
    let caller = s3.caller(&req).await?;
    let acl = s3
        .store
        .bucket_acl(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketAclOutput {
        grants: Some(acl_grants::render(&acl, &caller.project)),
        owner: Some(project_owner(&caller.project)),
    }))
}

pub(super) async fn put_object_acl(
    s3: &StratusS3,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let acl = acl_to_put(
        s3,
        input.acl.as_ref().map(ObjectCannedACL::as_str),
        &acl_grants::grant_headers!(input, input.grant_write.as_deref()),
        input.access_control_policy.as_ref(),
        &caller.project,
    )
    .await?;
    let version = super::versioning::selector(input.version_id.as_deref());
    s3.store
        .set_object_acl(&caller, (&input.bucket, &input.key, &version), acl)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}

pub(super) async fn get_object_acl(
    s3: &StratusS3,
    req: S3Request<GetObjectAclInput>,
) -> S3Result<S3Response<GetObjectAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let version = super::versioning::selector(input.version_id.as_deref());
    let acl = s3
        .store
        .object_acl(&caller, (&input.bucket, &input.key, &version))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetObjectAclOutput {
        grants: Some(acl_grants::render(&acl, &caller.project)),
        owner: Some(project_owner(&caller.project)),
        ..Default::default()
    }))
}

pub(super) async fn put_bucket_ownership_controls(
    s3: &StratusS3,
    req: S3Request<PutBucketOwnershipControlsInput>,
) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    let rules = &req.input.ownership_controls.rules;
    let [rule] = rules.as_slice() else {
        return s3_err(
            S3ErrorCode::MalformedXML,
            "OwnershipControls needs exactly one Rule",
        );
    };
    let ownership: ObjectOwnership = rule.object_ownership.as_str().parse().map_err(s3_error)?;
    s3.store
        .set_ownership_controls(&caller, &req.input.bucket, Some(ownership))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketOwnershipControlsOutput::default()))
}

pub(super) async fn get_bucket_ownership_controls(
    s3: &StratusS3,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    let ownership = s3
        .store
        .ownership_controls(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketOwnershipControlsOutput {
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: s3s::dto::ObjectOwnership::from(ownership.as_str().to_owned()),
            }],
        }),
    }))
}

pub(super) async fn delete_bucket_ownership_controls(
    s3: &StratusS3,
    req: S3Request<DeleteBucketOwnershipControlsInput>,
) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_ownership_controls(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(
        DeleteBucketOwnershipControlsOutput::default(),
    ))
}

pub(super) async fn put_bucket_policy(
    s3: &StratusS3,
    req: S3Request<PutBucketPolicyInput>,
) -> S3Result<S3Response<PutBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_bucket_policy(&caller, &req.input.bucket, &req.input.policy)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketPolicyOutput::default()))
}

pub(super) async fn get_bucket_policy(
    s3: &StratusS3,
    req: S3Request<GetBucketPolicyInput>,
) -> S3Result<S3Response<GetBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    let policy = s3
        .store
        .bucket_policy(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketPolicyOutput {
        policy: Some(policy),
    }))
}

pub(super) async fn delete_bucket_policy(
    s3: &StratusS3,
    req: S3Request<DeleteBucketPolicyInput>,
) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .delete_bucket_policy(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketPolicyOutput::default()))
}

pub(super) async fn get_bucket_policy_status(
    s3: &StratusS3,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    let caller = s3.caller(&req).await?;
    let public = s3
        .store
        .bucket_policy_is_public(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(public),
        }),
    }))
}

pub(super) async fn put_public_access_block(
    s3: &StratusS3,
    req: S3Request<PutPublicAccessBlockInput>,
) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    let c = &req.input.public_access_block_configuration;
    let block = stratus_store::PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    };
    s3.store
        .set_public_access_block(&caller, &req.input.bucket, Some(block))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

pub(super) async fn get_public_access_block(
    s3: &StratusS3,
    req: S3Request<GetPublicAccessBlockInput>,
) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    let block = s3
        .store
        .public_access_block(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(block.block_public_acls),
            ignore_public_acls: Some(block.ignore_public_acls),
            block_public_policy: Some(block.block_public_policy),
            restrict_public_buckets: Some(block.restrict_public_buckets),
        }),
    }))
}

pub(super) async fn delete_public_access_block(
    s3: &StratusS3,
    req: S3Request<DeletePublicAccessBlockInput>,
) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_public_access_block(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeletePublicAccessBlockOutput::default()))
}

pub(super) async fn put_bucket_tagging(
    s3: &StratusS3,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let tags = req
        .input
        .tagging
        .tag_set
        .iter()
        .map(|tag| {
            (
                tag.key.clone().unwrap_or_default(),
                tag.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    s3.store
        .set_bucket_tags(&caller, &req.input.bucket, Some(tags))
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(PutBucketTaggingOutput::default()))
}

pub(super) async fn get_bucket_tagging(
    s3: &StratusS3,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    let tags = s3
        .store
        .bucket_tags(&caller, &req.input.bucket)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: tags
            .into_iter()
            .map(|(key, value)| Tag {
                key: Some(key),
                value: Some(value),
            })
            .collect(),
    }))
}

pub(super) async fn delete_bucket_tagging(
    s3: &StratusS3,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    let caller = s3.caller(&req).await?;
    s3.store
        .set_bucket_tags(&caller, &req.input.bucket, None)
        .await
        .map_err(s3_error)?;
    Ok(S3Response::new(DeleteBucketTaggingOutput::default()))
}
