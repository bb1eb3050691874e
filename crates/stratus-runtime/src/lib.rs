//! Functions: the model's lifecycle (create, update, publish, delete), sandboxed warm workers
//! that serve the Lambda Runtime API, pools that scale them, synchronous and durable
//! asynchronous invocation, metering and logs.
//!
//! [`Functions`] is the domain service the edge calls; like the store, every public method
//! takes the calling [`Principal`] and enforces tenancy and roles itself.
//!
//! Files:
//! - `functions.rs` — the service: lifecycle of functions and versions, tenancy checks, the
//!   background tasks (dispatcher, schedules, keep-warm, log retention sweeper).
//! - `views.rs` — resolved function versions cached for the invocation path (a generation
//!   counter makes a read that raced a change uncacheable; per process).
//! - `invoke.rs` — running an invocation: pool slot → worker → metering, START/END/REPORT lines;
//!   queued invocations share a few cold-start permits. `report.rs` writes Lambda's log lines
//!   and error documents; `invocation_metrics.rs` and `usage.rs` record each invocation into the
//!   metrics and the usage meter.
//! - `pool.rs`, `quotas.rs` — warm workers per function revision, reserved concurrency, the
//!   global memory budget, and the project quotas (concurrency, memory) enforced there.
//! - `worker.rs` — one worker process (its cgroup, Runtime API and output file); init errors,
//!   exits, timeouts and OOM kills become outcomes.
//! - `runtime_api.rs` — the Lambda Runtime API one worker polls, served over plain hyper;
//!   `runtime_peer.rs` tells whose socket a connection is when there is no sandbox.
//! - `host.rs` — what the host offers: Python, sandbox, cgroups, the operator's limits.
//! - `sandbox.rs` — the bubblewrap command; `netns.rs` the worker's network namespace (the only
//!   `unsafe` in the workspace); `outbound.rs` pasta for projects allowed outside and for
//!   builds; `seccomp.rs` the denied system calls; `cgroup.rs` memory, CPU and process limits on
//!   v1 or v2, with `cgroup/own.rs` placing them below the server's own group
//!   (`/proc/self/cgroup`). See `docs/security.md`.
//! - `code.rs` — code packages by SHA-256 (zip durable before the row, tree unpacked beside it).
//! - `envs.rs`, `env_build.rs` — dependency environments (hash, layout, atomic commit,
//!   collection) and the sandboxed pip builds that fill them.
//! - `dispatch.rs` — committed asynchronous invocations: retries, maximum event age, dead
//!   letters, chains deeper than 16 refused; `event_invoke.rs` their per-function settings;
//!   `destinations.rs` the invocation records sent through a `DestinationSink`.
//! - `schedules.rs` — fires due schedules (one transaction advances the schedule and queues an
//!   invocation whose id derives from schedule and fire time).
//! - `urls.rs` — function URL settings and their invocation.
//! - `logs/` — function logs: one append-only file per log stream, written by one thread in
//!   rounds of appends and fsyncs (`writer.rs`, `files.rs`); `filter.rs` CloudWatch's filter
//!   syntax. `log_groups/` — the CloudWatch view (groups, streams, cursors, retention).
//! - `runtimes/python/bootstrap.py` (beside `src/`) — our stdlib Python runtime client.

pub mod cgroup;
pub mod code;
mod destinations;
mod dispatch;
mod env_build;
pub mod envs;
mod event_invoke;
mod functions;
mod host;
mod invocation_metrics;
mod invoke;
mod log_groups;
pub mod logs;
pub mod netns;
pub mod outbound;
mod pool;
mod quotas;
pub use pool::ProjectLoad;
mod report;
mod runtime_api;
mod runtime_peer;
pub mod sandbox;
mod schedules;
pub mod seccomp;
mod urls;
mod usage;
mod views;
mod worker;

pub use destinations::{
    Condition, DeliveryFailed, DestinationSink, delivery_id, invocation_record,
};
pub use env_build::{BuildEvent, Built, EnvironmentBuild, MAX_REQUIREMENTS_BYTES};
pub use envs::{EnvInfo, environment_hash};
pub use event_invoke::{EventInvokeSettings, MAX_EVENT_AGE_S, MAX_RETRY_ATTEMPTS, MIN_EVENT_AGE_S};
pub use functions::{CodeUpdate, ConfigUpdate, FunctionView, Functions, NewFunction};
pub use host::{HostPython, RuntimeConfig};
pub use invoke::{InvokeRequest, InvokeResponse, Metering};
pub use log_groups::{
    EventsPage, EventsQuery, FilterCursor, FilterPage, FilterQuery, LogGroup, RETENTION_DAYS,
    StreamCursor, group_function, group_name,
};
pub use logs::filter::{FilterPattern, PatternError};
pub use logs::{LogLine, StoredEvent, StreamSummary};
pub use schedules::{ScheduleSpecs, ScheduleView};
pub use stratus_identity::Principal;
pub use urls::{UrlAuth, UrlSettings};

use stratus_meta::MetaError;

/// Lambda's limit on a synchronous request payload.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Lambda's limit on an asynchronous (Event) payload: 1 MB since AWS raised it from 256 KB in
/// October 2025.
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// Failures of the function service, named by meaning; the edge maps them to Lambda's errors.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The revision a caller expected is no longer current.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// Concurrency or memory budget exhausted.
    #[error("{0}")]
    Throttled(String),
    /// The project's concurrent-invocation quota is reached (Lambda's account concurrency limit).
    #[error("{0}")]
    ConcurrencyLimitExceeded(String),
    /// Creating this would take the project past a quota (the function count).
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("{0}")]
    TooLarge(String),
    /// Code cannot run because the host has no sandbox and insecure mode was not chosen.
    #[error("{0}")]
    Unavailable(String),
    #[error("metadata storage failed")]
    Storage(#[from] MetaError),
    #[error("file system error")]
    Io(#[from] std::io::Error),
}

pub type RuntimeResult<T> = Result<T, RuntimeError>;

pub use stratus_core::clock::now_ms;

/// A fresh request id: a random (version 4) UUID, as Lambda's are.
#[must_use]
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub use stratus_core::arn::account_id;

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
#[must_use]
pub fn function_arn(region: &str, project: &str, name: &str, qualifier: Option<&str>) -> String {
    let base = format!(
        "arn:aws:lambda:{region}:{}:function:{name}",
        account_id(project)
    );
    match qualifier {
        Some(q) => format!("{base}:{q}"),
        None => base,
    }
}
