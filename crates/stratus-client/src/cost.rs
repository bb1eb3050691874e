//! `/v1/cost` (what the project's usage cost over a period) and `/v1/cost/compare`
//! (serverless against an always-on fleet).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a report's invocation line items are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CostGrouping {
    /// One line per function of the caller's project.
    Function,
    /// One line per project (an operator sees every project).
    Project,
}

impl CostGrouping {
    /// `function` or `project`, as the `by` query parameter spells it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "function" => Some(Self::Function),
            "project" => Some(Self::Project),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Project => "project",
        }
    }
}

/// `GET /v1/cost`: the bill for a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostReport {
    pub by: CostGrouping,
    pub period: CostPeriod,
    /// Always `USD`.
    pub currency: String,
    /// The prices the report applied.
    pub prices: CostPrices,
    /// Invocations, one line per function (or per project).
    pub functions: Vec<InvocationCost>,
    /// Storage and requests, one line per project.
    pub s3: Vec<StorageCost>,
    pub totals: CostTotals,
}

/// The period a report covers: the hours that start in `[hour of since, until)`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostPeriod {
    /// RFC 3339.
    pub since: String,
    /// RFC 3339.
    pub until: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostPrices {
    pub lambda: LambdaPriceList,
    pub s3: S3PriceList,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LambdaPriceList {
    /// USD per million requests.
    pub per_million_requests: f64,
    /// USD per GB-second of configured memory × billed duration.
    pub per_gb_second: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct S3PriceList {
    /// USD per GB-month stored.
    pub per_gb_month: f64,
    /// USD per 1,000 PUT, COPY, POST and LIST requests.
    pub per_thousand_writes: f64,
    /// USD per 1,000 GET and every other request.
    pub per_thousand_reads: f64,
}

/// One line of invocations: a function (`by=function`) or a whole project (`by=project`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvocationCost {
    pub project: String,
    /// Present when the report is by function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub requests: u64,
    /// Configured memory (MB) × billed duration (ms), summed.
    pub billed_mb_ms: u64,
    pub gb_seconds: f64,
    /// Run time actually measured, summed.
    pub duration_ms: f64,
    pub errors: u64,
    pub request_usd: f64,
    pub compute_usd: f64,
    pub usd: f64,
}

/// One project's S3 storage and requests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StorageCost {
    pub project: String,
    pub byte_hours: f64,
    pub gb_months: f64,
    pub write_requests: u64,
    pub read_requests: u64,
    pub storage_usd: f64,
    pub request_usd: f64,
    pub usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostTotals {
    pub requests: u64,
    pub gb_seconds: f64,
    pub lambda_usd: f64,
    pub s3_usd: f64,
    pub usd: f64,
}

fn default_days() -> f64 {
    30.0
}

fn default_active_minutes() -> u32 {
    10
}

/// `POST /v1/cost/compare`: the parameters, named as `stratus cost compare`'s flags are.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// `constant`, `diurnal`, `bursty` or `intermittent`.
    pub synthetic: String,
    /// Mean requests per second.
    pub rate: f64,
    pub service_ms: f64,
    pub memory_mb: u32,
    #[serde(default = "default_days")]
    pub days: f64,
    /// Active minutes per hour (the `intermittent` trace).
    #[serde(default = "default_active_minutes")]
    pub active_minutes: u32,
    /// The p95 response-time bound the always-on fleet must meet.
    #[serde(default)]
    pub p95_ms: Option<f64>,
    #[serde(default)]
    pub gpu: bool,
}
