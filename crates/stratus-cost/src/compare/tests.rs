//! The comparison against hand-computed cases.

use super::*;

fn constant(rate: f64, days: f64) -> Trace {
    Synthetic {
        kind: SyntheticKind::Constant,
        mean_rate: rate,
        days,
        active_minutes: 5,
    }
    .generate()
    .expect("valid")
}

fn workload(service_ms: f64, memory_mb: u32) -> Workload {
    Workload {
        service_ms,
        memory_mb,
        p95_bound_ms: None,
        gpu: false,
    }
}

#[test]
fn constant_trace_matches_the_hand_calculation() {
    // 10 req/s for a day, 100 ms at 128 MB, default AWS prices.
    // Per request: 0.20/1e6 + 0.1 s × 0.125 GB × 0.0000166667 = 4.0833375e-7 USD.
    // Serverless: 864,000 requests × that = 0.35280036 USD.
    // Fleet: offered load 1 Erlang; one t3.micro (2 vCPUs, 1 GiB ⇒ 2 servers of 128 MB) has
    // C = 1/3 and θ = μ = 10/s, so P(T > 0.5 s) = (2/3 + 1/3 × 6)·e^−5 ≈ 1.8 % < 5 %: one
    // instance, 24 h × 0.0104 = 0.2496 USD, the cheapest per server in the catalog.
    // Break-even rate: 0.0104 / (3600 × 4.0833375e-7) = 7.0748 req/s; utilisation
    // 7.0748 × 0.1 / 2 = 0.35374.
    let per_request = 0.20 / 1e6 + 0.1 * 0.125 * 0.000_016_666_7;
    let result = compare(
        &constant(10.0, 1.0),
        &workload(100.0, 128),
        &PriceCatalog::default(),
    )
    .expect("compares");
    assert!((result.serverless.per_request_usd - per_request).abs() < 1e-18);
    assert!((result.serverless.usd - 864_000.0 * per_request).abs() < 1e-9);
    assert_eq!(result.always_on.instance, "t3.micro");
    assert_eq!((result.always_on.count, result.always_on.servers), (1, 2));
    assert!((result.always_on.usd - 0.2496).abs() < 1e-9);
    let rate = 0.0104 / (3600.0 * per_request);
    assert!((result.break_even.rate - rate).abs() < 1e-9, "{result:?}");
    assert!((result.break_even.utilisation - rate * 0.1 / 2.0).abs() < 1e-12);
    assert!(result.break_even.reachable);
    assert!((result.serverless_over_always_on - 0.352_800_36 / 0.2496).abs() < 1e-6);
    assert!((result.savings_percent - (1.0 - 0.352_800_36 / 0.2496) * 100.0).abs() < 1e-4);
    assert!((result.always_on.mean_utilisation - 0.5).abs() < 1e-12);
}

#[test]
fn at_the_break_even_rate_both_cost_the_same() {
    let catalog = PriceCatalog::default();
    let first = compare(&constant(10.0, 1.0), &workload(100.0, 128), &catalog).expect("ok");
    let at = compare(
        &constant(first.break_even.rate, 1.0),
        &workload(100.0, 128),
        &catalog,
    )
    .expect("ok");
    assert_eq!(at.always_on.instance, first.always_on.instance);
    assert!(
        (at.serverless.usd - at.always_on.usd).abs() < 1e-9,
        "{at:?}"
    );
    assert!(at.savings_percent.abs() < 1e-6);
}

#[test]
fn the_service_time_is_billed_in_whole_milliseconds() {
    let prices = LambdaPrices::default();
    let rounded = serverless_request_usd(1.2, 1024, &prices);
    assert!((rounded - (0.2e-6 + 0.002 * 0.000_016_666_7)).abs() < 1e-18);
}

#[test]
fn intermittent_traffic_is_sized_for_its_peak() {
    // 5 minutes an hour: the peak is 12 × the mean, and the fleet is sized for it.
    let trace = Synthetic {
        kind: SyntheticKind::Intermittent,
        mean_rate: 10.0,
        days: 1.0,
        active_minutes: 5,
    }
    .generate()
    .expect("valid");
    let result = compare(&trace, &workload(100.0, 128), &PriceCatalog::default()).expect("ok");
    assert!((result.trace.peak_rate - 120.0).abs() < 1e-9);
    assert!(result.always_on.peak_utilisation < 1.0);
    assert!(
        (result.always_on.mean_utilisation * 12.0 - result.always_on.peak_utilisation).abs() < 1e-9
    );
    assert!(result.always_on.p95_ms_at_peak <= 500.0);
}

#[test]
fn gpu_types_only_for_gpu_functions() {
    let catalog = PriceCatalog::default();
    let cpu = compare(&constant(1.0, 1.0), &workload(100.0, 512), &catalog).expect("ok");
    assert!(
        cpu.candidates
            .iter()
            .all(|fleet| !fleet.instance.starts_with("g4dn"))
    );
    let mut gpu_workload = workload(100.0, 512);
    gpu_workload.gpu = true;
    let gpu = compare(&constant(1.0, 1.0), &gpu_workload, &catalog).expect("ok");
    assert_eq!(gpu.always_on.instance, "g4dn.xlarge");
    assert_eq!(gpu.always_on.servers_per_instance, 1);
    assert!(gpu.unsuitable.iter().any(|u| u.instance == "t3.micro"));
}

#[test]
fn bad_workloads_are_refused() {
    let trace = constant(1.0, 1.0);
    let catalog = PriceCatalog::default();
    let cases = [
        (workload(0.0, 128), "service time"),
        (workload(-5.0, 128), "service time"),
        (workload(100.0, 64), "memory"),
        (
            Workload {
                p95_bound_ms: Some(250.0),
                ..workload(100.0, 128)
            },
            "must exceed 299.573",
        ),
    ];
    for (bad, expected) in cases {
        let error = compare(&trace, &bad, &catalog)
            .expect_err("refused")
            .to_string();
        assert!(error.contains(expected), "{error}");
    }
    let no_instances = PriceCatalog {
        instances: Vec::new(),
        ..PriceCatalog::default()
    };
    assert!(matches!(
        compare(&trace, &workload(100.0, 128), &no_instances),
        Err(CompareError::NoFleet(_))
    ));
}
