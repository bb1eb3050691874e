//! Bucket configuration: canned ACLs (of buckets and objects), the bucket policy, Block Public
//! Access and tagging. Each is validated here, stored as one document per bucket and kind
//! (`stratus_meta::BucketConfigKind`), and changed only by a writer of the owning project.

use serde::{Deserialize, Serialize};
use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::BucketConfigKind;

use crate::acl::Acl;
use crate::bucket_policy::BucketPolicy;
use crate::{Store, StoreError, StoreResult};

/// Block Public Access, as AWS defines its four settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    /// Refuse a PUT of a public ACL (bucket or object).
    pub block_public_acls: bool,
    /// Public ACLs grant nothing.
    pub ignore_public_acls: bool,
    /// Refuse a PUT of a public bucket policy.
    pub block_public_policy: bool,
    /// A public policy grants nothing outside the owning project.
    pub restrict_public_buckets: bool,
}

/// A bucket's tag set, in the order it was sent.
pub type TagSet = Vec<(String, String)>;

/// Whose tags: S3 allows a bucket 50 and an object version 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOwner {
    Bucket,
    Object,
}

/// S3's limits on tags.
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidConfiguration {
        code,
        message: message.into(),
    }
}

/// Checks a tag set against S3's rules: at most 50 tags on a bucket (`InvalidTag`) and 10 on
/// an object (`BadRequest`, as S3 answers), keys of 1 to 128 characters not starting with the
/// reserved `aws:`, values of at most 256, no key twice.
///
/// # Errors
/// `InvalidTag`, `BadRequest`.
pub fn validate_tags(tags: &[(String, String)], owner: TagOwner) -> StoreResult<()> {
    let (max, code) = match owner {
        TagOwner::Bucket => (50, "InvalidTag"),
        TagOwner::Object => (10, "BadRequest"),
    };
    if tags.len() > max {
        return Err(invalid(
            code,
            format!("Object tags cannot be greater than {max}"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > MAX_TAG_KEY {
            return Err(invalid(
                "InvalidTag",
                "The TagKey you have provided is invalid",
            ));
        }
        if value.chars().count() > MAX_TAG_VALUE {
            return Err(invalid(
                "InvalidTag",
                "The TagValue you have provided is invalid",
            ));
        }
        if key.starts_with("aws:") {
            return Err(invalid(
                "InvalidTag",
                "System tags cannot be added/updated by requester",
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(invalid(
                "InvalidTag",
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Stores (`Some`) or removes one configuration document; needs write access.
    pub(crate) async fn put_document(
        &self,
        caller: &Principal,
        bucket: &str,
        kind: BucketConfigKind,
        document: Option<String>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        Ok(self.meta.set_bucket_config(bucket, kind, document).await?)
    }

    /// A configuration document, read without a caller check (for access decisions).
    pub(crate) async fn stored_document(
        &self,
        bucket: &str,
        kind: BucketConfigKind,
    ) -> StoreResult<Option<String>> {
        Ok(self.meta.bucket_config(bucket, kind).await?)
    }

    /// A configuration document for a reader of the owning project; `missing` is the S3 error
    /// code when there is none.
    pub(crate) async fn document(
        &self,
        caller: &Principal,
        bucket: &str,
        kind: BucketConfigKind,
        missing: &'static str,
    ) -> StoreResult<String> {
        self.authorize(caller, bucket, Action::Read).await?;
        self.stored_document(bucket, kind)
            .await?
            .ok_or(StoreError::NoSuchConfiguration(missing))
    }

    pub(crate) async fn stored_access_block(&self, bucket: &str) -> StoreResult<PublicAccessBlock> {
        match self
            .stored_document(bucket, BucketConfigKind::PublicAccessBlock)
            .await?
        {
            Some(text) => Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?),
            None => Ok(PublicAccessBlock::default()),
        }
    }

    pub(crate) async fn stored_acl(&self, bucket: &str) -> StoreResult<Acl> {
        Ok(self
            .stored_document(bucket, BucketConfigKind::Acl)
            .await?
            .map(|text| Acl::parse_stored(&text))
            .unwrap_or_default())
    }

    pub(crate) async fn stored_policy(&self, bucket: &str) -> StoreResult<Option<BucketPolicy>> {
        Ok(self
            .stored_document(bucket, BucketConfigKind::Policy)
            .await?
            .and_then(|text| BucketPolicy::parse(bucket, &text).ok()))
    }

    /// Refuses a public ACL while the bucket blocks them (`BlockPublicAcls`), as AWS does.
    ///
    /// # Errors
    /// `AccessDenied`.
    pub async fn check_acl_allowed(&self, bucket: &str, acl: &Acl) -> StoreResult<()> {
        if acl.is_public() && self.stored_access_block(bucket).await?.block_public_acls {
            return Err(StoreError::AccessDenied(
                "the bucket's Block Public Access settings forbid public ACLs".into(),
            ));
        }
        Ok(())
    }

    /// Sets the bucket's ACL (canned or a grant list).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied` (another project, a reader, or a public ACL under
    /// `BlockPublicAcls`), `AccessControlListNotSupported` (the bucket owner enforces ownership).
    pub async fn set_bucket_acl(
        &self,
        caller: &Principal,
        bucket: &str,
        acl: Acl,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        self.check_acl_allowed(bucket, &acl).await?;
        // With ACLs disabled, setting one fails whatever it grants, as AWS answers.
        if self.acls_disabled(bucket).await? {
            return Err(crate::ownership::acl_not_supported());
        }
        self.put_document(caller, bucket, BucketConfigKind::Acl, acl.stored())
            .await
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_acl(&self, caller: &Principal, bucket: &str) -> StoreResult<Acl> {
        self.authorize(caller, bucket, Action::Read).await?;
        self.stored_acl(bucket).await
    }

    /// Sets the ACL of one object version (`version`: S3's `versionId`).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`, `AccessDenied`,
    /// `AccessControlListNotSupported`.
    pub async fn set_object_acl(
        &self,
        caller: &Principal,
        object: (&str, &str, &stratus_meta::VersionSelector),
        acl: Acl,
    ) -> StoreResult<()> {
        let (bucket, key, version) = object;
        self.authorize(caller, bucket, Action::Write).await?;
        self.check_acl_allowed(bucket, &acl).await?;
        // With ACLs disabled, setting one fails whatever it grants, as AWS answers.
        if self.acls_disabled(bucket).await? {
            return Err(crate::ownership::acl_not_supported());
        }
        let stored = acl.stored();
        let edit: stratus_meta::HeaderEdit = Box::new(move |record| {
            let mut headers = record.headers.clone();
            headers.acl = stored;
            Ok(headers)
        });
        self.meta
            .edit_object_headers(bucket, key, version.clone(), edit)
            .await?;
        Ok(())
    }

    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`, `AccessDenied`.
    pub async fn object_acl(
        &self,
        caller: &Principal,
        object: (&str, &str, &stratus_meta::VersionSelector),
    ) -> StoreResult<Acl> {
        let (bucket, key, version) = object;
        let record = self
            .head_object_version(caller, bucket, key, version)
            .await?;
        Ok(record
            .headers
            .acl
            .map(|acl| Acl::parse_stored(&acl))
            .unwrap_or_default())
    }

    /// Validates and stores a bucket policy.
    ///
    /// # Errors
    /// `MalformedPolicy`; `AccessDenied` for a public policy under `BlockPublicPolicy`.
    pub async fn set_bucket_policy(
        &self,
        caller: &Principal,
        bucket: &str,
        text: &str,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        let policy =
            BucketPolicy::parse(bucket, text).map_err(|m| invalid("MalformedPolicy", m))?;
        if policy.is_public() && self.stored_access_block(bucket).await?.block_public_policy {
            return Err(StoreError::AccessDenied(
                "the bucket's Block Public Access settings forbid public policies".into(),
            ));
        }
        self.put_document(caller, bucket, BucketConfigKind::Policy, Some(policy.text))
            .await
    }

    /// # Errors
    /// `NoSuchBucketPolicy`, `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_policy(&self, caller: &Principal, bucket: &str) -> StoreResult<String> {
        self.document(
            caller,
            bucket,
            BucketConfigKind::Policy,
            "NoSuchBucketPolicy",
        )
        .await
    }

    /// Whether the bucket is public (GetBucketPolicyStatus).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_policy_is_public(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<bool> {
        self.authorize(caller, bucket, Action::Read).await?;
        // As AWS reports it (and ceph/s3-tests check): public through the policy, or through
        // a bucket ACL granting everyone or every key, as far as Block Public Access lets
        // them count. No policy is simply not public.
        let block = self.stored_access_block(bucket).await?;
        let policy_public = self
            .stored_policy(bucket)
            .await?
            .is_some_and(|p| p.is_public());
        let acl_public = !block.ignore_public_acls
            && !self.acls_disabled(bucket).await?
            && self.stored_acl(bucket).await?.is_public();
        Ok(policy_public || acl_public)
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn delete_bucket_policy(&self, caller: &Principal, bucket: &str) -> StoreResult<()> {
        self.put_document(caller, bucket, BucketConfigKind::Policy, None)
            .await
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn set_public_access_block(
        &self,
        caller: &Principal,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> StoreResult<()> {
        let document = block
            .map(|b| serde_json::to_string(&b).map_err(stratus_meta::MetaError::from))
            .transpose()?;
        self.put_document(
            caller,
            bucket,
            BucketConfigKind::PublicAccessBlock,
            document,
        )
        .await
    }

    /// # Errors
    /// `NoSuchPublicAccessBlockConfiguration`, `NoSuchBucket`, `AccessDenied`.
    pub async fn public_access_block(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<PublicAccessBlock> {
        let text = self
            .document(
                caller,
                bucket,
                BucketConfigKind::PublicAccessBlock,
                "NoSuchPublicAccessBlockConfiguration",
            )
            .await?;
        Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?)
    }

    /// Replaces the bucket's tags (`None` deletes them).
    ///
    /// # Errors
    /// `InvalidTag`, `NoSuchBucket`, `AccessDenied`.
    pub async fn set_bucket_tags(
        &self,
        caller: &Principal,
        bucket: &str,
        tags: Option<TagSet>,
    ) -> StoreResult<()> {
        if let Some(tags) = &tags {
            validate_tags(tags, TagOwner::Bucket)?;
        }
        let document = tags
            .map(|t| serde_json::to_string(&t).map_err(stratus_meta::MetaError::from))
            .transpose()?;
        self.put_document(caller, bucket, BucketConfigKind::Tagging, document)
            .await
    }

    /// # Errors
    /// `NoSuchTagSet`, `NoSuchBucket`, `AccessDenied`.
    pub async fn bucket_tags(&self, caller: &Principal, bucket: &str) -> StoreResult<TagSet> {
        let text = self
            .document(caller, bucket, BucketConfigKind::Tagging, "NoSuchTagSet")
            .await?;
        Ok(serde_json::from_str(&text).map_err(stratus_meta::MetaError::from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> TagSet {
        (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect()
    }

    #[test]
    fn tag_sets_follow_s3s_limits() {
        assert!(validate_tags(&tags(50), TagOwner::Bucket).is_ok());
        assert!(validate_tags(&tags(51), TagOwner::Bucket).is_err());
        assert!(validate_tags(&tags(10), TagOwner::Object).is_ok());
        assert!(validate_tags(&tags(11), TagOwner::Object).is_err());
        assert!(validate_tags(&[("k".repeat(128), "v".repeat(256))], TagOwner::Bucket).is_ok());
        assert!(validate_tags(&[("k".repeat(129), String::new())], TagOwner::Bucket).is_err());
        assert!(validate_tags(&[("k".into(), "v".repeat(257))], TagOwner::Bucket).is_err());
        assert!(
            validate_tags(
                &[("a".into(), "1".into()), ("a".into(), "2".into())],
                TagOwner::Bucket
            )
            .is_err()
        );
        assert!(validate_tags(&[("aws:x".into(), "1".into())], TagOwner::Bucket).is_err());
    }
}
