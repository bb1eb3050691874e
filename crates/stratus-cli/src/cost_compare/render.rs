//! The human-readable comparison table.

use std::fmt::Write as _;

use stratus_cost::compare::Comparison;

/// How many of the other fleets the table lists after the winner.
const OTHER_FLEETS: usize = 4;

pub fn table(result: &Comparison, source: &str) -> String {
    let trace = &result.trace;
    let work = &result.workload;
    let fleet = &result.always_on;
    let even = &result.break_even;
    let mut out = String::new();
    let mut line = |label: &str, text: String| {
        let _ = writeln!(out, "{label:<24}{text}");
    };
    line("traffic", source.to_owned());
    line(
        "",
        format!(
            "{:.0} requests over {:.1} h in {} intervals of {} s; mean {} req/s, peak {} req/s",
            trace.requests,
            trace.period_hours,
            trace.intervals,
            trace.interval_seconds,
            rate(trace.mean_rate),
            rate(trace.peak_rate)
        ),
    );
    line(
        "function",
        format!(
            "{} ms per request (billed {} ms), {} MB, p95 bound {} ms{}",
            work.service_ms,
            work.billed_ms,
            work.memory_mb,
            rate(work.p95_bound_ms),
            if work.gpu { ", needs a GPU" } else { "" }
        ),
    );
    line(
        "serverless",
        format!(
            "{}   ({} per request)",
            usd(result.serverless.usd),
            usd(result.serverless.per_request_usd)
        ),
    );
    line(
        "always-on",
        format!(
            "{}   {} × {} ({} servers, {}/h), p95 at peak {:.1} ms",
            usd(fleet.usd),
            fleet.count,
            fleet.instance,
            fleet.servers,
            usd(fleet.hourly_usd),
            fleet.p95_ms_at_peak
        ),
    );
    line(
        "utilisation",
        format!(
            "mean {:.1} %, peak {:.1} % of the fleet's servers",
            fleet.mean_utilisation * 100.0,
            fleet.peak_utilisation * 100.0
        ),
    );
    line(
        "serverless ÷ always-on",
        format!(
            "{:.3} ×   (serverless {} {:.1} %)",
            result.serverless_over_always_on,
            if result.savings_percent >= 0.0 {
                "saves"
            } else {
                "costs more by"
            },
            result.savings_percent.abs()
        ),
    );
    let reach = if even.reachable {
        ""
    } else {
        "   (above 100 %: serverless is cheaper at any load this fleet carries)"
    };
    line(
        "break-even",
        format!(
            "mean utilisation {:.1} % = {} req/s{reach}",
            even.utilisation * 100.0,
            rate(even.rate)
        ),
    );
    let cheaper = if result.serverless.usd <= fleet.usd {
        "serverless"
    } else {
        "always-on"
    };
    line("cheaper", cheaper.to_owned());
    let others: Vec<String> = result
        .candidates
        .iter()
        .skip(1)
        .take(OTHER_FLEETS)
        .map(|other| format!("{} × {} {}", other.count, other.instance, usd(other.usd)))
        .collect();
    if !others.is_empty() {
        line("next fleets", others.join(", "));
    }
    out
}

/// Dollars with enough digits for both a month's bill and one request's price.
fn usd(value: f64) -> String {
    if value.abs() >= 1.0 {
        format!("${value:.2}")
    } else if value.abs() >= 0.01 {
        format!("${value:.4}")
    } else {
        format!("${value:.3e}")
    }
}

/// A rate or time with four significant digits, without trailing noise.
fn rate(value: f64) -> String {
    if value == 0.0 || value.abs() >= 1000.0 {
        format!("{value:.0}")
    } else {
        // A small exponent: the cast is exact.
        let magnitude = value.abs().log10().floor() as i64;
        let decimals = usize::try_from((3 - magnitude).clamp(0, 9)).unwrap_or(0);
        format!("{value:.decimals$}")
    }
}
