//! A two-partition system small enough to evaluate by hand, plus parse-error reporting.

use stratus_planner::{ParseError, Placement, System, Violation, evaluate};

const SYSTEM: &str = r#"{
  "Lambda": 1.0, "Time": 1,
  "DirectedAcyclicGraph": {"c1": {"next": [], "transition_probability": []}},
  "Components": {"c1": {"s1": {
    "h1": {"next": ["h2"], "data_size": [2], "early_exit_probability": 0.5},
    "h2": {"next": [], "data_size": [], "early_exit_probability": 0}
  }}},
  "EdgeResources": {"computationallayer1": {"EN1": {"number": 2, "cost": 3.0, "memory": 1024, "n_cores": 1}}},
  "CloudResources": {"computationallayer2": {"VM1": {"number": 2, "cost": 2.0, "memory": 1024, "n_cores": 1}}},
  "FaaSResources": {"computationallayer3": {"transition_cost": 0}},
  "CompatibilityMatrix": {"c1": {
    "h1": [{"resource": "EN1", "memory": 100}, {"resource": "VM1", "memory": 100}],
    "h2": [{"resource": "EN1", "memory": 100}, {"resource": "VM1", "memory": 100}]
  }},
  "Performance": {"c1": {
    "h1": {"EN1": {"model": "QTedge", "demand": 0.2}, "VM1": {"model": "QTedge", "demand": 0.2}},
    "h2": {"EN1": {"model": "QTedge", "demand": 0.4}, "VM1": {"model": "QTedge", "demand": 0.4}}
  }},
  "LocalConstraints": {"c1": {"local_res_time": 1.0}},
  "GlobalConstraints": {},
  "NetworkTechnology": {"ND1": {"computationallayers": ["computationallayer1", "computationallayer2"],
                                "AccessDelay": 0.01, "Bandwidth": 100}}
}"#;

fn solution(first: &str, second: &str) -> String {
    let at = |res: &str| {
        let layer = if res == "EN1" {
            "computationallayer1"
        } else {
            "computationallayer2"
        };
        format!(r#"{{"{layer}": {{"{res}": {{"number": 1}}}}}}"#)
    };
    format!(
        r#"{{"components": {{"c1": {{"h1": {}, "h2": {}, "response_time": 0}}}}}}"#,
        at(first),
        at(second)
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs()
}

#[test]
fn edge_then_cloud_by_hand() {
    let system = System::parse(SYSTEM, None, None).expect("parses");
    let placement = Placement::parse(&solution("EN1", "VM1"), &system).expect("parses");
    let ev = evaluate(&system, &placement);
    // h1: U = 0.2·1, R = 0.2/0.8 = 0.25. h2 gets λ = 0.5: U = 0.2, R = 0.4/0.8 = 0.5.
    // δ = 0.01 + 2/100 = 0.03, reached with probability 0.5: R = 0.25 + 0.5·(0.5 + 0.03).
    assert!(close(ev.component_response_times[0], 0.515), "{ev:?}");
    assert!(close(ev.total_cost, 5.0), "{ev:?}");
    assert!(ev.feasible(), "{ev:?}");
}

#[test]
fn co_location_shares_utilisation_and_lambda_overrides() {
    let system = System::parse(SYSTEM, Some(2.0), None).expect("parses");
    let placement = Placement::parse(&solution("VM1", "VM1"), &system).expect("parses");
    let ev = evaluate(&system, &placement);
    // U = 0.2·2 + 0.4·1 = 0.8; R = 0.2/0.2 + 0.5·(0.4/0.2 + 0) = 2.
    assert!(close(ev.component_response_times[0], 2.0), "{ev:?}");
    assert!(close(ev.total_cost, 2.0), "{ev:?}");
    assert!(
        ev.violations
            .iter()
            .any(|v| matches!(v, Violation::Local { .. })),
        "{ev:?}"
    );
}

#[test]
fn moving_back_to_the_edge_is_infeasible() {
    let system = System::parse(SYSTEM, None, None).expect("parses");
    let placement = Placement::parse(&solution("VM1", "EN1"), &system).expect("parses");
    let ev = evaluate(&system, &placement);
    assert!(
        ev.violations.contains(&Violation::MoveBack {
            component: "c1".to_owned()
        }),
        "{ev:?}"
    );
}

#[test]
fn errors_name_the_field_and_component() {
    let broken = SYSTEM.replacen(r#""demand": 0.4}, "VM1""#, r#""demnd": 0.4}, "VM1""#, 1);
    let err = System::parse(&broken, None, None).expect_err("missing demand");
    assert_eq!(
        err,
        ParseError::Missing {
            field: "demand".to_owned(),
            context: "Performance c1 h2 EN1".to_owned()
        }
    );
    let system = System::parse(SYSTEM, None, None).expect("parses");
    let bad = r#"{"components": {"c1": {"h1": {"computationallayer1": {"EN9": {"number": 1}}}}}}"#;
    let err = Placement::parse(bad, &system).expect_err("unknown deployment");
    assert!(err.to_string().contains("c1"), "{err}");
}
