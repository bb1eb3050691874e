//! A plan as JSON: what `stratus plan --json` prints and the server's `POST /v1/plan` answers,
//! one shape for both.

use serde_json::{Map, Value, json};

use crate::model::System;
use crate::solve::Plan;

/// The placement per component, with cost, bound, feasibility and response times: the JSON
/// `stratus plan --json` prints and `POST /v1/plan` answers.
pub fn summary(system: &System, plan: &Plan) -> Value {
    let mut components = Map::new();
    for (i, placed) in plan.placement.components.iter().enumerate() {
        let component = &system.components[i];
        let deployment = &component.deployments[placed.deployment];
        let partitions: Vec<Value> = placed
            .partitions
            .iter()
            .zip(&deployment.partitions)
            .map(|(assigned, partition)| {
                let resource = &system.resources[assigned.resource];
                json!({
                    "partition": partition.name,
                    "resource": resource.name,
                    "layer": resource.layer,
                    "kind": resource.kind.name(),
                    "nodes": assigned.cluster,
                })
            })
            .collect();
        components.insert(
            component.name.clone(),
            json!({
                "deployment": deployment.name,
                "partitions": partitions,
                "response_time": plan.evaluation.component_response_times.get(i),
                "threshold": component.local_threshold,
            }),
        );
    }
    let mut paths = Map::new();
    for (path, response_time) in system
        .paths
        .iter()
        .zip(&plan.evaluation.path_response_times)
    {
        paths.insert(
            path.name.clone(),
            json!({"response_time": response_time, "threshold": path.threshold}),
        );
    }
    json!({
        "feasible": plan.evaluation.feasible(),
        "total_cost": plan.total_cost,
        "lower_bound": plan.lower_bound,
        "optimal": plan.optimal,
        "gap": plan.gap(),
        "nodes": plan.nodes,
        "lambda": system.lambda,
        "time": system.time,
        "components": components,
        "paths": paths,
    })
}
