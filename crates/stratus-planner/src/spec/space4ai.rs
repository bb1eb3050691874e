//! Typed model → SPACE4AI system description (the current tool generation's keys).

use serde_json::{Map, Value, json};

use crate::model::{Demand, ResourceKind, System};

/// The SPACE4AI JSON of `system`; `System::parse` reads it back to an equal system.
pub fn to_space4ai_json(system: &System) -> Value {
    let name = |i: usize| system.components[i].name.clone();
    let mut dag = Map::new();
    let mut components = Map::new();
    let mut compat = Map::new();
    let mut perf = Map::new();
    let mut local = Map::new();
    for c in &system.components {
        let (next, probs): (Vec<String>, Vec<f64>) =
            c.successors.iter().map(|&(s, p)| (name(s), p)).unzip();
        dag.insert(
            c.name.clone(),
            json!({"next": next, "transition_probability": probs}),
        );
        let mut deps = Map::new();
        let mut c_compat = Map::new();
        let mut c_perf = Map::new();
        for d in &c.deployments {
            let mut parts = Map::new();
            for p in &d.partitions {
                parts.insert(
                    p.name.clone(),
                    json!({"next": p.next, "data_size": p.data_size,
                           "early_exit_probability": p.early_exit}),
                );
                let mut list = Vec::new();
                let mut p_perf = Map::new();
                for k in &p.compatible {
                    let r = &system.resources[k.resource];
                    list.push(json!({"resource": r.name, "memory": k.memory}));
                    let entry = match (k.demand, r.kind) {
                        (Demand::Faas { warm, cold }, _) => {
                            json!({"model": "PACSLTK", "demandWarm": warm, "demandCold": cold})
                        }
                        (Demand::Queue(d), ResourceKind::Edge) => {
                            json!({"model": "QTedge", "demand": d})
                        }
                        (Demand::Queue(d), _) => json!({"model": "QTcloud", "demand": d}),
                    };
                    p_perf.insert(r.name.clone(), entry);
                }
                c_compat.insert(p.name.clone(), Value::Array(list));
                c_perf.insert(p.name.clone(), Value::Object(p_perf));
            }
            deps.insert(d.name.clone(), Value::Object(parts));
        }
        components.insert(c.name.clone(), Value::Object(deps));
        compat.insert(c.name.clone(), Value::Object(c_compat));
        perf.insert(c.name.clone(), Value::Object(c_perf));
        if let Some(t) = c.local_threshold {
            local.insert(c.name.clone(), json!({"local_res_time": t}));
        }
    }
    let mut groups = [Map::new(), Map::new(), Map::new()];
    for r in &system.resources {
        let (g, entry) = match r.kind {
            ResourceKind::Edge => (
                0,
                json!({"number": r.number, "cost": r.cost, "memory": r.memory,
                                             "transition_cost": r.transition_cost}),
            ),
            ResourceKind::Vm => (
                1,
                json!({"number": r.number, "cost": r.cost, "memory": r.memory,
                                           "transition_cost": r.transition_cost}),
            ),
            ResourceKind::Faas => (
                2,
                json!({"cost": r.cost, "memory": r.memory,
                                             "idle_time_before_kill": r.idle_time_before_kill,
                                             "transition_cost": r.transition_cost}),
            ),
        };
        let layer = groups[g]
            .entry(r.layer.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(layer) = layer {
            layer.insert(r.name.clone(), entry);
        }
    }
    let [edge, cloud, faas] = groups;
    let global: Map<String, Value> = system
        .paths
        .iter()
        .map(|p| {
            let comps: Vec<String> = p.components.iter().map(|&c| name(c)).collect();
            (
                p.name.clone(),
                json!({"components": comps, "global_res_time": p.threshold}),
            )
        })
        .collect();
    let networks: Map<String, Value> = system
        .domains
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                json!({"computationallayers": d.layers, "AccessDelay": d.access_delay,
                                    "Bandwidth": d.bandwidth}),
            )
        })
        .collect();
    json!({
        "DirectedAcyclicGraph": dag,
        "Components": components,
        "EdgeResources": edge,
        "CloudResources": cloud,
        "FaaSResources": faas,
        "CompatibilityMatrix": compat,
        "Performance": perf,
        "Lambda": system.lambda,
        "Time": system.time,
        "LocalConstraints": local,
        "GlobalConstraints": global,
        "NetworkTechnology": networks,
    })
}
