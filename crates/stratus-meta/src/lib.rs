//! Metadata persistence. Every piece of state Stratus must not lose — keys, buckets, object rows,
//! multipart uploads, the event outbox, functions and accepted asynchronous invocations — goes
//! through the repository traits defined here.
//! [`SqliteMeta`] implements them on an embedded SQLite database in WAL mode; the scale-out
//! deployment will add a PostgreSQL implementation of the same traits.
//!
//! Files:
//! - `repository.rs` — the repository traits: the only way domain crates reach metadata.
//! - `records.rs`, `*_records.rs` — the plain rows exchanged with them (objects and keys;
//!   functions and invocations; queues; topics; mappings; apps; quotas; usage).
//! - `usage.rs` — the `UsageMeter`: usage summed in memory, flushed every few seconds and at
//!   shutdown in one transaction (a kill -9 loses at most one interval, never counts twice).
//! - `sqlite/mod.rs` — `SqliteMeta`: one writer thread that group-commits (each write in its own
//!   savepoint, one commit, then every answer) and a pool of read connections.
//! - `sqlite/schema.rs` — the schema; keys are BLOBs, so order is S3's byte order.
//! - `sqlite/identity.rs`, `sqlite/quotas.rs` — projects and keys; quotas and the running storage
//!   totals object writes keep in their own transactions.
//! - `sqlite/objects.rs`, `sqlite/uploads.rs` — buckets, objects and the event outbox (bucket
//!   triggers queue their invocation in the same transaction); multipart uploads;
//!   `sqlite/completed_uploads.rs` completions remembered for a day (retried completions).
//! - `sqlite/functions.rs`, `sqlite/function_urls.rs`, `sqlite/event_invoke_configs.rs`,
//!   `sqlite/schedules.rs`, `sqlite/log_retention.rs` — functions, versions and asynchronous
//!   invocations; URLs; async settings; schedules (a fire is one transaction); log retention.
//! - `sqlite/queues.rs`, `sqlite/messages.rs` — queues, and messages (a receive claims in one
//!   write, FIFO group order and redrive included).
//! - `sqlite/topics.rs`, `sqlite/sns_deliveries.rs` — topics and subscriptions; the SNS delivery
//!   outbox.
//! - `bucket_config_records.rs`, `sqlite/bucket_configs.rs` — per-bucket configuration documents
//!   (ACL, policy, public access block, CORS, website, tagging), deleted with their bucket.
//! - `sqlite/mappings.rs`, `sqlite/apps.rs` — event source mappings; application records.
//! - `sqlite/usage.rs`, `sqlite/scrape.rs` — hourly usage totals (UPSERTs); the grouped queries
//!   a `/metrics` scrape reads.

mod app_records;
mod bucket_config_records;
mod function_records;
mod lifecycle_repository;
mod mapping_records;
mod queue_records;
mod quota_records;
mod records;
mod repository;
mod sqlite;
mod topic_records;
mod usage;
mod usage_records;
mod version_records;

pub use app_records::AppRecord;
pub use bucket_config_records::BucketConfigKind;
pub use function_records::*;
pub use lifecycle_repository::{ExpectedVersion, LifecycleRepository};
pub use mapping_records::MappingRecord;
pub use queue_records::*;
pub use quota_records::{QuotaLimits, StoredUsage};
pub use records::*;
pub use repository::{
    AppRepository, BucketConfigRepository, FunctionRepository, IdentityRepository,
    LogRetentionRepository, MappingRepository, MetricsRepository, MultipartChecksumRepository,
    ObjectRepository, QueueRepository, QuotaRepository, TopicRepository, UsageRepository,
};
pub use sqlite::SqliteMeta;
pub use topic_records::*;
pub use usage::{RequestClass, UsageMeter};
pub use usage_records::*;
pub use version_records::*;

/// Failures of the metadata layer, named by meaning so callers can map them to protocol errors.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("bucket is owned by project {owner}")]
    BucketOwnedBy { owner: String },
    #[error("bucket is not empty")]
    BucketNotEmpty,
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    #[error("access key already exists")]
    KeyExists,
    #[error("precondition failed")]
    PreconditionFailed,
    /// Object Lock forbids the change (a retention or legal hold); nothing was changed.
    #[error("{0}")]
    ObjectLocked(&'static str),
    #[error("metadata database error")]
    Database(#[from] rusqlite::Error),
    #[error("stored metadata is corrupt")]
    Corrupt(#[from] serde_json::Error),
    #[error("metadata writer stopped")]
    WriterGone,
    #[error("metadata commit failed: {0}")]
    Commit(String),
    /// A write would take a project past one of its quotas; nothing was changed.
    #[error(
        "quota exceeded: project {project} has {limit} = {max}; it uses {current} and this would make it {requested}"
    )]
    QuotaExceeded {
        project: String,
        /// The limit's name, as the API and CLI spell it (`max_storage_bytes`, ...).
        limit: &'static str,
        max: u64,
        current: u64,
        requested: u64,
    },
}

pub type MetaResult<T> = Result<T, MetaError>;
