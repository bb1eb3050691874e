//! Naming why an instance has no feasible placement: the response-time constraints that cannot
//! hold together (an irreducible set, found by a deletion filter over feasibility searches), or
//! the structural limits (memory, utilisation, network, no-move-back) when no placement exists
//! even without response-time limits.

use std::time::Instant;

use super::limits::Limits;
use super::prepared::Prepared;
use super::search::Search;
use crate::model::System;
use crate::solution::Placement;

/// A response-time constraint of the instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// A component's local threshold.
    Local { component: String, threshold: f64 },
    /// A path's end-to-end threshold.
    Path { path: String, threshold: f64 },
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local {
                component,
                threshold,
            } => write!(f, "local constraint of {component} (≤ {threshold} s)"),
            Self::Path { path, threshold } => {
                write!(f, "global constraint {path} (≤ {threshold} s)")
            }
        }
    }
}

/// Why an instance is infeasible.
#[derive(Debug, Clone, PartialEq)]
pub enum Infeasibility {
    /// These response-time constraints cannot all hold; dropping any one of them makes the
    /// instance feasible.
    Binding(Vec<Constraint>),
    /// Even without response-time limits no placement fits memory, utilisation, networks and
    /// the no-move-back rule; `component` is the first (in DAG order) that cannot be added.
    Structural { component: String },
    /// The searches ran out of time before telling.
    Unknown,
    /// There is a feasible placement after all (nothing to explain).
    Feasible,
}

impl std::fmt::Display for Infeasibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Binding(list) => {
                let names: Vec<String> = list.iter().map(ToString::to_string).collect();
                if names.len() == 1 {
                    write!(f, "binding constraint: {}", names[0])
                } else {
                    write!(f, "binding constraints (together): {}", names.join("; "))
                }
            }
            Self::Structural { component } => write!(
                f,
                "no placement of {component} fits memory, utilisation, network and \
                 no-move-back limits, even without response-time constraints"
            ),
            Self::Unknown => write!(f, "infeasible; the explanation ran out of time"),
            Self::Feasible => write!(f, "a feasible placement exists"),
        }
    }
}

/// Explains an infeasible instance within `deadline`.
pub fn explain(system: &System, deadline: Option<Instant>) -> Infeasibility {
    explain_within(system, &|_| Limits::default(), deadline)
}

/// Explains why re-planning `current` (SPACE4AI-R's rules) found no placement.
pub fn explain_replan(
    system: &System,
    current: &Placement,
    deadline: Option<Instant>,
) -> Infeasibility {
    explain_within(system, &|p| Limits::runtime(p, current), deadline)
}

/// The limits of a search on a (possibly reduced) system.
type LimitsFor<'a> = dyn Fn(&Prepared) -> Limits + 'a;

fn explain_within(system: &System, limits: &LimitsFor, deadline: Option<Instant>) -> Infeasibility {
    let all = constraints(system);
    let mut kept: Vec<bool> = vec![true; all.len()];
    let feasible = |s: &System| feasible(s, limits, deadline);
    match feasible(system) {
        Some(false) => {}
        Some(true) => return Infeasibility::Feasible,
        None => return Infeasibility::Unknown,
    }
    match feasible(&with_only(system, &all, &vec![false; all.len()])) {
        Some(false) => return structural(system, limits, deadline),
        None => return Infeasibility::Unknown,
        Some(true) => {}
    }
    for c in 0..all.len() {
        kept[c] = false;
        match feasible(&with_only(system, &all, &kept)) {
            Some(false) => {}
            Some(true) => kept[c] = true,
            None => return Infeasibility::Unknown,
        }
    }
    Infeasibility::Binding(
        all.into_iter()
            .zip(kept)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c)
            .collect(),
    )
}

fn constraints(system: &System) -> Vec<Constraint> {
    let local = system.components.iter().filter_map(|c| {
        c.local_threshold.map(|threshold| Constraint::Local {
            component: c.name.clone(),
            threshold,
        })
    });
    let paths = system.paths.iter().map(|p| Constraint::Path {
        path: p.name.clone(),
        threshold: p.threshold,
    });
    local.chain(paths).collect()
}

/// `system` with only the response-time constraints marked in `keep`.
fn with_only(system: &System, all: &[Constraint], keep: &[bool]) -> System {
    let mut s = system.clone();
    let kept = |c: &Constraint| all.iter().zip(keep).any(|(a, &k)| k && a == c);
    for comp in &mut s.components {
        if let Some(threshold) = comp.local_threshold
            && !kept(&Constraint::Local {
                component: comp.name.clone(),
                threshold,
            })
        {
            comp.local_threshold = None;
        }
    }
    s.paths.retain(|p| {
        kept(&Constraint::Path {
            path: p.name.clone(),
            threshold: p.threshold,
        })
    });
    s
}

/// Some(answer), or None when the deadline cut the search short.
fn feasible(system: &System, limits: &LimitsFor, deadline: Option<Instant>) -> Option<bool> {
    let p = Prepared::new(system);
    let limits = limits(&p);
    let mut s = Search::new(&p, &limits);
    s.first_only = true;
    s.deadline = deadline;
    s.run();
    match (&s.best, s.stopped) {
        (Some(_), _) => Some(true),
        (None, false) => Some(false),
        (None, true) => None,
    }
}

/// The first component (in DAG order) whose addition leaves no placement.
fn structural(system: &System, limits: &LimitsFor, deadline: Option<Instant>) -> Infeasibility {
    let free = with_only(system, &[], &[]);
    let order = crate::evaluate::topological_order(&free);
    let full_limits = limits(&Prepared::new(&free));
    for k in 1..=order.len() {
        // Components after the k-th are dropped from the instance.
        let mut s = free.clone();
        let keep: Vec<usize> = order[..k].to_vec();
        s.components = keep.iter().map(|&i| free.components[i].clone()).collect();
        for c in &mut s.components {
            c.successors.retain(|(t, _)| keep.contains(t));
            for (t, _) in &mut c.successors {
                *t = keep.iter().position(|x| x == t).unwrap_or(0);
            }
        }
        // Limits are per component: the reduced system gets the kept components' limits.
        let reduced = |_: &Prepared| {
            let mut l = full_limits.clone();
            if !l.fixed.is_empty() {
                l.fixed = keep.iter().map(|&i| l.fixed[i].clone()).collect();
            }
            l
        };
        match feasible(&s, &reduced, deadline) {
            Some(true) => {}
            Some(false) => {
                return Infeasibility::Structural {
                    component: free.components[order[k - 1]].name.clone(),
                };
            }
            None => return Infeasibility::Unknown,
        }
    }
    Infeasibility::Unknown
}
