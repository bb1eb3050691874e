//! Create/Get/List/Update/DeleteEventSourceMapping: tenancy, validation and persistence. Every
//! change wakes the poller supervisor, which reconciles its pollers with the stored mappings.

use std::sync::Arc;

use stratus_core::Action;
use stratus_core::arn::Arn;
use stratus_identity::Principal;
use stratus_meta::{MappingRecord, MappingRepository, MetaError};
use tokio::sync::Notify;

use super::{FunctionInvoker, MAX_BATCH_SIZE, MAX_BATCHING_WINDOW_S, QueueSource};
use crate::DeliveryError;

/// Why a mapping operation was refused, by meaning; `stratus-api` turns these into Lambda errors.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the caller's role does not allow this")]
    Forbidden,
    #[error("metadata storage failed")]
    Storage(#[from] MetaError),
    #[error("{0}")]
    Unavailable(String),
}

/// CreateEventSourceMapping's parameters.
#[derive(Debug, Clone, Default)]
pub struct NewMapping {
    pub source_arn: String,
    pub function: String,
    pub batch_size: Option<u32>,
    pub batching_window_s: Option<u32>,
    pub report_item_failures: bool,
    pub enabled: Option<bool>,
    pub maximum_concurrency: Option<u32>,
}

/// UpdateEventSourceMapping's parameters: only what is `Some` changes.
#[derive(Debug, Clone, Default)]
pub struct MappingUpdate {
    pub function: Option<String>,
    pub batch_size: Option<u32>,
    pub batching_window_s: Option<u32>,
    pub report_item_failures: Option<bool>,
    pub enabled: Option<bool>,
    pub maximum_concurrency: Option<Option<u32>>,
}

/// The event source mapping service.
pub struct Mappings {
    pub(super) meta: Arc<dyn MappingRepository>,
    pub(super) queues: Arc<dyn QueueSource>,
    pub(super) functions: Arc<dyn FunctionInvoker>,
    /// Wakes the poller supervisor after every change.
    pub(super) changed: Arc<Notify>,
}

fn require(caller: &Principal, action: Action) -> Result<(), MappingError> {
    if caller.may(action) {
        Ok(())
    } else {
        Err(MappingError::Forbidden)
    }
}

fn unavailable(error: DeliveryError) -> MappingError {
    MappingError::Unavailable(error.to_string())
}

impl Mappings {
    #[must_use]
    pub fn new(
        meta: Arc<dyn MappingRepository>,
        queues: Arc<dyn QueueSource>,
        functions: Arc<dyn FunctionInvoker>,
    ) -> Arc<Self> {
        Arc::new(Self {
            meta,
            queues,
            functions,
            changed: Arc::new(Notify::new()),
        })
    }

    /// The ARN of the function a mapping invokes.
    #[must_use]
    pub fn function_arn(&self, mapping: &MappingRecord) -> String {
        self.functions.function_arn(
            &mapping.project,
            &mapping.function,
            mapping.qualifier.as_deref(),
        )
    }

    /// Creates a mapping from a queue of the caller's project to one of its functions.
    ///
    /// # Errors
    /// Invalid (source, sizes, response types), NotFound (function), Conflict (the queue
    /// already feeds that function), Forbidden.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewMapping,
    ) -> Result<MappingRecord, MappingError> {
        require(caller, Action::Write)?;
        let fifo = self.check_source(&caller.project, &new.source_arn).await?;
        let (function, qualifier) = self.resolve(&caller.project, &new.function).await?;
        let mut mapping = MappingRecord {
            uuid: new_uuid(),
            project: caller.project.clone(),
            function,
            qualifier,
            source_arn: new.source_arn,
            batch_size: new.batch_size.unwrap_or(10),
            batching_window_s: new.batching_window_s.unwrap_or(0),
            report_item_failures: new.report_item_failures,
            enabled: new.enabled.unwrap_or(true),
            maximum_concurrency: new.maximum_concurrency,
            last_result: "No records processed".into(),
            modified_ms: now_ms(),
        };
        check_sizes(&mapping, fifo)?;
        let existing = self.meta.list_mappings(Some(&caller.project)).await?;
        if let Some(same) = existing.iter().find(|m| {
            m.source_arn == mapping.source_arn
                && m.function == mapping.function
                && m.qualifier == mapping.qualifier
        }) {
            return Err(MappingError::Conflict(format!(
                "An event source mapping with SQS arn (\" {} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {}",
                same.source_arn, same.function, same.uuid
            )));
        }
        mapping.modified_ms = now_ms();
        self.meta.put_mapping(mapping.clone()).await?;
        self.changed.notify_one();
        Ok(mapping)
    }

    /// # Errors
    /// NotFound (also for another project's mapping), Forbidden.
    pub async fn get(&self, caller: &Principal, uuid: &str) -> Result<MappingRecord, MappingError> {
        require(caller, Action::Read)?;
        match self.meta.get_mapping(uuid).await? {
            Some(mapping) if mapping.project == caller.project => Ok(mapping),
            _ => Err(MappingError::NotFound(format!(
                "The resource you requested does not exist. (Service: Lambda, Status Code: 404, UUID: {uuid})"
            ))),
        }
    }

    /// The caller's mappings, optionally only those of one queue and/or one function.
    ///
    /// # Errors
    /// Forbidden, storage failures.
    pub async fn list(
        &self,
        caller: &Principal,
        source_arn: Option<&str>,
        function: Option<&str>,
    ) -> Result<Vec<MappingRecord>, MappingError> {
        require(caller, Action::Read)?;
        let function = match function {
            Some(f) => Some(self.resolve(&caller.project, f).await?),
            None => None,
        };
        let all = self.meta.list_mappings(Some(&caller.project)).await?;
        Ok(all
            .into_iter()
            .filter(|m| source_arn.is_none_or(|arn| m.source_arn == arn))
            .filter(|m| {
                function.as_ref().is_none_or(|(name, q)| {
                    &m.function == name && (q.is_none() || &m.qualifier == q)
                })
            })
            .collect())
    }

    /// # Errors
    /// NotFound, Invalid, Forbidden.
    pub async fn update(
        &self,
        caller: &Principal,
        uuid: &str,
        update: MappingUpdate,
    ) -> Result<MappingRecord, MappingError> {
        require(caller, Action::Write)?;
        let mut mapping = self.get(caller, uuid).await?;
        if let Some(function) = &update.function {
            (mapping.function, mapping.qualifier) = self.resolve(&caller.project, function).await?;
        }
        mapping.batch_size = update.batch_size.unwrap_or(mapping.batch_size);
        mapping.batching_window_s = update
            .batching_window_s
            .unwrap_or(mapping.batching_window_s);
        mapping.report_item_failures = update
            .report_item_failures
            .unwrap_or(mapping.report_item_failures);
        mapping.enabled = update.enabled.unwrap_or(mapping.enabled);
        if let Some(concurrency) = update.maximum_concurrency {
            mapping.maximum_concurrency = concurrency;
        }
        let fifo = self
            .check_source(&caller.project, &mapping.source_arn)
            .await?;
        check_sizes(&mapping, fifo)?;
        mapping.modified_ms = now_ms();
        self.meta.put_mapping(mapping.clone()).await?;
        self.changed.notify_one();
        Ok(mapping)
    }

    /// Deletes a mapping; its pollers stop (a batch in flight finishes or comes back later).
    ///
    /// # Errors
    /// NotFound, Forbidden.
    pub async fn delete(
        &self,
        caller: &Principal,
        uuid: &str,
    ) -> Result<MappingRecord, MappingError> {
        require(caller, Action::Write)?;
        let mapping = self.get(caller, uuid).await?;
        self.meta.delete_mapping(uuid).await?;
        self.changed.notify_one();
        Ok(mapping)
    }

    /// Whether the source is a queue of the project; returns whether it is FIFO.
    async fn check_source(&self, project: &str, source_arn: &str) -> Result<bool, MappingError> {
        let arn = Arn::parse(source_arn).ok_or_else(|| {
            MappingError::Invalid(format!("invalid EventSourceArn {source_arn:?}"))
        })?;
        if arn.service != "sqs" {
            return Err(MappingError::Invalid(format!(
                "unsupported event source {:?}: Stratus maps SQS queues only",
                arn.service
            )));
        }
        if !arn.in_project(project) {
            return Err(MappingError::Invalid(format!(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. Queue {source_arn} does not exist"
            )));
        }
        match self.queues.source_queue(project, source_arn).await {
            Ok(queue) => Ok(queue.fifo),
            Err(DeliveryError::Permanent(_)) => Err(MappingError::Invalid(format!(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. Queue {source_arn} does not exist"
            ))),
            Err(other) => Err(unavailable(other)),
        }
    }

    async fn resolve(
        &self,
        project: &str,
        function: &str,
    ) -> Result<(String, Option<String>), MappingError> {
        self.functions
            .resolve_function(project, function)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| MappingError::NotFound(format!("Function not found: {function}")))
    }
}

fn check_sizes(mapping: &MappingRecord, fifo: bool) -> Result<(), MappingError> {
    let most = if fifo { 10 } else { MAX_BATCH_SIZE };
    if mapping.batch_size == 0 || mapping.batch_size > most {
        return Err(MappingError::Invalid(format!(
            "BatchSize must be between 1 and {most} for this queue, not {}",
            mapping.batch_size
        )));
    }
    if mapping.batching_window_s > MAX_BATCHING_WINDOW_S {
        return Err(MappingError::Invalid(format!(
            "MaximumBatchingWindowInSeconds must be between 0 and {MAX_BATCHING_WINDOW_S}"
        )));
    }
    if fifo && mapping.batching_window_s > 0 {
        return Err(MappingError::Invalid(
            "Batching window is not supported for FIFO queues".into(),
        ));
    }
    if mapping.batch_size > 10 && mapping.batching_window_s == 0 {
        return Err(MappingError::Invalid(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10".into(),
        ));
    }
    if let Some(concurrency) = mapping.maximum_concurrency
        && !(2..=1000).contains(&concurrency)
    {
        return Err(MappingError::Invalid(format!(
            "ScalingConfig.MaximumConcurrency must be between 2 and 1000, not {concurrency}"
        )));
    }
    Ok(())
}

/// A mapping's id: a random (version 4) UUID, as Lambda's are.
fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(super) use stratus_core::clock::now_ms;
