//! The exact solver on the published instances: optimal at or below the reference heuristic's
//! best, a sound certificate under a time limit, deterministic answers, named infeasibility.

use std::time::Duration;

use serde_json::Value;
use stratus_planner::solve::{Constraint, Infeasibility};
use stratus_planner::{Options, Placement, SolveError, System, evaluate, explain, replan, solve};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/space4ai");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{rel}")).expect("space4ai data file is readable")
}

fn instance(rel: &str) -> System {
    System::parse(&read(&format!("instances/{rel}")), Some(1.8), Some(1.0)).expect("parses")
}

#[test]
fn small_published_instances_are_solved_to_optimality_at_or_below_best_known() {
    let refs: Value = serde_json::from_str(&read("reference_costs.json")).expect("json");
    for kind in ["Light", "Strict"] {
        for n in [5, 7] {
            for k in 1..=10 {
                let rel = format!("{kind}/{n}-components/system_description{k}.json");
                let plan = solve(&instance(&rel), &Options::default()).expect("feasible");
                assert!(plan.optimal, "{rel}");
                assert_eq!(plan.lower_bound, plan.total_cost, "{rel}");
                let best = refs[&rel]["best_known"].as_f64().expect("best known");
                // The reference costs are printed to 4 decimals.
                assert!(
                    plan.total_cost <= best + 5e-5,
                    "{rel}: {} > {best}",
                    plan.total_cost
                );
                assert!(plan.evaluation.feasible());
            }
        }
    }
}

#[test]
fn a_time_limit_returns_a_sound_certificate() {
    let system = instance("Strict/15-components/system_description8.json");
    let options = Options {
        time_limit: Some(Duration::from_millis(200)),
    };
    let plan = solve(&system, &options).expect("a placement within the limit");
    assert!(plan.lower_bound <= plan.total_cost);
    assert!(plan.lower_bound > 0.0);
    assert_eq!(plan.optimal, plan.gap() == 0.0);
    let ev = evaluate(&system, &plan.placement);
    assert!(ev.feasible(), "{:?}", ev.violations);
    assert_eq!(ev.total_cost, plan.total_cost);
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let system = instance("Light/10-components/system_description4.json");
    let a = solve(&system, &Options::default()).expect("feasible");
    let b = solve(&system, &Options::default()).expect("feasible");
    assert_eq!(a.placement, b.placement);
    assert_eq!(a.total_cost.to_bits(), b.total_cost.to_bits());
    assert_eq!(a.nodes, b.nodes);
}

#[test]
fn replanning_keeps_edge_placements_and_vm_types() {
    // At a lower load the deployed edge still copes; VM and function choices may change.
    let system = instance("Light/10-components/system_description7.json");
    let current = solve(&system, &Options::default())
        .expect("feasible")
        .placement;
    let mut quieter = system.clone();
    quieter.lambda = 1.5;
    let plan = replan(&quieter, &current, &Options::default()).expect("feasible at 1.5");
    let kind = |r: usize| system.resources[r].kind;
    use stratus_planner::model::ResourceKind::{Edge, Vm};
    for (before, after) in current.components.iter().zip(&plan.placement.components) {
        for (h, a) in before.partitions.iter().enumerate() {
            if kind(a.resource) == Edge {
                assert_eq!(after.deployment, before.deployment);
                assert_eq!(
                    after.partitions[h], *a,
                    "an edge partition moved or resized"
                );
            }
        }
        for a in &after.partitions {
            if kind(a.resource) == Edge {
                assert!(
                    before.partitions.contains(a),
                    "a partition moved onto the edge"
                );
            }
        }
    }
    let layer_of = |p: &Placement| -> Vec<(String, usize)> {
        p.components
            .iter()
            .flat_map(|c| &c.partitions)
            .filter(|a| kind(a.resource) == Vm)
            .map(|a| (system.resources[a.resource].layer.clone(), a.resource))
            .collect()
    };
    let before_types = layer_of(&current);
    for (layer, r) in layer_of(&plan.placement) {
        if let Some((_, old)) = before_types.iter().find(|(l, _)| *l == layer) {
            assert_eq!(*old, r, "VM layer {layer} changed type");
        }
    }
    assert!(plan.evaluation.feasible());
    // Deployed edge devices are priced by their busy share, below the design-time price.
    assert!(plan.total_cost < plan.evaluation.total_cost);
    assert!(plan.optimal && plan.lower_bound == plan.total_cost);
}

#[test]
fn an_impossible_local_constraint_is_named() {
    let mut system = instance("Light/5-components/system_description2.json");
    let c = system
        .components
        .iter()
        .position(|c| c.local_threshold.is_some())
        .expect("a local constraint");
    system.components[c].local_threshold = Some(1e-6);
    assert_eq!(
        solve(&system, &Options::default()).err(),
        Some(SolveError::Infeasible)
    );
    let name = system.components[c].name.clone();
    match explain(&system, None) {
        Infeasibility::Binding(list) => assert_eq!(
            list,
            vec![Constraint::Local {
                component: name,
                threshold: 1e-6
            }]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_saturated_system_is_structurally_infeasible() {
    // At this load every resource saturates: no placement exists even without time limits.
    let system = System::parse(
        &read("instances/Light/5-components/system_description2.json"),
        Some(500.0),
        Some(1.0),
    )
    .expect("parses");
    assert_eq!(
        solve(&system, &Options::default()).err(),
        Some(SolveError::Infeasible)
    );
    assert!(matches!(
        explain(&system, None),
        Infeasibility::Structural { .. }
    ));
}

#[test]
fn a_replan_the_frozen_edge_cannot_carry_is_explained() {
    // Designed for 1.8 req/s, this instance's edge devices cannot take 2.1 req/s.
    let system = instance("Light/10-components/system_description7.json");
    let current = solve(&system, &Options::default())
        .expect("feasible")
        .placement;
    let mut busier = system.clone();
    busier.lambda = 2.1;
    assert_eq!(
        replan(&busier, &current, &Options::default()).err(),
        Some(SolveError::Infeasible)
    );
    // A fresh design at that load exists: the limits of re-planning are what bind.
    assert!(solve(&busier, &Options::default()).is_ok());
    assert_eq!(explain(&busier, None), Infeasibility::Feasible);
    let why = stratus_planner::explain_replan(&busier, &current, None);
    assert!(
        matches!(why, Infeasibility::Binding(ref l) if !l.is_empty())
            || matches!(why, Infeasibility::Structural { .. }),
        "{why:?}"
    );
}
