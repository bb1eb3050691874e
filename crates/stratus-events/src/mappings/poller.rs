//! The pollers. A supervisor keeps, per enabled mapping, a few tasks that each loop: receive a
//! batch (long polling, then filling it for up to the batching window), invoke the function
//! synchronously, delete the messages it processed. Nothing is deleted before the function
//! succeeded, so a crash or a failure leaves the messages to reappear after their visibility
//! timeout: at-least-once, with the queue's redrive policy as the poison-message exit.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use stratus_core::lineage::{self, MAX_CHAIN_DEPTH};
use stratus_meta::MappingRecord;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::event::{failed_items, sqs_event};
use super::{Mappings, SourceMessage};

/// Pollers per mapping without `ScalingConfig.MaximumConcurrency` (Lambda starts with five).
const DEFAULT_POLLERS: u32 = 5;
/// How long one receive waits for a first message.
const LONG_POLL: Duration = Duration::from_secs(20);
/// A batch stops growing past this many payload bytes: a synchronous invoke takes 6 MB.
const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;
/// How often the supervisor re-reads the mappings even without a change notification (e.g.
/// mappings removed with their function).
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// What a poller was started from; a change to any of it restarts the mapping's pollers.
fn shape(m: &MappingRecord) -> impl PartialEq + use<> {
    (
        m.function.clone(),
        m.qualifier.clone(),
        m.source_arn.clone(),
        m.batch_size,
        m.batching_window_s,
        m.report_item_failures,
        m.maximum_concurrency,
    )
}

struct Running {
    mapping: MappingRecord,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Mappings {
    /// Runs the pollers of every enabled mapping until `shutdown` resolves.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut running: HashMap<String, Running> = HashMap::new();
        tokio::pin!(shutdown);
        loop {
            self.reconcile(&mut running).await;
            tokio::select! {
                () = &mut shutdown => break,
                () = self.changed.notified() => {}
                () = tokio::time::sleep(RECONCILE_EVERY) => {}
            }
        }
        running.clear();
    }

    async fn reconcile(self: &Arc<Self>, running: &mut HashMap<String, Running>) {
        let mappings = match self.meta.list_mappings(None).await {
            Ok(all) => all,
            Err(error) => {
                tracing::warn!(?error, "cannot read event source mappings");
                return;
            }
        };
        let wanted: HashMap<String, MappingRecord> = mappings
            .into_iter()
            .filter(|m| m.enabled)
            .map(|m| (m.uuid.clone(), m))
            .collect();
        running.retain(|uuid, run| {
            wanted
                .get(uuid)
                .is_some_and(|m| shape(m) == shape(&run.mapping))
        });
        for (uuid, mapping) in wanted {
            if running.contains_key(&uuid) {
                continue;
            }
            let pollers = mapping.maximum_concurrency.unwrap_or(DEFAULT_POLLERS);
            let tasks = (0..pollers)
                .map(|_| tokio::spawn(Arc::clone(self).poll(mapping.clone())))
                .collect();
            tracing::info!(%uuid, queue = %mapping.source_arn, function = %mapping.function, pollers, "event source mapping polling");
            running.insert(uuid, Running { mapping, tasks });
        }
    }

    /// One poller: batches until aborted.
    async fn poll(self: Arc<Self>, mapping: MappingRecord) {
        let mut reported = mapping.last_result.clone();
        let mut backoff = Duration::from_millis(500);
        loop {
            let result = match self.collect_batch(&mapping).await {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => self.process(&mapping, batch).await,
                Err(error) => format!("PROBLEM: {error}"),
            };
            if result.starts_with("PROBLEM") {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            } else {
                backoff = Duration::from_millis(500);
            }
            if result != reported {
                if let Err(error) = self.meta.set_mapping_result(&mapping.uuid, &result).await {
                    tracing::warn!(?error, uuid = %mapping.uuid, "cannot record mapping result");
                }
                reported = result;
            }
        }
    }

    /// Receives a batch: one long poll for the first messages, then more until the batch is
    /// full, the batching window has passed, or the payload would grow too large.
    async fn collect_batch(
        &self,
        mapping: &MappingRecord,
    ) -> Result<Vec<SourceMessage>, crate::DeliveryError> {
        let wanted = mapping.batch_size as usize;
        let receive_at_most = |have: usize| u32::try_from((wanted - have).min(10)).unwrap_or(10);
        let mut batch = self
            .queues
            .receive(
                &mapping.project,
                &mapping.source_arn,
                receive_at_most(0),
                LONG_POLL,
            )
            .await?;
        let window_ends = Instant::now() + Duration::from_secs(mapping.batching_window_s.into());
        let mut bytes: usize = batch.iter().map(|m| m.body.len()).sum();
        while !batch.is_empty() && batch.len() < wanted && bytes < MAX_BATCH_BYTES {
            let left = window_ends.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let more = self
                .queues
                .receive(
                    &mapping.project,
                    &mapping.source_arn,
                    receive_at_most(batch.len()),
                    left,
                )
                .await?;
            bytes += more.iter().map(|m| m.body.len()).sum::<usize>();
            batch.extend(more);
        }
        Ok(batch)
    }

    /// Invokes the function with one batch and deletes what it processed; returns Lambda's
    /// `LastProcessingResult` for it.
    async fn process(&self, mapping: &MappingRecord, batch: Vec<SourceMessage>) -> String {
        let (batch, too_deep) = split_by_depth(batch);
        if !too_deep.is_empty() {
            // Lambda's recursive-loop rule: a function that sends to the queue it consumes
            // would otherwise run forever. The messages are dropped with an error, not retried.
            tracing::error!(
                queue = %mapping.source_arn,
                function = %mapping.function,
                count = too_deep.len(),
                max_depth = MAX_CHAIN_DEPTH,
                "recursive invocation loop detected: messages dropped unprocessed"
            );
            let handles = too_deep.into_iter().map(|m| m.receipt_handle).collect();
            if let Err(error) = self
                .queues
                .delete(&mapping.project, &mapping.source_arn, handles)
                .await
            {
                return format!("PROBLEM: cannot drop looping messages: {error}");
            }
            if batch.is_empty() {
                return "PROBLEM: Recursive invocation loop detected".into();
            }
        }
        let depth = batch.iter().map(message_depth).max().unwrap_or(0) + 1;
        let payload = sqs_event(&mapping.source_arn, &batch)
            .to_string()
            .into_bytes();
        let outcome = self
            .functions
            .invoke_sync(
                &mapping.project,
                &mapping.function,
                mapping.qualifier.as_deref(),
                payload,
                depth,
            )
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return format!("PROBLEM: Function call failed: {error}"),
        };
        if outcome.function_error.is_some() {
            return "PROBLEM: Function call failed".into();
        }
        let failed = if mapping.report_item_failures {
            match failed_items(&outcome.payload, &batch) {
                Some(failed) => failed,
                None => return "PROBLEM: Invalid partial batch response".into(),
            }
        } else {
            Vec::new()
        };
        let processed = processed_handles(&batch, &failed);
        if processed.is_empty() {
            return "OK".into();
        }
        match self
            .queues
            .delete(&mapping.project, &mapping.source_arn, processed)
            .await
        {
            Ok(()) => "OK".into(),
            Err(error) => format!("PROBLEM: cannot delete processed messages: {error}"),
        }
    }
}

/// The event-chain depth a message was sent at, from its `AWSTraceHeader`.
fn message_depth(message: &SourceMessage) -> u32 {
    message
        .system_attributes
        .get("AWSTraceHeader")
        .map_or(0, |header| lineage::chain_depth(header))
}

/// Separates the messages whose invocation would exceed the chain-depth limit.
fn split_by_depth(batch: Vec<SourceMessage>) -> (Vec<SourceMessage>, Vec<SourceMessage>) {
    batch
        .into_iter()
        .partition(|m| message_depth(m) < MAX_CHAIN_DEPTH)
}

/// The receipt handles to delete: every message but the failed ones and, in a FIFO group, every
/// message after a failed one (deleting them would let the group run out of order).
fn processed_handles(batch: &[SourceMessage], failed: &[String]) -> Vec<String> {
    let mut blocked_groups: Vec<&str> = Vec::new();
    let mut handles = Vec::new();
    for message in batch {
        let group = message
            .system_attributes
            .get("MessageGroupId")
            .map(String::as_str);
        let is_failed = failed.contains(&message.message_id);
        let blocked = group.is_some_and(|g| blocked_groups.contains(&g));
        if is_failed || blocked {
            if let Some(group) = group {
                blocked_groups.push(group);
            }
            continue;
        }
        handles.push(message.receipt_handle.clone());
    }
    handles
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn message(id: &str, group: Option<&str>) -> SourceMessage {
        SourceMessage {
            message_id: id.into(),
            receipt_handle: format!("rh-{id}"),
            body: String::new(),
            md5_of_body: String::new(),
            system_attributes: group
                .map(|g| BTreeMap::from([("MessageGroupId".to_owned(), g.to_owned())]))
                .unwrap_or_default(),
            attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn messages_at_the_depth_limit_are_split_off() {
        let mut deep = message("deep", None);
        deep.system_attributes.insert(
            "AWSTraceHeader".into(),
            lineage::trace_header("r", MAX_CHAIN_DEPTH),
        );
        let mut shallow = message("shallow", None);
        shallow
            .system_attributes
            .insert("AWSTraceHeader".into(), lineage::trace_header("r", 3));
        assert_eq!(message_depth(&shallow), 3);
        let (kept, dropped) = split_by_depth(vec![deep, shallow, message("plain", None)]);
        assert_eq!(kept.len(), 2);
        assert_eq!(dropped[0].message_id, "deep");
    }

    #[test]
    fn deletes_all_but_failures() {
        let batch = [message("a", None), message("b", None), message("c", None)];
        assert_eq!(
            processed_handles(&batch, &["b".to_owned()]),
            vec!["rh-a".to_owned(), "rh-c".to_owned()]
        );
        assert_eq!(processed_handles(&batch, &[]).len(), 3);
    }

    #[test]
    fn a_failure_holds_back_the_rest_of_its_fifo_group() {
        let batch = [
            message("a1", Some("a")),
            message("a2", Some("a")),
            message("b1", Some("b")),
            message("a3", Some("a")),
        ];
        assert_eq!(
            processed_handles(&batch, &["a2".to_owned()]),
            vec!["rh-a1".to_owned(), "rh-b1".to_owned()]
        );
    }
}
