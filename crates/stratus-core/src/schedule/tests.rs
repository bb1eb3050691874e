use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{InvalidSchedule, Schedule};

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).expect("an RFC 3339 instant")
}

fn show(instant: Option<OffsetDateTime>) -> Option<String> {
    instant.map(|t| t.format(&Rfc3339).expect("formattable"))
}

/// The next `count` fire times of a cron expression after `start`.
fn fires(expression: &str, start: &str, count: usize) -> Vec<String> {
    let schedule = Schedule::parse(expression).expect("a valid expression");
    let mut out = Vec::new();
    let mut now = at(start);
    for _ in 0..count {
        let Some(next) = schedule.next_after(now, now) else {
            break;
        };
        out.push(show(Some(next)).expect("formatted"));
        now = next;
    }
    out
}

fn next(expression: &str, start: &str) -> Option<String> {
    fires(expression, start, 1).pop()
}

fn error(expression: &str) -> InvalidSchedule {
    match Schedule::parse(expression) {
        Ok(parsed) => panic!("{expression} was accepted as {parsed:?}"),
        Err(error) => error,
    }
}

/// The error names the expression, and its message contains every one of `parts`.
fn refused(expression: &str, parts: &[&str]) {
    let error = error(expression);
    assert_eq!(error.expression, expression);
    assert!(error.to_string().contains(expression), "{error}");
    for part in parts {
        assert!(
            error.message.contains(part),
            "{expression}: {:?} does not mention {part:?}",
            error.message
        );
    }
}

#[test]
fn rates_take_singular_units_for_one_and_plural_otherwise() {
    let period = |e: &str| match Schedule::parse(e) {
        Ok(Schedule::Rate(period)) => period,
        other => panic!("{e}: {other:?}"),
    };
    assert_eq!(period("rate(1 minute)"), Duration::minutes(1));
    assert_eq!(period("rate(5 minutes)"), Duration::minutes(5));
    assert_eq!(period("rate(1 hour)"), Duration::hours(1));
    assert_eq!(period("rate(12 hours)"), Duration::hours(12));
    assert_eq!(period("rate(1 day)"), Duration::days(1));
    assert_eq!(period("rate(30 days)"), Duration::days(30));
    assert_eq!(period(" rate(2 days) "), Duration::days(2));
}

#[test]
fn bad_rates_are_refused_naming_the_text() {
    refused("rate(1 minutes)", &["\"minutes\"", "singular (minute)"]);
    refused("rate(5 minute)", &["\"minute\"", "plural (minutes)"]);
    refused("rate(2 hour)", &["plural (hours)"]);
    refused("rate(1 days)", &["singular (day)"]);
    refused("rate(0 minutes)", &["\"0\"", "at least 1"]);
    refused("rate(-5 minutes)", &["\"-5\""]);
    refused("rate(+5 minutes)", &["\"+5\""]);
    refused("rate(1.5 hours)", &["\"1.5\""]);
    refused("rate(99999999999 days)", &["\"99999999999\""]);
    refused(
        "rate(5 weeks)",
        &["\"weeks\"", "minute(s), hour(s) or day(s)"],
    );
    refused("rate(5 Minutes)", &["\"Minutes\""]);
    refused("rate(5)", &["rate(VALUE UNIT)"]);
    refused("rate()", &["rate(VALUE UNIT)"]);
    refused("rate(5 minutes now)", &["rate(VALUE UNIT)"]);
    refused("rate(5 minutes", &["rate(VALUE UNIT) or cron("]);
    refused("every 5 minutes", &["rate(VALUE UNIT) or cron("]);
    refused("RATE(5 minutes)", &["rate(VALUE UNIT) or cron("]);
    refused("", &["rate(VALUE UNIT) or cron("]);
}

#[test]
fn a_rate_keeps_its_phase_and_skips_missed_periods() {
    let schedule = Schedule::parse("rate(5 minutes)").expect("valid");
    let since = at("2026-03-01T10:00:07.250Z");
    let next = |after: &str| show(schedule.next_after(since, at(after)));
    // From creation: one period later.
    assert_eq!(
        show(schedule.next_after(since, since)).as_deref(),
        Some("2026-03-01T10:05:07.25Z")
    );
    // Strictly after: exactly on a fire time gives the following one.
    assert_eq!(
        next("2026-03-01T10:05:07.250Z").as_deref(),
        Some("2026-03-01T10:10:07.25Z")
    );
    // A server down for 17 minutes resumes on the original phase, once.
    assert_eq!(
        next("2026-03-01T10:17:00Z").as_deref(),
        Some("2026-03-01T10:20:07.25Z")
    );
    // A clock before `since` (it went backwards) still waits a whole period from `since`.
    assert_eq!(
        next("2026-03-01T09:00:00Z").as_deref(),
        Some("2026-03-01T10:05:07.25Z")
    );
    let daily = Schedule::parse("rate(1 day)").expect("valid");
    let leap = at("2028-02-28T06:00:00Z");
    assert_eq!(
        show(daily.next_after(leap, leap)).as_deref(),
        Some("2028-02-29T06:00:00Z")
    );
}

#[test]
fn every_minute_fires_strictly_after_the_instant() {
    assert_eq!(
        fires("cron(* * * * ? *)", "2026-03-01T12:00:30Z", 3),
        [
            "2026-03-01T12:01:00Z",
            "2026-03-01T12:02:00Z",
            "2026-03-01T12:03:00Z"
        ]
    );
    assert_eq!(
        next("cron(* * * * ? *)", "2026-03-01T12:00:00Z").as_deref(),
        Some("2026-03-01T12:01:00Z")
    );
    assert_eq!(
        next("cron(* * * * ? *)", "2026-12-31T23:59:59.999Z").as_deref(),
        Some("2027-01-01T00:00:00Z")
    );
    // Offsets are converted: 13:30+01:00 is 12:30 UTC.
    assert_eq!(
        next("cron(0 13 * * ? *)", "2026-03-01T13:30:00+01:00").as_deref(),
        Some("2026-03-01T13:00:00Z")
    );
}

#[test]
fn daily_cron_and_steps() {
    assert_eq!(
        next("cron(0 12 * * ? *)", "2026-03-01T12:00:00Z").as_deref(),
        Some("2026-03-02T12:00:00Z")
    );
    assert_eq!(
        next("cron(0 12 * * ? *)", "2026-03-01T11:59:59Z").as_deref(),
        Some("2026-03-01T12:00:00Z")
    );
    assert_eq!(
        fires("cron(0/15 * * * ? *)", "2026-03-01T10:07:00Z", 4),
        [
            "2026-03-01T10:15:00Z",
            "2026-03-01T10:30:00Z",
            "2026-03-01T10:45:00Z",
            "2026-03-01T11:00:00Z"
        ]
    );
    assert_eq!(
        fires("cron(5-40/10 8 * * ? *)", "2026-03-01T00:00:00Z", 5),
        [
            "2026-03-01T08:05:00Z",
            "2026-03-01T08:15:00Z",
            "2026-03-01T08:25:00Z",
            "2026-03-01T08:35:00Z",
            "2026-03-02T08:05:00Z"
        ]
    );
    assert_eq!(
        fires("cron(*/20 */12 * * ? *)", "2026-03-01T00:00:00Z", 4),
        [
            "2026-03-01T00:20:00Z",
            "2026-03-01T00:40:00Z",
            "2026-03-01T12:00:00Z",
            "2026-03-01T12:20:00Z"
        ]
    );
    assert_eq!(
        fires("cron(0,30 6,18 * * ? *)", "2026-03-01T07:00:00Z", 3),
        [
            "2026-03-01T18:00:00Z",
            "2026-03-01T18:30:00Z",
            "2026-03-02T06:00:00Z"
        ]
    );
    // A range that wraps past midnight.
    assert_eq!(
        fires("cron(0 22-1 * * ? *)", "2026-03-01T12:00:00Z", 5),
        [
            "2026-03-01T22:00:00Z",
            "2026-03-01T23:00:00Z",
            "2026-03-02T00:00:00Z",
            "2026-03-02T01:00:00Z",
            "2026-03-02T22:00:00Z"
        ]
    );
}

#[test]
fn month_ends_and_leap_years() {
    // April has no 31st.
    assert_eq!(
        next("cron(0 0 31 * ? *)", "2026-04-01T00:00:00Z").as_deref(),
        Some("2026-05-31T00:00:00Z")
    );
    assert_eq!(
        next("cron(0 0 29 FEB ? *)", "2026-01-01T00:00:00Z").as_deref(),
        Some("2028-02-29T00:00:00Z")
    );
    // 2100 is divisible by 4 but not a leap year; 2000 was.
    assert_eq!(
        next("cron(0 0 29 2 ? *)", "2096-03-01T00:00:00Z").as_deref(),
        Some("2104-02-29T00:00:00Z")
    );
    assert_eq!(
        next("cron(0 0 29 2 ? *)", "1999-01-01T00:00:00Z").as_deref(),
        Some("2000-02-29T00:00:00Z")
    );
    assert_eq!(
        fires("cron(0 0 L * ? *)", "2028-01-15T00:00:00Z", 3),
        [
            "2028-01-31T00:00:00Z",
            "2028-02-29T00:00:00Z",
            "2028-03-31T00:00:00Z"
        ]
    );
    assert_eq!(
        next("cron(0 0 L 2 ? *)", "2100-01-01T00:00:00Z").as_deref(),
        Some("2100-02-28T00:00:00Z")
    );
    // A day that never exists never fires (and the search ends).
    assert_eq!(next("cron(0 0 30 FEB ? *)", "2026-01-01T00:00:00Z"), None);
    assert_eq!(
        next("cron(0 0 31 APR,JUN ? *)", "2026-01-01T00:00:00Z"),
        None
    );
}

#[test]
fn days_of_week_count_from_sunday() {
    // 2026-11-27 is a Friday.
    assert_eq!(
        next("cron(0 9 ? * MON-FRI *)", "2026-11-27T10:00:00Z").as_deref(),
        Some("2026-11-30T09:00:00Z")
    );
    assert_eq!(
        next("cron(0 9 ? * 2-6 *)", "2026-11-27T10:00:00Z").as_deref(),
        Some("2026-11-30T09:00:00Z")
    );
    assert_eq!(
        next("cron(0 9 ? * 1 *)", "2026-11-27T10:00:00Z").as_deref(),
        Some("2026-11-29T09:00:00Z")
    );
    assert_eq!(
        next("cron(0 9 ? * sun *)", "2026-11-27T10:00:00Z").as_deref(),
        Some("2026-11-29T09:00:00Z")
    );
    // FRI-MON wraps over the weekend; 2026-12-01 is a Tuesday.
    assert_eq!(
        fires("cron(0 0 ? * FRI-MON *)", "2026-12-01T00:00:00Z", 5),
        [
            "2026-12-04T00:00:00Z",
            "2026-12-05T00:00:00Z",
            "2026-12-06T00:00:00Z",
            "2026-12-07T00:00:00Z",
            "2026-12-11T00:00:00Z"
        ]
    );
    assert_eq!(
        fires("cron(0 0 ? * MON,WED,FRI *)", "2026-11-30T00:00:00Z", 3),
        [
            "2026-12-02T00:00:00Z",
            "2026-12-04T00:00:00Z",
            "2026-12-07T00:00:00Z"
        ]
    );
}

#[test]
fn last_nearest_and_nth_days() {
    // Day-of-week L alone is Saturday.
    assert_eq!(
        next("cron(0 0 ? * L *)", "2026-11-27T00:00:00Z").as_deref(),
        Some("2026-11-28T00:00:00Z")
    );
    // The last Friday of November and December 2026.
    assert_eq!(
        fires("cron(0 0 ? * 6L *)", "2026-11-01T00:00:00Z", 2),
        ["2026-11-27T00:00:00Z", "2026-12-25T00:00:00Z"]
    );
    assert_eq!(
        next("cron(0 0 ? * FRIL *)", "2026-11-01T00:00:00Z").as_deref(),
        Some("2026-11-27T00:00:00Z")
    );
    // The first Monday; the fifth Thursday exists in October and December 2026, not November.
    assert_eq!(
        next("cron(0 0 ? * 2#1 *)", "2026-11-01T00:00:00Z").as_deref(),
        Some("2026-11-02T00:00:00Z")
    );
    assert_eq!(
        fires("cron(0 0 ? * THU#5 *)", "2026-10-01T00:00:00Z", 2),
        ["2026-10-29T00:00:00Z", "2026-12-31T00:00:00Z"]
    );
    // LW: 2026-05-31 is a Sunday, 2026-08-31 a Monday, 2026-02-28 a Saturday.
    assert_eq!(
        next("cron(0 0 LW 5 ? *)", "2026-01-01T00:00:00Z").as_deref(),
        Some("2026-05-29T00:00:00Z")
    );
    assert_eq!(
        next("cron(0 0 LW 8 ? *)", "2026-01-01T00:00:00Z").as_deref(),
        Some("2026-08-31T00:00:00Z")
    );
    assert_eq!(
        next("cron(0 0 LW 2 ? *)", "2026-01-01T00:00:00Z").as_deref(),
        Some("2026-02-27T00:00:00Z")
    );
    // 15W: 2026-02-15 is a Sunday, so Monday the 16th.
    assert_eq!(
        next("cron(0 0 15W 2 ? *)", "2026-01-01T00:00:00Z").as_deref(),
        Some("2026-02-16T00:00:00Z")
    );
    // 1W on a Saturday (2026-08-01) stays in August: Monday the 3rd.
    assert_eq!(
        next("cron(0 0 1W 8 ? *)", "2026-07-01T00:00:00Z").as_deref(),
        Some("2026-08-03T00:00:00Z")
    );
    // 31W on a Sunday (2026-05-31) moves back to Friday; months without a 31st are skipped.
    assert_eq!(
        fires("cron(0 0 31W * ? *)", "2026-04-01T00:00:00Z", 2),
        ["2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z"]
    );
}

#[test]
fn years_bound_the_schedule() {
    assert_eq!(
        next("cron(0 0 1 1 ? 2030)", "2026-06-01T00:00:00Z").as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    assert_eq!(next("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00Z"), None);
    assert_eq!(
        fires("cron(0 0 1 1 ? 2020/4)", "2021-01-01T00:00:00Z", 3),
        [
            "2024-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z",
            "2032-01-01T00:00:00Z"
        ]
    );
    assert_eq!(
        next("cron(59 23 31 12 ? 2199)", "2199-12-31T23:58:00Z").as_deref(),
        Some("2199-12-31T23:59:00Z")
    );
    assert_eq!(next("cron(59 23 31 12 ? *)", "2199-12-31T23:59:00Z"), None);
    assert_eq!(
        next("cron(0 0 1 1 ? *)", "1960-06-01T00:00:00Z").as_deref(),
        Some("1970-01-01T00:00:00Z")
    );
    assert_eq!(
        next("cron(0 0 1 1 ? 2027-2028)", "2027-01-01T00:00:00Z").as_deref(),
        Some("2028-01-01T00:00:00Z")
    );
}

#[test]
fn names_and_spacing() {
    assert_eq!(
        fires("cron(0 0 1 jan,Jul ? *)", "2026-03-01T00:00:00Z", 2),
        ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"]
    );
    assert_eq!(
        next("cron(0 0 1 NOV-FEB ? *)", "2026-03-01T00:00:00Z").as_deref(),
        Some("2026-11-01T00:00:00Z")
    );
    assert_eq!(
        next("cron( 0  12   * * ?  * )", "2026-03-01T00:00:00Z").as_deref(),
        Some("2026-03-01T12:00:00Z")
    );
}

#[test]
fn every_field_names_its_error() {
    refused("cron(60 * * * ? *)", &["Minutes", "\"60\"", "0-59"]);
    refused("cron(0 24 * * ? *)", &["Hours", "\"24\"", "0-23"]);
    refused("cron(0 0 32 * ? *)", &["Day-of-month", "\"32\"", "1-31"]);
    refused("cron(0 0 0 * ? *)", &["Day-of-month", "\"0\""]);
    refused("cron(0 0 * 13 ? *)", &["Month", "\"13\"", "JAN-DEC"]);
    refused("cron(0 0 1 FOO ? *)", &["Month", "\"FOO\""]);
    refused("cron(0 0 ? * 8 *)", &["Day-of-week", "\"8\"", "SUN-SAT"]);
    refused("cron(0 0 ? * 0 *)", &["Day-of-week", "\"0\""]);
    refused("cron(0 0 ? * MONDAY *)", &["Day-of-week", "\"MONDAY\""]);
    refused("cron(0 0 * * ? 1969)", &["Year", "\"1969\"", "1970-2199"]);
    refused("cron(0 0 * * ? 2200)", &["Year", "\"2200\""]);
    refused("cron(x 0 * * ? *)", &["Minutes", "\"x\""]);
    refused("cron(0 JAN * * ? *)", &["Hours", "\"JAN\""]);
}

#[test]
fn structural_errors_are_explained() {
    refused("cron(0 12 * * ?)", &["6 fields", "found 5"]);
    refused("cron(0 12 * * ? * *)", &["6 fields", "found 7"]);
    refused("cron()", &["6 fields", "found 0"]);
    refused(
        "cron(0 12 * * * *)",
        &["Day-of-month \"*\"", "Day-of-week \"*\"", "\"?\""],
    );
    refused(
        "cron(0 12 1 * MON *)",
        &["Day-of-month \"1\"", "Day-of-week \"MON\""],
    );
    refused("cron(0 12 ? * ? *)", &["both \"?\""]);
    refused("cron(? 12 * * ? *)", &["Minutes", "\"?\""]);
    refused("cron(0 12 1,? * ? *)", &["Day-of-month"]);
    refused(
        "cron(*/0 * * * ? *)",
        &["Minutes", "increment \"0\"", "1 to 60"],
    );
    refused("cron(0/61 * * * ? *)", &["Minutes", "\"61\""]);
    refused("cron(0 0/x * * ? *)", &["Hours", "increment \"x\""]);
    refused("cron(1,,2 * * * ? *)", &["Minutes", "missing"]);
    refused("cron(5- * * * ? *)", &["Minutes", "missing"]);
    refused("cron(-5 * * * ? *)", &["Minutes", "missing"]);
    refused("cron(0 0 ? * 2#6 *)", &["Day-of-week", "\"2#6\"", "1 to 5"]);
    refused("cron(0 0 ? * 2#0 *)", &["Day-of-week", "1 to 5"]);
    refused("cron(0 0 ? * 9#1 *)", &["Day-of-week", "\"9\""]);
    refused(
        "cron(0 0 ? * 1-3L *)",
        &["Day-of-week", "\"1-3L\"", "not supported"],
    );
    refused("cron(0 0 ? * 1,2#1 *)", &["Day-of-week", "not supported"]);
    refused("cron(0 0 ? * 2W *)", &["Day-of-week", "\"2W\""]);
    refused(
        "cron(0 0 L-3 * ? *)",
        &["Day-of-month", "\"L-3\"", "not supported"],
    );
    refused("cron(0 0 1,LW * ? *)", &["Day-of-month", "not supported"]);
    refused("cron(0 0 32W * ? *)", &["Day-of-month", "\"32\""]);
    refused("cron(0 0 2#1 * ? *)", &["Day-of-month", "not supported"]);
    refused("cron(L 0 * * ? *)", &["Minutes", "\"L\""]);
}
