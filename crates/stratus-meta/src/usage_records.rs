//! Usage records: what the meter adds up per hour (invocations per function, S3 requests per
//! project) and what a cost report reads back. Hours are the unit of aggregation, so a busy
//! function adds one row per hour, not one per invocation.

use std::collections::BTreeMap;

/// Milliseconds in the hour usage is aggregated by.
pub const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `ms` falls in.
#[must_use]
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Invocations of one function in one hour, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InvocationTotals {
    pub requests: u64,
    /// Σ billed milliseconds × configured memory in MB (Lambda's GB-second basis).
    pub mb_ms: u64,
    /// Σ measured durations, for the console; bills use `mb_ms`.
    pub duration_ms: f64,
    /// Invocations whose outcome was not a success.
    pub errors: u64,
}

impl InvocationTotals {
    pub fn add(&mut self, other: &Self) {
        self.requests += other.requests;
        self.mb_ms += other.mb_ms;
        self.duration_ms += other.duration_ms;
        self.errors += other.errors;
    }
}

/// S3 requests of one project in one hour, by AWS's price class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestTotals {
    /// PUT, COPY, POST and LIST requests.
    pub writes: u64,
    /// GET, HEAD and every other billed request.
    pub reads: u64,
}

impl RequestTotals {
    pub fn add(&mut self, other: &Self) {
        self.writes += other.writes;
        self.reads += other.reads;
    }
}

/// Usage not yet stored: what one flush adds to the stored totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageDeltas {
    /// Keyed by (project, function, hour start in ms).
    pub invocations: BTreeMap<(String, String, i64), InvocationTotals>,
    /// Keyed by (project, hour start in ms).
    pub requests: BTreeMap<(String, i64), RequestTotals>,
}

impl UsageDeltas {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.invocations.is_empty() && self.requests.is_empty()
    }

    /// Adds `other` into `self` (how a failed flush returns its deltas to the buffer).
    pub fn merge(&mut self, other: Self) {
        for (key, totals) in other.invocations {
            self.invocations.entry(key).or_default().add(&totals);
        }
        for (key, totals) in other.requests {
            self.requests.entry(key).or_default().add(&totals);
        }
    }
}

/// One function's stored usage in one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUsageRow {
    pub project: String,
    pub function: String,
    pub hour_ms: i64,
    pub totals: InvocationTotals,
}

/// One project's stored S3 usage in one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct S3UsageRow {
    pub project: String,
    pub hour_ms: i64,
    pub requests: RequestTotals,
    /// Σ stored bytes × hours the storage samples of this hour cover.
    pub byte_hours: f64,
}

/// Stored usage over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageRows {
    pub functions: Vec<FunctionUsageRow>,
    pub s3: Vec<S3UsageRow>,
}
