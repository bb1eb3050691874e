//! A cost report from stored usage rows: line items per function (or per project) and per
//! project's S3 use, priced with the catalog's Lambda and S3 prices (`stratus_cost`).

use std::collections::BTreeMap;

use stratus_client::cost::{
    CostGrouping, CostPeriod, CostPrices, CostReport, CostTotals, InvocationCost, LambdaPriceList,
    S3PriceList, StorageCost,
};
use stratus_cost::{InvocationUsage, PriceCatalog, S3Usage, invocation_cost, s3_cost};
use stratus_meta::{InvocationTotals, UsageRows};

/// The prices as the API shows them.
fn price_list(prices: &PriceCatalog) -> CostPrices {
    CostPrices {
        lambda: LambdaPriceList {
            per_million_requests: prices.lambda.per_million_requests,
            per_gb_second: prices.lambda.per_gb_second,
        },
        s3: S3PriceList {
            per_gb_month: prices.s3.per_gb_month,
            per_thousand_writes: prices.s3.per_thousand_writes,
            per_thousand_reads: prices.s3.per_thousand_reads,
        },
    }
}

/// The line for one function (or project) of invocations.
fn invocation_line(
    project: &str,
    function: Option<&String>,
    totals: &InvocationTotals,
    prices: &PriceCatalog,
) -> InvocationCost {
    let usage = InvocationUsage {
        requests: totals.requests,
        mb_ms: u128::from(totals.mb_ms),
    };
    let request_usd = invocation_cost(&InvocationUsage { mb_ms: 0, ..usage }, &prices.lambda);
    let compute_usd = invocation_cost(
        &InvocationUsage {
            requests: 0,
            ..usage
        },
        &prices.lambda,
    );
    InvocationCost {
        project: project.to_owned(),
        function: function.cloned(),
        requests: usage.requests,
        billed_mb_ms: totals.mb_ms,
        gb_seconds: usage.gb_seconds(),
        duration_ms: totals.duration_ms,
        errors: totals.errors,
        request_usd,
        compute_usd,
        usd: request_usd + compute_usd,
    }
}

/// The line for one project's S3 use.
fn storage_line(project: &str, usage: &S3Usage, prices: &PriceCatalog) -> StorageCost {
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
    StorageCost {
        project: project.to_owned(),
        byte_hours: usage.byte_hours,
        gb_months: usage.gb_months(),
        write_requests: usage.writes,
        read_requests: usage.reads,
        storage_usd,
        request_usd,
        usd: storage_usd + request_usd,
    }
}

/// The report for `period` from the usage rows it covers.
pub(crate) fn report(
    rows: &UsageRows,
    prices: &PriceCatalog,
    by: CostGrouping,
    period: CostPeriod,
) -> CostReport {
    let mut invocations: BTreeMap<(String, Option<String>), InvocationTotals> = BTreeMap::new();
    for row in &rows.functions {
        let function = (by == CostGrouping::Function).then(|| row.function.clone());
        invocations
            .entry((row.project.clone(), function))
            .or_default()
            .add(&row.totals);
    }
    let mut storage: BTreeMap<String, S3Usage> = BTreeMap::new();
    for row in &rows.s3 {
        let totals = storage.entry(row.project.clone()).or_default();
        totals.byte_hours += row.byte_hours;
        totals.writes += row.requests.writes;
        totals.reads += row.requests.reads;
    }
    let functions: Vec<InvocationCost> = invocations
        .iter()
        .map(|((project, function), totals)| {
            invocation_line(project, function.as_ref(), totals, prices)
        })
        .collect();
    let s3: Vec<StorageCost> = storage
        .iter()
        .map(|(project, usage)| storage_line(project, usage, prices))
        .collect();
    let lambda_usd: f64 = functions.iter().map(|line| line.usd).sum();
    let s3_usd: f64 = s3.iter().map(|line| line.usd).sum();
    let totals = CostTotals {
        requests: functions.iter().map(|line| line.requests).sum(),
        gb_seconds: functions.iter().map(|line| line.gb_seconds).sum(),
        lambda_usd,
        s3_usd,
        usd: lambda_usd + s3_usd,
    };
    CostReport {
        by,
        period,
        currency: "USD".to_owned(),
        prices: price_list(prices),
        functions,
        s3,
        totals,
    }
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
        let period = CostPeriod {
            since: "2026-11-01T00:00:00Z".into(),
            until: "2026-12-01T00:00:00Z".into(),
        };
        let by_function = report(&rows, &prices, CostGrouping::Function, period.clone());
        let f = &by_function.functions[0];
        assert_eq!(f.function.as_deref(), Some("f"));
        assert_eq!(f.requests, 2_000_000);
        // 2 M requests × $0.20 / M = $0.40; 100,000 GB-s × $0.0000166667 = $1.66667.
        assert!((f.request_usd - 0.40).abs() < 1e-12);
        assert!((f.compute_usd - 1.666_67).abs() < 1e-9);
        // S3: 1 GB-month $0.023 + 2 × $0.005 + 10 × $0.0004 = $0.037.
        assert!((by_function.s3[0].usd - 0.037).abs() < 1e-12);
        let total = by_function.totals.usd;
        assert!(
            (total - (0.40 + 1.666_67 + 0.1 + 0.037)).abs() < 1e-9,
            "{total}"
        );
        let by_project = report(&rows, &prices, CostGrouping::Project, period);
        assert_eq!(by_project.functions.len(), 1);
        assert_eq!(by_project.functions[0].requests, 2_500_000);
        assert!(by_project.functions[0].function.is_none());
        let shown = serde_json::to_value(&by_project).expect("serialises");
        assert!(shown["functions"][0].get("function").is_none(), "{shown}");
    }
}
