//! Reproduces the 160 published evaluations of `data/space4ai/evaluations.json`: cost,
//! every component and path response time within 1e-9 relative, and feasibility.

use std::collections::BTreeMap;

use serde_json::Value;
use stratus_planner::{Placement, System, evaluate};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/space4ai");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{rel}")).expect("space4ai data file is readable")
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn reproduces_published_evaluations() {
    let expected: Vec<Value> = serde_json::from_str(&read("evaluations.json")).expect("valid JSON");
    assert_eq!(expected.len(), 160);
    let mut mismatches: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &expected {
        let lambda = e["lambda"].as_f64().expect("lambda");
        let time = e["time"].as_f64().expect("time");
        let inst = e["instance"].as_str().expect("instance");
        let system = System::parse(&read(inst), Some(lambda), Some(time)).expect("instance parses");
        let sol = e["solution"].as_str().expect("solution");
        let placement = Placement::parse(&read(sol), &system).expect("solution parses");
        let ev = evaluate(&system, &placement);
        if !close(ev.total_cost, e["total_cost"].as_f64().expect("cost")) {
            *mismatches.entry("total_cost").or_default() += 1;
        }
        if ev.feasible() != e["feasible"].as_bool().expect("feasible") {
            *mismatches.entry("feasible").or_default() += 1;
            eprintln!("{sol}: {:?}", ev.violations);
        }
        for (name, want) in e["component_response_times"]
            .as_object()
            .expect("components")
        {
            let i = system.component_index(name).expect("known component");
            if !close(
                ev.component_response_times[i],
                want.as_f64().expect("number"),
            ) {
                *mismatches.entry("component_response_time").or_default() += 1;
                eprintln!(
                    "{sol} {name}: got {} want {want}",
                    ev.component_response_times[i]
                );
            }
        }
        for (name, want) in e["path_response_times"].as_object().expect("paths") {
            let i = system
                .paths
                .iter()
                .position(|p| &p.name == name)
                .expect("known path");
            if !close(ev.path_response_times[i], want.as_f64().expect("number")) {
                *mismatches.entry("path_response_time").or_default() += 1;
                eprintln!(
                    "{sol} {name}: got {} want {want}",
                    ev.path_response_times[i]
                );
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "mismatches per field: {mismatches:?}"
    );
}
