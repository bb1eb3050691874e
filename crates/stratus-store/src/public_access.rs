//! The access decision for requesters outside a bucket's project: anonymous requests and keys of
//! other projects. They get exactly what the bucket grants them — through its canned ACL, the
//! object's canned ACL, or the enforced subset of its policy (`bucket_policy.rs`), as Block
//! Public Access lets those count — and are then served through the normal store methods acting
//! for the owning project, read-only (or a writer, for the writes a `public-read-write` bucket
//! grants). Tenancy thus stays in `Store::authorize`; this only decides whom to act as.

use stratus_core::Role;
use stratus_identity::Principal;

use crate::acl::CannedAcl;
use crate::bucket_policy::{PolicyAction, PolicyVerdict};
use crate::{Store, StoreError, StoreResult};

/// What an outsider asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicOperation {
    /// ListObjects(V2), HeadBucket: `s3:ListBucket`.
    ListBucket,
    /// GetObject, HeadObject of `key`: `s3:GetObject`.
    GetObject,
    /// PutObject, POST Object, DeleteObject: WRITE on the bucket.
    WriteObject,
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
        let signed = requester.is_some();
        let block = self.stored_access_block(bucket).await?;
        let policy = self.stored_policy(bucket).await?;
        let policy_action = match operation {
            PublicOperation::ListBucket => Some(PolicyAction::ListBucket),
            PublicOperation::GetObject => Some(PolicyAction::GetObject),
            PublicOperation::WriteObject => None,
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
        if !granted && !block.ignore_public_acls {
            let bucket_acl = self.stored_acl(bucket).await?;
            granted = match operation {
                PublicOperation::ListBucket => bucket_acl.grants_read(signed),
                PublicOperation::WriteObject => bucket_acl.grants_write(),
                PublicOperation::GetObject => {
                    let object = match key {
                        Some(key) => self.meta.get_object(bucket, key).await?,
                        None => None,
                    };
                    match object {
                        Some(object) => object
                            .headers
                            .acl
                            .and_then(|acl| acl.parse::<CannedAcl>().ok())
                            .unwrap_or_default()
                            .grants_read(signed),
                        // A missing key: who may list the bucket learns it is missing
                        // (NoSuchKey), anyone else is refused, as S3 does.
                        None => bucket_acl.grants_read(signed),
                    }
                }
            };
        }
        if !granted {
            return Ok(None);
        }
        let role = match operation {
            PublicOperation::WriteObject => Role::Member,
            PublicOperation::ListBucket | PublicOperation::GetObject => Role::ReadOnly,
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
