//! `stratus cost`: what the project's functions and storage cost over a period, from the
//! server's metered usage (`GET /v1/cost`), as a table or JSON.

use anyhow::{Context as _, bail};
use stratus_client::cost::{CostGrouping, CostReport};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::client::{NativeClient, Target};

#[derive(clap::Args, Debug)]
pub(crate) struct CostArgs {
    /// Start of the period: an RFC 3339 date-time, a YYYY-MM-DD date (UTC), or a time ago such
    /// as 7d, 24h or 30m [default: the start of the current month, UTC].
    #[arg(long, value_parser = parse_when)]
    since: Option<OffsetDateTime>,
    /// End of the period, in the same forms [default: now].
    #[arg(long, value_parser = parse_when)]
    until: Option<OffsetDateTime>,
    /// Line items per function, or per project (an operator sees every project).
    #[arg(long, value_enum, default_value_t = By::Function)]
    by: By,
    /// Print the server's JSON report instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Function,
    Project,
}

/// Parses the forms `--since`/`--until` accept, relative ones against now.
fn parse_when(text: &str) -> Result<OffsetDateTime, String> {
    let now = OffsetDateTime::now_utc();
    parse_when_at(text, now.replace_nanosecond(0).unwrap_or(now))
}

fn parse_when_at(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return Ok(date.midnight().assume_utc());
    }
    let relative = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&split| split > 0)
        .and_then(|split| {
            let amount: i64 = text[..split].parse().ok()?;
            let unit = match &text[split..] {
                "d" => Duration::days(1),
                "h" => Duration::hours(1),
                "m" => Duration::minutes(1),
                _ => return None,
            };
            now.checked_sub(unit.checked_mul(i32::try_from(amount).ok()?)?)
        });
    relative.ok_or_else(|| {
        format!(
            "invalid time {text:?}: use an RFC 3339 date-time (2026-11-01T00:00:00Z), a date (2026-11-01) or a time ago (7d, 24h, 30m)"
        )
    })
}

fn utc(at: OffsetDateTime) -> anyhow::Result<String> {
    Ok(at.to_offset(time::UtcOffset::UTC).format(&Rfc3339)?)
}

pub(crate) async fn run(target: &Target, args: CostArgs) -> anyhow::Result<()> {
    if let (Some(since), Some(until)) = (args.since, args.until)
        && until < since
    {
        bail!(
            "--until ({}) is before --since ({})",
            utc(until)?,
            utc(since)?
        );
    }
    let by = if args.by == By::Project {
        CostGrouping::Project
    } else {
        CostGrouping::Function
    };
    let mut query = vec![format!("by={}", by.as_str())];
    if let Some(since) = args.since {
        query.push(format!("since={}", utc(since)?));
    }
    if let Some(until) = args.until {
        query.push(format!("until={}", utc(until)?));
    }
    let client = NativeClient::new(target)?;
    let report: CostReport = client
        .get(&format!("/v1/cost?{}", query.join("&")))
        .await
        .context("cannot get the cost report")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// Dollars with enough decimals to show a small bill's leading digits (three significant ones).
fn usd(amount: f64) -> String {
    if amount == 0.0 || !amount.is_finite() {
        return "0.00".to_owned();
    }
    // A small exponent, clamped: the casts are exact.
    let decimals = (2 - amount.abs().log10().floor() as i64).clamp(2, 12) as usize;
    format!("{amount:.decimals$}")
}

/// The report as aligned tables: invocations, then S3, then the total.
fn render(report: &CostReport) -> String {
    let mut out = format!(
        "Cost from {} to {} ({})\n\n",
        report.period.since, report.period.until, report.currency
    );
    let first = match report.by {
        CostGrouping::Function => "FUNCTION",
        CostGrouping::Project => "PROJECT",
    };
    out.push_str(&format!(
        "{first:<24} {:>10} {:>14} {:>7} {:>14} {:>14} {:>14}\n",
        "REQUESTS", "GB-SECONDS", "ERRORS", "REQUEST USD", "COMPUTE USD", "TOTAL USD"
    ));
    for item in &report.functions {
        let name = match report.by {
            CostGrouping::Function => item.function.as_deref().unwrap_or("?"),
            CostGrouping::Project => &item.project,
        };
        out.push_str(&format!(
            "{name:<24} {:>10} {:>14.6} {:>7} {:>14} {:>14} {:>14}\n",
            item.requests,
            item.gb_seconds,
            item.errors,
            usd(item.request_usd),
            usd(item.compute_usd),
            usd(item.usd),
        ));
    }
    if report.functions.is_empty() {
        out.push_str("(no invocations)\n");
    }
    out.push_str(&format!(
        "\n{:<24} {:>14} {:>10} {:>10} {:>14} {:>14} {:>14}\n",
        "S3 (PROJECT)", "GB-MONTHS", "WRITES", "READS", "STORAGE USD", "REQUEST USD", "TOTAL USD"
    ));
    for item in &report.s3 {
        out.push_str(&format!(
            "{:<24} {:>14.9} {:>10} {:>10} {:>14} {:>14} {:>14}\n",
            item.project,
            item.gb_months,
            item.write_requests,
            item.read_requests,
            usd(item.storage_usd),
            usd(item.request_usd),
            usd(item.usd),
        ));
    }
    if report.s3.is_empty() {
        out.push_str("(no S3 usage)\n");
    }
    let totals = &report.totals;
    out.push_str(&format!(
        "\nTotal: ${}  (functions ${}, S3 ${})\n",
        usd(totals.usd),
        usd(totals.lambda_usd),
        usd(totals.s3_usd),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_dates_or_ago() {
        let now = parse_when_at("2026-11-26T12:00:00Z", OffsetDateTime::UNIX_EPOCH).expect("rfc");
        assert_eq!(
            utc(parse_when_at("7d", now).expect("7d")).expect("fmt"),
            "2026-11-19T12:00:00Z"
        );
        assert_eq!(
            utc(parse_when_at("24h", now).expect("24h")).expect("fmt"),
            "2026-11-25T12:00:00Z"
        );
        assert_eq!(
            utc(parse_when_at("30m", now).expect("30m")).expect("fmt"),
            "2026-11-26T11:30:00Z"
        );
        assert_eq!(
            utc(parse_when_at("2026-11-01", now).expect("date")).expect("fmt"),
            "2026-11-01T00:00:00Z"
        );
        for bad in ["yesterday", "7w", "d", "2026-13-01", ""] {
            assert!(parse_when_at(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn small_bills_keep_their_leading_digits() {
        assert_eq!(usd(12.346), "12.35");
        assert_eq!(usd(0.000_003_29), "0.00000329");
        assert_eq!(usd(0.0), "0.00");
    }
}
