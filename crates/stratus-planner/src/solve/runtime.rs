//! Run-time re-planning (SPACE4AI-R's rules): when the load changes, the edge stays as deployed
//! — the same partitions on the same devices, with the same number of nodes — and every VM layer
//! in use keeps its type (its cluster size may change). Everything else may move: partitions
//! off the edge between VMs and functions, components without edge partitions between
//! deployments, and empty VM layers may open. Deployed edge devices are priced by their energy
//! share ([`idle_edge_share`]).

use std::collections::BTreeMap;

use super::limits::{Fixed, Limits};
use super::prepared::Prepared;
use crate::evaluate::partition_loads;
use crate::model::{Demand, ResourceKind, System};
use crate::solution::Placement;

impl Limits {
    /// The re-planning limits that keep `current`'s edge and VM choices.
    pub(crate) fn runtime(p: &Prepared, current: &Placement) -> Self {
        let system = p.system;
        let mut limits = Limits {
            fixed: vec![None; system.components.len()],
            layer_type: vec![None; p.layers.len()],
            layer_nodes: vec![None; p.layers.len()],
            edge_frozen: true,
        };
        for (i, cp) in current.components.iter().enumerate() {
            let on_edge = |r: usize| system.resources[r].kind == ResourceKind::Edge;
            for a in &cp.partitions {
                let layer = p.layer_of(a.resource);
                if system.resources[a.resource].kind != ResourceKind::Faas {
                    limits.layer_type[layer] = Some(a.resource);
                }
                if on_edge(a.resource) {
                    limits.layer_nodes[layer] = Some(a.cluster);
                }
            }
            if cp.partitions.iter().any(|a| on_edge(a.resource)) {
                limits.fixed[i] = Some(Fixed {
                    dep: cp.deployment,
                    resources: cp
                        .partitions
                        .iter()
                        .map(|a| on_edge(a.resource).then_some(a.resource))
                        .collect(),
                });
            }
        }
        limits
    }
}

/// How much less the edge costs at run time than at design time. SPACE4AI-R prices a device that
/// is already deployed by the energy it uses, i.e. by its share of busy time: cost × nodes ×
/// Time × utilisation instead of cost × nodes × Time. With the edge frozen that share depends on
/// λ only, so it shifts every candidate's cost equally and changes no decision.
pub(crate) fn idle_edge_share(system: &System, placement: &Placement) -> f64 {
    let loads = partition_loads(system, placement);
    let mut busy: BTreeMap<usize, (u32, f64)> = BTreeMap::new();
    for (i, cp) in placement.components.iter().enumerate() {
        let dep = &system.components[i].deployments[cp.deployment];
        for (h, (a, part)) in cp.partitions.iter().zip(&dep.partitions).enumerate() {
            if system.resources[a.resource].kind != ResourceKind::Edge {
                continue;
            }
            if let Some(Demand::Queue(d)) = part.compatible_with(a.resource).map(|c| c.demand) {
                let entry = busy.entry(a.resource).or_insert((a.cluster, 0.0));
                entry.0 = entry.0.max(a.cluster);
                entry.1 += d * loads[i][h];
            }
        }
    }
    busy.into_iter()
        .map(|(r, (n, work))| {
            let nodes = f64::from(n);
            let utilisation = (work / nodes).min(1.0);
            system.resources[r].cost * nodes * system.time * (1.0 - utilisation)
        })
        .sum()
}
