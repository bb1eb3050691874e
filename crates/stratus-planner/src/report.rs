//! Writes a placement in the reference tool's solution format, with the deployment level of
//! its older generation (`components → c → s → h → layer → resource {cost, memory, number}`), so
//! both generations of tools, and [`Placement::parse`](crate::Placement::parse), read it back.
//!
//! Field meanings follow the current tool where the two differ: an edge/VM resource's `cost` is
//! what its cluster costs over the horizon (cost × nodes × Time), a function's `cost` is what
//! that partition's invocations cost; path entries carry both `global_res_time` (older) and
//! `path_response_time_threshold` (current) for the threshold.

use serde_json::{Map, Value, json};

use crate::evaluate::{Evaluation, component_loads};
use crate::model::{Demand, Deployment, ResourceKind, System};
use crate::solution::Placement;

/// The solution document for `placement`, evaluated as `evaluation`.
pub fn solution_json(system: &System, placement: &Placement, evaluation: &Evaluation) -> Value {
    let loads = component_loads(system);
    // One cluster per resource: a file that gave it two sizes is written with the larger, the
    // one the evaluator prices.
    let mut nodes = vec![0u32; system.resources.len()];
    for a in placement.components.iter().flat_map(|c| &c.partitions) {
        nodes[a.resource] = nodes[a.resource].max(a.cluster);
    }
    let mut components = Map::new();
    for (i, cp) in placement.components.iter().enumerate() {
        let comp = &system.components[i];
        let dep = &comp.deployments[cp.deployment];
        let mut partitions = Map::new();
        for (h, (a, part)) in cp.partitions.iter().zip(&dep.partitions).enumerate() {
            let r = &system.resources[a.resource];
            let cost = match r.kind {
                ResourceKind::Faas => faas_cost(system, loads[i], dep, h, a.resource),
                _ => r.cost * f64::from(nodes[a.resource]) * system.time,
            };
            let mut entry = Map::new();
            entry.insert("cost".into(), json!(cost));
            entry.insert("memory".into(), json!(r.memory));
            if r.kind == ResourceKind::Faas {
                entry.insert(
                    "idle_time_before_kill".into(),
                    json!(r.idle_time_before_kill),
                );
                entry.insert("transition_cost".into(), json!(r.transition_cost));
            } else {
                entry.insert("number".into(), json!(nodes[a.resource]));
            }
            let mut layer = Map::new();
            layer.insert(r.name.clone(), Value::Object(entry));
            let time = evaluation.partition_response_times[i][h];
            partitions.insert(
                part.name.clone(),
                json!({ r.layer.clone(): layer, "response_time": finite(time) }),
            );
        }
        let threshold = comp.local_threshold.map_or(Value::Null, |t| json!(t));
        components.insert(
            comp.name.clone(),
            json!({
                dep.name.clone(): partitions,
                "response_time": finite(evaluation.component_response_times[i]),
                "response_time_threshold": threshold,
            }),
        );
    }
    let mut paths = Map::new();
    for (p, &r) in system.paths.iter().zip(&evaluation.path_response_times) {
        let names: Vec<&str> = p
            .components
            .iter()
            .map(|&c| system.components[c].name.as_str())
            .collect();
        paths.insert(
            p.name.clone(),
            json!({
                "components": names,
                "path_response_time": finite(r),
                "global_res_time": p.threshold,
                "path_response_time_threshold": p.threshold,
            }),
        );
    }
    json!({
        "Lambda": system.lambda,
        "Time": system.time,
        "components": components,
        "global_constraints": paths,
        "total_cost": evaluation.total_cost,
    })
}

/// The partition's share of the function bill: cost × warm demand × its arrival rate × Time.
fn faas_cost(
    system: &System,
    component_load: f64,
    dep: &Deployment,
    h: usize,
    resource: usize,
) -> f64 {
    let load = dep.partitions[..h]
        .iter()
        .fold(component_load, |l, p| l * (1.0 - p.early_exit));
    match dep.partitions[h]
        .compatible_with(resource)
        .map(|c| c.demand)
    {
        Some(Demand::Faas { warm, .. }) => {
            system.resources[resource].cost * warm * load * system.time
        }
        _ => 0.0,
    }
}

/// JSON has no infinity; the reference tool writes "inf" for an unbounded time.
fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        json!("inf")
    }
}
