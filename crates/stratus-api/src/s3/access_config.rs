//! Who may do what to a bucket: canned ACLs (buckets and objects), the bucket policy and Block
//! Public Access. The store validates and enforces (`stratus_store::bucket_config`,
//! `public_access`); this file converts the wire shapes.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use stratus_store::{CannedAcl, Grantee as StoreGrantee, Permission as StorePermission};

use super::StratusS3;
use super::errors::{s3_err, s3_error};

fn owner(project: &str) -> Owner {
    Owner {
        display_name: Some(project.to_owned()),
        id: Some(project.to_owned()),
    }
}

/// The grant list AWS answers for `acl`.
fn grants(acl: CannedAcl, project: &str) -> Grants {
    acl.grants()
        .into_iter()
        .map(|(grantee, permission)| Grant {
            grantee: Some(match grantee.uri() {
                None => Grantee {
                    display_name: Some(project.to_owned()),
                    email_address: None,
                    id: Some(project.to_owned()),
                    type_: Type::from_static(Type::CANONICAL_USER),
                    uri: None,
                },
                Some(uri) => Grantee {
                    display_name: None,
                    email_address: None,
                    id: None,
                    type_: Type::from_static(Type::GROUP),
                    uri: Some(uri.to_owned()),
                },
            }),
            permission: Some(Permission::from(permission.as_str().to_owned())),
        })
        .collect()
}

/// The canned ACL a PUT names: the `x-amz-acl` header, or an AccessControlPolicy body whose
/// grants are exactly those of a canned ACL. Individual grants (`x-amz-grant-*`, or a body
/// naming other accounts) are not supported.
fn requested_acl(
    canned: Option<&str>,
    policy: Option<&AccessControlPolicy>,
    grant_headers: bool,
    project: &str,
) -> S3Result<CannedAcl> {
    if grant_headers {
        return s3_err(
            S3ErrorCode::NotImplemented,
            "x-amz-grant-* headers are not supported; use x-amz-acl or a canned grant list",
        );
    }
    match (canned, policy) {
        (Some(_), Some(_)) => s3_err(
            S3ErrorCode::InvalidRequest,
            "specify either x-amz-acl or an AccessControlPolicy body, not both",
        ),
        (Some(name), None) => name
            .parse()
            .or_else(|message: String| s3_err(S3ErrorCode::InvalidArgument, message)),
        (None, Some(policy)) => {
            let mut wanted = Vec::new();
            for grant in policy.grants.iter().flatten() {
                let (Some(grantee), Some(permission)) = (&grant.grantee, &grant.permission) else {
                    return s3_err(
                        S3ErrorCode::MalformedACLError,
                        "a Grant needs a Grantee and a Permission",
                    );
                };
                let permission: StorePermission = match permission.as_str().parse() {
                    Ok(p) => p,
                    Err(message) => return s3_err(S3ErrorCode::MalformedACLError, message),
                };
                let who = match grantee.type_.as_str() {
                    Type::CANONICAL_USER if grantee.id.as_deref() == Some(project) => {
                        StoreGrantee::Owner
                    }
                    Type::GROUP => match grantee.uri.as_deref().and_then(StoreGrantee::from_uri) {
                        Some(group) => group,
                        None => {
                            return s3_err(S3ErrorCode::InvalidArgument, "unknown grantee group");
                        }
                    },
                    _ => return s3_err(S3ErrorCode::InvalidArgument, "Invalid id"),
                };
                wanted.push((who, permission));
            }
            CannedAcl::from_grants(&wanted).map_or_else(
                || {
                    s3_err(
                        S3ErrorCode::NotImplemented,
                        "only the grant lists of canned ACLs (private, public-read, public-read-write, authenticated-read, log-delivery-write) are supported",
                    )
                },
                Ok,
            )
        }
        (None, None) => s3_err(
            S3ErrorCode::MissingSecurityHeader,
            "the request needs x-amz-acl or an AccessControlPolicy body",
        ),
    }
}

macro_rules! has_grant_headers {
    ($input:expr) => {
        $input.grant_full_control.is_some()
            || $input.grant_read.is_some()
            || $input.grant_read_acp.is_some()
            || $input.grant_write.is_some()
            || $input.grant_write_acp.is_some()
    };
}

pub(super) async fn put_bucket_acl(
    s3: &StratusS3,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let acl = requested_acl(
        input.acl.as_ref().map(BucketCannedACL::as_str),
        input.access_control_policy.as_ref(),
        has_grant_headers!(input),
        &caller.project,
    )?;
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
        grants: Some(grants(acl, &caller.project)),
        owner: Some(owner(&caller.project)),
    }))
}

pub(super) async fn put_object_acl(
    s3: &StratusS3,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let caller = s3.caller(&req).await?;
    let input = &req.input;
    let acl = requested_acl(
        input.acl.as_ref().map(ObjectCannedACL::as_str),
        input.access_control_policy.as_ref(),
        has_grant_headers!(input),
        &caller.project,
    )?;
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
        grants: Some(grants(acl, &caller.project)),
        owner: Some(owner(&caller.project)),
        ..Default::default()
    }))
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
