//! The row of a Lambda event source mapping: a queue whose messages a function consumes.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRecord {
    pub uuid: String,
    pub project: String,
    pub function: String,
    /// A version or alias the mapping invokes; `None` is `$LATEST`.
    pub qualifier: Option<String>,
    /// The queue's ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
    pub source_arn: String,
    pub batch_size: u32,
    pub batching_window_s: u32,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_item_failures: bool,
    pub enabled: bool,
    /// `ScalingConfig.MaximumConcurrency`: batches in flight at once; `None` is the default.
    pub maximum_concurrency: Option<u32>,
    /// What the last batch did (`OK`, `PROBLEM: ...`), as Lambda's `LastProcessingResult`.
    pub last_result: String,
    pub modified_ms: i64,
}
