//! Run-time re-planning (SPACE4AI-R's rules): when the load changes, the edge stays as deployed
//! — the same partitions on the same devices, with the same number of nodes — and every VM layer
//! in use keeps its type (its cluster size may change). Everything else may move: partitions
//! off the edge between VMs and functions, components without edge partitions between
//! deployments, and empty VM layers may open.

use super::limits::{Fixed, Limits};
use super::prepared::Prepared;
use crate::model::ResourceKind;
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
