//! Small random SPACE4AI instances and an exhaustive-enumeration oracle, for checking the exact
//! solver against the evaluator on every placement.

use serde_json::{Map, Value, json};
use stratus_planner::solution::{Assignment, ComponentPlacement};
use stratus_planner::{Placement, System, evaluate};

/// At most this many placements per instance, so enumeration stays fast.
pub const MAX_PLACEMENTS: u64 = 20_000;

/// A tiny deterministic generator (SplitMix64): the instances depend on the seed only.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn coin(&mut self, p: f64) -> bool {
        self.range(0.0, 1.0) < p
    }
}

struct Res {
    name: String,
    kind: &'static str,
}

/// A random small instance: 2–4 components in a DAG, 1–2 deployments of 1–3 partitions,
/// 1–2 edge and VM layers, 0–1 FaaS layer, binding memory, utilisation, response-time
/// and network limits often enough that both feasible and infeasible instances occur.
/// Retries (with derived seeds) until the instance has at most [`MAX_PLACEMENTS`] placements.
pub fn random_system(seed: u64) -> System {
    let mut attempt = seed;
    loop {
        let system = System::parse(&random_json(attempt).to_string(), None, None)
            .expect("generated instance parses");
        if placement_count(&system) <= MAX_PLACEMENTS {
            return system;
        }
        attempt = attempt
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
    }
}

fn random_json(seed: u64) -> Value {
    let mut rng = Rng(seed);
    let mut resources = Vec::new();
    let mut layer_no = 0;
    let mut groups: Vec<(&str, Map<String, Value>)> = Vec::new();
    for (kind, key, layers) in [
        ("edge", "EdgeResources", rng.int(1, 2)),
        ("vm", "CloudResources", rng.int(1, 2)),
        ("faas", "FaaSResources", rng.int(0, 1)),
    ] {
        let mut group = Map::new();
        for _ in 0..layers {
            layer_no += 1;
            let layer = format!("computationallayer{layer_no}");
            let mut members = Map::new();
            for _ in 0..rng.int(1, 2) {
                let name = format!("R{}", resources.len() + 1);
                let entry = match kind {
                    "edge" => json!({"number": rng.int(1, 2), "cost": rng.range(3.0, 8.0),
                                     "memory": rng.range(800.0, 2000.0)}),
                    "vm" => json!({"number": rng.int(1, 3), "cost": rng.range(0.5, 3.0),
                                   "memory": rng.range(800.0, 2000.0)}),
                    _ => json!({"cost": rng.range(0.1, 1.0), "memory": rng.range(500.0, 2048.0),
                                "idle_time_before_kill": 600.0}),
                };
                members.insert(name.clone(), entry);
                resources.push(Res { name, kind });
            }
            if kind == "faas" {
                members.insert("transition_cost".into(), json!(0.0));
            }
            group.insert(layer, Value::Object(members));
        }
        groups.push((key, group));
    }
    let n = rng.int(2, 4) as usize;
    let name = |i: usize| format!("c{}", i + 1);
    let mut dag = Map::new();
    let mut components = Map::new();
    let mut compat = Map::new();
    let mut perf = Map::new();
    for i in 0..n {
        let mut next = Vec::new();
        let mut probs = Vec::new();
        if i + 1 < n {
            next.push(name(i + 1));
            if i + 2 < n && rng.coin(0.4) {
                next.push(name(i + 2));
                probs = vec![0.6, 0.4];
            } else {
                probs = vec![1.0];
            }
        }
        dag.insert(
            name(i),
            json!({"next": next, "transition_probability": probs}),
        );
        let mut deps = Map::new();
        let mut c_compat = Map::new();
        let mut c_perf = Map::new();
        let mut h = 0;
        for s in 0..rng.int(1, 2) {
            let parts = rng.int(1, 3) as usize;
            let names: Vec<String> = (0..parts).map(|k| format!("h{}", h + k + 1)).collect();
            h += parts;
            let mut dep = Map::new();
            for (k, pname) in names.iter().enumerate() {
                let (next, data) = match names.get(k + 1) {
                    Some(nx) => (vec![nx.clone()], vec![rng.range(1.0, 10.0)]),
                    None => (
                        next.clone(),
                        next.iter().map(|_| rng.range(1.0, 10.0)).collect(),
                    ),
                };
                dep.insert(
                    pname.clone(),
                    json!({"next": next, "data_size": data,
                           "early_exit_probability": if rng.coin(0.5) { rng.range(0.0, 0.5) } else { 0.0 }}),
                );
                let mut list = Vec::new();
                let mut p_perf = Map::new();
                for r in &resources {
                    if !rng.coin(0.45) {
                        continue;
                    }
                    list.push(json!({"resource": r.name, "memory": rng.range(100.0, 900.0)}));
                    p_perf.insert(r.name.clone(), perf_entry(&mut rng, r.kind));
                }
                if list.is_empty() {
                    let r = &resources[rng.int(0, resources.len() as u64 - 1) as usize];
                    list.push(json!({"resource": r.name, "memory": rng.range(100.0, 900.0)}));
                    p_perf.insert(r.name.clone(), perf_entry(&mut rng, r.kind));
                }
                c_compat.insert(pname.clone(), Value::Array(list));
                c_perf.insert(pname.clone(), Value::Object(p_perf));
            }
            deps.insert(format!("s{}", s + 1), Value::Object(dep));
        }
        components.insert(name(i), Value::Object(deps));
        compat.insert(name(i), Value::Object(c_compat));
        perf.insert(name(i), Value::Object(c_perf));
    }
    let mut local = Map::new();
    for i in 0..n {
        if rng.coin(0.4) {
            local.insert(name(i), json!({"local_res_time": rng.range(0.3, 3.0)}));
        }
    }
    let mut global = Map::new();
    if rng.coin(0.6) {
        let path: Vec<String> = (0..n).map(name).collect();
        global.insert(
            "p1".into(),
            json!({"components": path, "global_res_time": rng.range(1.0, 6.0)}),
        );
    }
    let all_layers: Vec<String> = (1..=layer_no)
        .map(|l| format!("computationallayer{l}"))
        .collect();
    let mut networks = Map::new();
    let first_domain: Vec<String> = if rng.coin(0.25) && all_layers.len() > 2 {
        // The last layer is reachable only from the first: some pairs share no domain.
        all_layers[..all_layers.len() - 1].to_vec()
    } else {
        all_layers.clone()
    };
    networks.insert(
        "ND1".into(),
        json!({"computationallayers": first_domain, "AccessDelay": 0.001, "Bandwidth": rng.range(50.0, 1000.0)}),
    );
    networks.insert(
        "ND2".into(),
        json!({"computationallayers": [all_layers[0].clone(), all_layers[all_layers.len() - 1].clone()],
               "AccessDelay": 0.01, "Bandwidth": rng.range(50.0, 1000.0)}),
    );
    let mut root = Map::new();
    for (key, group) in groups {
        root.insert(key.into(), Value::Object(group));
    }
    root.insert("DirectedAcyclicGraph".into(), Value::Object(dag));
    root.insert("Components".into(), Value::Object(components));
    root.insert("CompatibilityMatrix".into(), Value::Object(compat));
    root.insert("Performance".into(), Value::Object(perf));
    root.insert("Lambda".into(), json!(rng.range(0.5, 2.0)));
    root.insert("Time".into(), json!(1.0));
    root.insert("LocalConstraints".into(), Value::Object(local));
    root.insert("GlobalConstraints".into(), Value::Object(global));
    root.insert("NetworkTechnology".into(), Value::Object(networks));
    Value::Object(root)
}

fn perf_entry(rng: &mut Rng, kind: &str) -> Value {
    match kind {
        "faas" => {
            let warm = rng.range(0.1, 1.0);
            json!({"model": "PACSLTK", "demandWarm": warm, "demandCold": warm * rng.range(1.5, 3.0)})
        }
        "edge" => json!({"model": "QTedge", "demand": rng.range(0.05, 0.6)}),
        _ => json!({"model": "QTcloud", "demand": rng.range(0.05, 0.6)}),
    }
}

/// Placements ignoring cluster sizes, times the cluster-size choices of every edge/VM resource.
fn placement_count(system: &System) -> u64 {
    let per_component: u64 = system
        .components
        .iter()
        .map(|c| {
            c.deployments
                .iter()
                .map(|d| {
                    d.partitions
                        .iter()
                        .map(|p| p.compatible.len() as u64)
                        .product::<u64>()
                })
                .sum::<u64>()
        })
        .product();
    let clusters: u64 = system
        .resources
        .iter()
        .map(|r| u64::from(r.number.max(1)))
        .product();
    per_component.saturating_mul(clusters)
}

/// Every placement of one component: deployment and a resource per partition.
fn component_choices(system: &System, i: usize) -> Vec<(usize, Vec<usize>)> {
    let mut out = Vec::new();
    for (d, dep) in system.components[i].deployments.iter().enumerate() {
        let mut partial: Vec<Vec<usize>> = vec![Vec::new()];
        for p in &dep.partitions {
            partial = partial
                .into_iter()
                .flat_map(|pre| {
                    p.compatible.iter().map(move |c| {
                        let mut v = pre.clone();
                        v.push(c.resource);
                        v
                    })
                })
                .collect();
        }
        out.extend(partial.into_iter().map(|v| (d, v)));
    }
    out
}

/// The cheapest feasible placement by trying every one (ties: the first in enumeration order),
/// or None if no placement is feasible.
pub fn brute_force(system: &System) -> Option<(f64, Placement)> {
    let choices: Vec<Vec<(usize, Vec<usize>)>> = (0..system.components.len())
        .map(|i| component_choices(system, i))
        .collect();
    let mut best: Option<(f64, Placement)> = None;
    let mut index = vec![0usize; choices.len()];
    loop {
        let picked: Vec<&(usize, Vec<usize>)> =
            index.iter().zip(&choices).map(|(&k, c)| &c[k]).collect();
        let mut used: Vec<usize> = picked
            .iter()
            .flat_map(|(_, rs)| rs.iter().copied())
            .filter(|&r| system.resources[r].kind != stratus_planner::model::ResourceKind::Faas)
            .collect();
        used.sort_unstable();
        used.dedup();
        let mut sizes = vec![1u32; used.len()];
        loop {
            let size_of = |r: usize| used.iter().position(|&u| u == r).map_or(1, |k| sizes[k]);
            let placement = Placement {
                components: picked
                    .iter()
                    .map(|(d, rs)| ComponentPlacement {
                        deployment: *d,
                        partitions: rs
                            .iter()
                            .map(|&r| Assignment {
                                resource: r,
                                cluster: size_of(r),
                            })
                            .collect(),
                    })
                    .collect(),
            };
            let ev = evaluate(system, &placement);
            if ev.feasible() && best.as_ref().is_none_or(|b| ev.total_cost < b.0) {
                best = Some((ev.total_cost, placement));
            }
            // Next cluster-size combination.
            let mut k = 0;
            while k < sizes.len() {
                if sizes[k] < system.resources[used[k]].number {
                    sizes[k] += 1;
                    break;
                }
                sizes[k] = 1;
                k += 1;
            }
            if k == sizes.len() {
                break;
            }
        }
        // Next combination of component placements.
        let mut k = 0;
        while k < index.len() {
            if index[k] + 1 < choices[k].len() {
                index[k] += 1;
                break;
            }
            index[k] = 0;
            k += 1;
        }
        if k == index.len() {
            return best;
        }
    }
}
