//! A cost report from stored usage rows: line items per function (or per project) and per
//! project's S3 use, priced with the catalog's Lambda and S3 prices (`stratus_cost`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use stratus_cost::{InvocationUsage, PriceCatalog, S3Usage, invocation_cost, s3_cost};
use stratus_meta::{InvocationTotals, UsageRows};

/// How invocation line items are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupBy {
    Function,
    Project,
}

impl GroupBy {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "function" => Some(Self::Function),
            "project" => Some(Self::Project),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Project => "project",
        }
    }
}

#[derive(Default)]
struct S3Totals {
    usage: S3Usage,
}

/// The report body (without its period, which the caller adds).
pub(crate) fn report(rows: &UsageRows, prices: &PriceCatalog, by: GroupBy) -> Value {
    let mut invocations: BTreeMap<(String, Option<String>), InvocationTotals> = BTreeMap::new();
    for row in &rows.functions {
        let function = (by == GroupBy::Function).then(|| row.function.clone());
        invocations
            .entry((row.project.clone(), function))
            .or_default()
            .add(&row.totals);
    }
    let mut storage: BTreeMap<String, S3Totals> = BTreeMap::new();
    for row in &rows.s3 {
        let totals = &mut storage.entry(row.project.clone()).or_default().usage;
        totals.byte_hours += row.byte_hours;
        totals.writes += row.requests.writes;
        totals.reads += row.requests.reads;
    }
    let mut total_requests = 0_u64;
    let mut total_gb_seconds = 0.0;
    let mut lambda_usd = 0.0;
    let function_items: Vec<Value> = invocations
        .iter()
        .map(|((project, function), totals)| {
            let usage = InvocationUsage {
                requests: totals.requests,
                mb_ms: u128::from(totals.mb_ms),
            };
            let request_usd =
                invocation_cost(&InvocationUsage { mb_ms: 0, ..usage }, &prices.lambda);
            let compute_usd = invocation_cost(
                &InvocationUsage {
                    requests: 0,
                    ..usage
                },
                &prices.lambda,
            );
            total_requests += usage.requests;
            total_gb_seconds += usage.gb_seconds();
            lambda_usd += request_usd + compute_usd;
            let mut item = json!({
                "project": project,
                "requests": usage.requests,
                "billed_mb_ms": totals.mb_ms,
                "gb_seconds": usage.gb_seconds(),
                "duration_ms": totals.duration_ms,
                "errors": totals.errors,
                "request_usd": request_usd,
                "compute_usd": compute_usd,
                "usd": request_usd + compute_usd,
            });
            if let Some(function) = function {
                item["function"] = json!(function);
            }
            item
        })
        .collect();
    let mut s3_usd = 0.0;
    let s3_items: Vec<Value> = storage
        .iter()
        .map(|(project, S3Totals { usage })| {
            let storage_usd = s3_cost(
                &S3Usage {
                    writes: 0,
                    reads: 0,
                    ..*usage
                },
                &prices.s3,
            );
            let request_usd = s3_cost(
                &S3Usage {
                    byte_hours: 0.0,
                    ..*usage
                },
                &prices.s3,
            );
            s3_usd += storage_usd + request_usd;
            json!({
                "project": project,
                "byte_hours": usage.byte_hours,
                "gb_months": usage.gb_months(),
                "write_requests": usage.writes,
                "read_requests": usage.reads,
                "storage_usd": storage_usd,
                "request_usd": request_usd,
                "usd": storage_usd + request_usd,
            })
        })
        .collect();
    json!({
        "by": by.name(),
        "prices": { "lambda": prices.lambda, "s3": prices.s3 },
        "functions": function_items,
        "s3": s3_items,
        "totals": {
            "requests": total_requests,
            "gb_seconds": total_gb_seconds,
            "lambda_usd": lambda_usd,
            "s3_usd": s3_usd,
            "usd": lambda_usd + s3_usd,
        },
    })
}

#[cfg(test)]
mod tests {
    use stratus_meta::{FunctionUsageRow, RequestTotals, S3UsageRow};

    use super::*;

    fn row(
        project: &str,
        function: &str,
        hour_ms: i64,
        requests: u64,
        mb_ms: u64,
    ) -> FunctionUsageRow {
        FunctionUsageRow {
            project: project.into(),
            function: function.into(),
            hour_ms,
            totals: InvocationTotals {
                requests,
                mb_ms,
                duration_ms: 0.0,
                errors: 0,
            },
        }
    }

    #[test]
    fn line_items_sum_hours_and_price_them() {
        let rows = UsageRows {
            functions: vec![
                row("p", "f", 0, 1_000_000, 1024 * 1000 * 100_000),
                row("p", "f", 3_600_000, 1_000_000, 0),
                row("p", "g", 0, 500_000, 0),
            ],
            s3: vec![S3UsageRow {
                project: "p".into(),
                hour_ms: 0,
                requests: RequestTotals {
                    writes: 2000,
                    reads: 10_000,
                },
                byte_hours: stratus_cost::bill::GB * 730.0,
            }],
        };
        let prices = PriceCatalog::default();
        let by_function = report(&rows, &prices, GroupBy::Function);
        let f = &by_function["functions"][0];
        assert_eq!(f["function"], "f");
        assert_eq!(f["requests"], 2_000_000);
        // 2 M requests × $0.20 / M = $0.40; 100,000 GB-s × $0.0000166667 = $1.66667.
        assert!((f["request_usd"].as_f64().unwrap_or(0.0) - 0.40).abs() < 1e-12);
        assert!((f["compute_usd"].as_f64().unwrap_or(0.0) - 1.666_67).abs() < 1e-9);
        // S3: 1 GB-month $0.023 + 2 × $0.005 + 10 × $0.0004 = $0.037.
        let s3 = &by_function["s3"][0];
        assert!((s3["usd"].as_f64().unwrap_or(0.0) - 0.037).abs() < 1e-12);
        let total = by_function["totals"]["usd"].as_f64().unwrap_or(0.0);
        assert!(
            (total - (0.40 + 1.666_67 + 0.1 + 0.037)).abs() < 1e-9,
            "{total}"
        );
        let by_project = report(&rows, &prices, GroupBy::Project);
        assert_eq!(by_project["functions"].as_array().map(Vec::len), Some(1));
        assert_eq!(by_project["functions"][0]["requests"], 2_500_000);
        assert!(by_project["functions"][0].get("function").is_none());
    }
}
