//! SendMessage and SendMessageBatch: validation, FIFO rules, deduplication, one commit per call,
//! then the wake-up of waiting long polls.

use std::collections::HashSet;

use sha2::{Digest, Sha256};
use stratus_core::Action;
use stratus_core::message::{
    MessageAttributes, md5_of_attributes, md5_of_body, message_size, validate_message,
};
use stratus_identity::Principal;
use stratus_meta::{MetaError, NewMessage, QueueRecord, SendOutcome};

use super::attributes::Settings;
use super::{DEDUP_WINDOW, MAX_BATCH, QueueError, QueueResult, Queues, now_ms, require};

/// One message to send, as SendMessage carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendRequest {
    pub body: String,
    pub attributes: MessageAttributes,
    pub delay_seconds: Option<u32>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    /// `AWSTraceHeader`: the sender's trace header (see `stratus_core::lineage`).
    pub trace_header: Option<String>,
}

/// What a send answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
    /// FIFO queues only.
    pub sequence_number: Option<String>,
}

/// A random version-4 UUID, as SQS message ids are.
pub(crate) fn message_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Ids of FIFO groups and deduplication: 1–128 printable ASCII characters.
fn valid_fifo_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_graphic())
}

/// Checks one request against the queue's rules and builds its row.
pub(crate) fn prepare(
    settings: &Settings,
    sender_id: &str,
    request: SendRequest,
    now: i64,
) -> QueueResult<NewMessage> {
    validate_message(&request.body, &request.attributes, settings.max_size).map_err(
        |e| match e {
            stratus_core::message::InvalidMessage::InvalidCharacters => {
                QueueError::InvalidMessageContents(e.to_string())
            }
            other => QueueError::InvalidParameterValue(format!(
                "One or more parameters are invalid. Reason: {other}"
            )),
        },
    )?;
    if request.delay_seconds.is_some_and(|d| d > 900) {
        return Err(QueueError::InvalidParameterValue(
            "Value for parameter DelaySeconds is invalid. Reason: must be 0 to 900".into(),
        ));
    }
    let mut dedup_id = request.dedup_id;
    if settings.fifo {
        if request.delay_seconds.is_some() {
            return Err(QueueError::InvalidParameterValue(
                "Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.".into(),
            ));
        }
        let Some(group) = &request.group_id else {
            return Err(QueueError::MissingParameter("MessageGroupId".into()));
        };
        if !valid_fifo_id(group) || dedup_id.as_deref().is_some_and(|d| !valid_fifo_id(d)) {
            return Err(QueueError::InvalidParameterValue(
                "MessageGroupId and MessageDeduplicationId must be 1 to 128 printable ASCII characters".into(),
            ));
        }
        if dedup_id.is_none() {
            if !settings.content_dedup {
                return Err(QueueError::InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly".into(),
                ));
            }
            dedup_id = Some(hex(&Sha256::digest(request.body.as_bytes())));
        }
    } else if dedup_id.is_some() {
        return Err(QueueError::InvalidParameterValue(
            "Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.".into(),
        ));
    }
    let delay = request.delay_seconds.unwrap_or(settings.delay_s);
    Ok(NewMessage {
        message_id: message_id(),
        md5_of_body: md5_of_body(&request.body),
        md5_of_attributes: md5_of_attributes(&request.attributes),
        body: request.body,
        attributes: request.attributes,
        sent_ms: now,
        visible_ms: now + i64::from(delay) * 1000,
        sender_id: sender_id.to_owned(),
        group_id: if settings.fifo {
            request.group_id
        } else {
            None
        },
        dedup_id,
        trace_header: request.trace_header,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sent(message: &NewMessage, outcome: SendOutcome, fifo: bool) -> Sent {
    Sent {
        message_id: outcome.message_id,
        md5_of_body: message.md5_of_body.clone(),
        md5_of_attributes: message.md5_of_attributes.clone(),
        sequence_number: fifo.then(|| format!("{:020}", outcome.sequence_number)),
    }
}

fn window_ms() -> i64 {
    i64::try_from(DEDUP_WINDOW.as_millis()).unwrap_or(i64::MAX)
}

impl Queues {
    /// Sends one message.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, invalid messages and FIFO parameters.
    pub async fn send_message(
        &self,
        principal: &Principal,
        queue: &str,
        request: SendRequest,
    ) -> QueueResult<Sent> {
        require(principal, Action::Write)?;
        let record = self.queue(&principal.project, queue).await?;
        let settings = Settings::of(&principal.project, &record.attributes);
        let message = prepare(&settings, &principal.access_key_id, request, now_ms())?;
        let mut sent = self.commit(&record, &settings, vec![message]).await?;
        sent.pop()
            .ok_or(QueueError::Storage(MetaError::Commit("no outcome".into())))
    }

    /// Sends up to ten messages in one commit. Entries that break a message rule fail alone
    /// (their id with the error); batch-level rules fail the whole call.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, the batch rules (empty, too many, ids, total size).
    pub async fn send_batch(
        &self,
        principal: &Principal,
        queue: &str,
        entries: Vec<(String, SendRequest)>,
    ) -> QueueResult<Vec<(String, QueueResult<Sent>)>> {
        require(principal, Action::Write)?;
        check_batch_ids(entries.iter().map(|(id, _)| id.as_str()))?;
        let record = self.queue(&principal.project, queue).await?;
        let settings = Settings::of(&principal.project, &record.attributes);
        let total: usize = entries
            .iter()
            .map(|(_, r)| message_size(&r.body, &r.attributes))
            .sum();
        if total > settings.max_size {
            return Err(QueueError::BatchRequestTooLong(settings.max_size));
        }
        let now = now_ms();
        let mut results: Vec<(String, QueueResult<Sent>)> = Vec::with_capacity(entries.len());
        let mut accepted = Vec::new();
        let mut slots = Vec::new();
        for (id, request) in entries {
            match prepare(&settings, &principal.access_key_id, request, now) {
                Ok(message) => {
                    slots.push(results.len());
                    accepted.push(message);
                    results.push((id, Err(QueueError::EmptyBatchRequest)));
                }
                Err(error) => results.push((id, Err(error))),
            }
        }
        if !accepted.is_empty() {
            for (slot, sent) in slots
                .into_iter()
                .zip(self.commit(&record, &settings, accepted).await?)
            {
                results[slot].1 = Ok(sent);
            }
        }
        Ok(results)
    }

    /// Commits prepared messages in one transaction and wakes the queue's long polls.
    pub(crate) async fn commit(
        &self,
        record: &QueueRecord,
        settings: &Settings,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Sent>> {
        let outcomes = self
            .meta
            .send_messages(&record.project, &record.name, messages.clone(), window_ms())
            .await
            .map_err(|e| match e {
                MetaError::NotFound(_) => QueueError::QueueDoesNotExist,
                other => QueueError::Storage(other),
            })?;
        self.wake(&record.project, &record.name);
        let added = outcomes.iter().filter(|o| !o.duplicate).count();
        self.count(|m| &m.sqs_sent, &record.project, &record.name, added);
        Ok(messages
            .iter()
            .zip(outcomes)
            .map(|(message, outcome)| sent(message, outcome, settings.fifo))
            .collect())
    }
}

/// SQS's batch rules on entry ids: 1–10 entries, distinct ids of 1–80 `A-Za-z0-9_-`.
pub(crate) fn check_batch_ids<'a>(ids: impl Iterator<Item = &'a str>) -> QueueResult<()> {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        return Err(QueueError::EmptyBatchRequest);
    }
    if ids.len() > MAX_BATCH {
        return Err(QueueError::TooManyEntriesInBatchRequest);
    }
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty()
            || id.len() > 80
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(QueueError::InvalidBatchEntryId);
        }
        if !seen.insert(id) {
            return Err(QueueError::BatchEntryIdsNotDistinct);
        }
    }
    Ok(())
}
