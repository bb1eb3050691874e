//! Schedules: EventBridge-style rules whose target is a function.
//!
//! A loop fires the due ones. Firing is one metadata transaction that advances the schedule and
//! inserts an asynchronous invocation — run by `dispatch.rs`, so retries and dead letters apply —
//! whose id derives from the schedule and the fire time. A crash therefore neither loses nor
//! repeats a fire, and a fire missed while the server was down happens once, late, after which
//! the schedule resumes its normal times.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::json;
use sha2::{Digest as _, Sha256};
use stratus_core::{Action, Schedule, Trigger};
use stratus_meta::{InvocationRecord, MetaError, ScheduleRecord};
use time::OffsetDateTime;

use crate::functions::{Functions, LATEST, not_found, require};
use crate::{Principal, RuntimeError, RuntimeResult, now_ms};

/// How many due schedules one pass fires.
const BATCH: usize = 256;
/// The longest the loop sleeps; a new schedule's first fire is at least a minute away, so
/// nothing needs to wake it sooner.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// EventBridge's limit on a target's constant input.
pub const MAX_INPUT_BYTES: usize = 8192;
/// A bound on one function's schedules, so one deploy cannot flood the scheduler.
pub const MAX_SCHEDULES: usize = 100;

/// The schedule entries of a deploy's `triggers`, validated; nothing is stored yet, so a deploy
/// validates them before it changes anything.
#[derive(Debug, Clone, Default)]
pub struct ScheduleSpecs(Vec<Spec>);

#[derive(Debug, Clone)]
struct Spec {
    expression: String,
    schedule: Schedule,
    /// The constant input as JSON text.
    input: Option<String>,
}

/// A schedule as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleView {
    pub expression: String,
    pub input: Option<serde_json::Value>,
    /// The rule's ARN, which Scheduled Events name in `resources`.
    pub rule_arn: String,
    pub next_fire_ms: Option<i64>,
    /// `next_fire_ms` in RFC 3339.
    pub next_fire: Option<String>,
}

fn invalid(message: String) -> RuntimeError {
    RuntimeError::Invalid {
        field: "triggers",
        message,
    }
}

impl ScheduleSpecs {
    /// Parses every schedule entry of `triggers` (bucket entries are someone else's). Refuses
    /// an invalid expression, one that never fires again, and an input over EventBridge's limit.
    ///
    /// # Errors
    /// [`RuntimeError::Invalid`] naming the expression.
    pub fn from_triggers(triggers: &[Trigger]) -> RuntimeResult<Self> {
        let now = at_ms(now_ms());
        let mut specs = Vec::new();
        for trigger in triggers {
            let Trigger::Schedule(entry) = trigger else {
                continue;
            };
            let expression = entry.schedule.clone();
            let schedule = Schedule::parse(&expression).map_err(|e| invalid(e.to_string()))?;
            if schedule.next_after(now, now).is_none() {
                return Err(invalid(format!(
                    "schedule expression {expression:?} never fires again"
                )));
            }
            let input = match &entry.input {
                Some(value) => Some(serde_json::to_string(value).map_err(|e| {
                    invalid(format!("schedule {expression:?}: unusable input: {e}"))
                })?),
                None => None,
            };
            if let Some(text) = input.as_ref().filter(|t| t.len() > MAX_INPUT_BYTES) {
                return Err(invalid(format!(
                    "schedule {expression:?}: input is {} bytes, more than {MAX_INPUT_BYTES}",
                    text.len()
                )));
            }
            specs.push(Spec {
                expression,
                schedule,
                input,
            });
        }
        if specs.len() > MAX_SCHEDULES {
            return Err(invalid(format!(
                "{} schedules; a function may have at most {MAX_SCHEDULES}",
                specs.len()
            )));
        }
        Ok(Self(specs))
    }
}

impl Functions {
    /// Replaces a function's schedules with `specs` (a schedule whose expression is unchanged
    /// keeps its next fire time).
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn set_schedules(
        &self,
        caller: &Principal,
        name: &str,
        specs: ScheduleSpecs,
    ) -> RuntimeResult<Vec<ScheduleView>> {
        require(caller, Action::Write)?;
        let now = now_ms();
        let records = specs
            .0
            .into_iter()
            .zip(0..)
            .map(|(spec, position)| ScheduleRecord {
                id: crate::request_id(),
                project: caller.project.clone(),
                function: name.to_owned(),
                position,
                next_fire_ms: spec.schedule.next_after(at_ms(now), at_ms(now)).map(ms_of),
                expression: spec.expression,
                input: spec.input,
                created_ms: now,
            })
            .collect();
        let stored = match self
            .meta
            .replace_schedules(&caller.project, name, records)
            .await
        {
            Ok(stored) => stored,
            Err(MetaError::NotFound(_)) => return Err(not_found(name, None)),
            Err(error) => return Err(error.into()),
        };
        Ok(stored.iter().map(|s| self.schedule_view(s)).collect())
    }

    /// A function's schedules and when each fires next.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn schedules(
        &self,
        caller: &Principal,
        name: &str,
    ) -> RuntimeResult<Vec<ScheduleView>> {
        self.get(caller, name, None).await?;
        let stored = self.meta.list_schedules(&caller.project, name).await?;
        Ok(stored.iter().map(|s| self.schedule_view(s)).collect())
    }

    fn schedule_view(&self, schedule: &ScheduleRecord) -> ScheduleView {
        ScheduleView {
            expression: schedule.expression.clone(),
            input: schedule
                .input
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            rule_arn: rule_arn(&self.config.region, schedule),
            next_fire_ms: schedule.next_fire_ms,
            next_fire: schedule.next_fire_ms.map(|ms| rfc3339(at_ms(ms))),
        }
    }
}

/// Fires due schedules until the service is dropped.
pub(crate) async fn run(service: Weak<Functions>) {
    loop {
        let Some(strong) = service.upgrade() else {
            return;
        };
        let wait = fire_due(&strong).await;
        drop(strong);
        tokio::time::sleep(wait).await;
    }
}

/// Fires every schedule due now; returns how long to sleep before the next pass.
async fn fire_due(service: &Arc<Functions>) -> Duration {
    let now = now_ms();
    let horizon = now + i64::try_from(IDLE_POLL.as_millis()).unwrap_or(1_000);
    let due = match service.meta.due_schedules(horizon, BATCH).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!(%error, "cannot read due schedules");
            return IDLE_POLL;
        }
    };
    let mut wait = IDLE_POLL;
    // Fired together, their transactions share group commits.
    let mut firing = tokio::task::JoinSet::new();
    for schedule in due {
        let Some(at) = schedule.next_fire_ms else {
            continue;
        };
        if at > now {
            wait = wait.min(Duration::from_millis(u64::try_from(at - now).unwrap_or(0)));
            continue;
        }
        let service = Arc::clone(service);
        firing.spawn(async move { fire(&service, &schedule, now).await });
    }
    let mut fired = 0;
    while let Some(outcome) = firing.join_next().await {
        fired += usize::from(outcome.unwrap_or(false));
    }
    if fired > 0 {
        service.dispatcher.wake.notify_one();
    }
    if fired == BATCH {
        // A full batch may have more due behind it: look again at once.
        wait = Duration::ZERO;
    }
    wait
}

/// Commits one fire; true when an invocation was queued.
async fn fire(service: &Functions, schedule: &ScheduleRecord, now: i64) -> bool {
    let Some(fired_ms) = schedule.next_fire_ms else {
        return false;
    };
    let (next, invocation) = plan_fire(&service.config.region, schedule, fired_ms, now);
    let queued = invocation.is_some();
    match service
        .meta
        .advance_schedule(&schedule.id, fired_ms, next, invocation)
        .await
    {
        Ok(advanced) => {
            if advanced && queued {
                tracing::info!(function = %schedule.function, schedule = %schedule.expression, fired_ms, ?next, "schedule fired");
            }
            advanced && queued
        }
        Err(error) => {
            // Nothing committed: the schedule is still due and the next pass tries again.
            tracing::error!(%error, schedule = %schedule.id, "cannot fire a schedule");
            false
        }
    }
}

/// What firing `schedule` at `fired_ms`, observed at `now`, commits: the next fire time (the
/// first after `now`, so missed periods are skipped) and the invocation.
fn plan_fire(
    region: &str,
    schedule: &ScheduleRecord,
    fired_ms: i64,
    now: i64,
) -> (Option<i64>, Option<InvocationRecord>) {
    let parsed = match Schedule::parse(&schedule.expression) {
        Ok(parsed) => parsed,
        Err(error) => {
            // Stored expressions were valid when stored; one this version cannot read is
            // switched off rather than retried every second.
            tracing::error!(%error, schedule = %schedule.id, "stored schedule no longer parses; disabled");
            return (None, None);
        }
    };
    let next = parsed
        .next_after(at_ms(fired_ms), at_ms(now.max(fired_ms)))
        .map(ms_of);
    let id = fire_id(&schedule.id, fired_ms);
    let payload = match &schedule.input {
        Some(input) => input.clone().into_bytes(),
        None => scheduled_event(region, schedule, &id, fired_ms)
            .to_string()
            .into_bytes(),
    };
    let function = (
        schedule.project.as_str(),
        schedule.function.as_str(),
        LATEST,
    );
    let invocation = InvocationRecord::queued(id, function, payload, now, 0);
    (next, Some(invocation))
}

/// The invocation id of one fire: a UUID derived from the schedule and the fire time, so the
/// same fire can never be queued twice.
fn fire_id(schedule_id: &str, fired_ms: i64) -> String {
    let digest = Sha256::digest(format!("schedule/{schedule_id}/{fired_ms}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes).to_string()
}

/// EventBridge's Scheduled Event document.
fn scheduled_event(
    region: &str,
    schedule: &ScheduleRecord,
    id: &str,
    fired_ms: i64,
) -> serde_json::Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": crate::account_id(&schedule.project),
        "time": rfc3339(at_ms(fired_ms)),
        "region": region,
        "resources": [rule_arn(region, schedule)],
        "detail": {},
    })
}

/// `arn:aws:events:REGION:ACCOUNT:rule/FUNCTION-schedule-N`: each schedule is a rule of its own.
fn rule_arn(region: &str, schedule: &ScheduleRecord) -> String {
    format!(
        "arn:aws:events:{region}:{}:rule/{}-schedule-{}",
        crate::account_id(&schedule.project),
        schedule.function,
        schedule.position
    )
}

use stratus_core::clock::at_ms;

fn ms_of(instant: OffsetDateTime) -> i64 {
    i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Whole seconds, `Z`: the shape of EventBridge's `time`.
fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
