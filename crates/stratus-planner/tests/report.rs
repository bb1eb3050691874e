//! The written solution format reads back: for all 160 published placements, parse → evaluate →
//! write → parse gives the same placement, and the written total equals the evaluation's.

use serde_json::Value;
use stratus_planner::{Placement, System, evaluate, report::solution_json};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/space4ai");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{rel}")).expect("space4ai data file is readable")
}

#[test]
fn written_solutions_read_back_identically() {
    let expected: Vec<Value> = serde_json::from_str(&read("evaluations.json")).expect("valid JSON");
    for e in &expected {
        let lambda = e["lambda"].as_f64().expect("lambda");
        let time = e["time"].as_f64().expect("time");
        let inst = e["instance"].as_str().expect("instance");
        let system = System::parse(&read(inst), Some(lambda), Some(time)).expect("instance parses");
        let sol = e["solution"].as_str().expect("solution");
        let mut placement = Placement::parse(&read(sol), &system).expect("solution parses");
        // A few published files give one resource two cluster sizes; it has one, the larger.
        let mut nodes = std::collections::BTreeMap::new();
        for a in placement.components.iter().flat_map(|c| &c.partitions) {
            let n = nodes.entry(a.resource).or_insert(a.cluster);
            *n = (*n).max(a.cluster);
        }
        for a in placement
            .components
            .iter_mut()
            .flat_map(|c| &mut c.partitions)
        {
            a.cluster = nodes[&a.resource];
        }
        let ev = evaluate(&system, &placement);
        let written = solution_json(&system, &placement, &ev);
        let again = Placement::parse(&written.to_string(), &system).expect("written file parses");
        assert_eq!(again, placement, "{sol}");
        assert_eq!(written["total_cost"].as_f64(), Some(ev.total_cost), "{sol}");
        // Function costs written per partition add up, with the clusters, to the total.
        let mut sum = 0.0;
        let mut clusters = std::collections::BTreeMap::new();
        for comp in written["components"]
            .as_object()
            .expect("components")
            .values()
        {
            for dep in comp.as_object().expect("component").values() {
                let Some(parts) = dep.as_object() else {
                    continue;
                };
                for part in parts.values() {
                    for layer in part.as_object().expect("partition").values() {
                        let Some(res) = layer.as_object() else {
                            continue;
                        };
                        for (name, r) in res {
                            let cost = r["cost"].as_f64().expect("cost");
                            if r.get("number").is_some() {
                                clusters.insert(name.clone(), cost);
                            } else {
                                sum += cost;
                            }
                        }
                    }
                }
            }
        }
        sum += clusters.values().sum::<f64>();
        assert!(
            (sum - ev.total_cost).abs() <= 1e-9 * ev.total_cost,
            "{sol}: {sum} vs {}",
            ev.total_cost
        );
    }
}
