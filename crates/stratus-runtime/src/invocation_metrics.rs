//! What invocations record in the shared metrics: one call per event, so `invoke.rs` stays
//! about running functions.

use std::sync::Arc;

use stratus_core::metrics::{Gauge, Metrics};

use crate::invoke::Metering;

/// Counts a finished invocation: its outcome, error, cold start and duration.
pub(crate) fn finished(metrics: &Metrics, project: &str, function: &str, metering: &Metering) {
    let labels = [project, function];
    metrics
        .function_invocations
        .with(&[project, function, metering.outcome])
        .inc();
    if metering.outcome != "success" {
        metrics.function_errors.with(&labels).inc();
    }
    if metering.init_ms.is_some() {
        metrics.function_cold_starts.with(&labels).inc();
    }
    metrics
        .function_duration
        .with(&labels)
        .observe(metering.duration_ms / 1000.0);
}

/// Counts a synchronous invocation refused for capacity.
pub(crate) fn throttled(metrics: &Metrics, project: &str, function: &str) {
    metrics.function_throttles.with(&[project, function]).inc();
}

/// Holds one unit of `function_concurrent_executions` while an invocation runs; dropping it
/// (on every path out, errors and cancellation included) gives it back.
pub(crate) struct InFlight(Arc<Gauge>);

impl InFlight {
    pub(crate) fn start(metrics: &Metrics, project: &str, function: &str) -> Self {
        let gauge = metrics.function_concurrent.with(&[project, function]);
        gauge.add(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.add(-1.0);
    }
}
