//! Everything the search needs that does not depend on the placement, computed once: partition
//! loads, each candidate's FaaS time and cost, layers, and static lower bounds.

use crate::evaluate::{component_loads, network_delay, topological_order};
use crate::faas;
use crate::model::{Demand, ResourceKind, System};

/// One place a partition may run.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub resource: usize,
    pub layer: usize,
    pub kind: ResourceKind,
    pub memory: f64,
    /// Edge/VM: D·λ, the utilisation this partition adds to one node.
    pub work: f64,
    /// Edge/VM: service demand D.
    pub demand: f64,
    /// FaaS: response time and cost, constants for a given λ.
    pub faas_time: f64,
    pub faas_cost: f64,
}

impl Candidate {
    pub fn is_edge(&self) -> bool {
        self.kind == ResourceKind::Edge
    }
    pub fn is_faas(&self) -> bool {
        self.kind == ResourceKind::Faas
    }

    /// A lower bound on its response time: alone on the largest cluster (∞ if even that
    /// saturates).
    pub fn least_time(&self, system: &System) -> f64 {
        if self.is_faas() {
            return self.faas_time;
        }
        let u = self.work / f64::from(system.resources[self.resource].number.max(1));
        if u >= 1.0 {
            f64::INFINITY
        } else {
            self.demand / (1.0 - u)
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// Probability that a request reaches this partition, relative to the component's.
    pub reach: f64,
    /// Data sent to the next partition of the deployment.
    pub data_next: f64,
    pub candidates: Vec<Candidate>,
    /// Indices of the edge/VM candidates, and the cheapest function (∞ without one): what the
    /// bound reads at every node.
    pub queued: Vec<usize>,
    pub min_faas_cost: f64,
    /// A lower bound on this partition's response time on any candidate.
    pub min_time: f64,
}

impl Part {
    /// Recomputes what is derived from the candidate list.
    fn refresh(&mut self, system: &System) {
        self.queued = (0..self.candidates.len())
            .filter(|&c| !self.candidates[c].is_faas())
            .collect();
        self.min_faas_cost = self
            .candidates
            .iter()
            .filter(|c| c.is_faas())
            .map(|c| c.faas_cost)
            .fold(f64::INFINITY, f64::min);
        self.min_time = self
            .candidates
            .iter()
            .map(|c| c.least_time(system))
            .fold(f64::INFINITY, f64::min);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone)]
pub(crate) struct Comp {
    pub deps: Vec<Dep>,
    /// DAG predecessors: once one of them leaves the edge, this component may not use it.
    pub preds: Vec<usize>,
    /// Local response-time threshold.
    pub local: Option<f64>,
    /// A lower bound on the component's response time over every deployment.
    pub min_time: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// Edge/VM layers hold one resource type at a time; FaaS layers any number.
    pub exclusive: bool,
    pub resources: Vec<usize>,
}

/// The problem in the shape the search walks.
#[derive(Debug, Clone)]
pub(crate) struct Prepared<'a> {
    pub system: &'a System,
    pub comps: Vec<Comp>,
    /// Components in an order where every predecessor comes first.
    pub order: Vec<usize>,
    pub layers: Vec<Layer>,
    /// `reachable[a][b]`: resources a and b share a network domain (or are the same).
    pub reachable: Vec<Vec<bool>>,
}

impl<'a> Prepared<'a> {
    pub fn layer_of(&self, resource: usize) -> usize {
        self.layers
            .iter()
            .position(|l| l.resources.contains(&resource))
            .unwrap_or(0)
    }

    /// What one node of an edge/VM resource costs over the horizon.
    pub fn node_cost(&self, resource: usize) -> f64 {
        self.system.resources[resource].cost * self.system.time
    }

    pub fn new(system: &'a System) -> Self {
        let mut layer_names: Vec<&str> = Vec::new();
        let mut layers = Vec::new();
        let resource_layer = system
            .resources
            .iter()
            .map(|r| {
                if let Some(i) = layer_names.iter().position(|l| *l == r.layer) {
                    return i;
                }
                layer_names.push(&r.layer);
                layers.push(Layer {
                    exclusive: r.kind != ResourceKind::Faas,
                    resources: Vec::new(),
                });
                layer_names.len() - 1
            })
            .collect::<Vec<_>>();
        for (r, &l) in resource_layer.iter().enumerate() {
            layers[l].resources.push(r);
        }
        let reachable = (0..system.resources.len())
            .map(|a| {
                (0..system.resources.len())
                    .map(|b| network_delay(system, a, b, 0.0).is_finite())
                    .collect()
            })
            .collect();
        let lambda = component_loads(system);
        let mut preds = vec![Vec::new(); system.components.len()];
        for (i, c) in system.components.iter().enumerate() {
            for &(s, _) in &c.successors {
                preds[s].push(i);
            }
        }
        let mut comps: Vec<Comp> = system
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let deps: Vec<Dep> = c
                    .deployments
                    .iter()
                    .map(|d| prepare_deployment(system, d, lambda[i], &resource_layer))
                    .collect();
                let min_time = least_component_time(&deps);
                Comp {
                    deps,
                    preds: std::mem::take(&mut preds[i]),
                    local: c.local_threshold,
                    min_time,
                }
            })
            .collect();
        drop_hopeless(system, &mut comps);
        Self {
            system,
            comps,
            order: topological_order(system),
            layers,
            reachable,
        }
    }
}

fn least_deployment_time(dep: &Dep) -> f64 {
    dep.parts.iter().map(|p| p.reach * p.min_time).sum()
}

fn least_component_time(deps: &[Dep]) -> f64 {
    deps.iter()
        .map(least_deployment_time)
        .fold(f64::INFINITY, f64::min)
}

/// Removes candidates (and deployments) that break a local or path constraint whatever else
/// happens: with every other partition and component at its fastest, this one alone already
/// takes too long. Deployments keep their index (a hopeless one just loses its candidates).
/// Two rounds, since a removal can slow down a component other paths count on.
fn drop_hopeless(system: &System, comps: &mut [Comp]) {
    const SLACK: f64 = 1e-9;
    for _ in 0..2 {
        let least: Vec<f64> = comps.iter().map(|c| c.min_time).collect();
        for (i, comp) in comps.iter_mut().enumerate() {
            let mut limit = comp.local.unwrap_or(f64::INFINITY);
            for path in system.paths.iter().filter(|p| p.components.contains(&i)) {
                let others: f64 = path
                    .components
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| least[j])
                    .sum();
                limit = limit.min(path.threshold - others);
            }
            if limit.is_infinite() {
                continue;
            }
            let limit = limit + SLACK * limit.abs();
            for dep in &mut comp.deps {
                let total = least_deployment_time(dep);
                if total > limit {
                    dep.parts.iter_mut().for_each(|p| {
                        p.candidates.clear();
                        p.refresh(system);
                    });
                    continue;
                }
                for part in &mut dep.parts {
                    let others = total - part.reach * part.min_time;
                    let reach = part.reach;
                    part.candidates
                        .retain(|c| reach * c.least_time(system) + others <= limit);
                    part.refresh(system);
                }
            }
            comp.min_time = least_component_time(&comp.deps);
        }
    }
}

fn prepare_deployment(
    system: &System,
    dep: &crate::model::Deployment,
    component_load: f64,
    resource_layer: &[usize],
) -> Dep {
    let mut load = component_load;
    let mut reach = 1.0;
    let parts = dep
        .partitions
        .iter()
        .enumerate()
        .map(|(h, p)| {
            let candidates: Vec<Candidate> = p
                .compatible
                .iter()
                .filter_map(|c| {
                    let res = &system.resources[c.resource];
                    let mut cand = Candidate {
                        resource: c.resource,
                        layer: resource_layer[c.resource],
                        kind: res.kind,
                        memory: c.memory,
                        work: 0.0,
                        demand: 0.0,
                        faas_time: 0.0,
                        faas_cost: 0.0,
                    };
                    match c.demand {
                        Demand::Queue(d) => {
                            cand.demand = d;
                            cand.work = d * load;
                        }
                        Demand::Faas { warm, cold } => {
                            // A FaaS partition needing more memory than the function has can
                            // never be placed there.
                            if c.memory > res.memory {
                                return None;
                            }
                            cand.faas_time =
                                faas::response_time(load, warm, cold, res.idle_time_before_kill);
                            cand.faas_cost = res.cost * warm * load * system.time;
                        }
                    }
                    Some(cand)
                })
                .collect();
            let data_next = dep
                .partitions
                .get(h + 1)
                .map_or(0.0, |n| p.data_to(&n.name));
            let mut part = Part {
                reach,
                data_next,
                queued: Vec::new(),
                min_faas_cost: f64::INFINITY,
                candidates: pareto_faas(candidates),
                min_time: f64::INFINITY,
            };
            part.refresh(system);
            load *= 1.0 - p.early_exit;
            reach *= 1.0 - p.early_exit;
            part
        })
        .collect();
    Dep { parts }
}

/// Keeps every edge/VM candidate and only the FaaS candidates no other FaaS candidate of the
/// same layer beats on both cost and time (ties broken by resource index, so the choice is
/// deterministic). Memory was checked already; the network sees only the layer.
fn pareto_faas(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    let dominated = |c: &Candidate, all: &[Candidate]| {
        c.is_faas()
            && all.iter().any(|o| {
                o.is_faas()
                    && o.layer == c.layer
                    && o.resource != c.resource
                    && o.faas_cost <= c.faas_cost
                    && o.faas_time <= c.faas_time
                    && (o.faas_cost < c.faas_cost
                        || o.faas_time < c.faas_time
                        || o.resource < c.resource)
            })
    };
    let keep: Vec<bool> = cands.iter().map(|c| !dominated(c, &cands)).collect();
    let mut k = keep.into_iter();
    cands.retain(|_| k.next().unwrap_or(true));
    cands
}
