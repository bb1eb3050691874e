//! `/v1/functions` and `/v1/invocations`: deploying, configuring, invoking and reading functions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stratus_core::{BucketTrigger, FunctionConfig, Trigger};
use utoipa::ToSchema;

/// A function's current version and configuration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunctionSummary {
    pub name: String,
    pub version: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub min_instances: u32,
    pub reserved_concurrency: Option<u32>,
    pub description: String,
    pub environment: BTreeMap<String, String>,
    pub volumes: Vec<String>,
    /// The hash of the function's dependency environment, if it has one.
    pub dependencies: Option<String>,
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified_ms: i64,
    pub revision_id: String,
}

impl FunctionSummary {
    /// Whether the function runs with `config` (the fields a deploy sets and this shows back),
    /// so a client can tell an unchanged function from one it must redeploy.
    pub fn shows(&self, config: &FunctionConfig) -> bool {
        self.runtime == config.runtime
            && self.handler == config.handler
            && self.memory_mb == config.memory_mb
            && self.timeout_s == config.timeout_s
            && self.min_instances == config.min_instances
            && self.description == config.description
            && self.environment == config.environment
            && self.volumes == config.volumes
            && self.dependencies == config.dependencies
    }
}

/// A function's schedule (`schedule:` in function.yaml).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    /// `rate(...)` or `cron(...)`.
    pub schedule: String,
    #[schema(value_type = Option<Object>)]
    pub input: Option<serde_json::Value>,
    pub rule_arn: String,
    pub next_fire: Option<String>,
    pub next_fire_ms: Option<i64>,
}

/// `GET /v1/functions/NAME` (with `versions`) and the answer to a deploy (without).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunctionDetails {
    #[serde(flatten)]
    pub summary: FunctionSummary,
    /// Every published version, `$LATEST` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<String>>,
    #[schema(value_type = Vec<Object>)]
    pub triggers: Vec<BucketTrigger>,
    pub schedules: Vec<Schedule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunctionList {
    pub functions: Vec<FunctionSummary>,
}

/// `PUT /v1/functions/NAME` (`stratus deploy`): create the function, or update its code and
/// configuration to match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    #[schema(value_type = Object)]
    pub config: FunctionConfig,
    /// The zipped code, base64.
    pub zip: String,
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    #[serde(default)]
    pub publish: bool,
    /// Replaces the function's bucket triggers and schedules.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub triggers: Vec<Trigger>,
}

/// `PATCH /v1/functions/NAME`: change configuration only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u32>,
}

/// The answer to `POST /v1/functions/NAME/invoke?async=true`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvocationAccepted {
    pub invocation_id: String,
    /// `queued`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub version: String,
    /// The worker's log stream.
    pub stream: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogList {
    pub events: Vec<LogEvent>,
}

/// An asynchronous invocation and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invocation {
    pub id: String,
    pub function: String,
    pub qualifier: String,
    /// `queued`, `running`, `succeeded`, `failed` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub accepted_ms: i64,
    pub next_attempt_ms: i64,
    pub finished_ms: Option<i64>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub payload: String,
    pub chain_depth: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadLetters {
    pub dead_letters: Vec<Invocation>,
}

/// `PUT /v1/functions/NAME/url`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposeRequest {
    /// `none` or `bearer`.
    pub auth: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub cors: Option<serde_json::Value>,
}

/// A function's URL.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunctionUrl {
    pub function: String,
    pub url: String,
    /// `none` or `bearer`.
    pub auth: String,
    pub qualifier: String,
    #[schema(value_type = Option<Object>)]
    pub cors: Option<serde_json::Value>,
}
