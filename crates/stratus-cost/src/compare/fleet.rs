//! Sizing an always-on fleet: the fewest instances of one type whose servers keep the M/M/c
//! p95 response time within the bound at the trace's peak rate. The fleet is fixed for the
//! whole period (no autoscaling), as a VM deployment without an autoscaler is.

use serde::Serialize;

use super::queueing::p95_response;
use crate::prices::InstancePrice;

/// Beyond this many instances of one type the search stops: such a fleet is never the
/// answer a person wants, and the Erlang recursion grows with the number of servers.
pub const MAX_INSTANCES: u64 = 100_000;

/// A fleet of one instance type sized for the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fleet {
    pub instance: String,
    pub count: u64,
    /// Concurrent requests one instance serves: min(vCPUs, memory ÷ function memory
    /// [, GPUs with --gpu]).
    pub servers_per_instance: u64,
    pub servers: u64,
    /// USD per hour for the whole fleet.
    pub hourly_usd: f64,
    /// USD for the trace's whole period.
    pub usd: f64,
    /// The model's p95 response time at the peak rate, in ms.
    pub p95_ms_at_peak: f64,
    /// λ̄ × service time ÷ servers.
    pub mean_utilisation: f64,
    pub peak_utilisation: f64,
}

/// An instance type that cannot serve the function at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsuitable {
    pub instance: String,
    pub reason: String,
}

/// The traffic and the function a fleet is sized for.
#[derive(Debug, Clone, Copy)]
pub struct Demand {
    pub peak_rate: f64,
    pub mean_rate: f64,
    pub service_seconds: f64,
    pub p95_bound_seconds: f64,
    pub memory_mb: u32,
    pub gpu: bool,
    pub period_hours: f64,
}

/// How many requests one instance serves at once, or why it cannot serve any.
///
/// # Errors
/// The reason, when the type has no GPU but one is needed or too little memory for one
/// request.
pub fn servers_per_instance(
    instance: &InstancePrice,
    memory_mb: u32,
    gpu: bool,
) -> Result<u64, String> {
    if gpu && instance.gpus == 0 {
        return Err("no GPU".to_owned());
    }
    // Small and non-negative: the cast is exact.
    let by_memory = (instance.memory_gib * 1024.0 / f64::from(memory_mb)).floor() as u64;
    let mut servers = u64::from(instance.vcpus).min(by_memory);
    if gpu {
        // A GPU request holds its GPU for the whole service time.
        servers = servers.min(u64::from(instance.gpus));
    }
    if servers == 0 {
        return Err(format!(
            "{} GiB cannot hold one {memory_mb} MB request",
            instance.memory_gib
        ));
    }
    Ok(servers)
}

/// The cheapest fleet of `instance` for `demand`.
///
/// # Errors
/// The reason the type is unsuitable (see `servers_per_instance`, or more than
/// `MAX_INSTANCES` instances needed).
pub fn size_fleet(instance: &InstancePrice, demand: &Demand) -> Result<Fleet, String> {
    let per_instance = servers_per_instance(instance, demand.memory_mb, demand.gpu)?;
    let p95_with = |count: u64| {
        p95_response(
            demand.peak_rate,
            demand.service_seconds,
            count * per_instance,
        )
        .filter(|p95| *p95 <= demand.p95_bound_seconds)
    };
    // Stability needs more servers than the offered load; below that no count can fit.
    let offered = demand.peak_rate * demand.service_seconds;
    let stable_from = ((offered / per_instance as f64).floor() as u64 + 1).max(1);
    if stable_from > MAX_INSTANCES {
        return Err(too_many());
    }
    // p95 falls as servers are added: double to a count that fits, then bisect.
    let mut failing = stable_from - 1;
    let mut fitting = stable_from;
    while p95_with(fitting).is_none() {
        failing = fitting;
        fitting *= 2;
        if fitting > 2 * MAX_INSTANCES {
            return Err(too_many());
        }
    }
    while fitting - failing > 1 {
        let middle = failing + (fitting - failing) / 2;
        if p95_with(middle).is_some() {
            fitting = middle;
        } else {
            failing = middle;
        }
    }
    if fitting > MAX_INSTANCES {
        return Err(too_many());
    }
    let p95 = p95_with(fitting).ok_or_else(too_many)?;
    let servers = fitting * per_instance;
    let (count_f, servers_f) = (fitting as f64, servers as f64);
    let hourly_usd = count_f * instance.hourly;
    Ok(Fleet {
        instance: instance.name.clone(),
        count: fitting,
        servers_per_instance: per_instance,
        servers,
        hourly_usd,
        usd: hourly_usd * demand.period_hours,
        p95_ms_at_peak: p95 * 1000.0,
        mean_utilisation: demand.mean_rate * demand.service_seconds / servers_f,
        peak_utilisation: offered / servers_f,
    })
}

fn too_many() -> String {
    format!("needs more than {MAX_INSTANCES} instances")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(vcpus: u32, memory_gib: f64, gpus: u32) -> InstancePrice {
        InstancePrice {
            name: "test".to_owned(),
            vcpus,
            memory_gib,
            gpus,
            hourly: 0.1,
        }
    }

    fn demand(peak_rate: f64) -> Demand {
        Demand {
            peak_rate,
            mean_rate: peak_rate,
            service_seconds: 0.1,
            p95_bound_seconds: 0.5,
            memory_mb: 128,
            gpu: false,
            period_hours: 10.0,
        }
    }

    #[test]
    fn servers_are_limited_by_vcpus_memory_and_gpus() {
        assert_eq!(
            servers_per_instance(&instance(2, 8.0, 0), 128, false),
            Ok(2)
        );
        assert_eq!(
            servers_per_instance(&instance(8, 1.0, 0), 512, false),
            Ok(2)
        );
        assert!(servers_per_instance(&instance(2, 1.0, 0), 2048, false).is_err());
        assert!(servers_per_instance(&instance(8, 32.0, 0), 128, true).is_err());
        assert_eq!(
            servers_per_instance(&instance(8, 32.0, 1), 128, true),
            Ok(1)
        );
    }

    #[test]
    fn no_traffic_still_needs_one_instance() {
        let fleet = size_fleet(&instance(2, 8.0, 0), &demand(0.0)).expect("fits");
        assert_eq!(fleet.count, 1);
        assert!((fleet.usd - 1.0).abs() < 1e-12);
        assert!((fleet.p95_ms_at_peak - 100.0 * 20f64.ln()).abs() < 1e-6);
    }

    #[test]
    fn the_fleet_is_the_smallest_that_meets_the_bound() {
        // One server (c = 1), S = 100 ms, bound 500 ms: M/M/1 p95 = ln 20 / (10 − λ) ≤ 0.5
        // ⇔ λ ≤ 10 − 2 ln 20 ≈ 4.009/s.
        let one_server = instance(1, 8.0, 0);
        let limit = 10.0 - 2.0 * 20f64.ln();
        assert_eq!(
            size_fleet(&one_server, &demand(limit - 1e-6))
                .expect("fits")
                .count,
            1
        );
        assert_eq!(
            size_fleet(&one_server, &demand(limit + 1e-6))
                .expect("fits")
                .count,
            2
        );
        // Large loads: the fleet is stable, meets the bound, and one instance fewer does not.
        for rate in [50.0, 333.0, 5000.0] {
            let fleet = size_fleet(&instance(2, 8.0, 0), &demand(rate)).expect("fits");
            assert!(fleet.peak_utilisation < 1.0 && fleet.p95_ms_at_peak <= 500.0);
            let fewer = p95_response(rate, 0.1, fleet.servers - 2);
            assert!(fewer.is_none_or(|p95| p95 > 0.5), "{rate}: {fleet:?}");
        }
    }

    #[test]
    fn absurd_loads_are_refused() {
        assert!(size_fleet(&instance(1, 8.0, 0), &demand(1e9)).is_err());
    }
}
