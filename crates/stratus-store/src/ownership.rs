//! S3 Object Ownership (PutBucketOwnershipControls). Every object in Stratus belongs to the
//! bucket's project, whoever wrote it, so the three settings differ only in what they say about
//! ACLs: under `BucketOwnerEnforced` ACLs are disabled — they grant nothing, PutBucketAcl and
//! PutObjectAcl are refused with `AccessControlListNotSupported`, and so is an object write
//! naming any ACL but `bucket-owner-full-control`, as AWS does. Reading ACLs still works. `BucketOwnerPreferred` and `ObjectWriter` keep ACLs working.

use std::fmt;
use std::str::FromStr;

use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::BucketConfigKind;

use crate::acl::Acl;
use crate::{Store, StoreError, StoreResult};

/// A bucket's object ownership setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectOwnership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl ObjectOwnership {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BucketOwnerEnforced => "BucketOwnerEnforced",
            Self::BucketOwnerPreferred => "BucketOwnerPreferred",
            Self::ObjectWriter => "ObjectWriter",
        }
    }
}

impl fmt::Display for ObjectOwnership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObjectOwnership {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::BucketOwnerEnforced,
            Self::BucketOwnerPreferred,
            Self::ObjectWriter,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
        .ok_or_else(|| StoreError::InvalidConfiguration {
            code: "MalformedXML",
            message: format!("{s:?} is not a valid ObjectOwnership"),
        })
    }
}

/// AWS's refusal of an ACL on a bucket whose owner enforces ownership.
pub(crate) fn acl_not_supported() -> StoreError {
    StoreError::InvalidConfiguration {
        code: "AccessControlListNotSupported",
        message: "The bucket does not allow ACLs".into(),
    }
}

impl Store {
    /// The stored setting, read without a caller check (for access decisions).
    pub(crate) async fn stored_ownership(
        &self,
        bucket: &str,
    ) -> StoreResult<Option<ObjectOwnership>> {
        Ok(self
            .stored_document(bucket, BucketConfigKind::OwnershipControls)
            .await?
            .and_then(|text| text.parse().ok()))
    }

    /// Whether the bucket's ACLs are disabled (`BucketOwnerEnforced`).
    pub(crate) async fn acls_disabled(&self, bucket: &str) -> StoreResult<bool> {
        Ok(self.stored_ownership(bucket).await? == Some(ObjectOwnership::BucketOwnerEnforced))
    }

    /// Sets (`Some`) or deletes the bucket's ownership controls. Enforcing ownership on a
    /// bucket whose ACL grants anyone else anything is refused, as AWS does.
    ///
    /// # Errors
    /// `InvalidBucketAclWithObjectOwnership`, `NoSuchBucket`, `AccessDenied`.
    pub async fn set_ownership_controls(
        &self,
        caller: &Principal,
        bucket: &str,
        ownership: Option<ObjectOwnership>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        if ownership == Some(ObjectOwnership::BucketOwnerEnforced)
            && self.stored_acl(bucket).await?.stored().is_some()
        {
            return Err(StoreError::InvalidConfiguration {
                code: "InvalidBucketAclWithObjectOwnership",
                message:
                    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
                        .into(),
            });
        }
        let document = ownership.map(|o| o.as_str().to_owned());
        self.put_document(
            caller,
            bucket,
            BucketConfigKind::OwnershipControls,
            document,
        )
        .await
    }

    /// # Errors
    /// `OwnershipControlsNotFoundError`, `NoSuchBucket`, `AccessDenied`.
    pub async fn ownership_controls(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<ObjectOwnership> {
        self.document(
            caller,
            bucket,
            BucketConfigKind::OwnershipControls,
            "OwnershipControlsNotFoundError",
        )
        .await?
        .parse()
    }

    /// Checks the ACL an object write asks for (`canned`: its `x-amz-acl`, `acl`: what it
    /// grants) against Block Public Access and the bucket's ownership setting: with ACLs
    /// disabled only `bucket-owner-full-control` (or grants of the owner's full control alone)
    /// is accepted.
    ///
    /// # Errors
    /// `AccessDenied`, `AccessControlListNotSupported`.
    pub async fn check_object_write_acl(
        &self,
        bucket: &str,
        canned: Option<crate::CannedAcl>,
        acl: &Acl,
    ) -> StoreResult<()> {
        self.check_acl_allowed(bucket, acl).await?;
        if self.acls_disabled(bucket).await? {
            let owner_only = match canned {
                Some(canned) => canned == crate::CannedAcl::BucketOwnerFullControl,
                None => acl.stored().is_none(),
            };
            if !owner_only {
                return Err(acl_not_supported());
            }
        }
        Ok(())
    }
}
