//! Asynchronous invocations: every accepted event is a committed row; this loop runs the due
//! ones, retries failures with exponential backoff and dead-letters what cannot succeed.
//! A crash loses nothing: rows still `queued` at start-up simply run (at least once).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use stratus_meta::{InvocationRecord, InvocationState};
use tokio::sync::Notify;

use crate::destinations::{self, Condition, invocation_record};
use crate::event_invoke::InvokePolicy;
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
    let policy = service
        .invoke_policy(&record.project, &record.function, &record.qualifier)
        .await;
    let age = event_age(&record, crate::now_ms());
    if age >= policy.max_age {
        let error = format!(
            "the event expired before it could be processed: its age {}s reached MaximumEventAgeInSeconds {}s",
            age.as_secs(),
            policy.max_age.as_secs()
        );
        give_up(service, record, &policy, Condition::EventAgeExceeded, error).await;
        return false;
    }
    let view = match service
        .resolve(&record.project, &record.function, Some(&record.qualifier))
        .await
    {
        Ok(view) => view,
        Err(error) => {
            // Not an attempt (attempts stays as it was): a missing function is not retried.
            return finish(
                service,
                record,
                &policy,
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
    finish(service, record, &policy, outcome).await
}

fn event_age(record: &InvocationRecord, now_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(now_ms - record.accepted_ms).unwrap_or(0))
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFailure {
    RetryIn(Duration),
    GiveUp(Condition),
}

/// `attempts` counts the attempt that just failed; retries are `attempts - 1`. Backoff doubles
/// from `base`. An event that has reached its maximum age is not retried.
fn after_failure(
    attempts: u32,
    age: Duration,
    policy: &InvokePolicy,
    base: Duration,
) -> AfterFailure {
    if age >= policy.max_age {
        AfterFailure::GiveUp(Condition::EventAgeExceeded)
    } else if attempts > 0 && attempts <= policy.retries {
        AfterFailure::RetryIn(base * 2u32.saturating_pow(attempts.saturating_sub(1)))
    } else {
        AfterFailure::GiveUp(Condition::RetriesExhausted)
    }
}

/// Records the attempt: success, a retry later, or the dead-letter store; true for a retry.
/// A final outcome goes to its destination first (see [`deliver_outcome`]).
async fn finish(
    service: &Functions,
    mut record: InvocationRecord,
    policy: &InvokePolicy,
    outcome: Result<Vec<u8>, String>,
) -> bool {
    let now = crate::now_ms();
    match outcome {
        Ok(payload) => {
            record.state = InvocationState::Succeeded;
            record.result = Some(payload);
            record.error = None;
            record.finished_ms = Some(now);
            deliver_outcome(service, &record, policy, Condition::Success, None).await;
            record_outcome(service, record).await;
            false
        }
        Err(error) => {
            let age = event_age(&record, now);
            match after_failure(
                record.attempts,
                age,
                policy,
                service.config.async_retry_base,
            ) {
                AfterFailure::RetryIn(backoff) => {
                    record.next_attempt_ms =
                        now + i64::try_from(backoff.as_millis()).unwrap_or(i64::MAX);
                    tracing::info!(id = %record.id, function = %record.function, attempt = record.attempts, %error, "asynchronous invocation failed; retrying");
                    record.error = Some(error);
                    record_outcome(service, record).await;
                    true
                }
                AfterFailure::GiveUp(condition) => {
                    give_up(service, record, policy, condition, error).await;
                    false
                }
            }
        }
    }
}

/// Dead-letters an invocation that will not be attempted again and sends its record to the
/// OnFailure destination.
async fn give_up(
    service: &Functions,
    mut record: InvocationRecord,
    policy: &InvokePolicy,
    condition: Condition,
    error: String,
) {
    tracing::warn!(id = %record.id, function = %record.function, attempts = record.attempts, condition = condition.as_str(), %error, "asynchronous invocation dead-lettered");
    deliver_outcome(service, &record, policy, condition, Some(&error)).await;
    record.state = InvocationState::DeadLettered;
    record.finished_ms = Some(crate::now_ms());
    record.error = Some(error);
    record_outcome(service, record).await;
}

/// Sends the invocation record to the destination for `condition`, if one is configured and a
/// sink is wired. This happens before the invocation's end is recorded: a crash in between
/// re-runs the invocation and re-delivers with the same delivery id, which the destination
/// keeps once.
async fn deliver_outcome(
    service: &Functions,
    record: &InvocationRecord,
    policy: &InvokePolicy,
    condition: Condition,
    error: Option<&str>,
) {
    let destination = match condition {
        Condition::Success => policy.on_success.as_deref(),
        Condition::RetriesExhausted | Condition::EventAgeExceeded => policy.on_failure.as_deref(),
    };
    let (Some(destination), Some(sink)) = (destination, service.destinations.get()) else {
        return;
    };
    let function_arn = crate::function_arn(
        &service.config.region,
        &record.project,
        &record.function,
        Some(&record.qualifier),
    );
    let document = invocation_record(
        record,
        &function_arn,
        condition,
        error,
        time::OffsetDateTime::now_utc(),
    );
    destinations::deliver(sink, record, destination, condition, document).await;
}

/// Dead-letters an invocation without running it (no destination: this stops event loops).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retries: u32, max_age_s: u64) -> InvokePolicy {
        InvokePolicy {
            retries,
            max_age: Duration::from_secs(max_age_s),
            on_success: None,
            on_failure: None,
        }
    }

    #[test]
    fn retries_follow_maximum_retry_attempts() {
        let base = Duration::from_secs(1);
        let young = Duration::from_secs(1);
        assert_eq!(
            after_failure(1, young, &policy(0, 60), base),
            AfterFailure::GiveUp(Condition::RetriesExhausted)
        );
        assert_eq!(
            after_failure(1, young, &policy(2, 60), base),
            AfterFailure::RetryIn(Duration::from_secs(1))
        );
        assert_eq!(
            after_failure(2, young, &policy(2, 60), base),
            AfterFailure::RetryIn(Duration::from_secs(2))
        );
        assert_eq!(
            after_failure(3, young, &policy(2, 60), base),
            AfterFailure::GiveUp(Condition::RetriesExhausted)
        );
    }

    #[test]
    fn an_old_event_is_not_retried() {
        let base = Duration::from_secs(1);
        assert_eq!(
            after_failure(1, Duration::from_secs(60), &policy(2, 60), base),
            AfterFailure::GiveUp(Condition::EventAgeExceeded)
        );
    }
}
