use stratus_core::{BucketTrigger, ScheduleTrigger, Trigger};
use stratus_meta::ScheduleRecord;
use time::format_description::well_known::Rfc3339;

use super::{ScheduleSpecs, at_ms, fire_id, ms_of, plan_fire};
use crate::RuntimeError;

fn ms(text: &str) -> i64 {
    ms_of(time::OffsetDateTime::parse(text, &Rfc3339).expect("RFC 3339"))
}

fn record(expression: &str, next: &str) -> ScheduleRecord {
    ScheduleRecord {
        id: "sched-1".into(),
        project: "team".into(),
        function: "report".into(),
        position: 2,
        expression: expression.into(),
        input: None,
        next_fire_ms: Some(ms(next)),
        created_ms: 0,
    }
}

fn schedule(expression: &str, input: Option<serde_json::Value>) -> Trigger {
    Trigger::Schedule(ScheduleTrigger {
        schedule: expression.into(),
        input,
    })
}

fn refusal(triggers: &[Trigger]) -> String {
    match ScheduleSpecs::from_triggers(triggers) {
        Err(error @ RuntimeError::Invalid { .. }) => error.to_string(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn specs_take_schedules_only_and_refuse_naming_the_expression() {
    let bucket = Trigger::Bucket(BucketTrigger {
        bucket: "scans".into(),
        prefix: None,
        suffix: None,
        events: vec!["s3:ObjectCreated:*".into()],
    });
    let specs = ScheduleSpecs::from_triggers(&[
        bucket.clone(),
        schedule("rate(5 minutes)", None),
        schedule(
            "cron(0 12 * * ? *)",
            Some(serde_json::json!({"job": "nightly"})),
        ),
    ])
    .expect("valid");
    assert_eq!(specs.0.len(), 2);
    assert_eq!(specs.0[1].input.as_deref(), Some(r#"{"job":"nightly"}"#));

    let message = refusal(&[
        schedule("rate(5 minutes)", None),
        schedule("cron(60 * * * ? *)", None),
    ]);
    assert!(
        message.contains("cron(60 * * * ? *)") && message.contains("Minutes"),
        "{message}"
    );
    let message = refusal(&[schedule("rate(1 minutes)", None)]);
    assert!(message.contains("rate(1 minutes)"), "{message}");
    let message = refusal(&[schedule("cron(0 0 1 1 ? 2020)", None)]);
    assert!(
        message.contains("cron(0 0 1 1 ? 2020)") && message.contains("never fires"),
        "{message}"
    );
    let big = serde_json::json!({ "blob": "x".repeat(9000) });
    let message = refusal(&[schedule("rate(1 day)", Some(big))]);
    assert!(
        message.contains("rate(1 day)") && message.contains("8192"),
        "{message}"
    );
    let many: Vec<Trigger> = (0..101).map(|_| schedule("rate(1 day)", None)).collect();
    assert!(refusal(&many).contains("at most 100"));
    assert!(
        ScheduleSpecs::from_triggers(&[bucket])
            .expect("none")
            .0
            .is_empty()
    );
}

#[test]
fn a_due_cron_fires_the_scheduled_event_and_moves_to_the_next_minute() {
    let schedule = record("cron(* * * * ? *)", "2026-03-01T12:00:00Z");
    let fired = ms("2026-03-01T12:00:00Z");
    let (next, invocation) = plan_fire("eu-west-1", &schedule, fired, fired + 300);
    assert_eq!(next, Some(ms("2026-03-01T12:01:00Z")));
    let invocation = invocation.expect("an invocation");
    assert_eq!(invocation.id, fire_id("sched-1", fired));
    assert_eq!(
        (invocation.function.as_str(), invocation.qualifier.as_str()),
        ("report", "$LATEST")
    );
    assert_eq!(invocation.attempts, 0);
    assert_eq!(invocation.next_attempt_ms, fired + 300);
    let event: serde_json::Value = serde_json::from_slice(&invocation.payload).expect("JSON");
    let account = crate::account_id("team");
    assert_eq!(
        event,
        serde_json::json!({
            "version": "0",
            "id": invocation.id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            "time": "2026-03-01T12:00:00Z",
            "region": "eu-west-1",
            "resources": [format!("arn:aws:events:eu-west-1:{account}:rule/report-schedule-2")],
            "detail": {},
        })
    );
}

#[test]
fn a_fire_missed_while_down_happens_once_then_the_schedule_resumes() {
    // Down from 10:03 to 10:17: the 10:05, 10:10 and 10:15 fires collapse into one, sent with
    // its scheduled time, and the rate keeps its phase (10:20).
    let schedule = record("rate(5 minutes)", "2026-03-01T10:05:00Z");
    let (next, invocation) = plan_fire(
        "us-east-1",
        &schedule,
        ms("2026-03-01T10:05:00Z"),
        ms("2026-03-01T10:17:00Z"),
    );
    assert_eq!(next, Some(ms("2026-03-01T10:20:00Z")));
    let event: serde_json::Value =
        serde_json::from_slice(&invocation.expect("one").payload).expect("JSON");
    assert_eq!(event["time"], "2026-03-01T10:05:00Z");

    let hourly = record("cron(0 * * * ? *)", "2026-03-01T09:00:00Z");
    let (next, _) = plan_fire(
        "us-east-1",
        &hourly,
        ms("2026-03-01T09:00:00Z"),
        ms("2026-03-01T12:30:00Z"),
    );
    assert_eq!(next, Some(ms("2026-03-01T13:00:00Z")));
}

#[test]
fn constant_input_is_the_event_and_ended_or_unreadable_schedules_stop() {
    let mut schedule = record("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00Z");
    schedule.input = Some(r#"{"job":"nightly"}"#.into());
    let fired = ms("2030-01-01T00:00:00Z");
    let (next, invocation) = plan_fire("us-east-1", &schedule, fired, fired);
    assert_eq!(next, None, "its only year is over");
    assert_eq!(invocation.expect("fires").payload, br#"{"job":"nightly"}"#);

    let broken = record("every day", "2026-03-01T00:00:00Z");
    assert_eq!(plan_fire("us-east-1", &broken, 0, 0), (None, None));
}

#[test]
fn fire_ids_are_deterministic_uuids() {
    let id = fire_id("sched-1", 60_000);
    assert_eq!(id, fire_id("sched-1", 60_000));
    assert_ne!(id, fire_id("sched-1", 120_000));
    assert_ne!(id, fire_id("sched-2", 60_000));
    assert_eq!(id.len(), 36);
    let bytes = id.as_bytes();
    assert_eq!(
        (bytes[8], bytes[13], bytes[18], bytes[23]),
        (b'-', b'-', b'-', b'-')
    );
    assert_eq!(bytes[14], b'8');
    assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'));
    assert_eq!(ms_of(at_ms(1_234_567)), 1_234_567);
}
