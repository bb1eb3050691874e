//! `stratus plan --bench DIR`: solve every instance under DIR single-threaded and compare with
//! the reference heuristic's published costs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};
use stratus_planner::{Options, System};

/// One solved instance.
struct Row {
    name: String,
    components: usize,
    cost: Option<f64>,
    lower_bound: f64,
    optimal: bool,
    seconds: f64,
    best_known: Option<f64>,
    reference_2600: Option<f64>,
    replan_seconds: Option<f64>,
}

pub fn run(
    dir: &Path,
    reference: Option<&Path>,
    lambda: Option<f64>,
    time: Option<f64>,
    options: &Options,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    // By default, the first reference_costs.json found in DIR or above it.
    let reference = reference.map(Path::to_path_buf).or_else(|| {
        dir.ancestors()
            .map(|a| a.join("reference_costs.json"))
            .find(|p| p.is_file())
    });
    let refs: Value = reference
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let lambda = lambda.or(Some(1.8));
    let time = time.or(Some(1.0));
    let mut rows = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let system =
            System::parse(&text, lambda, time).with_context(|| format!("{}", file.display()))?;
        let name = file
            .strip_prefix(dir)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        let started = Instant::now();
        let outcome = stratus_planner::solve(&system, options);
        let seconds = started.elapsed().as_secs_f64();
        // Reference keys are paths relative to the instances folder: match them as suffixes.
        let entry = refs
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| file.ends_with(k.as_str())))
            .map_or(&Value::Null, |(_, v)| v);
        let mut row = Row {
            name,
            components: system.components.len(),
            cost: None,
            lower_bound: f64::NAN,
            optimal: false,
            seconds,
            best_known: entry["best_known"].as_f64(),
            reference_2600: entry["rg_ls_2600_950"]["cost"].as_f64(),
            replan_seconds: None,
        };
        match outcome {
            Ok(plan) => {
                row.cost = Some(plan.total_cost);
                row.lower_bound = plan.lower_bound;
                row.optimal = plan.optimal;
                row.replan_seconds = Some(replan_time(&system, &plan.placement, options));
            }
            Err(stratus_planner::SolveError::OutOfTime { lower_bound }) => {
                row.lower_bound = lower_bound;
            }
            Err(stratus_planner::SolveError::Infeasible) => row.optimal = true,
        }
        if !as_json {
            print_row(&row);
        }
        rows.push(row);
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&to_json(&rows))?);
    } else {
        print_summary(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// Re-plans the solution for a load 20 % lower and 20 % higher (SPACE4AI-R's scenario), and
/// returns the slower of the two. More load often has no answer with the edge frozen; proving
/// that takes time too, so it is timed all the same.
fn replan_time(system: &System, current: &stratus_planner::Placement, options: &Options) -> f64 {
    [0.8, 1.2]
        .into_iter()
        .map(|factor| {
            let mut changed = system.clone();
            changed.lambda *= factor;
            let started = Instant::now();
            let _ = stratus_planner::replan(&changed, current, options);
            started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("system_description"))
            && path.extension().is_some_and(|e| e == "json")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn fmt_cost(c: Option<f64>) -> String {
    c.map_or_else(|| "-".to_owned(), |c| format!("{c:.4}"))
}

fn print_row(r: &Row) {
    println!(
        "{:<48} {:>3}  cost {:>9}  bound {:>9.4}  {}  best known {:>9}  ({})  {:>8.1} ms  re-plan {:>6.2} ms",
        r.name,
        r.components,
        fmt_cost(r.cost),
        r.lower_bound,
        if r.optimal { "optimal" } else { "gap    " },
        fmt_cost(r.best_known),
        match (r.cost, r.best_known) {
            (Some(c), Some(b)) => format!("{:+.2} %", 100.0 * (c - b) / b),
            _ => "-".to_owned(),
        },
        r.seconds * 1e3,
        r.replan_seconds.unwrap_or(f64::NAN) * 1e3,
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Per size: instances, proven optimal, at or below best known, median and max time.
fn by_size(rows: &[Row]) -> BTreeMap<usize, Value> {
    let mut sizes: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        sizes.entry(r.components).or_default().push(r);
    }
    sizes
        .into_iter()
        .map(|(n, rs)| {
            let times: Vec<f64> = rs.iter().map(|r| r.seconds).collect();
            let replans: Vec<f64> = rs.iter().filter_map(|r| r.replan_seconds).collect();
            let at_or_below = rs
                .iter()
                .filter(|r| matches!((r.cost, r.best_known), (Some(c), Some(b)) if c <= b + 5e-5))
                .count();
            let below_2600 = rs
                .iter()
                .filter(
                    |r| matches!((r.cost, r.reference_2600), (Some(c), Some(b)) if c <= b + 5e-5),
                )
                .count();
            (
                n,
                json!({
                    "instances": rs.len(),
                    "proven_optimal": rs.iter().filter(|r| r.optimal).count(),
                    "cost_at_or_below_best_known": at_or_below,
                    "cost_at_or_below_rg_ls_2600_950": below_2600,
                    "median_ms": median(times.clone()) * 1e3,
                    "max_ms": times.iter().copied().fold(0.0, f64::max) * 1e3,
                    "median_replan_ms": median(replans.clone()) * 1e3,
                    "max_replan_ms": replans.iter().copied().fold(0.0, f64::max) * 1e3,
                }),
            )
        })
        .collect()
}

fn print_summary(rows: &[Row]) {
    println!();
    println!(
        "{:>10} {:>9} {:>14} {:>12} {:>12} {:>11} {:>9} {:>14} {:>12}",
        "components",
        "instances",
        "proven optimal",
        "≤ best known",
        "≤ RG-LS 2600",
        "median ms",
        "max ms",
        "re-plan med ms",
        "re-plan max"
    );
    let all = by_size(rows);
    for (n, s) in &all {
        println!(
            "{:>10} {:>9} {:>14} {:>12} {:>12} {:>11.1} {:>9.1} {:>14.2} {:>12.2}",
            n,
            s["instances"],
            s["proven_optimal"],
            s["cost_at_or_below_best_known"],
            s["cost_at_or_below_rg_ls_2600_950"],
            s["median_ms"].as_f64().unwrap_or(f64::NAN),
            s["max_ms"].as_f64().unwrap_or(f64::NAN),
            s["median_replan_ms"].as_f64().unwrap_or(f64::NAN),
            s["max_replan_ms"].as_f64().unwrap_or(f64::NAN),
        );
    }
    let times: Vec<f64> = rows.iter().map(|r| r.seconds).collect();
    println!(
        "all: {} instances, {} proven optimal, median {:.1} ms, max {:.1} ms",
        rows.len(),
        rows.iter().filter(|r| r.optimal).count(),
        median(times.clone()) * 1e3,
        times.iter().copied().fold(0.0, f64::max) * 1e3,
    );
}

fn to_json(rows: &[Row]) -> Value {
    let instances: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "instance": r.name,
                "components": r.components,
                "total_cost": r.cost,
                "lower_bound": r.lower_bound,
                "optimal": r.optimal,
                "seconds": r.seconds,
                "best_known": r.best_known,
                "rg_ls_2600_950": r.reference_2600,
                "replan_seconds": r.replan_seconds,
            })
        })
        .collect();
    json!({"instances": instances, "by_size": by_size(rows)})
}
