//! Asynchronous invocations: every accepted event is a committed row; this loop runs the due
//! ones, retries failures with exponential backoff and dead-letters what cannot succeed.
//! A crash loses nothing: rows still `queued` at start-up simply run (at least once).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use stratus_meta::{InvocationRecord, InvocationState};
use tokio::sync::Notify;

use crate::functions::Functions;
use crate::invoke::{OnThrottle, Run};
use stratus_core::lineage::MAX_CHAIN_DEPTH;

/// How many queued rows one pass looks at.
const BATCH: usize = 256;
/// The longest the loop sleeps without being woken (it also wakes on every acceptance).
const IDLE_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Dispatcher {
    /// Signalled when invocations are queued: by `invoke_async`, by the store after a commit
    /// that queued bucket-triggered ones, and by finished attempts.
    pub wake: Arc<Notify>,
    /// Invocations being attempted now, so a pass does not start them twice.
    running: Mutex<HashSet<String>>,
}

pub(crate) async fn run(service: Weak<Functions>) {
    loop {
        let Some(strong) = service.upgrade() else {
            return;
        };
        let sleep_for = match strong.meta.queued_invocations(BATCH).await {
            Ok(queued) => start_due(&strong, queued),
            Err(error) => {
                tracing::error!(%error, "cannot read queued invocations");
                IDLE_POLL
            }
        };
        // Holding the service while waiting is bounded by IDLE_POLL, so a dropped service
        // stops this loop within a second.
        let _ = tokio::time::timeout(sleep_for, strong.dispatcher.wake.notified()).await;
    }
}

/// Starts every due invocation not already running; returns how long until the next is due.
fn start_due(service: &Arc<Functions>, queued: Vec<InvocationRecord>) -> Duration {
    let now = crate::now_ms();
    let mut next_due = IDLE_POLL;
    let mut running = service
        .dispatcher
        .running
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for record in queued {
        if record.next_attempt_ms > now {
            let wait =
                Duration::from_millis(u64::try_from(record.next_attempt_ms - now).unwrap_or(0));
            next_due = next_due.min(wait);
            continue;
        }
        if !running.insert(record.id.clone()) {
            continue;
        }
        let service = Arc::clone(service);
        tokio::spawn(async move {
            let id = record.id.clone();
            let retry_scheduled = attempt(&service, record).await;
            service
                .dispatcher
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
            // Only a retry needs a new pass (to learn its due time). Waking after every finished
            // attempt would rescan the queue once per invocation under load.
            if retry_scheduled {
                service.dispatcher.wake.notify_one();
            }
        });
    }
    next_due
}

/// Runs one attempt and records it; true if a retry was scheduled.
async fn attempt(service: &Functions, record: InvocationRecord) -> bool {
    // A pass works from a snapshot of the queue: an attempt that finished (and left `running`)
    // after the snapshot was read still looks queued in it. The committed row is the truth, and
    // a point read costs microseconds.
    let mut record = match service.meta.get_invocation(&record.id).await {
        Ok(Some(current))
            if current.state == InvocationState::Queued
                && current.attempts == record.attempts
                && current.next_attempt_ms <= crate::now_ms() =>
        {
            current
        }
        Ok(_) => return false,
        Err(error) => {
            tracing::error!(%error, id = %record.id, "cannot re-read a queued invocation");
            return false;
        }
    };
    if record.chain_depth > MAX_CHAIN_DEPTH {
        tracing::error!(id = %record.id, project = %record.project, function = %record.function, depth = record.chain_depth,
            "recursive invocation loop stopped: an event chain deeper than {MAX_CHAIN_DEPTH} is not run");
        record.attempts = record.attempts.max(1);
        let error = format!(
            "recursive invocation loop detected: the event chain reached {} invocations (limit {MAX_CHAIN_DEPTH}); the event was not delivered",
            record.chain_depth
        );
        dead_letter(service, record, error).await;
        return false;
    }
    let view = match service
        .resolve(&record.project, &record.function, Some(&record.qualifier))
        .await
    {
        Ok(view) => view,
        Err(error) => {
            return finish(
                service,
                record,
                Err(format!("function unavailable: {error}")),
            )
            .await;
        }
    };
    record.attempts += 1;
    let run = Run {
        request_id: record.id.clone(),
        payload: Bytes::from(record.payload.clone()),
        client_context: None,
        tail_log: false,
        chain_depth: record.chain_depth,
    };
    let result = service.run(&view, run, OnThrottle::Wait).await;
    let outcome = match result {
        Ok(response) if response.function_error.is_none() => Ok(response.payload.to_vec()),
        Ok(response) => {
            record.result = Some(response.payload.to_vec());
            Err(format!("function error ({})", response.metering.outcome))
        }
        Err(error) => Err(error.to_string()),
    };
    finish(service, record, outcome).await
}

/// Records the attempt: success, a retry later, or the dead-letter store; true for a retry.
async fn finish(
    service: &Functions,
    mut record: InvocationRecord,
    outcome: Result<Vec<u8>, String>,
) -> bool {
    let now = crate::now_ms();
    let mut retry = false;
    match outcome {
        Ok(payload) => {
            record.state = InvocationState::Succeeded;
            record.result = Some(payload);
            record.error = None;
            record.finished_ms = Some(now);
        }
        Err(error) => {
            let config = &service.config;
            let age = Duration::from_millis(u64::try_from(now - record.accepted_ms).unwrap_or(0));
            let retries_left = record.attempts <= config.async_retries && record.attempts > 0;
            if retries_left && age < config.max_event_age {
                let backoff = config.async_retry_base
                    * 2u32.saturating_pow(record.attempts.saturating_sub(1));
                record.next_attempt_ms =
                    now + i64::try_from(backoff.as_millis()).unwrap_or(i64::MAX);
                retry = true;
                tracing::info!(id = %record.id, function = %record.function, attempt = record.attempts, %error, "asynchronous invocation failed; retrying");
            } else {
                record.state = InvocationState::DeadLettered;
                record.finished_ms = Some(now);
                tracing::warn!(id = %record.id, function = %record.function, attempts = record.attempts, %error, "asynchronous invocation dead-lettered");
            }
            record.error = Some(error);
        }
    }
    record_outcome(service, record).await;
    retry
}

/// Dead-letters an invocation without running it.
async fn dead_letter(service: &Functions, mut record: InvocationRecord, error: String) {
    record.state = InvocationState::DeadLettered;
    record.finished_ms = Some(crate::now_ms());
    record.error = Some(error);
    record_outcome(service, record).await;
}

async fn record_outcome(service: &Functions, record: InvocationRecord) {
    if let Err(error) = service.meta.put_invocation(record).await {
        // The row stays queued and runs again: at least once.
        tracing::error!(%error, "cannot record an asynchronous invocation's outcome");
    }
}
