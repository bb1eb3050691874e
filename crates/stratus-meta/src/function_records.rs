//! Rows for functions, their versions and durable asynchronous invocations.

use stratus_core::FunctionConfig;

/// The unversioned part of a function: who owns it and what limits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    pub project: String,
    pub name: String,
    /// Lambda's reserved concurrency: `None` means unreserved (bounded by the host only).
    pub reserved_concurrency: Option<u32>,
    pub created_ms: i64,
    /// The access key the function's own AWS SDK calls use (a member key of its project).
    pub execution_key: String,
}

/// One version of a function: `$LATEST` (mutable) or a published number (frozen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub project: String,
    pub name: String,
    pub version: String,
    pub config: FunctionConfig,
    /// Hex SHA-256 of the code package: the name of its content-addressed directory.
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified_ms: i64,
    /// Changes with every update, for optimistic concurrency (Lambda's `RevisionId`).
    pub revision_id: String,
}

/// Where an asynchronous invocation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationState {
    /// Accepted and durable; runs at `next_attempt_ms`.
    Queued,
    Succeeded,
    /// Every attempt failed, or the event grew too old: kept in the dead-letter store.
    DeadLettered,
}

impl InvocationState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Succeeded => "succeeded",
            Self::DeadLettered => "dead-lettered",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(Self::Queued),
            "succeeded" => Some(Self::Succeeded),
            "dead-lettered" => Some(Self::DeadLettered),
            _ => None,
        }
    }
}

/// An asynchronous invocation: accepted means this row is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationRecord {
    pub id: String,
    pub project: String,
    pub function: String,
    pub qualifier: String,
    pub payload: Vec<u8>,
    pub state: InvocationState,
    /// Attempts made so far.
    pub attempts: u32,
    pub accepted_ms: i64,
    pub next_attempt_ms: i64,
    pub finished_ms: Option<i64>,
    /// The last attempt's response payload (success) or error document (failure).
    pub result: Option<Vec<u8>>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// How many event-triggered invocations led to this one (see `stratus_core::lineage`):
    /// 0 for a direct call, 1 for an upload by a person, N + 1 for an upload by an invocation of
    /// depth N.
    pub chain_depth: u32,
}

impl InvocationRecord {
    /// A new invocation, queued to run now: how every source (Invoke with `Event`, a bucket
    /// trigger, a schedule) accepts one.
    #[must_use]
    pub fn queued(
        id: String,
        function: (&str, &str, &str),
        payload: Vec<u8>,
        now_ms: i64,
        chain_depth: u32,
    ) -> Self {
        let (project, name, qualifier) = function;
        Self {
            id,
            project: project.to_owned(),
            function: name.to_owned(),
            qualifier: qualifier.to_owned(),
            payload,
            state: InvocationState::Queued,
            attempts: 0,
            accepted_ms: now_ms,
            next_attempt_ms: now_ms,
            finished_ms: None,
            result: None,
            error: None,
            chain_depth,
        }
    }
}

/// A function's HTTP endpoint (Lambda's function URL), served at `/fn/FUNCTION/`. Only one
/// function of a name across all projects can have a URL, as bucket names are unique, so that a
/// URL needs no project in its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUrlRecord {
    pub project: String,
    pub function: String,
    /// The version the URL invokes: `$LATEST` or a published number.
    pub qualifier: String,
    /// Lambda's `AuthType`: `NONE`, or `AWS_IAM` (a SigV4 signature or a bearer token of the
    /// function's project).
    pub auth_type: String,
    /// Lambda's `Cors` object as JSON, kept as given.
    pub cors: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A schedule that invokes a function (an EventBridge rule with the function as its target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    /// Random. A redeploy that keeps the expression keeps the id, so invocation ids derived from
    /// it stay unique per schedule and fire time.
    pub id: String,
    pub project: String,
    pub function: String,
    /// Its place among the function's schedules, from 0 (the rule's name is derived from it).
    pub position: u32,
    /// `rate(...)` or `cron(...)`, validated before it is stored.
    pub expression: String,
    /// EventBridge's constant input, as JSON text: the event sent instead of a Scheduled Event.
    pub input: Option<String>,
    /// When it fires next; `None` once it never will (a cron whose years are over).
    pub next_fire_ms: Option<i64>,
    pub created_ms: i64,
}

/// How a function's asynchronous invocations are retried and where their outcomes go (Lambda's
/// `FunctionEventInvokeConfig`), per function and qualifier. `None` fields take Lambda's
/// defaults: two retries, a six-hour event age, no destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInvokeConfigRecord {
    pub project: String,
    pub function: String,
    /// `$LATEST` or a published version number.
    pub qualifier: String,
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_s: Option<u32>,
    /// Destination ARN for successful invocations.
    pub on_success: Option<String>,
    /// Destination ARN for invocations that failed for good (retries exhausted, too old).
    pub on_failure: Option<String>,
    pub last_modified_ms: i64,
}
