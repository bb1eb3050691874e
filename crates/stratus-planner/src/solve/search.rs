//! Depth-first branch and bound over components (in DAG order), their deployment and then each
//! partition's resource. Choosing a resource in an empty edge/VM layer also fixes that layer's
//! type and cluster size, so every quantity the constraints depend on only grows as the search
//! goes deeper: utilisation, memory, response times and cost. A node whose partial placement
//! already violates a constraint, or whose cost lower bound reaches the incumbent, is cut.
//! Every complete placement is confirmed by [`evaluate`], the single source of truth.

use std::time::Instant;

use super::bound::LowerBound;
use super::limits::Limits;
use super::prepared::{Candidate, Prepared};
use crate::evaluate::{Evaluation, evaluate, network_delay, transfer_delay};
use crate::solution::{Assignment, ComponentPlacement, Placement};

/// Relative slack when comparing against thresholds and the incumbent, so rounding in the
/// incremental arithmetic never cuts a placement the evaluator would accept.
const SLACK: f64 = 1e-9;
/// How many nodes between two looks at the clock.
const CLOCK_EVERY: u64 = 512;

/// Where one component was put: its deployment and one candidate index per partition.
#[derive(Debug, Clone, Default)]
pub(crate) struct Placed {
    pub dep: usize,
    pub cands: Vec<usize>,
}

/// The best complete placement found so far.
#[derive(Debug, Clone)]
pub(crate) struct Incumbent {
    pub cost: f64,
    pub placement: Placement,
    pub evaluation: Evaluation,
}

pub(crate) struct Search<'p, 'a> {
    pub p: &'p Prepared<'a>,
    pub limits: &'p Limits,
    /// Per layer: the resource type and cluster size chosen, if any.
    pub choice: Vec<Option<(usize, u32)>>,
    /// Per resource: Σ D·λ of the partitions on it (utilisation × nodes).
    pub work: Vec<f64>,
    pub mem: Vec<f64>,
    pub cost: f64,
    pub placed: Vec<Option<Placed>>,
    /// Per component: some partition runs off the edge.
    pub left_edge: Vec<bool>,
    pub best: Option<Incumbent>,
    /// Cost to beat: the incumbent's, or a caller's cap.
    pub cutoff: f64,
    pub nodes: u64,
    pub deadline: Option<Instant>,
    /// Stop after this many nodes (neighbourhood searches).
    pub node_limit: u64,
    /// Heuristic dives: at most this many non-first children on a path.
    pub max_deviations: Option<u32>,
    deviations: u32,
    pub stopped: bool,
    /// Stop at the first feasible placement (feasibility checks).
    pub first_only: bool,
}

/// One way to place the current partition.
struct Child {
    cand: usize,
    /// Cluster size when this child opens an empty layer.
    open: Option<u32>,
    /// Lower bound on any placement below it.
    bound: f64,
}

impl<'p, 'a> Search<'p, 'a> {
    pub fn new(p: &'p Prepared<'a>, limits: &'p Limits) -> Self {
        let nres = p.system.resources.len();
        Self {
            p,
            limits,
            choice: vec![None; p.layers.len()],
            work: vec![0.0; nres],
            mem: vec![0.0; nres],
            cost: 0.0,
            placed: vec![None; p.comps.len()],
            left_edge: vec![false; p.comps.len()],
            best: None,
            cutoff: f64::INFINITY,
            nodes: 0,
            deadline: None,
            node_limit: u64::MAX,
            max_deviations: None,
            deviations: 0,
            stopped: false,
            first_only: false,
        }
    }

    /// Runs the search; returns a lower bound on every placement it did not rule out
    /// (+∞ when it finished, so the incumbent is optimal).
    pub fn run(&mut self) -> f64 {
        self.component(0)
    }

    fn beats(&self, bound: f64) -> bool {
        bound < self.cutoff
            && (self.cutoff.is_infinite() || bound < self.cutoff - SLACK * self.cutoff.abs())
    }

    /// Limited discrepancy search: taking the n-th best child (n > 0) is a deviation from the
    /// bound's advice, and only `max_deviations` are allowed on a path (exact search: any).
    fn may_deviate(&self, n: usize) -> bool {
        n == 0 || self.max_deviations.is_none_or(|m| self.deviations < m)
    }

    fn tick(&mut self) {
        self.nodes += 1;
        if self.nodes >= self.node_limit {
            self.stopped = true;
        }
        if self.nodes.is_multiple_of(CLOCK_EVERY)
            && self.deadline.is_some_and(|d| Instant::now() >= d)
        {
            self.stopped = true;
        }
    }

    fn lower_bound(&self) -> LowerBound<'_, 'p, 'a> {
        LowerBound { s: self }
    }

    /// Places the k-th component of the DAG order.
    fn component(&mut self, k: usize) -> f64 {
        let Some(&i) = self.p.order.get(k) else {
            self.leaf();
            return f64::INFINITY;
        };
        let no_edge = self.p.comps[i].preds.iter().any(|&q| self.left_edge[q]);
        let lb = self.lower_bound();
        let budget = self.cutoff - self.cost;
        let mut deps: Vec<(f64, usize)> = (0..self.p.comps[i].deps.len())
            .filter(|&d| self.limits.deployment_allowed(i, d))
            .map(|d| (self.cost + lb.rest(k, i, d, 0, no_edge, budget), d))
            .collect();
        deps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (n, &(bound, d)) in deps.iter().enumerate() {
            if !self.beats(bound) || !self.may_deviate(n) {
                break;
            }
            self.placed[i] = Some(Placed {
                dep: d,
                cands: Vec::new(),
            });
            self.deviations += u32::from(n > 0);
            let unexplored = self.partition(k, i, d, no_edge);
            self.deviations -= u32::from(n > 0);
            self.placed[i] = None;
            if self.stopped || self.first_only && self.best.is_some() {
                let rest = deps[n + 1..].iter().map(|x| x.0);
                return rest.fold(unexplored, f64::min);
            }
        }
        f64::INFINITY
    }

    /// Places the next partition of component `i` (deployment `d`).
    fn partition(&mut self, k: usize, i: usize, d: usize, no_edge: bool) -> f64 {
        self.tick();
        let h = self.placed[i].as_ref().map_or(0, |pl| pl.cands.len());
        let parts = &self.p.comps[i].deps[d].parts;
        if h == parts.len() {
            return self.complete(k, i);
        }
        let prev = h.checked_sub(1).map(|g| self.cand(i, d, g));
        let no_edge = no_edge || prev.is_some_and(|c| !c.is_edge());
        let rest = self
            .lower_bound()
            .rest(k, i, d, h + 1, no_edge, self.cutoff - self.cost);
        if !self.beats(self.cost + rest) {
            return f64::INFINITY;
        }
        let mut children = self.children(i, d, h, no_edge, prev.map(|c| c.resource));
        let cost = self.cost;
        // Each child's own bound: orders the dive well and cuts children before descending.
        for child in &mut children {
            self.apply(i, d, h, child);
            let no_edge = no_edge || !parts[h].candidates[child.cand].is_edge();
            let budget = self.cutoff - self.cost;
            let bound = self.cost + self.lower_bound().rest(k, i, d, h + 1, no_edge, budget);
            self.undo(i, d, h, child);
            self.cost = cost;
            child.bound = bound;
        }
        children.sort_by(|a, b| a.bound.total_cmp(&b.bound));
        for (n, child) in children.iter().enumerate() {
            if !self.beats(child.bound) || !self.may_deviate(n) {
                break;
            }
            self.apply(i, d, h, child);
            self.deviations += u32::from(n > 0);
            let unexplored = self.partition(k, i, d, no_edge);
            self.deviations -= u32::from(n > 0);
            self.undo(i, d, h, child);
            self.cost = cost;
            if self.stopped || self.first_only && self.best.is_some() {
                let rest = children[n + 1..].iter().map(|c| c.bound);
                return rest.fold(unexplored, f64::min);
            }
        }
        f64::INFINITY
    }

    fn cand(&self, i: usize, d: usize, h: usize) -> &'p Candidate {
        let idx = self.placed[i].as_ref().map_or(0, |pl| pl.cands[h]);
        &self.p.comps[i].deps[d].parts[h].candidates[idx]
    }

    /// The feasible ways to place partition h, with their marginal cost.
    fn children(
        &self,
        i: usize,
        d: usize,
        h: usize,
        no_edge: bool,
        prev: Option<usize>,
    ) -> Vec<Child> {
        let part = &self.p.comps[i].deps[d].parts[h];
        let mut out = Vec::new();
        for (ci, c) in part.candidates.iter().enumerate() {
            if (no_edge && c.is_edge())
                || prev.is_some_and(|r| !self.p.reachable[r][c.resource])
                || !self.limits.candidate_allowed(i, d, h, c)
            {
                continue;
            }
            if c.is_faas() {
                out.push(Child {
                    cand: ci,
                    open: None,
                    bound: 0.0,
                });
                continue;
            }
            match self.choice[c.layer] {
                Some((r, n)) if r == c.resource => {
                    if self.fits(c, n) {
                        out.push(Child {
                            cand: ci,
                            open: None,
                            bound: 0.0,
                        });
                    }
                }
                Some(_) => {}
                None => {
                    let res = &self.p.system.resources[c.resource];
                    for n in self.limits.node_counts(c.layer, res.number) {
                        if self.fits(c, n) {
                            out.push(Child {
                                cand: ci,
                                open: Some(n),
                                bound: 0.0,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether `c` still fits on its resource with `n` nodes: utilisation below 1 and memory.
    pub fn fits(&self, c: &Candidate, n: u32) -> bool {
        let n = f64::from(n);
        let res = &self.p.system.resources[c.resource];
        (self.work[c.resource] + c.work) / n < 1.0
            && self.mem[c.resource] + c.memory <= res.memory * n
    }

    /// Puts partition h of component i on the child's candidate.
    fn apply(&mut self, i: usize, d: usize, h: usize, child: &Child) {
        let c = &self.p.comps[i].deps[d].parts[h].candidates[child.cand];
        if let Some(n) = child.open {
            self.choice[c.layer] = Some((c.resource, n));
            self.cost += self.p.node_cost(c.resource) * f64::from(n);
        }
        if c.is_faas() {
            self.cost += c.faas_cost;
        } else {
            self.work[c.resource] += c.work;
            self.mem[c.resource] += c.memory;
        }
        if let Some(pl) = self.placed[i].as_mut() {
            pl.cands.push(child.cand);
        }
    }

    /// Reverts [`Self::apply`]; `cost` is restored by the caller.
    fn undo(&mut self, i: usize, d: usize, h: usize, child: &Child) {
        let c = &self.p.comps[i].deps[d].parts[h].candidates[child.cand];
        if let Some(pl) = self.placed[i].as_mut() {
            pl.cands.pop();
        }
        if !c.is_faas() {
            self.work[c.resource] -= c.work;
            self.mem[c.resource] -= c.memory;
        }
        if child.open.is_some() {
            self.choice[c.layer] = None;
        }
    }

    /// All partitions of `i` are placed: check what can already be checked, then go on.
    fn complete(&mut self, k: usize, i: usize) -> f64 {
        if !self.constraints_hold() {
            return f64::INFINITY;
        }
        let d = self.placed[i].as_ref().map_or(0, |pl| pl.dep);
        let parts = self.p.comps[i].deps[d].parts.len();
        self.left_edge[i] = (0..parts).any(|h| !self.cand(i, d, h).is_edge());
        let unexplored = self.component(k + 1);
        self.left_edge[i] = false;
        unexplored
    }

    /// Response time of a placed component under the current utilisation; it can only grow.
    pub fn response_time(&self, i: usize) -> f64 {
        let Some(pl) = &self.placed[i] else {
            return self.p.comps[i].min_time;
        };
        let parts = &self.p.comps[i].deps[pl.dep].parts;
        let mut total = 0.0;
        let mut prev: Option<usize> = None;
        for (h, part) in parts.iter().enumerate().take(pl.cands.len()) {
            let c = &part.candidates[pl.cands[h]];
            let t = if c.is_faas() {
                c.faas_time
            } else {
                let n = self.choice[c.layer].map_or(1, |(_, n)| n);
                c.demand / (1.0 - self.work[c.resource] / f64::from(n))
            };
            let delay = prev.map_or(0.0, |r| {
                network_delay(self.p.system, r, c.resource, parts[h - 1].data_next)
            });
            total += part.reach * (t + delay);
            prev = Some(c.resource);
        }
        total
    }

    fn resources_of(&self, i: usize) -> Option<Vec<usize>> {
        let pl = self.placed[i].as_ref()?;
        let parts = &self.p.comps[i].deps[pl.dep].parts;
        if pl.cands.len() < parts.len() {
            return None;
        }
        Some(
            pl.cands
                .iter()
                .zip(parts)
                .map(|(&c, part)| part.candidates[c].resource)
                .collect(),
        )
    }

    /// Local constraints of placed components and lower bounds of every path.
    fn constraints_hold(&self) -> bool {
        let within = |r: f64, t: f64| r <= t * (1.0 + SLACK);
        for (i, comp) in self.p.comps.iter().enumerate() {
            if let Some(t) = comp.local
                && self.placed[i].is_some()
                && !within(self.response_time(i), t)
            {
                return false;
            }
        }
        for path in &self.p.system.paths {
            let mut total: f64 = path.components.iter().map(|&c| self.response_time(c)).sum();
            for w in path.components.windows(2) {
                let (Some(ra), Some(rb)) = (self.resources_of(w[0]), self.resources_of(w[1]))
                else {
                    continue;
                };
                let dep = self.placed[w[0]].as_ref().map_or(0, |pl| pl.dep);
                total += transfer_delay(self.p.system, w[0], dep, &ra, w[1], rb[0]);
            }
            if !within(total, path.threshold) {
                return false;
            }
        }
        true
    }

    /// A complete placement: the evaluator decides.
    fn leaf(&mut self) {
        let components = (0..self.p.comps.len())
            .map(|i| {
                let pl = self.placed[i].clone().unwrap_or_default();
                let parts = &self.p.comps[i].deps[pl.dep].parts;
                let partitions = pl
                    .cands
                    .iter()
                    .zip(parts)
                    .map(|(&c, part)| {
                        let c = &part.candidates[c];
                        Assignment {
                            resource: c.resource,
                            cluster: self.choice[c.layer].map_or(1, |(_, n)| n),
                        }
                    })
                    .collect();
                ComponentPlacement {
                    deployment: pl.dep,
                    partitions,
                }
            })
            .collect();
        let placement = Placement { components };
        let evaluation = evaluate(self.p.system, &placement);
        if evaluation.feasible() && self.beats(evaluation.total_cost) {
            self.cutoff = evaluation.total_cost;
            self.best = Some(Incumbent {
                cost: evaluation.total_cost,
                placement,
                evaluation,
            });
        }
    }
}
