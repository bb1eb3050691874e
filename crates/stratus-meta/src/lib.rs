//! Metadata persistence. Every piece of state Stratus must not lose — keys, buckets, object rows,
//! multipart uploads, the event outbox, functions and accepted asynchronous invocations — goes through the repository traits defined here.
//! [`SqliteMeta`] implements them on an embedded SQLite database in WAL mode; the scale-out
//! deployment will add a PostgreSQL implementation of the same traits.

mod app_records;
mod function_records;
mod mapping_records;
mod queue_records;
mod quota_records;
mod records;
mod repository;
mod sqlite;
mod topic_records;
mod usage;
mod usage_records;

pub use app_records::AppRecord;
pub use function_records::*;
pub use mapping_records::MappingRecord;
pub use queue_records::*;
pub use quota_records::{QuotaLimits, StoredUsage};
pub use records::*;
pub use repository::{
    AppRepository, FunctionRepository, IdentityRepository, LogRetentionRepository,
    MappingRepository, MetricsRepository, ObjectRepository, QueueRepository, QuotaRepository,
    TopicRepository, UsageRepository,
};
pub use sqlite::SqliteMeta;
pub use topic_records::*;
pub use usage::{RequestClass, UsageMeter};
pub use usage_records::*;

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
