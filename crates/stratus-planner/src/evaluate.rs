//! Evaluates a fixed placement: loads, response times, constraints and cost, as the reference
//! SPACE4AI tool computes them (see `data/space4ai/README.md` for the model).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::faas;
use crate::model::{Demand, ResourceKind, System};
use crate::solution::{Assignment, Placement};

/// A reason a placement is infeasible.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// Partition not allowed on the resource by the compatibility matrix.
    Incompatible {
        component: String,
        partition: String,
        resource: String,
    },
    /// Cluster size outside 1..=number.
    ClusterSize {
        resource: String,
    },
    /// More than one edge/VM resource type selected in one computational layer.
    LayerConflict {
        layer: String,
    },
    /// Edge/VM utilisation ≥ 1.
    Saturated {
        resource: String,
    },
    Memory {
        resource: String,
    },
    /// A partition runs on the edge after an earlier one ran on a VM or FaaS.
    MoveBack {
        component: String,
    },
    /// Two consecutive partitions on resources sharing no network domain.
    NoNetwork {
        component: String,
    },
    Local {
        component: String,
        response_time: f64,
        threshold: f64,
    },
    Global {
        path: String,
        response_time: f64,
        threshold: f64,
    },
}

/// Result of [`evaluate`]; response times are indexed like the system's components and paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub total_cost: f64,
    /// `[component][partition]`, partitions in execution order.
    pub partition_response_times: Vec<Vec<f64>>,
    pub component_response_times: Vec<f64>,
    pub path_response_times: Vec<f64>,
    pub violations: Vec<Violation>,
}

impl Evaluation {
    pub fn feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Per-partition state shared by the steps of the evaluation.
struct State<'a> {
    system: &'a System,
    placement: &'a Placement,
    /// Arrival rate of each partition, `[component][partition]`.
    loads: Vec<Vec<f64>>,
    /// Cluster size of each used edge/VM resource.
    clusters: BTreeMap<usize, u32>,
    violations: Vec<Violation>,
}

/// Evaluates `placement` on `system` at the system's λ and Time.
pub fn evaluate(system: &System, placement: &Placement) -> Evaluation {
    let mut st = State {
        system,
        placement,
        loads: partition_loads(system, placement),
        clusters: BTreeMap::new(),
        violations: Vec::new(),
    };
    check_clusters(&mut st);
    check_layers(&mut st);
    check_memory(&mut st);
    check_move_back(&mut st);
    let partition_times = partition_times(&mut st);
    let component_response_times = component_times(&mut st, &partition_times);
    let path_response_times = path_times(&st, &component_response_times);
    check_thresholds(&mut st, &component_response_times, &path_response_times);
    Evaluation {
        total_cost: cost(&st),
        partition_response_times: partition_times,
        component_response_times,
        path_response_times,
        violations: st.violations,
    }
}

/// Components in an order where every predecessor comes first (Kahn's algorithm).
pub(crate) fn topological_order(system: &System) -> Vec<usize> {
    let n = system.components.len();
    let mut indegree = vec![0usize; n];
    for c in &system.components {
        for &(s, _) in &c.successors {
            indegree[s] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &(s, _) in &system.components[i].successors {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(s);
            }
        }
    }
    order
}

/// Component arrival rates: sources get Λ, others the probability-weighted sum of their
/// predecessors.
pub(crate) fn component_loads(system: &System) -> Vec<f64> {
    let n = system.components.len();
    let mut has_pred = vec![false; n];
    system
        .components
        .iter()
        .flat_map(|c| &c.successors)
        .for_each(|&(s, _)| has_pred[s] = true);
    let mut lambda: Vec<f64> = (0..n)
        .map(|i| if has_pred[i] { 0.0 } else { system.lambda })
        .collect();
    for i in topological_order(system) {
        for &(s, p) in &system.components[i].successors {
            lambda[s] += p * lambda[i];
        }
    }
    lambda
}

/// Each partition gets what its predecessor in the deployment did not exit early.
pub(crate) fn partition_loads(system: &System, placement: &Placement) -> Vec<Vec<f64>> {
    let lambda = component_loads(system);
    placement
        .components
        .iter()
        .enumerate()
        .map(|(i, cp)| {
            let dep = &system.components[i].deployments[cp.deployment];
            let mut l = lambda[i];
            dep.partitions
                .iter()
                .map(|p| {
                    let here = l;
                    l *= 1.0 - p.early_exit;
                    here
                })
                .collect()
        })
        .collect()
}

/// Every (component index, partition index, assignment) of the placement.
fn assignments<'a>(
    placement: &'a Placement,
) -> impl Iterator<Item = (usize, usize, Assignment)> + 'a {
    placement.components.iter().enumerate().flat_map(|(i, cp)| {
        cp.partitions
            .iter()
            .enumerate()
            .map(move |(h, a)| (i, h, *a))
    })
}

fn resource_name(st: &State, r: usize) -> String {
    st.system.resources[r].name.clone()
}

fn check_clusters(st: &mut State) {
    let mut bad = BTreeSet::new();
    for (_, _, a) in assignments(st.placement) {
        let res = &st.system.resources[a.resource];
        if res.kind == ResourceKind::Faas {
            continue;
        }
        if a.cluster == 0 || a.cluster > res.number {
            bad.insert(a.resource);
        }
        // Some published solutions give one resource two cluster sizes; the resource has one
        // cluster, so the largest size is what is paid for and what serves the load.
        let n = st.clusters.entry(a.resource).or_insert(a.cluster);
        *n = (*n).max(a.cluster);
    }
    for r in bad {
        let resource = resource_name(st, r);
        st.violations.push(Violation::ClusterSize { resource });
    }
}

fn check_layers(st: &mut State) {
    let mut per_layer: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for &r in st.clusters.keys() {
        per_layer
            .entry(st.system.resources[r].layer.as_str())
            .or_default()
            .insert(r);
    }
    for (layer, used) in per_layer {
        if used.len() > 1 {
            st.violations.push(Violation::LayerConflict {
                layer: layer.to_owned(),
            });
        }
    }
}

fn check_memory(st: &mut State) {
    let mut used: BTreeMap<usize, f64> = BTreeMap::new();
    let mut bad = BTreeSet::new();
    for (i, h, a) in assignments(st.placement) {
        let comp = &st.system.components[i];
        let part = &comp.deployments[st.placement.components[i].deployment].partitions[h];
        let Some(c) = part.compatible_with(a.resource) else {
            st.violations.push(Violation::Incompatible {
                component: comp.name.clone(),
                partition: part.name.clone(),
                resource: resource_name(st, a.resource),
            });
            continue;
        };
        let res = &st.system.resources[a.resource];
        if res.kind == ResourceKind::Faas {
            if c.memory > res.memory {
                bad.insert(a.resource);
            }
        } else {
            *used.entry(a.resource).or_default() += c.memory;
        }
    }
    for (r, m) in used {
        let res = &st.system.resources[r];
        if m > res.memory * f64::from(st.clusters.get(&r).copied().unwrap_or(1)) {
            bad.insert(r);
        }
    }
    for r in bad {
        let resource = resource_name(st, r);
        st.violations.push(Violation::Memory { resource });
    }
}

/// Once a partition leaves the edge, later partitions and successor components stay off it.
fn check_move_back(st: &mut State) {
    let on_edge = |a: &Assignment| st.system.resources[a.resource].kind == ResourceKind::Edge;
    let mut bad = BTreeSet::new();
    for (i, cp) in st.placement.components.iter().enumerate() {
        let mut left_edge = false;
        for a in &cp.partitions {
            if on_edge(a) && left_edge {
                bad.insert(i);
            }
            left_edge |= !on_edge(a);
        }
        if !left_edge {
            continue;
        }
        for &(s, _) in &st.system.components[i].successors {
            if st.placement.components[s].partitions.iter().any(on_edge) {
                bad.insert(s);
            }
        }
    }
    for i in bad {
        let component = st.system.components[i].name.clone();
        st.violations.push(Violation::MoveBack { component });
    }
}

/// Response time of every partition on its resource: M/G/1 with co-location for edge/VM,
/// the FaaS model otherwise.
fn partition_times(st: &mut State) -> Vec<Vec<f64>> {
    let mut utilisation: BTreeMap<usize, f64> = BTreeMap::new();
    for (i, h, a) in assignments(st.placement) {
        if let Some(Demand::Queue(d)) = demand(st, i, h, a) {
            let n = f64::from(st.clusters.get(&a.resource).copied().unwrap_or(1));
            *utilisation.entry(a.resource).or_default() += d * st.loads[i][h] / n;
        }
    }
    for (&r, &u) in &utilisation {
        if u >= 1.0 {
            let resource = resource_name(st, r);
            st.violations.push(Violation::Saturated { resource });
        }
    }
    let mut times: Vec<Vec<f64>> = st.loads.iter().map(|l| vec![0.0; l.len()]).collect();
    for (i, h, a) in assignments(st.placement) {
        times[i][h] = match demand(st, i, h, a) {
            Some(Demand::Queue(d)) => {
                let u = utilisation.get(&a.resource).copied().unwrap_or(0.0);
                if u >= 1.0 {
                    f64::INFINITY
                } else {
                    d / (1.0 - u)
                }
            }
            Some(Demand::Faas { warm, cold }) => {
                let idle = st.system.resources[a.resource].idle_time_before_kill;
                faas::response_time(st.loads[i][h], warm, cold, idle)
            }
            None => f64::INFINITY,
        };
    }
    times
}

fn demand(st: &State, i: usize, h: usize, a: Assignment) -> Option<Demand> {
    let part =
        &st.system.components[i].deployments[st.placement.components[i].deployment].partitions[h];
    part.compatible_with(a.resource).map(|c| c.demand)
}

/// Network delay of `data` sent between two resources: 0 on the same resource, else the
/// fastest network domain joining both layers (∞ when none does).
pub fn network_delay(system: &System, from: usize, to: usize, data: f64) -> f64 {
    if from == to {
        return 0.0;
    }
    let (a, b) = (&system.resources[from].layer, &system.resources[to].layer);
    system
        .domains
        .iter()
        .filter(|d| d.layers.contains(a) && d.layers.contains(b))
        .map(|d| d.access_delay + data / d.bandwidth)
        .fold(f64::INFINITY, f64::min)
}

/// R_i = R_h1 + Σ_{k≥2} Π_{m<k}(1 − e_m)·(R_hk + δ_{k−1,k}).
fn component_times(st: &mut State, times: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::with_capacity(times.len());
    for (i, cp) in st.placement.components.iter().enumerate() {
        let comp = &st.system.components[i];
        let parts = &comp.deployments[cp.deployment].partitions;
        let mut total = times[i][0];
        let mut reach = 1.0;
        for k in 1..parts.len() {
            reach *= 1.0 - parts[k - 1].early_exit;
            let data = parts[k - 1].data_to(&parts[k].name);
            let delay = network_delay(
                st.system,
                cp.partitions[k - 1].resource,
                cp.partitions[k].resource,
                data,
            );
            if delay.is_infinite() {
                st.violations.push(Violation::NoNetwork {
                    component: comp.name.clone(),
                });
            }
            total += reach * (times[i][k] + delay);
        }
        out.push(total);
    }
    out
}

/// The reference tool's transfer delay from component `a` (deployment `dep`, its partitions on
/// `resources`) to the next component `b` on a path, whose first partition runs on `rb` (see the
/// README): earlier partitions of `a` on a resource other than `rb` contribute their early-exit
/// share, and the survival factor only shrinks at those partitions.
pub(crate) fn transfer_delay(
    system: &System,
    a: usize,
    dep: usize,
    resources: &[usize],
    b: usize,
    rb: usize,
) -> f64 {
    let parts = &system.components[a].deployments[dep].partitions;
    let (Some((last, before)), Some(&r_last)) = (parts.split_last(), resources.last()) else {
        return 0.0;
    };
    let data = last.data_to(&system.components[b].name);
    let mut survive = 1.0;
    let mut delay = 0.0;
    for (p, &r) in before.iter().zip(resources) {
        if r != rb {
            delay += survive * p.early_exit * network_delay(system, r, rb, data);
            survive *= 1.0 - p.early_exit;
        }
    }
    if r_last != rb {
        delay += survive * network_delay(system, r_last, rb, data);
    }
    delay
}

fn placed_transfer_delay(placement: &Placement, system: &System, a: usize, b: usize) -> f64 {
    let pa = &placement.components[a];
    let Some(rb) = placement.components[b].partitions.first() else {
        return 0.0;
    };
    let resources: Vec<usize> = pa.partitions.iter().map(|x| x.resource).collect();
    transfer_delay(system, a, pa.deployment, &resources, b, rb.resource)
}

fn path_times(st: &State, comp_times: &[f64]) -> Vec<f64> {
    st.system
        .paths
        .iter()
        .map(|p| {
            let mut total: f64 = p.components.iter().map(|&c| comp_times[c]).sum();
            for w in p.components.windows(2) {
                total += placed_transfer_delay(st.placement, st.system, w[0], w[1]);
            }
            total
        })
        .collect()
}

/// True unless `r ≤ threshold`; a NaN time counts as a violation.
fn exceeds(r: f64, threshold: f64) -> bool {
    !matches!(
        r.partial_cmp(&threshold),
        Some(Ordering::Less | Ordering::Equal)
    )
}

fn check_thresholds(st: &mut State, comp_times: &[f64], path_times: &[f64]) {
    for (c, &r) in st.system.components.iter().zip(comp_times) {
        if let Some(threshold) = c.local_threshold.filter(|&t| exceeds(r, t)) {
            let component = c.name.clone();
            st.violations.push(Violation::Local {
                component,
                response_time: r,
                threshold,
            });
        }
    }
    for (p, &r) in st.system.paths.iter().zip(path_times) {
        if exceeds(r, p.threshold) {
            let (path, threshold) = (p.name.clone(), p.threshold);
            st.violations.push(Violation::Global {
                path,
                response_time: r,
                threshold,
            });
        }
    }
}

/// Edge/VM resources are paid per node for the whole horizon; FaaS per request-second of warm
/// demand.
fn cost(st: &State) -> f64 {
    let time = st.system.time;
    let mut total = 0.0;
    for (&r, &n) in &st.clusters {
        total += st.system.resources[r].cost * f64::from(n) * time;
    }
    for (i, h, a) in assignments(st.placement) {
        if let Some(Demand::Faas { warm, .. }) = demand(st, i, h, a) {
            total += st.system.resources[a.resource].cost * warm * st.loads[i][h] * time;
        }
    }
    total
}
