//! `GET /v1/cost?since=T&until=T&by=function|project`: what the caller's project has cost over
//! a period (default: from the start of the current month, UTC, until now). Usage is stored by
//! hour, so a period covers the hours that start in `[hour of since, until)`. An operator asking
//! `by=project` sees every project.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use http::{Method, StatusCode};
use stratus_client::cost::{CostGrouping, CostPeriod, CostReport};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cost_report::report;

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/cost", cost)
}

fn bad_request(detail: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid request", detail)
}

/// RFC 3339 date-time, or a bare `YYYY-MM-DD` meaning its midnight UTC; the error is the
/// problem's detail.
fn parse_time(name: &str, text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &date_format)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| {
            format!("{name} must be an RFC 3339 date-time or a YYYY-MM-DD date, not {text:?}")
        })
}

fn start_of_month(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_day(1)
        .map_or(now, |first| first.replace_time(time::Time::MIDNIGHT))
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// What the project has cost over a period, by function or (operators) by project. The
/// report's lines depend on `by`; see docs/cost.md.
#[utoipa::path(get, operation_id = "get_cost", path = "/v1/cost", tag = "cost",
    params(
        ("since" = Option<String>, Query, description = "RFC 3339 date-time or YYYY-MM-DD; the start of this month by default"),
        ("until" = Option<String>, Query, description = "RFC 3339 date-time or YYYY-MM-DD; now by default"),
        ("by" = Option<String>, Query, description = "`function` (default) or `project`")),
    responses((status = 200, description = "The bill", body = CostReport)))]
pub(crate) async fn cost(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<CostReport>> {
    if let Some(unknown) = params
        .keys()
        .find(|key| !matches!(key.as_str(), "since" | "until" | "by"))
    {
        return Err(bad_request(&format!(
            "unknown parameter {unknown:?}: use since, until and by"
        )));
    }
    // Whole seconds: reports read better, and usage rows are hours anyway.
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let since = match params.get("since") {
        Some(text) => parse_time("since", text).map_err(|detail| bad_request(&detail))?,
        None => start_of_month(now),
    };
    let until = match params.get("until") {
        Some(text) => parse_time("until", text).map_err(|detail| bad_request(&detail))?,
        None => now,
    };
    if until < since {
        return Err(bad_request(&format!(
            "until ({}) is before since ({})",
            rfc3339(until),
            rfc3339(since)
        )));
    }
    let by = match params.get("by") {
        Some(text) => CostGrouping::parse(text)
            .ok_or_else(|| bad_request(&format!("by must be function or project, not {text:?}")))?,
        None => CostGrouping::Function,
    };
    // Only an operator's project-wide view crosses projects; everything else is the caller's.
    let project = (by == CostGrouping::Function || !caller.is_operator()).then_some(caller.project);
    let rows = state
        .billing
        .usage
        .usage_rows(
            project.as_deref(),
            stratus_meta::hour_of(millis(since)),
            millis(until),
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot read usage");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "usage could not be read",
            )
        })?;
    let period = CostPeriod {
        since: rfc3339(since),
        until: rfc3339(until),
    };
    Ok(Json(report(&rows, &state.billing.prices, by, period)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_dates() {
        let at = parse_time("since", "2026-11-02T03:04:05Z").expect("date-time");
        assert_eq!(at.unix_timestamp(), 1_793_588_645);
        let day = parse_time("since", "2026-11-02").expect("date");
        assert_eq!(rfc3339(day), "2026-11-02T00:00:00Z");
        assert!(parse_time("since", "yesterday").is_err());
        let now = parse_time("now", "2026-11-26T16:00:00+01:00").expect("offset");
        assert_eq!(rfc3339(start_of_month(now)), "2026-11-01T00:00:00+01:00");
    }
}
