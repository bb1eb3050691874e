//! ReceiveMessage (with long polling), DeleteMessage and ChangeMessageVisibility, single and
//! batched. A receive is a write: it claims messages in one transaction.

use std::collections::BTreeMap;
use std::time::Duration;

use stratus_core::Action;
use stratus_core::message::{MessageAttributes, md5_of_attributes};
use stratus_identity::Principal;
use stratus_meta::{ClaimRequest, DeadLetter, MessageRecord, ReceiptOutcome, VisibilityChange};

use super::attributes::Settings;
use super::receipt;
use super::send::check_batch_ids;
use super::{QueueError, QueueResult, Queues, now_ms, require};

/// The longest visibility timeout, 12 hours.
const MAX_VISIBILITY_S: u32 = 43_200;
/// The longest long poll.
const MAX_WAIT_S: u32 = 20;

/// What ReceiveMessage asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// 1 to 10.
    pub max: u32,
    /// Overrides the queue's `VisibilityTimeout`.
    pub visibility_timeout: Option<u32>,
    /// Overrides the queue's `ReceiveMessageWaitTimeSeconds`.
    pub wait_seconds: Option<u32>,
    /// System attributes to return (`All`, or names such as `SentTimestamp`).
    pub system_attributes: Vec<String>,
    /// Message attributes to return (`All`, `.*`, names, or `prefix.*`).
    pub message_attributes: Vec<String>,
}

impl Default for ReceiveRequest {
    fn default() -> Self {
        Self {
            max: 1,
            visibility_timeout: None,
            wait_seconds: None,
            system_attributes: Vec::new(),
            message_attributes: Vec::new(),
        }
    }
}

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// Over the message attributes returned, as SQS computes it.
    pub md5_of_attributes: Option<String>,
    /// System attributes (`SentTimestamp`, `ApproximateReceiveCount`, ...), as requested.
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: MessageAttributes,
}

/// One entry of ChangeMessageVisibilityBatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityEntry {
    pub receipt_handle: String,
    pub visibility_timeout: u32,
}

fn wanted_system(names: &[String], key: &str) -> bool {
    names.iter().any(|n| n == "All" || n == key)
}

fn wanted_attribute(names: &[String], key: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == key
            || n.strip_suffix(".*").is_some_and(|prefix| {
                key.starts_with(prefix) && key[prefix.len()..].starts_with('.')
            })
    })
}

pub(crate) fn present(
    project: &str,
    queue: &str,
    fifo: bool,
    message: MessageRecord,
    system: &[String],
    wanted: &[String],
) -> ReceivedMessage {
    let mut attributes = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value
            && wanted_system(system, key)
        {
            attributes.insert(key.to_owned(), value);
        }
    };
    put("SenderId", Some(message.sender_id.clone()));
    put("AWSTraceHeader", message.trace_header.clone());
    put("SentTimestamp", Some(message.sent_ms.to_string()));
    put(
        "ApproximateReceiveCount",
        Some(message.receive_count.to_string()),
    );
    put(
        "ApproximateFirstReceiveTimestamp",
        message.first_receive_ms.map(|t| t.to_string()),
    );
    if fifo {
        put("MessageGroupId", message.group_id.clone());
        put("MessageDeduplicationId", message.dedup_id.clone());
        put("SequenceNumber", Some(format!("{:020}", message.seq)));
    }
    let message_attributes: MessageAttributes = message
        .attributes
        .into_iter()
        .filter(|(k, _)| wanted_attribute(wanted, k))
        .collect();
    ReceivedMessage {
        receipt_handle: receipt::encode(
            project,
            queue,
            message.seq,
            message.receipt.as_deref().unwrap_or(""),
        ),
        message_id: message.message_id,
        body: message.body,
        md5_of_body: message.md5_of_body,
        md5_of_attributes: md5_of_attributes(&message_attributes),
        attributes,
        message_attributes,
    }
}

fn check_visibility(seconds: u32) -> QueueResult<()> {
    if seconds > MAX_VISIBILITY_S {
        return Err(QueueError::InvalidParameterValue(format!(
            "Value {seconds} for parameter VisibilityTimeout is invalid. Reason: must be between 0 and 43200, if provided."
        )));
    }
    Ok(())
}

impl Queues {
    /// Receives up to `request.max` messages, waiting up to the wait time for the first.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, out-of-range parameters.
    pub async fn receive_message(
        &self,
        principal: &Principal,
        queue: &str,
        request: &ReceiveRequest,
    ) -> QueueResult<Vec<ReceivedMessage>> {
        require(principal, Action::Write)?;
        self.receive_in(&principal.project, queue, request).await
    }

    pub(crate) async fn receive_in(
        &self,
        project: &str,
        queue: &str,
        request: &ReceiveRequest,
    ) -> QueueResult<Vec<ReceivedMessage>> {
        if !(1..=10).contains(&request.max) {
            return Err(QueueError::InvalidParameterValue(format!(
                "Value {} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
                request.max
            )));
        }
        if request.wait_seconds.is_some_and(|w| w > MAX_WAIT_S) {
            return Err(QueueError::InvalidParameterValue(
                "Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.".into(),
            ));
        }
        if let Some(visibility) = request.visibility_timeout {
            check_visibility(visibility)?;
        }
        let waker = self.waker(project, queue);
        let mut deadline = None;
        loop {
            // Registered before the claim, so a send committing in between still wakes us.
            let woken = waker.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            // Read again on every attempt: a long poll outlives attribute changes (a shorter
            // visibility timeout, a new redrive policy), and each claim must follow the queue
            // as it is now.
            let record = self.queue(project, queue).await?;
            let settings = Settings::of(project, &record.attributes);
            let deadline = *deadline.get_or_insert_with(|| {
                let wait_s = request.wait_seconds.unwrap_or(settings.wait_s);
                tokio::time::Instant::now() + Duration::from_secs(u64::from(wait_s))
            });
            let visibility = request
                .visibility_timeout
                .unwrap_or(settings.visibility_timeout_s);
            let dead_letter = settings.redrive.as_ref().map(|r| DeadLetter {
                queue: r.queue.clone(),
                max_receive_count: r.max_receive_count,
            });
            let now = now_ms();
            let claim = ClaimRequest {
                max: request.max as usize,
                now_ms: now,
                visible_until_ms: now + i64::from(visibility) * 1000,
                receipt: receipt::nonce(),
                fifo: settings.fifo,
                dead_letter: dead_letter.clone(),
            };
            let outcome = self
                .meta
                .claim_messages(project, queue, claim)
                .await
                .map_err(|e| match e {
                    stratus_meta::MetaError::NotFound(_) => QueueError::QueueDoesNotExist,
                    other => QueueError::Storage(other),
                })?;
            self.count(|m| &m.sqs_received, project, queue, outcome.messages.len());
            let timed_out = tokio::time::Instant::now() >= deadline;
            if !outcome.messages.is_empty() || timed_out {
                return Ok(outcome
                    .messages
                    .into_iter()
                    .map(|m| {
                        present(
                            project,
                            queue,
                            settings.fifo,
                            m,
                            &request.system_attributes,
                            &request.message_attributes,
                        )
                    })
                    .collect());
            }
            let mut wake_at = deadline;
            if let Some(next) = outcome.next_visible_ms {
                let wait_ms = u64::try_from(next - now).unwrap_or(0);
                wake_at = wake_at.min(tokio::time::Instant::now() + Duration::from_millis(wait_ms));
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// Deletes a received message. A stale handle (received again since) or an already deleted
    /// message succeeds without deleting anything, as SQS documents.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `ReceiptHandleIsInvalid`.
    pub async fn delete_message(
        &self,
        principal: &Principal,
        queue: &str,
        receipt_handle: &str,
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        let mut results = self
            .delete_in(
                &principal.project,
                queue,
                vec![(String::new(), receipt_handle.to_owned())],
            )
            .await?;
        results.pop().map_or(Ok(()), |(_, r)| r)
    }

    /// Deletes up to ten messages in one commit; each entry succeeds or fails alone.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, the batch rules.
    pub async fn delete_batch(
        &self,
        principal: &Principal,
        queue: &str,
        entries: Vec<(String, String)>,
    ) -> QueueResult<Vec<(String, QueueResult<()>)>> {
        require(principal, Action::Write)?;
        check_batch_ids(entries.iter().map(|(id, _)| id.as_str()))?;
        self.delete_in(&principal.project, queue, entries).await
    }

    pub(crate) async fn delete_in(
        &self,
        project: &str,
        queue: &str,
        entries: Vec<(String, String)>,
    ) -> QueueResult<Vec<(String, QueueResult<()>)>> {
        self.queue(project, queue).await?;
        let mut results = Vec::with_capacity(entries.len());
        let mut receipts = Vec::new();
        for (id, handle) in entries {
            match receipt::decode(project, queue, &handle) {
                Ok(r) => {
                    receipts.push((r.seq, r.nonce));
                    results.push((id, Ok(())));
                }
                Err(error) => results.push((id, Err(error))),
            }
        }
        if !receipts.is_empty() {
            // Stale and gone are both success for a delete.
            let outcomes = self
                .meta
                .delete_messages(project, queue, receipts)
                .await
                .map_err(|e| match e {
                    stratus_meta::MetaError::NotFound(_) => QueueError::QueueDoesNotExist,
                    other => QueueError::Storage(other),
                })?;
            let deleted = outcomes
                .iter()
                .filter(|o| matches!(o, stratus_meta::ReceiptOutcome::Done))
                .count();
            self.count(|m| &m.sqs_deleted, project, queue, deleted);
        }
        Ok(results)
    }

    /// Makes a received message visible again after `timeout_s` seconds from now.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `ReceiptHandleIsInvalid`, `InvalidParameterValue` for an expired
    /// handle or an out-of-range timeout.
    pub async fn change_visibility(
        &self,
        principal: &Principal,
        queue: &str,
        receipt_handle: &str,
        timeout_s: u32,
    ) -> QueueResult<()> {
        require(principal, Action::Write)?;
        let entry = VisibilityEntry {
            receipt_handle: receipt_handle.to_owned(),
            visibility_timeout: timeout_s,
        };
        let mut results = self
            .change_visibility_in(&principal.project, queue, vec![(String::new(), entry)])
            .await?;
        results.pop().map_or(Ok(()), |(_, r)| r)
    }

    /// ChangeMessageVisibilityBatch: one commit, each entry succeeds or fails alone.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, the batch rules.
    pub async fn change_visibility_batch(
        &self,
        principal: &Principal,
        queue: &str,
        entries: Vec<(String, VisibilityEntry)>,
    ) -> QueueResult<Vec<(String, QueueResult<()>)>> {
        require(principal, Action::Write)?;
        check_batch_ids(entries.iter().map(|(id, _)| id.as_str()))?;
        self.change_visibility_in(&principal.project, queue, entries)
            .await
    }

    pub(crate) async fn change_visibility_in(
        &self,
        project: &str,
        queue: &str,
        entries: Vec<(String, VisibilityEntry)>,
    ) -> QueueResult<Vec<(String, QueueResult<()>)>> {
        self.queue(project, queue).await?;
        let now = now_ms();
        let mut results = Vec::with_capacity(entries.len());
        let mut changes = Vec::new();
        let mut slots = Vec::new();
        for (id, entry) in entries {
            let checked = check_visibility(entry.visibility_timeout)
                .and_then(|()| receipt::decode(project, queue, &entry.receipt_handle));
            match checked {
                Ok(r) => {
                    slots.push((results.len(), entry.receipt_handle));
                    changes.push(VisibilityChange {
                        seq: r.seq,
                        receipt: r.nonce,
                        visible_ms: now + i64::from(entry.visibility_timeout) * 1000,
                    });
                    results.push((id, Ok(())));
                }
                Err(error) => results.push((id, Err(error))),
            }
        }
        if !changes.is_empty() {
            let outcomes = self
                .meta
                .change_visibility(project, queue, changes)
                .await
                .map_err(|e| match e {
                    stratus_meta::MetaError::NotFound(_) => QueueError::QueueDoesNotExist,
                    other => QueueError::Storage(other),
                })?;
            // A message made visible now may be what a long poll waits for.
            self.wake(project, queue);
            for ((slot, handle), outcome) in slots.into_iter().zip(outcomes) {
                if outcome != ReceiptOutcome::Done {
                    results[slot].1 = Err(QueueError::InvalidParameterValue(format!(
                        "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                    )));
                }
            }
        }
        Ok(results)
    }
}
