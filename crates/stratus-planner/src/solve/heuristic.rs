//! The anytime heuristic: limited-discrepancy dives of the branch and bound, then large-neighbourhood
//! search — free a window of consecutive components (in DAG order), hold every other component
//! where the incumbent has it, and search the window exactly with a node budget. It gives the
//! exact search a good incumbent early, and answers alone when only a budget is allowed.

use std::time::Instant;

use super::limits::{Fixed, Limits};
use super::prepared::Prepared;
use super::search::{Incumbent, Search};

/// Nodes for the first dive and for each neighbourhood.
const DIVE_NODES: u64 = 5_000;
const WINDOW_NODES: u64 = 300;
/// Limited-discrepancy dives: 0, 1, … deviations from the bound's first choice.
const MAX_DEVIATIONS: u32 = 2;
/// Window sizes tried, smallest first.
const WINDOWS: [usize; 3] = [1, 2, 3];

/// Improves `start` (or finds a first placement) until no window improves it or `deadline`.
pub(crate) fn improve(
    p: &Prepared,
    base: &Limits,
    start: Option<Incumbent>,
    deadline: Option<Instant>,
) -> Option<Incumbent> {
    let mut best = start;
    // Limited discrepancy dives spread the first placements over the whole tree, so one bad
    // early choice cannot hold the incumbent hostage.
    for deviations in 0..=MAX_DEVIATIONS {
        let mut s = Search::new(p, base);
        s.node_limit = DIVE_NODES;
        s.deadline = deadline;
        s.max_deviations = Some(deviations);
        if let Some(b) = &best {
            s.cutoff = b.cost;
        }
        s.run();
        if s.best.is_some() {
            best = s.best;
        }
    }
    let mut best = best?;
    let n = p.order.len();
    loop {
        let mut improved = false;
        for w in WINDOWS.into_iter().filter(|&w| w <= n) {
            for start in 0..=n - w {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Some(best);
                }
                let free = &p.order[start..start + w];
                let limits = hold_others(base, &best, free, n);
                let mut s = Search::new(p, &limits);
                s.node_limit = WINDOW_NODES;
                s.cutoff = best.cost;
                s.run();
                if let Some(better) = s.best {
                    best = better;
                    improved = true;
                }
            }
        }
        if !improved {
            return Some(best);
        }
    }
}

/// `base` plus: every component outside `free` held where `best` has it.
fn hold_others(base: &Limits, best: &Incumbent, free: &[usize], n: usize) -> Limits {
    let mut limits = base.clone();
    limits.fixed.resize(n, None);
    for (i, cp) in best.placement.components.iter().enumerate() {
        if free.contains(&i) || limits.fixed[i].is_some() {
            continue;
        }
        limits.fixed[i] = Some(Fixed {
            dep: cp.deployment,
            resources: cp.partitions.iter().map(|a| Some(a.resource)).collect(),
        });
    }
    limits
}
