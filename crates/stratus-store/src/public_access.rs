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
use crate::bucket_policy::{PolicyAction, PolicyVerdict};
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

impl Store {
    /// Whether `requester` (`None`: anonymous) may do `operation` on `bucket` (`key` for object
    /// operations) although it is not of the bucket's project; if so, the principal to serve the
    /// request as. `Ok(None)` means refused.
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
        let owner = self
            .owner_of(bucket)
            .await?
            .ok_or(StoreError::NoSuchBucket)?;
        if requester.is_some_and(|r| r.project == owner) {
            return Ok(None);
        }
        let block = self.stored_access_block(bucket).await?;
        let policy = self.stored_policy(bucket).await?;
        let policy_action = match operation {
            PublicOperation::ListBucket => Some(PolicyAction::ListBucket),
            PublicOperation::GetObject => Some(PolicyAction::GetObject),
            PublicOperation::WriteObject | PublicOperation::ReadAcl | PublicOperation::WriteAcl => {
                None
            }
        };
        let verdict = match (&policy, policy_action) {
            (Some(policy), Some(action)) => policy.verdict(action, bucket, key),
            _ => PolicyVerdict::Silent,
        };
        if verdict == PolicyVerdict::Deny {
            return Ok(None);
        }
        let policy_public = policy.as_ref().is_some_and(|p| p.is_public());
        let mut granted =
            verdict == PolicyVerdict::Allow && !(block.restrict_public_buckets && policy_public);
        // Under BucketOwnerEnforced ACLs grant nothing; IgnorePublicAcls voids only the
        // grants to everyone and to every key.
        if !granted && !self.acls_disabled(bucket).await? {
            let requester_project = requester.map(|r| r.project.as_str());
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
            let object_acl = match key {
                Some(key) => self.meta.get_object(bucket, key).await?.map(|object| {
                    counts(
                        object
                            .headers
                            .acl
                            .map(|a| Acl::parse_stored(&a))
                            .unwrap_or_default(),
                    )
                }),
                None => None,
            };
            let (acl, needed) = match operation {
                PublicOperation::ListBucket => (&bucket_acl, Permission::Read),
                PublicOperation::WriteObject => (&bucket_acl, Permission::Write),
                // A missing key: who may list the bucket learns it is missing (NoSuchKey),
                // anyone else is refused, as S3 does.
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
        let role = match operation {
            PublicOperation::WriteObject | PublicOperation::WriteAcl => Role::Member,
            PublicOperation::ListBucket | PublicOperation::GetObject | PublicOperation::ReadAcl => {
                Role::ReadOnly
            }
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
