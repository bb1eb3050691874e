//! The repository traits: the only way domain crates reach persistent metadata.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use stratus_core::NotificationRule;

use crate::CompletedUpload;
use crate::{
    AppRecord, BucketRecord, EventInvokeConfigRecord, FunctionRecord, FunctionUrlRecord, Garbage,
    InvocationRecord, KeyRecord, MappingRecord, MetaResult, ObjectHeaders, ObjectRecord,
    ObjectSummary, OutboxRecord, PartRecord, PendingEvent, ScheduleRecord, UploadRecord,
    VersionRecord, WriteCondition,
};
use crate::{
    BucketObjectLock, BucketVersioning, HeaderEdit, ObjectVersionSummary, VersionCursor,
    VersionSelector,
};
use crate::{
    ClaimOutcome, ClaimRequest, NewMessage, QueueCounts, QueueRecord, ReceiptOutcome, SendOutcome,
    VisibilityChange,
};
use crate::{DeliverySelector, PublishOutcome, SnsDeliveryRecord, SubscriptionRecord, TopicRecord};

/// Projects and access keys.
#[async_trait]
pub trait IdentityRepository: Send + Sync + 'static {
    /// Stores a key, creating its project when this is the project's first key.
    async fn create_key(&self, key: KeyRecord) -> MetaResult<()>;
    async fn get_key(&self, access_key_id: &str) -> MetaResult<Option<KeyRecord>>;
    /// All keys, or the keys of one project.
    async fn list_keys(&self, project: Option<&str>) -> MetaResult<Vec<KeyRecord>>;
    /// Returns false when no such key existed.
    async fn delete_key(&self, access_key_id: &str) -> MetaResult<bool>;
}

/// The checksums of multipart uploads: each part's verified checksums, and the upload's
/// headers once its object checksum is known (`sqlite/part_checksums.rs`).
#[async_trait]
pub trait MultipartChecksumRepository: Send + Sync + 'static {
    /// Records the verified checksums of part `part_number` if `blob` is still its body: when a
    /// later upload of the same number replaced it, that upload's checksums stand.
    async fn set_part_checksums(
        &self,
        upload_id: &str,
        part_number: u32,
        blob: &str,
        checksums: BTreeMap<String, String>,
    ) -> MetaResult<()>;
    /// Each recorded part's checksums by part number.
    async fn part_checksums(
        &self,
        upload_id: &str,
    ) -> MetaResult<BTreeMap<u32, BTreeMap<String, String>>>;
    /// Replaces an upload's headers, which its completed object takes over.
    async fn set_upload_headers(&self, upload_id: &str, headers: ObjectHeaders) -> MetaResult<()>;
}

/// Buckets, objects, multipart uploads and the event outbox. Every mutating method is one
/// transaction: the row change and its outbox events commit together or not at all.
#[async_trait]
pub trait ObjectRepository:
    BucketConfigRepository
    + MultipartChecksumRepository
    + crate::LifecycleRepository
    + Send
    + Sync
    + 'static
{
    /// Fails with [`crate::MetaError::BucketOwnedBy`] when the name is taken (by any project).
    async fn create_bucket(&self, bucket: BucketRecord) -> MetaResult<()>;
    async fn get_bucket(&self, name: &str) -> MetaResult<Option<BucketRecord>>;
    async fn list_buckets(&self, project: &str) -> MetaResult<Vec<BucketRecord>>;
    /// Deletes an empty bucket; aborts its multipart uploads and returns their blobs.
    async fn delete_bucket(&self, name: &str) -> MetaResult<Garbage>;
    async fn set_notifications(&self, bucket: &str, rules: Vec<NotificationRule>)
    -> MetaResult<()>;
    /// In one transaction, across every bucket of `project`: removes the rules whose id starts
    /// with `owner` and adds `rules` (bucket, rule), whose ids must start with `owner` too. How a
    /// function's `triggers:` replace its previous ones without touching rules set otherwise.
    /// [`crate::MetaError::NotFound`] if a named bucket is not the project's.
    async fn replace_owned_rules(
        &self,
        project: &str,
        owner: &str,
        rules: Vec<(String, NotificationRule)>,
    ) -> MetaResult<()>;

    /// Inserts or replaces an object and records the matching outbox events.
    async fn put_object(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
        event: PendingEvent,
    ) -> MetaResult<Garbage>;
    /// The current version of a key, unless it is a delete marker.
    async fn get_object(&self, bucket: &str, key: &str) -> MetaResult<Option<ObjectRecord>>;
    /// One version of a key (the current one, delete markers included, or a named one).
    async fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
    ) -> MetaResult<Option<ObjectRecord>>;
    /// A delete without a version id: in an unversioned bucket, deletes the object if present
    /// (S3 deletes are idempotent; events only for a real deletion); in a versioned one, adds a
    /// delete marker (with id `marker_version_id` when versioning is enabled).
    async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        marker_version_id: String,
        event: PendingEvent,
    ) -> MetaResult<Garbage>;
    /// Deletes one version for good, unless Object Lock keeps it at `lock_check.0` (now, ms)
    /// with `lock_check.1` (bypass GOVERNANCE): [`crate::MetaError::ObjectLocked`]. A version
    /// that does not exist is no change (and no event).
    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
        lock_check: (i64, bool),
        event: PendingEvent,
    ) -> MetaResult<Garbage>;
    /// Replaces one version's headers (tags, retention, legal hold) by what `edit` returns, in
    /// one transaction with reading them; returns the version's id.
    async fn edit_object_headers(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSelector,
        edit: HeaderEdit,
    ) -> MetaResult<Option<String>>;
    /// Up to `limit` versions and delete markers of keys starting with `prefix`, after `after`,
    /// by key (byte order) and newest first.
    async fn list_object_versions(
        &self,
        bucket: &str,
        prefix: &str,
        after: VersionCursor,
        limit: usize,
    ) -> MetaResult<Vec<ObjectVersionSummary>>;
    async fn set_bucket_versioning(
        &self,
        bucket: &str,
        versioning: BucketVersioning,
    ) -> MetaResult<()>;
    async fn set_bucket_object_lock(
        &self,
        bucket: &str,
        config: BucketObjectLock,
    ) -> MetaResult<()>;
    /// Up to `limit` objects whose keys start with `prefix` and sort strictly after `after`
    /// (byte order), in key order.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        after: &[u8],
        limit: usize,
    ) -> MetaResult<Vec<ObjectSummary>>;

    async fn create_upload(&self, upload: UploadRecord) -> MetaResult<()>;
    async fn get_upload(&self, upload_id: &str) -> MetaResult<Option<UploadRecord>>;
    /// Records a part, replacing an earlier upload of the same part number.
    async fn put_part(&self, upload_id: &str, part: PartRecord) -> MetaResult<Garbage>;
    async fn list_parts(&self, upload_id: &str) -> MetaResult<Vec<PartRecord>>;
    async fn list_uploads(&self, bucket: &str, prefix: &str) -> MetaResult<Vec<UploadRecord>>;
    /// Replaces the upload by `object` (whose segments are some of its parts), returns the blobs
    /// of parts not used and of any object overwritten.
    async fn complete_upload(
        &self,
        upload_id: &str,
        object: ObjectRecord,
        event: PendingEvent,
    ) -> MetaResult<Garbage>;
    /// [`Self::complete_upload`] after checking `condition` against the current object, in the
    /// same transaction (S3's conditional CompleteMultipartUpload).
    async fn complete_upload_if(
        &self,
        upload_id: &str,
        object: ObjectRecord,
        condition: WriteCondition,
        event: PendingEvent,
    ) -> MetaResult<Garbage>;
    /// What a completion of this upload wrote, if it completed recently (a day).
    async fn completed_upload(&self, upload_id: &str) -> MetaResult<Option<CompletedUpload>>;
    async fn abort_upload(&self, upload_id: &str) -> MetaResult<Garbage>;

    /// Outbox events not yet consumed, oldest first.
    async fn pending_events(&self, limit: usize) -> MetaResult<Vec<OutboxRecord>>;
    /// The newest `limit` outbox events, pending or consumed, oldest first.
    async fn recent_events(&self, limit: usize) -> MetaResult<Vec<OutboxRecord>>;
    /// Marks an outbox event consumed (delivered, or given up on with `failure` saying why).
    /// Consuming an event twice changes nothing.
    async fn consume_event(&self, event_id: &str, failure: Option<String>) -> MetaResult<()>;
    /// Every blob id referenced by an object or a part; start-up garbage collection keeps these.
    async fn referenced_blobs(&self) -> MetaResult<HashSet<String>>;
    /// The highest event sequencer ever stored, so sequencers keep increasing across restarts.
    async fn max_sequencer(&self) -> MetaResult<u64>;
}

/// Bucket configuration documents (see [`crate::BucketConfigKind`]) and in-place header updates
/// of current objects (their ACL). Every SQLite object store has them, hence a supertrait of
/// [`ObjectRepository`].
#[async_trait]
pub trait BucketConfigRepository: Send + Sync + 'static {
    /// Stores (`Some`) or removes (`None`) one configuration document of an existing bucket.
    /// [`crate::MetaError::NotFound`] when the bucket does not exist.
    async fn set_bucket_config(
        &self,
        bucket: &str,
        kind: crate::BucketConfigKind,
        document: Option<String>,
    ) -> MetaResult<()>;
    async fn bucket_config(
        &self,
        bucket: &str,
        kind: crate::BucketConfigKind,
    ) -> MetaResult<Option<String>>;
    /// Every bucket that has a document of `kind`, with the document, by bucket name (for
    /// background work such as the lifecycle sweeper).
    async fn buckets_with_config(
        &self,
        kind: crate::BucketConfigKind,
    ) -> MetaResult<Vec<(String, String)>>;
}

/// How long each function's logs are kept (CloudWatch Logs' retention policy of its group).
/// A function without a row keeps its logs forever; deleting the function deletes its row.
#[async_trait]
pub trait LogRetentionRepository: Send + Sync + 'static {
    /// Sets (`Some(days)`) or removes (`None`) a function's retention;
    /// [`crate::MetaError::NotFound`] if there is no such function.
    async fn set_log_retention(
        &self,
        project: &str,
        function: &str,
        days: Option<u32>,
    ) -> MetaResult<()>;
    /// The retention of every function of `project` that has one, by function name.
    async fn log_retentions(&self, project: &str) -> MetaResult<BTreeMap<String, u32>>;
    /// Every retention of every project, as `(project, function, days)`: for the sweeper.
    async fn all_log_retentions(&self) -> MetaResult<Vec<(String, String, u32)>>;
}

/// Functions, their versions and schedules, and durable asynchronous invocations.
#[async_trait]
pub trait FunctionRepository: LogRetentionRepository + Send + Sync + 'static {
    /// Creates a function with its `$LATEST` version; [`crate::MetaError::AlreadyExists`] if the
    /// project already has one of that name.
    async fn create_function(
        &self,
        function: FunctionRecord,
        latest: VersionRecord,
    ) -> MetaResult<()>;
    async fn get_function(&self, project: &str, name: &str) -> MetaResult<Option<FunctionRecord>>;
    /// `$LATEST` of up to `limit` functions of a project named after `after`, by name.
    async fn list_functions(
        &self,
        project: &str,
        after: &str,
        limit: usize,
    ) -> MetaResult<Vec<VersionRecord>>;
    /// Every version of every function (start-up: warm pools, code checks).
    async fn all_functions(&self) -> MetaResult<Vec<VersionRecord>>;
    async fn get_version(
        &self,
        project: &str,
        name: &str,
        version: &str,
    ) -> MetaResult<Option<VersionRecord>>;
    /// `$LATEST` first, then published versions in order.
    async fn list_versions(&self, project: &str, name: &str) -> MetaResult<Vec<VersionRecord>>;
    /// Replaces `$LATEST`; [`crate::MetaError::PreconditionFailed`] when `expected_revision`
    /// is given and is not the current one.
    async fn update_latest(
        &self,
        version: VersionRecord,
        expected_revision: Option<String>,
    ) -> MetaResult<()>;
    /// Freezes `$LATEST` as the next version number (or returns the newest version when
    /// nothing changed since, as Lambda does).
    async fn publish_version(
        &self,
        project: &str,
        name: &str,
        now_ms: i64,
    ) -> MetaResult<VersionRecord>;
    async fn set_reserved_concurrency(
        &self,
        project: &str,
        name: &str,
        reserved: Option<u32>,
    ) -> MetaResult<()>;
    /// Deletes the function and all its versions; returns the deleted function.
    async fn delete_function(&self, project: &str, name: &str) -> MetaResult<FunctionRecord>;
    /// Gives a function its URL; [`crate::MetaError::AlreadyExists`] when it has one or the
    /// name is taken server-wide.
    async fn create_function_url(&self, url: FunctionUrlRecord) -> MetaResult<()>;
    /// Replaces a URL's settings; [`crate::MetaError::NotFound`] when the function has none.
    async fn update_function_url(&self, url: FunctionUrlRecord) -> MetaResult<()>;
    async fn delete_function_url(&self, project: &str, function: &str) -> MetaResult<()>;
    async fn get_function_url(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Option<FunctionUrlRecord>>;
    /// The URL served at `/fn/FUNCTION/`, whichever project owns it.
    async fn function_url_by_name(&self, function: &str) -> MetaResult<Option<FunctionUrlRecord>>;

    /// Every code hash some version references; start-up removes unreferenced code.
    async fn code_in_use(&self) -> MetaResult<HashSet<String>>;

    /// Inserts or replaces an asynchronous invocation; accepted means this committed.
    async fn put_invocation(&self, invocation: InvocationRecord) -> MetaResult<()>;
    async fn get_invocation(&self, id: &str) -> MetaResult<Option<InvocationRecord>>;
    /// Queued invocations, the earliest due first.
    async fn queued_invocations(&self, limit: usize) -> MetaResult<Vec<InvocationRecord>>;
    /// A function's dead-lettered invocations, newest first.
    async fn dead_letters(
        &self,
        project: &str,
        function: &str,
        limit: usize,
    ) -> MetaResult<Vec<InvocationRecord>>;

    /// Replaces a function's schedules in one transaction and returns them as stored. An entry
    /// whose expression a current schedule has takes over that schedule's id and next fire time
    /// (redeploying must not postpone, or re-fire, a schedule); the others are stored as given.
    /// Deleting the function deletes its schedules. [`crate::MetaError::NotFound`] if there is
    /// no such function.
    async fn replace_schedules(
        &self,
        project: &str,
        function: &str,
        schedules: Vec<ScheduleRecord>,
    ) -> MetaResult<Vec<ScheduleRecord>>;
    /// A function's schedules by position.
    async fn list_schedules(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Vec<ScheduleRecord>>;
    /// Schedules due at or before `until_ms`, the earliest first.
    async fn due_schedules(&self, until_ms: i64, limit: usize) -> MetaResult<Vec<ScheduleRecord>>;
    /// Fires a schedule: in one transaction, moves its next fire time from `fired_ms` to
    /// `next_fire_ms` and inserts `invocation` (unless an invocation with that id exists; `None`
    /// only advances). Returns false and changes nothing when the schedule is gone or no longer
    /// due at `fired_ms` (replaced, or fired by another process).
    async fn advance_schedule(
        &self,
        id: &str,
        fired_ms: i64,
        next_fire_ms: Option<i64>,
        invocation: Option<InvocationRecord>,
    ) -> MetaResult<bool>;

    /// Queues `invocation` unless one with its id exists (a redelivered event queues nothing
    /// new); returns whether it was inserted.
    async fn queue_invocation_once(&self, invocation: InvocationRecord) -> MetaResult<bool>;

    /// Creates or replaces a function's asynchronous-invocation settings for one qualifier;
    /// [`crate::MetaError::NotFound`] if there is no such function. Deleting the function
    /// deletes them.
    async fn put_event_invoke_config(&self, config: EventInvokeConfigRecord) -> MetaResult<()>;
    async fn get_event_invoke_config(
        &self,
        project: &str,
        function: &str,
        qualifier: &str,
    ) -> MetaResult<Option<EventInvokeConfigRecord>>;
    /// A function's settings for every qualifier that has some, by qualifier.
    async fn list_event_invoke_configs(
        &self,
        project: &str,
        function: &str,
    ) -> MetaResult<Vec<EventInvokeConfigRecord>>;
    /// Returns false when there was nothing to delete.
    async fn delete_event_invoke_config(
        &self,
        project: &str,
        function: &str,
        qualifier: &str,
    ) -> MetaResult<bool>;
}

/// Applications: per project, what `stratus apply` created for each named application.
#[async_trait]
pub trait AppRepository: Send + Sync + 'static {
    /// Creates or replaces the application's row.
    async fn put_app(&self, app: AppRecord) -> MetaResult<()>;
    async fn get_app(&self, project: &str, name: &str) -> MetaResult<Option<AppRecord>>;
    /// The project's applications by name.
    async fn list_apps(&self, project: &str) -> MetaResult<Vec<AppRecord>>;
    /// Returns false when no such application existed.
    async fn delete_app(&self, project: &str, name: &str) -> MetaResult<bool>;
}

/// Lambda event source mappings (a queue consumed by a function).
#[async_trait]
pub trait MappingRepository: Send + Sync + 'static {
    /// Creates or replaces a mapping. NotFound when its function does not exist.
    async fn put_mapping(&self, mapping: MappingRecord) -> MetaResult<()>;
    async fn get_mapping(&self, uuid: &str) -> MetaResult<Option<MappingRecord>>;
    /// One project's mappings, or every project's with `None` (the pollers' view).
    async fn list_mappings(&self, project: Option<&str>) -> MetaResult<Vec<MappingRecord>>;
    /// Records what the last batch did, without touching the rest of the row.
    async fn set_mapping_result(&self, uuid: &str, result: &str) -> MetaResult<()>;
    /// Returns false when no such mapping existed.
    async fn delete_mapping(&self, uuid: &str) -> MetaResult<bool>;
}

/// Queues and their messages. Every method that changes messages is one transaction, receives
/// included: claiming a message (new visibility time, receive count, receipt) is a write, so two
/// receivers never get the same visible message and a restart keeps every timer and count.
#[async_trait]
pub trait QueueRepository: Send + Sync + 'static {
    /// Creates the queue, or returns the one already stored under that name (the caller decides
    /// whether its attributes match).
    async fn create_queue(&self, queue: QueueRecord) -> MetaResult<QueueRecord>;
    async fn get_queue(&self, project: &str, name: &str) -> MetaResult<Option<QueueRecord>>;
    /// The project's queues whose names start with `prefix`, by name.
    async fn list_queues(&self, project: &str, prefix: &str) -> MetaResult<Vec<QueueRecord>>;
    /// Replaces attributes and tags; [`crate::MetaError::NotFound`] without such a queue.
    async fn update_queue(&self, queue: QueueRecord) -> MetaResult<()>;
    /// Deletes the queue with its messages; false when there was none.
    async fn delete_queue(&self, project: &str, name: &str) -> MetaResult<bool>;
    /// Deletes every message of the queue; returns how many.
    async fn purge_queue(&self, project: &str, name: &str) -> MetaResult<u64>;

    /// Commits all `messages` in one transaction. A message whose `dedup_id` was seen on this
    /// queue in the last `dedup_window_ms` is not added (its outcome names the first one).
    /// [`crate::MetaError::NotFound`] without such a queue.
    async fn send_messages(
        &self,
        project: &str,
        queue: &str,
        messages: Vec<NewMessage>,
        dedup_window_ms: i64,
    ) -> MetaResult<Vec<SendOutcome>>;
    /// Claims up to `request.max` visible messages (see [`ClaimRequest`]).
    async fn claim_messages(
        &self,
        project: &str,
        queue: &str,
        request: ClaimRequest,
    ) -> MetaResult<ClaimOutcome>;
    /// Deletes each `(seq, receipt)` whose receipt is current, in one transaction.
    async fn delete_messages(
        &self,
        project: &str,
        queue: &str,
        receipts: Vec<(i64, String)>,
    ) -> MetaResult<Vec<ReceiptOutcome>>;
    /// Applies each change whose receipt is current, in one transaction.
    async fn change_visibility(
        &self,
        project: &str,
        queue: &str,
        changes: Vec<VisibilityChange>,
    ) -> MetaResult<Vec<ReceiptOutcome>>;
    async fn queue_counts(
        &self,
        project: &str,
        queue: &str,
        now_ms: i64,
    ) -> MetaResult<QueueCounts>;
    /// Deletes messages older than their queue's `MessageRetentionPeriod` and deduplication
    /// entries past their window; returns how many messages went.
    async fn sweep_queues(&self, now_ms: i64) -> MetaResult<u64>;
}

/// SNS-compatible topics, their subscriptions and the durable delivery outbox.
#[async_trait]
pub trait TopicRepository: Send + Sync + 'static {
    /// Creates the topic, or returns the existing one of that name unchanged.
    async fn create_topic(&self, topic: TopicRecord) -> MetaResult<TopicRecord>;
    async fn get_topic(&self, project: &str, name: &str) -> MetaResult<Option<TopicRecord>>;
    /// Up to `limit` topics of `project` whose names sort after `after`, by name.
    async fn list_topics(
        &self,
        project: &str,
        after: Option<&str>,
        limit: usize,
    ) -> MetaResult<Vec<TopicRecord>>;
    /// Replaces a topic's attributes; false when there is no such topic.
    async fn set_topic_attributes(
        &self,
        project: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> MetaResult<bool>;
    /// Deletes a topic with its subscriptions and their pending deliveries.
    async fn delete_topic(&self, project: &str, name: &str) -> MetaResult<bool>;

    /// Stores a subscription and, in the same transaction, `first_delivery` (an HTTP
    /// endpoint's confirmation request). When the topic already has a subscription of that
    /// protocol and endpoint, returns it and stores nothing. NotFound("topic") without the topic.
    async fn subscribe(
        &self,
        subscription: SubscriptionRecord,
        first_delivery: Option<SnsDeliveryRecord>,
    ) -> MetaResult<SubscriptionRecord>;
    async fn get_subscription(&self, arn: &str) -> MetaResult<Option<SubscriptionRecord>>;
    async fn subscription_by_token(&self, token: &str) -> MetaResult<Option<SubscriptionRecord>>;
    /// Subscriptions of `project` (of one topic when given) whose ARNs sort after `after`.
    async fn list_subscriptions(
        &self,
        project: &str,
        topic: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> MetaResult<Vec<SubscriptionRecord>>;
    /// Rewrites a subscription's attributes and confirmation; false when it is gone.
    async fn update_subscription(&self, subscription: SubscriptionRecord) -> MetaResult<bool>;
    /// Deletes a subscription and its pending deliveries.
    async fn delete_subscription(&self, arn: &str) -> MetaResult<bool>;

    /// Publishes to a topic in one transaction: `select` picks each subscription's delivery
    /// and every chosen one is queued. With `idempotency_id` (kept until `expires_ms`), a second
    /// publish of the same id queues nothing. NotFound("topic") without the topic.
    async fn publish(
        &self,
        project: &str,
        topic: &str,
        idempotency_id: Option<(String, i64)>,
        select: DeliverySelector,
    ) -> MetaResult<PublishOutcome>;
    /// Pending deliveries due by `now_ms`, earliest first, and the earliest later due time.
    async fn due_sns_deliveries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> MetaResult<(Vec<SnsDeliveryRecord>, Option<i64>)>;
    /// Records a failed attempt: the new attempt count and when to try again.
    async fn retry_sns_delivery(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_ms: i64,
    ) -> MetaResult<()>;
    /// Removes a delivered (or abandoned) delivery.
    async fn delete_sns_delivery(&self, id: &str) -> MetaResult<()>;
}

/// Metered usage (billing): hourly totals per function and per project's S3 requests and
/// storage. Writes add to what is stored; nothing is ever overwritten.
#[async_trait]
pub trait UsageRepository: Send + Sync + 'static {
    /// Adds every delta to the stored totals in one transaction: all of them or none.
    async fn add_usage(&self, deltas: crate::UsageDeltas) -> MetaResult<()>;
    /// Σ object sizes per project, projects without objects left out (one grouped query).
    async fn stored_bytes(&self) -> MetaResult<Vec<(String, u64)>>;
    /// Records a storage sample taken at `now_ms`: each project's `stored` bytes × the hours
    /// since the previous sample (at most `max_gap_ms`; none at the very first sample) are added
    /// to the byte-hours of `now_ms`'s hour. Returns the hours credited.
    async fn add_storage_sample(
        &self,
        now_ms: i64,
        max_gap_ms: i64,
        stored: Vec<(String, u64)>,
    ) -> MetaResult<f64>;
    /// Stored rows whose hour starts in `[since_ms, until_ms)`, of one project or of all.
    async fn usage_rows(
        &self,
        project: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> MetaResult<crate::UsageRows>;
}

/// Aggregates read when metrics are scraped: one grouped query each, whatever the number of
/// functions or queues.
#[async_trait]
pub trait MetricsRepository: Send + Sync + 'static {
    /// Per function with queued asynchronous invocations: `(project, function, queued,
    /// oldest accepted_ms)`.
    async fn async_backlog(&self) -> MetaResult<Vec<(String, String, u64, i64)>>;
    /// Per queue (every queue, empty ones too): `(project, queue, counts)` as of `now_ms`.
    async fn all_queue_counts(&self, now_ms: i64)
    -> MetaResult<Vec<(String, String, QueueCounts)>>;
}

/// Per-project quotas and the stored usage they limit. Storage totals are kept by the object
/// writes themselves (same transaction), which also refuse a write beyond a limit; this trait
/// reads them and sets the limits.
#[async_trait]
pub trait QuotaRepository: Send + Sync + 'static {
    /// The project's limits (all unlimited when none were set).
    async fn get_quota(&self, project: &str) -> MetaResult<crate::QuotaLimits>;
    /// Replaces the project's limits.
    async fn set_quota(&self, project: &str, limits: crate::QuotaLimits) -> MetaResult<()>;
    /// Every project that has a limit set.
    async fn all_quotas(&self) -> MetaResult<Vec<(String, crate::QuotaLimits)>>;
    /// Stored usage of one project, or of every known project (`None`), ordered by name.
    async fn stored_usage(&self, project: Option<&str>) -> MetaResult<Vec<crate::StoredUsage>>;
}
