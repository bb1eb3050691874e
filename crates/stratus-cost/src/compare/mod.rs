//! Serverless or always-on: the same traffic priced on Lambda-style billing and on the cheapest
//! fixed fleet of always-on instances that keeps the p95 response time within a bound (M/M/c),
//! with the break-even utilisation between the two. Pure arithmetic; docs/cost-compare.md has
//! the model and the formulas.

mod fleet;
pub mod queueing;
mod synthetic;
mod trace;

use serde::Serialize;

pub use fleet::{Fleet, MAX_INSTANCES, Unsuitable, servers_per_instance};
pub use synthetic::{MAX_DAYS, SYNTHETIC_INTERVAL_SECONDS, Synthetic, SyntheticKind};
pub use trace::{Trace, TraceSummary};

use crate::prices::{LambdaPrices, PriceCatalog};

/// The default p95 bound as a multiple of the mean service time. An M/M/c p95 never drops
/// below ln 20 ≈ 3.0 × the service time (the exponential service alone), so the bound must
/// exceed that; 5 × leaves room for some queueing.
pub const DEFAULT_P95_MULTIPLE: f64 = 5.0;

/// Lambda's memory range, MB.
pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 128..=10_240;

/// Why a comparison cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The trace file or trace parameters are malformed.
    #[error("invalid trace: {0}")]
    InvalidTrace(String),
    /// A parameter is out of range.
    #[error("{0}")]
    InvalidInput(String),
    /// No instance type in the catalog can serve the function within the bound.
    #[error("no always-on fleet can serve this: {0}")]
    NoFleet(String),
}

/// The function whose traffic is priced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Mean service time of one request, ms (measured, e.g. by `stratus profile`).
    pub service_ms: f64,
    /// Configured memory, MB: Lambda bills it, and it limits requests per instance.
    pub memory_mb: u32,
    /// The p95 response-time bound the fleet must meet at peak, ms; `None` for
    /// `DEFAULT_P95_MULTIPLE` × the service time.
    pub p95_bound_ms: Option<f64>,
    /// The function needs a GPU: only GPU instance types, one request per GPU.
    pub gpu: bool,
}

/// The comparison, as `stratus cost compare --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub trace: TraceSummary,
    pub workload: WorkloadReport,
    pub serverless: ServerlessCost,
    /// The cheapest fleet.
    pub always_on: Fleet,
    /// Serverless USD ÷ always-on USD (20 means serverless costs 20 ×).
    pub serverless_over_always_on: f64,
    /// (always-on − serverless) ÷ always-on × 100: what serverless saves (negative: it costs
    /// more).
    pub savings_percent: f64,
    pub break_even: BreakEven,
    /// The cheapest fleet of every suitable type, cheapest first.
    pub candidates: Vec<Fleet>,
    pub unsuitable: Vec<Unsuitable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorkloadReport {
    pub service_ms: f64,
    /// The service time rounded up to Lambda's 1 ms billing granularity.
    pub billed_ms: f64,
    pub memory_mb: u32,
    pub p95_bound_ms: f64,
    pub gpu: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerlessCost {
    pub usd: f64,
    /// Request price + billed seconds × GB × GB-second price.
    pub per_request_usd: f64,
    pub gb_seconds: f64,
}

/// Where serverless and the chosen (fixed) fleet cost the same.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BreakEven {
    /// Mean utilisation of the fleet's servers at which the costs are equal: the price of a
    /// server-hour ÷ the serverless price of a server-hour of back-to-back requests. It does
    /// not depend on the fleet's size.
    pub utilisation: f64,
    /// Mean requests per second at which the costs are equal.
    pub rate: f64,
    /// Whether the break-even lies below full utilisation; if not, serverless is cheaper at
    /// any load the fleet can carry.
    pub reachable: bool,
}

impl Workload {
    fn validate(&self) -> Result<f64, CompareError> {
        let invalid = |message: String| Err(CompareError::InvalidInput(message));
        if !(self.service_ms.is_finite() && self.service_ms > 0.0) {
            return invalid(format!(
                "the service time must be a positive number of ms, not {}",
                self.service_ms
            ));
        }
        if !MEMORY_MB.contains(&self.memory_mb) {
            return invalid(format!(
                "memory must be {} to {} MB, not {}",
                MEMORY_MB.start(),
                MEMORY_MB.end(),
                self.memory_mb
            ));
        }
        let bound = self
            .p95_bound_ms
            .unwrap_or(DEFAULT_P95_MULTIPLE * self.service_ms);
        let floor = queueing::p95_floor(self.service_ms / 1000.0) * 1000.0;
        if !(bound.is_finite() && bound > floor) {
            return invalid(format!(
                "the p95 bound must exceed {floor:.3} ms: with exponential service times of \
                 mean {} ms even an idle server's p95 is ln 20 × that, not {bound}",
                self.service_ms
            ));
        }
        Ok(bound)
    }
}

/// USD one request costs on serverless: request price + billed duration (rounded up to 1 ms)
/// × memory in GB (MB ÷ 1024) × GB-second price.
#[must_use]
pub fn serverless_request_usd(service_ms: f64, memory_mb: u32, prices: &LambdaPrices) -> f64 {
    let billed_seconds = service_ms.ceil() / 1000.0;
    prices.per_million_requests / 1e6
        + billed_seconds * f64::from(memory_mb) / 1024.0 * prices.per_gb_second
}

/// Prices `trace` both ways under `catalog`.
///
/// # Errors
/// `InvalidInput` for an out-of-range workload or catalog, `NoFleet` when no instance type
/// is suitable.
pub fn compare(
    trace: &Trace,
    workload: &Workload,
    catalog: &PriceCatalog,
) -> Result<Comparison, CompareError> {
    catalog.validate().map_err(CompareError::InvalidInput)?;
    let bound_ms = workload.validate()?;
    let summary = trace.summary();
    let per_request_usd =
        serverless_request_usd(workload.service_ms, workload.memory_mb, &catalog.lambda);
    let billed_ms = workload.service_ms.ceil();
    let serverless = ServerlessCost {
        usd: summary.requests * per_request_usd,
        per_request_usd,
        gb_seconds: summary.requests * billed_ms / 1000.0 * f64::from(workload.memory_mb) / 1024.0,
    };
    let demand = fleet::Demand {
        peak_rate: summary.peak_rate,
        mean_rate: summary.mean_rate,
        service_seconds: workload.service_ms / 1000.0,
        p95_bound_seconds: bound_ms / 1000.0,
        memory_mb: workload.memory_mb,
        gpu: workload.gpu,
        period_hours: summary.period_hours,
    };
    let mut candidates = Vec::new();
    let mut unsuitable = Vec::new();
    for instance in &catalog.instances {
        if instance.gpus > 0 && !workload.gpu {
            continue; // GPU types only for functions that need a GPU
        }
        match fleet::size_fleet(instance, &demand) {
            Ok(fleet) => candidates.push(fleet),
            Err(reason) => unsuitable.push(Unsuitable {
                instance: instance.name.clone(),
                reason,
            }),
        }
    }
    candidates.sort_by(|a, b| a.usd.total_cmp(&b.usd));
    let Some(always_on) = candidates.first().cloned() else {
        let reasons: Vec<String> = unsuitable
            .iter()
            .map(|u| format!("{}: {}", u.instance, u.reason))
            .collect();
        return Err(CompareError::NoFleet(if reasons.is_empty() {
            "the catalog has no instance type for it".to_owned()
        } else {
            reasons.join("; ")
        }));
    };
    let break_even = break_even(&always_on, per_request_usd, demand.service_seconds);
    Ok(Comparison {
        trace: summary,
        workload: WorkloadReport {
            service_ms: workload.service_ms,
            billed_ms,
            memory_mb: workload.memory_mb,
            p95_bound_ms: bound_ms,
            gpu: workload.gpu,
        },
        serverless,
        serverless_over_always_on: serverless.usd / always_on.usd,
        savings_percent: (always_on.usd - serverless.usd) / always_on.usd * 100.0,
        break_even,
        always_on,
        candidates,
        unsuitable,
    })
}

/// Serverless costs rate × 3600 × per-request USD an hour; the fleet costs its hourly price.
/// Equal at rate* = hourly ÷ (3600 × per-request USD), i.e. utilisation rate* × S ÷ servers.
fn break_even(fleet: &Fleet, per_request_usd: f64, service_seconds: f64) -> BreakEven {
    let rate = fleet.hourly_usd / (3600.0 * per_request_usd);
    let utilisation = rate * service_seconds / fleet.servers as f64;
    BreakEven {
        utilisation,
        rate,
        reachable: utilisation < 1.0,
    }
}

#[cfg(test)]
mod tests;
