//! Solvers: exact branch and bound with a certificate ([`solve`]), and run-time re-planning.

mod bound;
mod heuristic;
mod infeasible;
mod limits;
mod prepared;
mod runtime;
mod search;

use std::time::{Duration, Instant};

use crate::evaluate::Evaluation;
use crate::model::System;
use crate::solution::Placement;

use limits::Limits;
use prepared::Prepared;
use search::Search;

pub use infeasible::{Constraint, Infeasibility, explain, explain_replan};

/// How long the exact search may run before it answers with its incumbent and bound.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub time_limit: Option<Duration>,
}

/// A solved instance: the placement, its evaluation and the optimality certificate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub placement: Placement,
    pub evaluation: Evaluation,
    /// What the plan costs; for a re-plan, deployed edge devices count by their energy share
    /// (see [`replan`]), so it can be below `evaluation.total_cost`.
    pub total_cost: f64,
    /// No feasible placement costs less than this.
    pub lower_bound: f64,
    /// The search finished: `total_cost` is the optimum.
    pub optimal: bool,
    /// Search-tree nodes visited.
    pub nodes: u64,
}

impl Plan {
    /// Relative distance between the cost and the proven bound (0 when optimal).
    pub fn gap(&self) -> f64 {
        if self.total_cost <= 0.0 {
            return 0.0;
        }
        ((self.total_cost - self.lower_bound) / self.total_cost).max(0.0)
    }
}

/// Why no plan came back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    #[error("no placement satisfies every constraint")]
    Infeasible,
    #[error("no feasible placement found within the time limit (lower bound {lower_bound})")]
    OutOfTime { lower_bound: f64 },
}

/// Finds the cheapest feasible placement, proving it optimal unless the time limit stops it.
pub fn solve(system: &System, options: &Options) -> Result<Plan, SolveError> {
    let prepared = Prepared::new(system);
    let limits = Limits::default();
    let deadline = options.time_limit.map(|t| Instant::now() + t);
    let seed = heuristic::improve(&prepared, &limits, None, deadline);
    run(&prepared, &limits, options, seed)
}

/// Re-plans `current` for the system's (new) λ under SPACE4AI-R's rules. The current
/// solution, when still feasible, is the first incumbent; the restricted search is small enough
/// to run exactly without the heuristic's dives. `total_cost` and `lower_bound` price the
/// deployed edge by its energy share (busy time), as SPACE4AI-R does; `evaluation.total_cost`
/// stays the design-time figure (edge nodes paid in full).
pub fn replan(system: &System, current: &Placement, options: &Options) -> Result<Plan, SolveError> {
    let prepared = Prepared::new(system);
    let limits = Limits::runtime(&prepared, current);
    let evaluation = crate::evaluate::evaluate(system, current);
    let start = evaluation.feasible().then(|| search::Incumbent {
        cost: evaluation.total_cost,
        placement: current.clone(),
        evaluation,
    });
    let mut plan = run(&prepared, &limits, options, start)?;
    let idle = runtime::idle_edge_share(system, &plan.placement);
    plan.total_cost -= idle;
    plan.lower_bound -= idle;
    Ok(plan)
}

fn run(
    prepared: &Prepared,
    limits: &Limits,
    options: &Options,
    seed: Option<search::Incumbent>,
) -> Result<Plan, SolveError> {
    let started = Instant::now();
    let mut search = Search::new(prepared, limits);
    search.deadline = options.time_limit.map(|t| started + t);
    if let Some(seed) = seed {
        search.cutoff = seed.cost;
        search.best = Some(seed);
    }
    let unexplored = search.run();
    let nodes = search.nodes;
    match search.best {
        Some(best) => Ok(Plan {
            lower_bound: unexplored.min(best.cost),
            optimal: unexplored.is_infinite() || unexplored >= best.cost,
            total_cost: best.cost,
            placement: best.placement,
            evaluation: best.evaluation,
            nodes,
        }),
        None if search.stopped => Err(SolveError::OutOfTime {
            lower_bound: unexplored,
        }),
        None => Err(SolveError::Infeasible),
    }
}
