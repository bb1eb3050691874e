//! Typed model of a SPACE4AI system description (`system_description*.json`).

use std::collections::BTreeMap;

use crate::error::ParseError;
use crate::json::{Obj, array, as_obj, num, num_or, numbers, obj, parse_root, strings};

/// Which queueing model prices and times a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Edge,
    Vm,
    Faas,
}

impl ResourceKind {
    /// `edge`, `vm` or `faas`, as plans print it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Edge => "edge",
            Self::Vm => "vm",
            Self::Faas => "faas",
        }
    }
}

/// One resource type (an edge node, a VM type or a FaaS configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub kind: ResourceKind,
    pub layer: String,
    pub cost: f64,
    pub memory: f64,
    /// Maximum cluster size (edge/VM); 1 for FaaS.
    pub number: u32,
    /// FaaS only: seconds an idle instance lives before it is killed.
    pub idle_time_before_kill: f64,
    pub transition_cost: f64,
}

/// How long a partition takes on a resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Demand {
    /// M/G/1 service demand on an edge node or VM.
    Queue(f64),
    /// FaaS warm and cold service times.
    Faas { warm: f64, cold: f64 },
}

/// A (partition, resource) pair the compatibility matrix allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Compatible {
    pub resource: usize,
    /// Memory the partition needs on that resource.
    pub memory: f64,
    pub demand: Demand,
}

/// One partition of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    pub name: String,
    /// Names of what follows: the next partition, or successor components for the last one.
    pub next: Vec<String>,
    pub data_size: Vec<f64>,
    pub early_exit: f64,
    pub compatible: Vec<Compatible>,
}

impl Partition {
    /// Data sent to `target` (a partition or component name), 0 if none is listed.
    pub fn data_to(&self, target: &str) -> f64 {
        self.next
            .iter()
            .position(|n| n == target)
            .and_then(|i| self.data_size.get(i).copied())
            .unwrap_or(0.0)
    }

    pub fn compatible_with(&self, resource: usize) -> Option<&Compatible> {
        self.compatible.iter().find(|c| c.resource == resource)
    }
}

/// A deployment: the partitions of a component, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub name: String,
    pub partitions: Vec<Partition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub deployments: Vec<Deployment>,
    /// DAG successors with their transition probabilities.
    pub successors: Vec<(usize, f64)>,
    pub local_threshold: Option<f64>,
}

/// A network domain joining some computational layers.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkDomain {
    pub name: String,
    pub layers: Vec<String>,
    pub access_delay: f64,
    pub bandwidth: f64,
}

/// A global constraint: a path of components with an end-to-end threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct PathConstraint {
    pub name: String,
    pub components: Vec<usize>,
    pub threshold: f64,
}

/// A parsed system description.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub lambda: f64,
    pub time: f64,
    pub components: Vec<Component>,
    pub resources: Vec<Resource>,
    pub domains: Vec<NetworkDomain>,
    pub paths: Vec<PathConstraint>,
}

impl System {
    /// Parses a system description; `lambda` / `time` override the file's values when given.
    pub fn parse(text: &str, lambda: Option<f64>, time: Option<f64>) -> Result<Self, ParseError> {
        let root = parse_root(text)?;
        let resources = parse_resources(&root)?;
        let mut components = parse_components(&root, &resources)?;
        parse_dag(&root, &mut components)?;
        parse_local(&root, &mut components)?;
        let paths = parse_paths(&root, &components)?;
        let domains = parse_domains(&root)?;
        Ok(Self {
            lambda: lambda.map_or_else(|| num(&root, &["Lambda", "lambda"], "system"), Ok)?,
            time: time.map_or_else(|| num_or(&root, &["Time", "time"], "system", 1.0), Ok)?,
            components,
            resources,
            domains,
            paths,
        })
    }

    pub fn component_index(&self, name: &str) -> Option<usize> {
        self.components.iter().position(|c| c.name == name)
    }

    pub fn resource_index(&self, name: &str) -> Option<usize> {
        self.resources.iter().position(|r| r.name == name)
    }
}

fn parse_resources(root: &Obj) -> Result<Vec<Resource>, ParseError> {
    let mut out = Vec::new();
    let groups = [
        (["EdgeResources", "edge_resources"], ResourceKind::Edge),
        (["CloudResources", "cloud_resources"], ResourceKind::Vm),
        (["FaaSResources", "faas_resources"], ResourceKind::Faas),
    ];
    for (keys, kind) in groups {
        // A description may have no resources of some kind.
        let Some(layers) = keys.iter().find_map(|k| root.get(*k)) else {
            continue;
        };
        for (layer, res) in as_obj(layers, keys[0], "system")? {
            let res = as_obj(res, layer, keys[0])?;
            // The older generation keeps the FaaS transition cost at layer level.
            let layer_tc = num_or(res, &["transition_cost"], layer, 0.0)?;
            for (name, r) in res {
                if name == "transition_cost" {
                    continue;
                }
                let ctx = format!("resource {name}");
                let r = as_obj(r, name, &ctx)?;
                out.push(Resource {
                    name: name.clone(),
                    kind,
                    layer: layer.clone(),
                    cost: num(r, &["cost"], &ctx)?,
                    memory: num(r, &["memory"], &ctx)?,
                    number: count(num_or(r, &["number"], &ctx, 1.0)?),
                    idle_time_before_kill: num_or(r, &["idle_time_before_kill"], &ctx, 0.0)?,
                    transition_cost: num_or(r, &["transition_cost"], &ctx, layer_tc)?,
                });
            }
        }
    }
    Ok(out)
}

/// Cluster sizes are small non-negative integers written as JSON numbers.
pub(crate) fn count(x: f64) -> u32 {
    if x.is_finite() && x >= 0.0 {
        // Saturating float-to-int conversion; values are tiny in practice.
        x.round() as u32
    } else {
        0
    }
}

fn parse_components(root: &Obj, resources: &[Resource]) -> Result<Vec<Component>, ParseError> {
    let comps = obj(root, &["Components", "components"], "system")?;
    let compat = obj(
        root,
        &["CompatibilityMatrix", "compatibility_matrix"],
        "system",
    )?;
    let perf = obj(root, &["Performance", "performance"], "system")?;
    comps
        .iter()
        .map(|(name, deps)| {
            let deps = as_obj(deps, name, "Components")?;
            let deployments = deps
                .iter()
                .map(|(dname, parts)| {
                    let parts = as_obj(parts, dname, name)?;
                    let ctx = Ctx {
                        component: name,
                        compat,
                        perf,
                        resources,
                    };
                    parse_deployment(dname, parts, &ctx)
                })
                .collect::<Result<_, _>>()?;
            Ok(Component {
                name: name.clone(),
                deployments,
                successors: Vec::new(),
                local_threshold: None,
            })
        })
        .collect()
}

struct Ctx<'a> {
    component: &'a str,
    compat: &'a Obj,
    perf: &'a Obj,
    resources: &'a [Resource],
}

fn parse_deployment(name: &str, parts: &Obj, ctx: &Ctx) -> Result<Deployment, ParseError> {
    let mut partitions: Vec<Partition> = parts
        .iter()
        .map(|(pname, p)| parse_partition(pname, as_obj(p, pname, ctx.component)?, ctx))
        .collect::<Result<_, _>>()?;
    order_partitions(&mut partitions).map_err(|message| ParseError::Component {
        component: ctx.component.to_owned(),
        message: format!("deployment {name}: {message}"),
    })?;
    Ok(Deployment {
        name: name.to_owned(),
        partitions,
    })
}

/// Puts partitions in execution order by following `next`; JSON map order is not reliable
/// (`h10` sorts before `h2`).
fn order_partitions(parts: &mut Vec<Partition>) -> Result<(), String> {
    let names: Vec<String> = parts.iter().map(|p| p.name.clone()).collect();
    let is_target = |n: &String| parts.iter().any(|p| p.next.contains(n));
    let mut current = names
        .iter()
        .find(|n| !is_target(n))
        .cloned()
        .ok_or("partitions form a cycle")?;
    let mut ordered = Vec::with_capacity(parts.len());
    loop {
        let pos = parts
            .iter()
            .position(|p| p.name == current)
            .ok_or_else(|| format!("partition {current} is not in the deployment"))?;
        let p = parts.swap_remove(pos);
        let next = p.next.iter().find(|n| names.contains(n)).cloned();
        ordered.push(p);
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    if !parts.is_empty() {
        return Err("partitions do not form a chain".to_owned());
    }
    *parts = ordered;
    Ok(())
}

fn parse_partition(name: &str, p: &Obj, ctx: &Ctx) -> Result<Partition, ParseError> {
    let where_ = format!("component {} partition {name}", ctx.component);
    let next = strings(p, &["next"], &where_)?;
    let mut data_size = numbers(p, &["data_size"], &where_)?;
    // Some files list a size for a last partition that sends nowhere: it means nothing.
    data_size.truncate(next.len());
    Ok(Partition {
        name: name.to_owned(),
        next,
        data_size,
        early_exit: num_or(p, &["early_exit_probability"], &where_, 0.0)?,
        compatible: parse_compatible(name, ctx, &where_)?,
    })
}

fn parse_compatible(name: &str, ctx: &Ctx, where_: &str) -> Result<Vec<Compatible>, ParseError> {
    let list = obj(ctx.compat, &[ctx.component], "CompatibilityMatrix")?;
    let list = array(
        list,
        &[name],
        &format!("CompatibilityMatrix {}", ctx.component),
    )?;
    let perf = obj(ctx.perf, &[ctx.component], "Performance")?;
    let perf = obj(perf, &[name], &format!("Performance {}", ctx.component))?;
    list.iter()
        .map(|entry| {
            let entry = as_obj(entry, name, "CompatibilityMatrix")?;
            let rname = crate::json::field(entry, &["resource"], where_)?
                .as_str()
                .unwrap_or_default();
            let resource = ctx
                .resources
                .iter()
                .position(|r| r.name == rname)
                .ok_or_else(|| ParseError::UnknownResource {
                    resource: rname.to_owned(),
                    context: where_.to_owned(),
                })?;
            let pctx = format!("Performance {} {name} {rname}", ctx.component);
            let pr = obj(perf, &[rname], &pctx)?;
            let demand = if ctx.resources[resource].kind == ResourceKind::Faas {
                Demand::Faas {
                    warm: num(pr, &["demandWarm", "demand_warm"], &pctx)?,
                    cold: num(pr, &["demandCold", "demand_cold"], &pctx)?,
                }
            } else {
                Demand::Queue(num(pr, &["demand"], &pctx)?)
            };
            Ok(Compatible {
                resource,
                memory: num(entry, &["memory"], where_)?,
                demand,
            })
        })
        .collect()
}

fn index_of(comps: &[Component], name: &str, context: &str) -> Result<usize, ParseError> {
    comps
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| ParseError::UnknownComponent {
            component: name.to_owned(),
            context: context.to_owned(),
        })
}

fn parse_dag(root: &Obj, comps: &mut [Component]) -> Result<(), ParseError> {
    let dag = obj(root, &["DirectedAcyclicGraph", "DAG", "dag"], "system")?;
    let mut edges: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    for (name, node) in dag {
        let ctx = format!("DirectedAcyclicGraph {name}");
        let node = as_obj(node, name, "DirectedAcyclicGraph")?;
        let from = index_of(comps, name, "DirectedAcyclicGraph")?;
        let next = strings(node, &["next"], &ctx)?;
        let probs = numbers(node, &["transition_probability"], &ctx)?;
        if next.len() != probs.len() {
            return Err(ParseError::Component {
                component: name.clone(),
                message: "`next` and `transition_probability` differ in length".to_owned(),
            });
        }
        for (n, p) in next.iter().zip(probs) {
            let to = index_of(comps, n, &ctx)?;
            edges.entry(from).or_default().push((to, p));
        }
    }
    for (from, succ) in edges {
        comps[from].successors = succ;
    }
    Ok(())
}

fn parse_local(root: &Obj, comps: &mut [Component]) -> Result<(), ParseError> {
    let Some(local) = ["LocalConstraints", "local_constraints"]
        .iter()
        .find_map(|k| root.get(*k))
    else {
        return Ok(());
    };
    for (name, c) in as_obj(local, "LocalConstraints", "system")? {
        let i = index_of(comps, name, "LocalConstraints")?;
        let ctx = format!("LocalConstraints {name}");
        let c = as_obj(c, name, "LocalConstraints")?;
        comps[i].local_threshold = Some(num(c, &["local_res_time"], &ctx)?);
    }
    Ok(())
}

fn parse_paths(root: &Obj, comps: &[Component]) -> Result<Vec<PathConstraint>, ParseError> {
    let Some(global) = ["GlobalConstraints", "global_constraints"]
        .iter()
        .find_map(|k| root.get(*k))
    else {
        return Ok(Vec::new());
    };
    as_obj(global, "GlobalConstraints", "system")?
        .iter()
        .map(|(name, p)| {
            let ctx = format!("GlobalConstraints {name}");
            let p = as_obj(p, name, "GlobalConstraints")?;
            let components = strings(p, &["components"], &ctx)?
                .iter()
                .map(|c| index_of(comps, c, &ctx))
                .collect::<Result<_, _>>()?;
            Ok(PathConstraint {
                name: name.clone(),
                components,
                threshold: num(p, &["global_res_time"], &ctx)?,
            })
        })
        .collect()
}

fn parse_domains(root: &Obj) -> Result<Vec<NetworkDomain>, ParseError> {
    obj(root, &["NetworkTechnology", "network_technology"], "system")?
        .iter()
        .map(|(name, d)| {
            let ctx = format!("NetworkTechnology {name}");
            let d = as_obj(d, name, "NetworkTechnology")?;
            Ok(NetworkDomain {
                name: name.clone(),
                layers: strings(d, &["computationallayers", "computational_layers"], &ctx)?,
                access_delay: num(d, &["AccessDelay", "access_delay"], &ctx)?,
                bandwidth: num(d, &["Bandwidth", "bandwidth"], &ctx)?,
            })
        })
        .collect()
}
