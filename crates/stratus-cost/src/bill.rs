//! A bill from usage: Lambda's formula (requests × request price + GB-seconds × GB-second price)
//! and S3's (GB-months stored, write-class and read-class requests).

use serde::{Deserialize, Serialize};

use crate::prices::{LambdaPrices, S3Prices};

/// Bytes in a GB as AWS bills memory and storage (GiB: Lambda's 1024 MB is 1 GB).
pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Hours in AWS's billing month (a GB-month is 730 GB-hours).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Invocations of one function (or several), summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct InvocationUsage {
    pub requests: u64,
    /// Σ billed milliseconds × configured memory in MB over the invocations.
    pub mb_ms: u128,
}

impl InvocationUsage {
    /// GB-seconds: MB·ms ÷ 1024 ÷ 1000.
    #[must_use]
    pub fn gb_seconds(&self) -> f64 {
        // As f64: exact far beyond any real bill.
        self.mb_ms as f64 / 1024.0 / 1000.0
    }
}

/// S3 usage over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct S3Usage {
    /// Σ bytes stored × hours (each hour's stored bytes, summed over the hours).
    pub byte_hours: f64,
    /// PUT, COPY, POST and LIST requests.
    pub writes: u64,
    /// GET, HEAD and every other request.
    pub reads: u64,
}

impl S3Usage {
    #[must_use]
    pub fn gb_months(&self) -> f64 {
        self.byte_hours / GB / HOURS_PER_MONTH
    }
}

/// USD for `usage` under Lambda prices.
#[must_use]
pub fn invocation_cost(usage: &InvocationUsage, prices: &LambdaPrices) -> f64 {
    usage.requests as f64 / 1e6 * prices.per_million_requests
        + usage.gb_seconds() * prices.per_gb_second
}

/// USD for `usage` under S3 prices.
#[must_use]
pub fn s3_cost(usage: &S3Usage, prices: &S3Prices) -> f64 {
    usage.gb_months() * prices.per_gb_month
        + usage.writes as f64 / 1000.0 * prices.per_thousand_writes
        + usage.reads as f64 / 1000.0 * prices.per_thousand_reads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_bill_matches_a_hand_computed_case() {
        // 3 million invocations of 120 ms (billed 120 ms) at 512 MB: AWS's own pricing example
        // style. Requests: 3 × $0.20 = $0.60. GB-s: 3e6 × 0.12 s × 0.5 GB = 180,000 GB-s
        // × $0.0000166667 = $3.000006.
        let usage = InvocationUsage {
            requests: 3_000_000,
            mb_ms: 3_000_000 * 120 * 512,
        };
        assert!((usage.gb_seconds() - 180_000.0).abs() < 1e-6);
        let cost = invocation_cost(&usage, &LambdaPrices::default());
        assert!((cost - 3.600_006).abs() < 1e-9, "{cost}");
    }

    #[test]
    fn s3_bill_matches_a_hand_computed_case() {
        // 100 GB for a whole month, 10,000 PUTs, 1,000,000 GETs:
        // 100 × 0.023 + 10 × 0.005 + 1000 × 0.0004 = 2.30 + 0.05 + 0.40 = 2.75.
        let usage = S3Usage {
            byte_hours: 100.0 * GB * HOURS_PER_MONTH,
            writes: 10_000,
            reads: 1_000_000,
        };
        assert!((s3_cost(&usage, &S3Prices::default()) - 2.75).abs() < 1e-9);
    }
}
