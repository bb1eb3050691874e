//! The access decision for requesters outside a bucket's project: anonymous requests and keys of
//! other projects. They get exactly what the bucket grants them — through its ACL, the object's
//! ACL (grants to groups or to their project by canonical id), or the enforced subset of its
//! policy (`bucket_policy.rs`), as Block Public Access and Object Ownership let those count —
//! and are then served through the normal store methods acting for the owning project,
//! read-only (or a writer, for writes and ACL changes a grant allows). Tenancy thus stays in
//! `Store::authorize`; this only decides whom to act as.

use stratus_core::Role;
use stratus_identity::Principal;

use crate::acl::{Acl, Grantee, Permission};
use crate::bucket_policy::{BucketPolicy, PolicyRequest, PolicyVerdict};
use crate::{Store, StoreError, StoreResult};

/// What an outsider asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicOperation {
    /// ListObjects(V2), HeadBucket: `s3:ListBucket`.
    ListBucket,
    /// GetObject, HeadObject of `key`: `s3:GetObject`.
    GetObject,
    /// PutObject, POST Object, DeleteObject, multipart uploads: WRITE on the bucket.
    WriteObject,
    /// GetBucketAcl (`key` None) or GetObjectAcl: READ_ACP.
    ReadAcl,
    /// PutBucketAcl (`key` None) or PutObjectAcl: WRITE_ACP.
    WriteAcl,
}

/// The key id events and logs name for an anonymous requester.
pub const ANONYMOUS: &str = "anonymous";

impl PublicOperation {
    /// The IAM action a policy sees for this operation when nothing more precise is known.
    #[must_use]
    pub fn action(self) -> &'static str {
        match self {
            Self::ListBucket => "s3:ListBucket",
            Self::GetObject => "s3:GetObject",
            Self::WriteObject => "s3:PutObject",
            Self::ReadAcl => "s3:GetObjectAcl",
            Self::WriteAcl => "s3:PutObjectAcl",
        }
    }
}

/// Policy operations stay the owner's: an owner's `Deny` never locks it out of them (AWS's
/// root-user exception).
fn policy_management(action: &str) -> bool {
    matches!(
        action,
        "s3:GetBucketPolicy" | "s3:PutBucketPolicy" | "s3:DeleteBucketPolicy"
    )
}

impl Store {
    /// Whether `requester` (`None`: anonymous) may do `operation` on `bucket` (`key` for object
    /// operations) although it is not of the bucket's project; if so, the principal to serve the
    /// request as. `Ok(None)` means refused (or the requester's own bucket).
    ///
    /// # Errors
    /// `NoSuchBucket`, metadata failures.
    pub async fn public_grant(
        &self,
        requester: Option<&Principal>,
        bucket: &str,
        key: Option<&str>,
        operation: PublicOperation,
    ) -> StoreResult<Option<Principal>> {
        let mut request = PolicyRequest::new(operation.action());
        self.access_decision(requester, bucket, key, Some(operation), &mut request)
            .await
    }

    /// The one access decision for a request on `bucket` (`key`): for its own project, only an
    /// explicit policy `Deny` refuses (`AccessDenied`; `Ok(None)` lets tenancy decide); for
    /// anyone else, the policy (`request.action` with its condition keys), then the ACL grant
    /// `acl_operation` needs, as Block Public Access and Object Ownership let them count.
    /// `Ok(Some)` is the principal to serve the request as: read-only for `Get`/`List`
    /// actions, a writer otherwise.
    ///
    /// # Errors
    /// `AccessDenied` (the owner denied by its policy), `NoSuchBucket`, metadata failures.
    pub async fn access_decision(
        &self,
        requester: Option<&Principal>,
        bucket: &str,
        key: Option<&str>,
        acl_operation: Option<PublicOperation>,
        request: &mut PolicyRequest,
    ) -> StoreResult<Option<Principal>> {
        let owner = self
            .owner_of(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        let requester_project = requester.map(|r| r.project.as_str());
        let policy = self.stored_policy(bucket).await?;
        if policy.is_none() && requester_project == Some(owner.as_str()) {
            return Ok(None);
        }
        let object = match key {
            Some(key) => self.meta.get_object(bucket, key).await?,
            None => None,
        };
        if let Some(object) = &object {
            for (tag, value) in &object.headers.tags {
                request.with(&format!("s3:ExistingObjectTag/{tag}"), value.clone());
            }
        }
        let verdict = policy.as_ref().map_or(PolicyVerdict::Silent, |p| {
            p.evaluate(requester_project, request, bucket, key)
        });
        if requester_project == Some(owner.as_str()) {
            if verdict == PolicyVerdict::Deny && !policy_management(&request.action) {
                return Err(StoreError::AccessDenied(
                    "the bucket policy denies this request".into(),
                ));
            }
            return Ok(None);
        }
        if verdict == PolicyVerdict::Deny {
            return Ok(None);
        }
        let block = self.stored_access_block(bucket).await?;
        let policy_public = policy.as_ref().is_some_and(BucketPolicy::is_public);
        let restricted = block.restrict_public_buckets && policy_public;
        let mut granted = verdict == PolicyVerdict::Allow && !restricted;
        // A GET or HEAD of a missing key: who may list the bucket (under this key's prefix)
        // learns it is missing (NoSuchKey), anyone else is refused, as S3 does.
        if !granted
            && object.is_none()
            && acl_operation == Some(PublicOperation::GetObject)
            && let (Some(policy), Some(key)) = (&policy, key)
        {
            let mut list = PolicyRequest::new("s3:ListBucket");
            list.with("s3:prefix", key);
            granted = policy.evaluate(requester_project, &list, bucket, None)
                == PolicyVerdict::Allow
                && !restricted;
        }
        // Under BucketOwnerEnforced ACLs grant nothing; IgnorePublicAcls voids only the
        // grants to everyone and to every key.
        if !granted
            && let Some(operation) = acl_operation
            && !self.acls_disabled(bucket).await?
        {
            let counts = |acl: Acl| {
                if block.ignore_public_acls {
                    Acl {
                        grants: acl
                            .grants
                            .into_iter()
                            .filter(|(g, _)| {
                                !matches!(g, Grantee::AllUsers | Grantee::AuthenticatedUsers)
                            })
                            .collect(),
                    }
                } else {
                    acl
                }
            };
            let bucket_acl = counts(self.stored_acl(bucket).await?);
            let object_acl = object.map(|object| {
                counts(
                    object
                        .headers
                        .acl
                        .map(|a| Acl::parse_stored(&a))
                        .unwrap_or_default(),
                )
            });
            let (acl, needed) = match operation {
                PublicOperation::ListBucket => (&bucket_acl, Permission::Read),
                PublicOperation::WriteObject => (&bucket_acl, Permission::Write),
                PublicOperation::GetObject => {
                    (object_acl.as_ref().unwrap_or(&bucket_acl), Permission::Read)
                }
                PublicOperation::ReadAcl | PublicOperation::WriteAcl => {
                    let needed = if operation == PublicOperation::ReadAcl {
                        Permission::ReadAcp
                    } else {
                        Permission::WriteAcp
                    };
                    match (key, &object_acl) {
                        (None, _) => (&bucket_acl, needed),
                        (Some(_), Some(acl)) => (acl, needed),
                        (Some(_), None) => (&bucket_acl, Permission::Read),
                    }
                }
            };
            granted = acl.permits(requester_project, needed);
        }
        if !granted {
            return Ok(None);
        }
        let action = request.action.to_ascii_lowercase();
        let role = if action.starts_with("s3:get") || action.starts_with("s3:list") {
            Role::ReadOnly
        } else {
            Role::Member
        };
        Ok(Some(Principal {
            access_key_id: requester
                .map_or_else(|| ANONYMOUS.to_owned(), |r| r.access_key_id.clone()),
            project: owner,
            role,
            chain_depth: requester.map_or(0, |r| r.chain_depth),
        }))
    }
}
