//! Billing hook: every finished invocation, whatever started it, adds its billed usage to the
//! server's usage meter (an in-memory sum; see `stratus_meta::UsageMeter`).

use std::sync::Arc;

use stratus_meta::{UsageMeter, VersionRecord};

use crate::functions::Functions;
use crate::invoke::Metering;

impl Functions {
    /// Connects invocations to the usage meter (set once by the composition root; without one
    /// nothing is metered).
    pub fn set_usage_meter(&self, meter: Arc<UsageMeter>) {
        let _ = self.usage.set(meter);
    }

    /// Counts one invocation as Lambda bills it: billed milliseconds × configured memory.
    pub(crate) fn meter_usage(&self, version: &VersionRecord, metering: &Metering) {
        if let Some(meter) = self.usage.get() {
            meter.record_invocation(
                &version.project,
                &version.name,
                metering.billed_ms,
                metering.memory_mb,
                metering.duration_ms,
                metering.outcome != "success",
            );
        }
    }
}
