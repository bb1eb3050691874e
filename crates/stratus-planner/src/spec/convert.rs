//! Spec ⇄ typed model.

use std::collections::BTreeSet;

use super::{
    Candidate, ComponentSpec, DeploymentSpec, FunctionSpec, NetworkSpec, NodeSpec, PartitionSpec,
    PathSpec, Resources, Send, Spec, SpecError, Successor,
};
use crate::model::{
    Compatible, Component, Demand, Deployment, NetworkDomain, Partition, PathConstraint, Resource,
    ResourceKind, System,
};

fn invalid(field: &str, context: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.to_owned(),
        context: context.into(),
        message: message.into(),
    }
}

impl Spec {
    /// The spec of a system.
    pub fn from_system(system: &System) -> Self {
        let name = |i: usize| system.components[i].name.clone();
        let components = system
            .components
            .iter()
            .map(|c| ComponentSpec {
                name: c.name.clone(),
                successors: c
                    .successors
                    .iter()
                    .map(|&(s, probability)| Successor {
                        component: name(s),
                        probability,
                    })
                    .collect(),
                max_response_time: c.local_threshold,
                deployments: c
                    .deployments
                    .iter()
                    .map(|d| DeploymentSpec {
                        name: d.name.clone(),
                        partitions: d
                            .partitions
                            .iter()
                            .map(|p| partition_spec(system, p))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let mut resources = Resources::default();
        for r in &system.resources {
            match r.kind {
                ResourceKind::Faas => resources.faas.push(FunctionSpec {
                    name: r.name.clone(),
                    layer: r.layer.clone(),
                    cost: r.cost,
                    memory: r.memory,
                    idle_timeout: r.idle_time_before_kill,
                    transition_cost: r.transition_cost,
                }),
                kind => {
                    let node = NodeSpec {
                        name: r.name.clone(),
                        layer: r.layer.clone(),
                        cost: r.cost,
                        memory: r.memory,
                        max_nodes: r.number,
                        transition_cost: r.transition_cost,
                    };
                    if kind == ResourceKind::Edge {
                        resources.edge.push(node);
                    } else {
                        resources.vm.push(node);
                    }
                }
            }
        }
        Self {
            lambda: system.lambda,
            time: system.time,
            components,
            resources,
            networks: system
                .domains
                .iter()
                .map(|d| NetworkSpec {
                    name: d.name.clone(),
                    layers: d.layers.clone(),
                    access_delay: d.access_delay,
                    bandwidth: d.bandwidth,
                })
                .collect(),
            paths: system
                .paths
                .iter()
                .map(|p| PathSpec {
                    name: p.name.clone(),
                    components: p.components.iter().map(|&c| name(c)).collect(),
                    max_response_time: p.threshold,
                })
                .collect(),
        }
    }

    /// The system this spec describes, after checking every reference in it.
    pub fn to_system(&self) -> Result<System, SpecError> {
        let resources = self.resources()?;
        let names: Vec<&str> = self.components.iter().map(|c| c.name.as_str()).collect();
        unique(names.iter().copied(), "name", "components")?;
        let index = |n: &str, ctx: &str| {
            names
                .iter()
                .position(|c| *c == n)
                .ok_or_else(|| invalid("component", ctx, format!("names unknown component `{n}`")))
        };
        let mut components = Vec::with_capacity(self.components.len());
        for c in &self.components {
            let ctx = format!("component {}", c.name);
            let mut successors = Vec::new();
            for s in &c.successors {
                if !(0.0..=1.0).contains(&s.probability) {
                    return Err(invalid("probability", &ctx, "must be between 0 and 1"));
                }
                successors.push((index(&s.component, &ctx)?, s.probability));
            }
            if c.deployments.is_empty() {
                return Err(invalid(
                    "deployments",
                    &ctx,
                    "must list at least one deployment",
                ));
            }
            let deployments = c
                .deployments
                .iter()
                .map(|d| deployment(d, &c.name, &names, &resources))
                .collect::<Result<_, _>>()?;
            components.push(Component {
                name: c.name.clone(),
                deployments,
                successors,
                local_threshold: c.max_response_time,
            });
        }
        let layers: BTreeSet<&str> = resources.iter().map(|r| r.layer.as_str()).collect();
        let mut domains = Vec::new();
        for n in &self.networks {
            if let Some(l) = n.layers.iter().find(|l| !layers.contains(l.as_str())) {
                return Err(invalid(
                    "layers",
                    format!("network {}", n.name),
                    format!("names unknown layer `{l}`"),
                ));
            }
            domains.push(NetworkDomain {
                name: n.name.clone(),
                layers: n.layers.clone(),
                access_delay: n.access_delay,
                bandwidth: n.bandwidth,
            });
        }
        let paths = self
            .paths
            .iter()
            .map(|p| {
                let ctx = format!("path {}", p.name);
                Ok(PathConstraint {
                    name: p.name.clone(),
                    components: p
                        .components
                        .iter()
                        .map(|c| index(c, &ctx))
                        .collect::<Result<_, _>>()?,
                    threshold: p.max_response_time,
                })
            })
            .collect::<Result<_, SpecError>>()?;
        Ok(System {
            lambda: self.lambda,
            time: self.time,
            components,
            resources,
            domains,
            paths,
        })
    }

    fn resources(&self) -> Result<Vec<Resource>, SpecError> {
        let nodes = |list: &[NodeSpec], kind| {
            list.iter()
                .map(|n| Resource {
                    name: n.name.clone(),
                    kind,
                    layer: n.layer.clone(),
                    cost: n.cost,
                    memory: n.memory,
                    number: n.max_nodes,
                    idle_time_before_kill: 0.0,
                    transition_cost: n.transition_cost,
                })
                .collect::<Vec<_>>()
        };
        let mut out = nodes(&self.resources.edge, ResourceKind::Edge);
        out.extend(nodes(&self.resources.vm, ResourceKind::Vm));
        out.extend(self.resources.faas.iter().map(|f| Resource {
            name: f.name.clone(),
            kind: ResourceKind::Faas,
            layer: f.layer.clone(),
            cost: f.cost,
            memory: f.memory,
            number: 1,
            idle_time_before_kill: f.idle_timeout,
            transition_cost: f.transition_cost,
        }));
        unique(out.iter().map(|r| r.name.as_str()), "name", "resources")?;
        for r in &out {
            let ctx = format!("resource {}", r.name);
            if r.kind != ResourceKind::Faas && r.number == 0 {
                return Err(invalid("max_nodes", ctx, "must be at least 1"));
            }
            // A layer holds one kind of resource: the planner picks one type per edge/VM layer.
            if out.iter().any(|o| o.layer == r.layer && o.kind != r.kind) {
                return Err(invalid(
                    "layer",
                    ctx,
                    format!("`{}` mixes resource kinds", r.layer),
                ));
            }
        }
        Ok(out)
    }
}

fn unique<'a>(
    names: impl Iterator<Item = &'a str>,
    field: &str,
    context: &str,
) -> Result<(), SpecError> {
    let mut seen = BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(invalid(field, context, format!("`{n}` appears twice")));
        }
    }
    Ok(())
}

fn partition_spec(system: &System, p: &Partition) -> PartitionSpec {
    PartitionSpec {
        name: p.name.clone(),
        early_exit: p.early_exit,
        sends: p
            .next
            .iter()
            .enumerate()
            .map(|(k, to)| Send {
                to: to.clone(),
                size: p.data_size.get(k).copied(),
            })
            .collect(),
        candidates: p
            .compatible
            .iter()
            .map(|c| {
                let (demand, warm, cold) = match c.demand {
                    Demand::Queue(d) => (Some(d), None, None),
                    Demand::Faas { warm, cold } => (None, Some(warm), Some(cold)),
                };
                Candidate {
                    resource: system.resources[c.resource].name.clone(),
                    memory: c.memory,
                    demand,
                    warm,
                    cold,
                }
            })
            .collect(),
    }
}

fn deployment(
    d: &DeploymentSpec,
    component: &str,
    components: &[&str],
    resources: &[Resource],
) -> Result<Deployment, SpecError> {
    let ctx = format!("component {component} deployment {}", d.name);
    if d.partitions.is_empty() {
        return Err(invalid(
            "partitions",
            &ctx,
            "must list at least one partition",
        ));
    }
    unique(d.partitions.iter().map(|p| p.name.as_str()), "name", &ctx)?;
    let mut partitions = Vec::with_capacity(d.partitions.len());
    for (k, p) in d.partitions.iter().enumerate() {
        let pctx = format!("{ctx} partition {}", p.name);
        if !(0.0..=1.0).contains(&p.early_exit) {
            return Err(invalid("early_exit", &pctx, "must be between 0 and 1"));
        }
        let mut next: Vec<String> = p.sends.iter().map(|s| s.to.clone()).collect();
        let mut data_size: Vec<f64> = p.sends.iter().map_while(|s| s.size).collect();
        if let Some(s) = p.sends.iter().find(|s| {
            !components.contains(&s.to.as_str()) && !d.partitions.iter().any(|q| q.name == s.to)
        }) {
            return Err(invalid(
                "sends",
                &pctx,
                format!("names unknown target `{}`", s.to),
            ));
        }
        // Listing order is execution order: the chain link is implied when not written.
        if let Some(following) = d.partitions.get(k + 1)
            && !next.contains(&following.name)
        {
            data_size.resize(next.len(), 0.0);
            next.push(following.name.clone());
            data_size.push(0.0);
        }
        if p.candidates.is_empty() {
            return Err(invalid(
                "candidates",
                &pctx,
                "must list at least one resource",
            ));
        }
        let compatible = p
            .candidates
            .iter()
            .map(|c| candidate(c, resources, &pctx))
            .collect::<Result<_, _>>()?;
        partitions.push(Partition {
            name: p.name.clone(),
            next,
            data_size,
            early_exit: p.early_exit,
            compatible,
        });
    }
    Ok(Deployment {
        name: d.name.clone(),
        partitions,
    })
}

fn candidate(c: &Candidate, resources: &[Resource], ctx: &str) -> Result<Compatible, SpecError> {
    let resource = resources
        .iter()
        .position(|r| r.name == c.resource)
        .ok_or_else(|| {
            invalid(
                "resource",
                ctx,
                format!("names unknown resource `{}`", c.resource),
            )
        })?;
    let demand = match (resources[resource].kind, c.demand, c.warm, c.cold) {
        (ResourceKind::Faas, None, Some(warm), Some(cold)) => Demand::Faas { warm, cold },
        (ResourceKind::Faas, ..) => {
            return Err(invalid(
                "warm",
                ctx,
                format!(
                    "and `cold` (only) are required on function `{}`",
                    c.resource
                ),
            ));
        }
        (_, Some(d), None, None) => Demand::Queue(d),
        _ => {
            return Err(invalid(
                "demand",
                ctx,
                format!("(only) is required on node `{}`", c.resource),
            ));
        }
    };
    Ok(Compatible {
        resource,
        memory: c.memory,
        demand,
    })
}
