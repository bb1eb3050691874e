//! Lower bounds on the cost still to pay, given a partial placement.
//!
//! A remaining partition costs nothing if it can join a resource already chosen in its layer
//! or go to a layer still empty, else its cheapest function. Taken alone that ignores the node
//! costs of empty layers, the bulk of most optima, so the bound also chooses which empty layers
//! to open: for every subset S of them it adds the cheapest node of each layer in S and lets
//! partitions use only S and the chosen resources, then takes the minimum over S (with a
//! handful of edge/VM layers the 2^|S| sweep is cheap).
//!
//! Within S it then counts capacity: the work the partitions kept off functions bring must fit
//! in the nodes, so either more nodes are bought or work moves to functions, cheapest per unit
//! first (a fractional knapsack). Capacity is pooled over resources, which keeps the bound
//! valid; to stop one roomy resource from hiding a full one, the pool is also taken without
//! each layer in turn (only the partitions that cannot use it compete for the rest), and the
//! largest of these costs is added.

use super::prepared::Candidate;
use super::search::Search;

/// Edge/VM layers the bound tracks individually; beyond this, layers count as free.
const MAX_LAYERS: usize = 16;
/// Empty layers swept over; beyond this, empty layers count as free.
const MAX_SWEPT: usize = 8;

/// A usable edge/VM candidate of a remaining partition.
#[derive(Clone, Copy)]
struct Opt {
    layer: usize,
    resource: usize,
    work: f64,
}

/// A remaining partition as the bound sees it; its candidates are `opts[start..end]` of the
/// [`Remaining`] it belongs to.
#[derive(Clone, Copy)]
struct Item {
    start: u32,
    end: u32,
    /// Tracked layers where it can go.
    mask: u32,
    faas: f64,
    /// It can go to an untracked layer: free and uncounted.
    unswept: bool,
}

/// The remaining partitions, flattened into three arenas (one allocation each per bound):
/// components → deployments → items → candidates.
#[derive(Default)]
struct Remaining {
    opts: Vec<Opt>,
    items: Vec<Item>,
    /// Item ranges, one per deployment.
    deps: Vec<(usize, usize)>,
    /// Deployment ranges, one per component.
    groups: Vec<(usize, usize)>,
}

impl Remaining {
    fn groups(&self) -> impl Iterator<Item = &[(usize, usize)]> {
        self.groups.iter().map(|&(a, b)| &self.deps[a..b])
    }

    fn items(&self, dep: (usize, usize)) -> &[Item] {
        &self.items[dep.0..dep.1]
    }

    fn opts(&self, it: &Item) -> &[Opt] {
        &self.opts[it.start as usize..it.end as usize]
    }

    /// The least work `it` brings if kept off functions in layers `avail` (∞: it cannot be).
    fn work_in(&self, it: &Item, avail: u32) -> f64 {
        self.opts(it)
            .iter()
            .filter(|o| avail & (1 << o.layer) != 0)
            .map(|o| o.work)
            .fold(f64::INFINITY, f64::min)
    }

    fn work_on(&self, it: &Item, resource: usize) -> Option<f64> {
        self.opts(it)
            .iter()
            .find(|o| o.resource == resource)
            .map(|o| o.work)
    }
}

/// An empty layer in the sweep.
struct Swept {
    layer: usize,
    node: f64,
    /// Largest cluster among its resources.
    max_nodes: u32,
}

pub(crate) struct LowerBound<'s, 'p, 'a> {
    pub s: &'s Search<'p, 'a>,
}

impl LowerBound<'_, '_, '_> {
    /// A lower bound on the cost of the partitions `from..` of deployment `d` of component `i`
    /// (the k-th in DAG order) plus every component after it. Subsets are visited cheapest
    /// first and the sweep stops once no subset can go below the best found or `budget` (the
    /// caller cuts at `budget` anyway), so the capacity term is computed for few subsets.
    pub fn rest(
        &self,
        k: usize,
        i: usize,
        d: usize,
        from: usize,
        no_edge: bool,
        budget: f64,
    ) -> f64 {
        let s = self.s;
        let swept = self.swept();
        let rem = self.remaining(k, i, d, from, no_edge);
        // Chosen layers with their spare capacity (in nodes).
        let chosen: Vec<(usize, f64)> = s
            .choice
            .iter()
            .enumerate()
            .filter(|(l, _)| *l < MAX_LAYERS)
            .filter_map(|(l, c)| c.map(|(r, n)| (l, (f64::from(n) - s.work[r]).max(0.0))))
            .collect();
        let chosen_mask: u32 = chosen.iter().map(|&(l, _)| 1u32 << l).sum();
        let in_set = |set: usize| -> Vec<&Swept> {
            (0..swept.len())
                .filter(|b| set & (1 << b) != 0)
                .map(|b| &swept[b])
                .collect()
        };
        let mut base: Vec<(f64, usize)> = (0..1usize << swept.len())
            .map(|set| {
                let opened = in_set(set);
                let avail = chosen_mask | opened.iter().map(|w| 1u32 << w.layer).sum::<u32>();
                let mut cost: f64 = opened.iter().map(|w| w.node).sum();
                for deps in rem.groups() {
                    cost += deps
                        .iter()
                        .map(|&dep| {
                            rem.items(dep)
                                .iter()
                                .filter(|it| !it.unswept && it.mask & avail == 0)
                                .map(|it| it.faas)
                                .sum::<f64>()
                        })
                        .fold(f64::INFINITY, f64::min);
                }
                (cost, set)
            })
            .collect();
        base.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut best = f64::INFINITY;
        for (cost, set) in base {
            if cost >= best || cost >= budget || cost.is_infinite() {
                return best.min(cost);
            }
            let opened = in_set(set);
            let avail = chosen_mask | opened.iter().map(|w| 1u32 << w.layer).sum::<u32>();
            let extra: Vec<(usize, f64, u32)> = opened
                .iter()
                .map(|w| (w.layer, w.node, w.max_nodes.saturating_sub(1)))
                .collect();
            let room = |l: usize| chosen.iter().find(|c| c.0 == l).map_or(1.0, |c| c.1);
            let spare: f64 = chosen.iter().map(|c| c.1).sum::<f64>() + opened.len() as f64;
            let mut capacity = Pool::build(&rem, avail, avail).cheapest_fit(spare, &extra, None);
            let mut rest = avail;
            while rest != 0 && cost + capacity < best {
                let l = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let pool = Pool::build(&rem, avail & !(1 << l), avail);
                capacity = capacity.max(pool.cheapest_fit(spare - room(l), &extra, Some(l)));
                capacity = capacity.max(self.one_layer(&rem, l, avail, &opened));
            }
            best = best.min(cost + capacity);
        }
        best
    }

    /// The partitions that can only use layer `l` (of those `avail`), on the resource type the
    /// layer would take: a chosen one keeps its nodes, an empty one picks its cheapest type for
    /// that work, nodes counted whole. Returns the cost beyond the one node `base` already has.
    fn one_layer(&self, rem: &Remaining, l: usize, avail: u32, in_set: &[&Swept]) -> f64 {
        let s = self.s;
        let only = |it: &Item| !it.unswept && it.mask & avail == 1 << l;
        if !rem.items.iter().any(only) {
            return 0.0;
        }
        let pool_on = |r: usize| {
            let mut pool = Pool::default();
            let on_r = |it: &Item| rem.work_on(it, r);
            for deps in rem.groups() {
                if let [items] = deps {
                    for it in rem.items(*items).iter().filter(|it| only(it)) {
                        match (on_r(it), it.faas.is_finite()) {
                            // Not on this type: it must go to a function.
                            (None, _) => pool.forced_faas += it.faas,
                            (Some(w), false) => pool.forced += w,
                            (Some(w), true) if w > 0.0 => pool.movable.push((w, it.faas)),
                            (Some(_), true) => {}
                        }
                    }
                    continue;
                }
                // Several deployments: the least work one of them must put here.
                let least = deps
                    .iter()
                    .map(|&dep| {
                        rem.items(dep)
                            .iter()
                            .filter(|it| only(it) && it.faas.is_infinite())
                            .map(|it| on_r(it).unwrap_or(f64::INFINITY))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min);
                pool.forced += least;
            }
            pool
        };
        if let Some((r, n)) = s.choice[l] {
            let room = (f64::from(n) - s.work[r]).max(0.0);
            return pool_on(r).cheapest_fit(room, &[], None);
        }
        let Some(open) = in_set.iter().find(|w| w.layer == l) else {
            return 0.0;
        };
        s.p.layers[l]
            .resources
            .iter()
            .filter(|&&r| s.limits.resource_allowed(l, r))
            .map(|&r| {
                let node = s.p.node_cost(r);
                let more = s.p.system.resources[r].number.saturating_sub(1);
                node + pool_on(r).cheapest_fit(1.0, &[(l, node, more)], None)
            })
            .fold(f64::INFINITY, f64::min)
            - open.node
    }

    fn swept(&self) -> Vec<Swept> {
        let s = self.s;
        let mut swept = Vec::new();
        for (l, layer) in s.p.layers.iter().enumerate().take(MAX_LAYERS) {
            if layer.exclusive && s.choice[l].is_none() && swept.len() < MAX_SWEPT {
                let allowed = || {
                    layer
                        .resources
                        .iter()
                        .filter(move |&&r| s.limits.resource_allowed(l, r))
                };
                swept.push(Swept {
                    layer: l,
                    node: allowed()
                        .map(|&r| s.p.node_cost(r))
                        .fold(f64::INFINITY, f64::min),
                    max_nodes: allowed()
                        .map(|&r| s.p.system.resources[r].number)
                        .max()
                        .unwrap_or(0),
                });
            }
        }
        swept
    }

    /// Per remaining component, the items of each deployment it may still take.
    fn remaining(&self, k: usize, i: usize, d: usize, from: usize, no_edge: bool) -> Remaining {
        let s = self.s;
        let mut rem = Remaining::default();
        let start = rem.deps.len();
        self.items(&mut rem, i, d, from, no_edge);
        rem.groups.push((start, rem.deps.len()));
        for &j in &s.p.order[k + 1..] {
            let no_edge = s.p.comps[j].preds.iter().any(|&q| s.left_edge[q]);
            let start = rem.deps.len();
            for e in 0..s.p.comps[j].deps.len() {
                if s.limits.deployment_allowed(j, e) {
                    self.items(&mut rem, j, e, 0, no_edge);
                }
            }
            rem.groups.push((start, rem.deps.len()));
        }
        rem
    }

    /// Adds the partitions `from..` of a deployment, unless one of them has nowhere to go.
    fn items(&self, rem: &mut Remaining, i: usize, d: usize, from: usize, no_edge: bool) {
        let s = self.s;
        let (items_before, opts_before) = (rem.items.len(), rem.opts.len());
        for (h, part) in s.p.comps[i].deps[d].parts.iter().enumerate().skip(from) {
            let mut it = Item {
                start: rem.opts.len() as u32,
                end: 0,
                mask: 0,
                faas: f64::INFINITY,
                unswept: false,
            };
            let open = s.limits.is_open();
            let allowed = |c: &Candidate| open || s.limits.candidate_allowed(i, d, h, c);
            if open {
                it.faas = part.min_faas_cost;
            } else {
                for c in part.candidates.iter().filter(|c| c.is_faas() && allowed(c)) {
                    it.faas = it.faas.min(c.faas_cost);
                }
            }
            for c in part.queued.iter().map(|&q| &part.candidates[q]) {
                if (no_edge && c.is_edge()) || !allowed(c) {
                    continue;
                }
                let usable = match s.choice[c.layer] {
                    Some((r, n)) => r == c.resource && s.fits(c, n),
                    None => true,
                };
                if !usable {
                    continue;
                }
                if c.layer >= MAX_LAYERS {
                    it.unswept = true;
                } else {
                    it.mask |= 1 << c.layer;
                    rem.opts.push(Opt {
                        layer: c.layer,
                        resource: c.resource,
                        work: c.work,
                    });
                }
            }
            it.end = rem.opts.len() as u32;
            if it.mask == 0 && it.faas.is_infinite() && !it.unswept {
                rem.items.truncate(items_before);
                rem.opts.truncate(opts_before);
                return;
            }
            rem.items.push(it);
        }
        rem.deps.push((items_before, rem.items.len()));
    }
}

/// Work competing for node capacity.
#[derive(Default)]
struct Pool {
    /// Work with no function to go to.
    forced: f64,
    /// (work, cost of moving it to a function instead).
    movable: Vec<(f64, f64)>,
    /// Functions that must be paid whatever the capacity.
    forced_faas: f64,
}

impl Pool {
    /// The work of the partitions that can only use layers in `within` (of those `avail`).
    /// Components with several deployments count their least forced work only.
    fn build(rem: &Remaining, within: u32, avail: u32) -> Self {
        let mut pool = Pool::default();
        let inside =
            |it: &Item| !it.unswept && it.mask & avail != 0 && it.mask & avail & !within == 0;
        for deps in rem.groups() {
            if let [only] = deps {
                for it in rem.items(*only).iter().filter(|it| inside(it)) {
                    let w = rem.work_in(it, within);
                    if it.faas.is_infinite() {
                        pool.forced += w;
                    } else if w > 0.0 {
                        pool.movable.push((w, it.faas));
                    }
                }
            } else {
                pool.forced += deps
                    .iter()
                    .map(|&dep| {
                        rem.items(dep)
                            .iter()
                            .filter(|it| inside(it) && it.faas.is_infinite())
                            .map(|it| rem.work_in(it, within))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min);
            }
        }
        if pool.forced.is_infinite() {
            pool.forced = 0.0;
        }
        pool
    }

    /// Least cost of buying extra nodes (each layer's `(layer, price, how many)`, except in
    /// `excluded`) and moving work to functions so that the work left fits in `capacity` plus
    /// the nodes bought.
    fn cheapest_fit(
        mut self,
        capacity: f64,
        extra: &[(usize, f64, u32)],
        excluded: Option<usize>,
    ) -> f64 {
        self.movable
            .sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let mut prices: Vec<f64> = extra
            .iter()
            .filter(|e| Some(e.0) != excluded)
            .flat_map(|&(_, p, n)| std::iter::repeat_n(p, n as usize))
            .collect();
        prices.sort_by(f64::total_cmp);
        let mut best = f64::INFINITY;
        let mut bought = self.forced_faas;
        for k in 0..=prices.len() {
            if k > 0 {
                bought += prices[k - 1];
            }
            if bought >= best {
                break;
            }
            let room = capacity + k as f64 - self.forced;
            if room >= 0.0 {
                best = best.min(bought + self.move_cost(room));
            }
        }
        best
    }

    /// Least cost of moving movable work to functions until what stays fits in `room`
    /// (fractionally, cheapest per unit of work first).
    fn move_cost(&self, room: f64) -> f64 {
        let total: f64 = self.movable.iter().map(|m| m.0).sum();
        let mut excess = total - room;
        let mut cost = 0.0;
        for &(w, f) in &self.movable {
            if excess <= 0.0 {
                break;
            }
            let part = w.min(excess);
            cost += f * part / w;
            excess -= part;
        }
        cost
    }
}
