//! Restrictions of the search space: what re-planning keeps from the current solution, and
//! what a neighbourhood search holds fixed.

use std::ops::RangeInclusive;

use super::prepared::Candidate;

/// A component held to one deployment, some of its partitions to one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fixed {
    pub dep: usize,
    pub resources: Vec<Option<usize>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    /// Per component (empty: none fixed).
    pub fixed: Vec<Option<Fixed>>,
    /// Per layer: the only resource type it may hold (empty: any).
    pub layer_type: Vec<Option<usize>>,
    /// Per layer: the only cluster size it may have (empty: any).
    pub layer_nodes: Vec<Option<u32>>,
    /// No partition may move onto the edge unless `fixed` puts it there.
    pub edge_frozen: bool,
}

impl Limits {
    /// Nothing is restricted (the design-time search).
    pub fn is_open(&self) -> bool {
        self.fixed.iter().all(Option::is_none)
            && self.layer_type.iter().all(Option::is_none)
            && self.layer_nodes.iter().all(Option::is_none)
            && !self.edge_frozen
    }

    pub fn deployment_allowed(&self, i: usize, d: usize) -> bool {
        match self.fixed.get(i) {
            Some(Some(f)) => f.dep == d,
            _ => true,
        }
    }

    pub fn candidate_allowed(&self, i: usize, d: usize, h: usize, c: &Candidate) -> bool {
        let pinned = match self.fixed.get(i) {
            Some(Some(f)) if f.dep == d => f.resources.get(h).copied().flatten(),
            _ => None,
        };
        if pinned.is_some_and(|r| r != c.resource)
            || (self.edge_frozen && pinned.is_none() && c.is_edge())
        {
            return false;
        }
        match self.layer_type.get(c.layer) {
            Some(Some(r)) => *r == c.resource,
            _ => true,
        }
    }

    /// Whether layer `layer` may hold resource `r`.
    pub fn resource_allowed(&self, layer: usize, r: usize) -> bool {
        match self.layer_type.get(layer) {
            Some(Some(t)) => *t == r,
            _ => true,
        }
    }

    /// Cluster sizes a layer may take when it is opened.
    pub fn node_counts(&self, layer: usize, number: u32) -> RangeInclusive<u32> {
        match self.layer_nodes.get(layer) {
            Some(Some(n)) => *n..=*n,
            _ => 1..=number,
        }
    }
}
