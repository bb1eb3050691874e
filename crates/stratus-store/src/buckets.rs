//! Bucket operations.

use stratus_core::{Action, BucketName, NotificationRule};
use stratus_identity::Principal;
use stratus_meta::{BucketObjectLock, BucketRecord, BucketVersioning, MetaError};

use crate::{Store, StoreError, StoreResult, now_ms};

impl Store {
    /// Creates a bucket owned by the caller's project. Names are unique across all projects.
    ///
    /// # Errors
    /// `BucketAlreadyOwnedByYou`, `BucketAlreadyExists`, `AccessDenied` for read-only callers.
    pub async fn create_bucket(&self, caller: &Principal, name: &BucketName) -> StoreResult<()> {
        self.create_bucket_with_lock(caller, name, false).await
    }

    /// Creates a bucket, with Object Lock (and so versioning) enabled when `object_lock`.
    ///
    /// # Errors
    /// As [`Store::create_bucket`].
    pub async fn create_bucket_with_lock(
        &self,
        caller: &Principal,
        name: &BucketName,
        object_lock: bool,
    ) -> StoreResult<()> {
        if !caller.may(Action::Write) {
            return Err(StoreError::AccessDenied(format!(
                "role {} may not create buckets",
                caller.role
            )));
        }
        let record = BucketRecord {
            name: name.as_str().to_owned(),
            project: caller.project.clone(),
            created_ms: now_ms(),
            notifications: Vec::new(),
            versioning: if object_lock {
                BucketVersioning::Enabled
            } else {
                BucketVersioning::Unversioned
            },
            object_lock: object_lock.then(BucketObjectLock::default),
        };
        match self.meta.create_bucket(record).await {
            Ok(()) => {
                // Overwrites any stale entry a read racing an earlier delete may have left.
                if let Ok(mut owners) = self.owners.write() {
                    owners.insert(name.as_str().to_owned(), caller.project.clone());
                }
                Ok(())
            }
            Err(MetaError::BucketOwnedBy { owner }) if owner == caller.project => {
                Err(StoreError::BucketAlreadyOwnedByYou)
            }
            Err(MetaError::BucketOwnedBy { .. }) => Err(StoreError::BucketAlreadyExists),
            Err(other) => Err(other.into()),
        }
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn head_bucket(&self, caller: &Principal, name: &str) -> StoreResult<BucketRecord> {
        self.authorize(caller, name, Action::Read).await?;
        self.meta
            .get_bucket(name)
            .await?
            .ok_or(StoreError::NoSuchBucket)
    }

    /// The caller's project's buckets, by name.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn list_buckets(&self, caller: &Principal) -> StoreResult<Vec<BucketRecord>> {
        Ok(self.meta.list_buckets(&caller.project).await?)
    }

    /// Deletes an empty bucket, aborting its unfinished multipart uploads.
    ///
    /// # Errors
    /// `BucketNotEmpty`, `NoSuchBucket`, `AccessDenied`.
    pub async fn delete_bucket(&self, caller: &Principal, name: &str) -> StoreResult<()> {
        self.authorize(caller, name, Action::Write).await?;
        let garbage = self.meta.delete_bucket(name).await?;
        if let Ok(mut owners) = self.owners.write() {
            owners.remove(name);
        }
        self.after_commit(garbage).await;
        Ok(())
    }

    /// Replaces the bucket's notification rules.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `InvalidArgument` for an unknown event name.
    pub async fn set_notifications(
        &self,
        caller: &Principal,
        bucket: &str,
        rules: Vec<NotificationRule>,
    ) -> StoreResult<()> {
        self.authorize(caller, bucket, Action::Write).await?;
        for pattern in rules.iter().flat_map(|r| r.events.iter()) {
            if !stratus_core::is_known_event_pattern(pattern) {
                return Err(StoreError::InvalidArgument(format!(
                    "the event {pattern} is not supported"
                )));
            }
        }
        Ok(self.meta.set_notifications(bucket, rules).await?)
    }

    /// Replaces the rules whose id starts with `owner` in all the caller's buckets by `rules`
    /// (bucket, rule), in one transaction: how a function's declared triggers are kept in step
    /// with its `triggers:` list while rules set through S3 stay as they are.
    ///
    /// # Errors
    /// `NoSuchBucket`/`AccessDenied` for a bucket that is not the caller's, `InvalidArgument`
    /// for an unknown event or a rule id not starting with `owner`.
    pub async fn replace_owned_rules(
        &self,
        caller: &Principal,
        owner: &str,
        rules: Vec<(String, NotificationRule)>,
    ) -> StoreResult<()> {
        for (bucket, rule) in &rules {
            self.authorize(caller, bucket, Action::Write).await?;
            if !rule.id.starts_with(owner) {
                return Err(StoreError::InvalidArgument(format!(
                    "rule {:?} does not belong to {owner:?}",
                    rule.id
                )));
            }
            if let Some(bad) = rule
                .events
                .iter()
                .find(|e| !stratus_core::is_known_event_pattern(e))
            {
                return Err(StoreError::InvalidArgument(format!(
                    "the event {bad} is not supported"
                )));
            }
        }
        if !caller.may(Action::Write) {
            return Err(StoreError::AccessDenied(
                "changing notification rules needs write access".into(),
            ));
        }
        Ok(self
            .meta
            .replace_owned_rules(&caller.project, owner, rules)
            .await?)
    }

    /// The caller's rules whose id starts with `owner`, with their buckets.
    ///
    /// # Errors
    /// Metadata failures.
    pub async fn owned_rules(
        &self,
        caller: &Principal,
        owner: &str,
    ) -> StoreResult<Vec<(String, NotificationRule)>> {
        let buckets = self.meta.list_buckets(&caller.project).await?;
        Ok(buckets
            .into_iter()
            .flat_map(|bucket| {
                let name = bucket.name;
                bucket
                    .notifications
                    .into_iter()
                    .filter(|rule| rule.id.starts_with(owner))
                    .map(move |rule| (name.clone(), rule))
            })
            .collect())
    }

    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`.
    pub async fn notifications(
        &self,
        caller: &Principal,
        bucket: &str,
    ) -> StoreResult<Vec<NotificationRule>> {
        Ok(self.head_bucket(caller, bucket).await?.notifications)
    }
}
