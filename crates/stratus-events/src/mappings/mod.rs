//! Lambda event source mappings: a function consumes a queue. `Mappings` is the service behind
//! Create/Get/List/Update/DeleteEventSourceMapping (tenancy, validation, persistence); `poller`
//! runs one set of pollers per enabled mapping that receive batches, invoke the function and
//! delete what it processed, so a failed batch comes back after its visibility timeout and,
//! through the queue's redrive policy, ends in its dead-letter queue.

mod event;
mod poller;
mod queue_source;
mod service;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use stratus_core::message::MessageAttributes;

use crate::DeliveryError;

pub use service::{MappingError, MappingUpdate, Mappings, NewMapping};

/// The most messages one batch may hold (SQS standard queues; FIFO queues allow 10).
pub const MAX_BATCH_SIZE: u32 = 10_000;
/// The longest batching window Lambda accepts.
pub const MAX_BATCHING_WINDOW_S: u32 = 300;

/// A queue as a mapping sees it (implemented by `queues::Queues`).
#[async_trait]
pub trait QueueSource: Send + Sync {
    /// The queue named by `queue_arn` in `project`; `Permanent` when there is none.
    async fn source_queue(
        &self,
        project: &str,
        queue_arn: &str,
    ) -> Result<SourceQueue, DeliveryError>;
    /// Receives up to `max` (≤ 10) messages, waiting up to `wait` for the first one.
    async fn receive(
        &self,
        project: &str,
        queue_arn: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<SourceMessage>, DeliveryError>;
    /// Deletes processed messages by their receipt handles.
    async fn delete(
        &self,
        project: &str,
        queue_arn: &str,
        receipt_handles: Vec<String>,
    ) -> Result<(), DeliveryError>;
}

/// What a mapping needs to know of its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceQueue {
    /// FIFO queues take batches of at most 10 and no batching window.
    pub fifo: bool,
}

/// One received message, with what Lambda's SQS event carries of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, `SenderId`, ...).
    pub system_attributes: BTreeMap<String, String>,
    pub attributes: MessageAttributes,
}

/// Runs functions synchronously for mappings (implemented over `stratus-runtime`).
#[async_trait]
pub trait FunctionInvoker: Send + Sync {
    /// The function's name when `function` (a name, ARN or partial ARN, optionally qualified)
    /// names one in `project`, with the qualifier it carries; `None` when there is none.
    async fn resolve_function(
        &self,
        project: &str,
        function: &str,
    ) -> Result<Option<(String, Option<String>)>, DeliveryError>;
    /// Invokes and waits for the result; waits for capacity instead of failing when throttled.
    /// `chain_depth` is the invocation's event-chain depth (see `stratus_core::lineage`).
    async fn invoke_sync(
        &self,
        project: &str,
        function: &str,
        qualifier: Option<&str>,
        payload: Vec<u8>,
        chain_depth: u32,
    ) -> Result<InvokeOutcome, DeliveryError>;
    /// The function's ARN for responses and events.
    fn function_arn(&self, project: &str, function: &str, qualifier: Option<&str>) -> String;
}

/// A finished synchronous invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeOutcome {
    /// Set when the function failed (Lambda's `X-Amz-Function-Error`).
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
}
