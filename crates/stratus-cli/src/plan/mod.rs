//! `stratus plan`: place an application's components (edge, VM or FaaS) at the lowest cost that
//! meets its response-time constraints, with a proof of optimality.

mod bench;
mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use stratus_planner::{Options, Placement, SolveError, System};

#[derive(Args)]
pub struct PlanArgs {
    /// SPACE4AI system description (JSON) or Stratus application spec (.yaml/.yml).
    #[arg(required_unless_present = "bench")]
    instance: Option<PathBuf>,
    /// Arrival rate at the entry component (requests/s); overrides the file.
    #[arg(long)]
    lambda: Option<f64>,
    /// Time horizon the costs cover; overrides the file.
    #[arg(long)]
    time: Option<f64>,
    /// Stop the exact search after this long ("500ms", "10s", "2m") and report the gap to the
    /// proven bound [default: 60s; 10s per instance with --bench].
    #[arg(long, value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Re-plan at run time from the current solution (SPACE4AI-R rules); needs --current.
    #[arg(long, requires = "current")]
    runtime: bool,
    /// The solution currently deployed (reference format), for --runtime.
    #[arg(long, requires = "runtime")]
    current: Option<PathBuf>,
    /// Write the solution in the reference tool's format to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a JSON summary instead of the table.
    #[arg(long)]
    json: bool,
    /// Write the instance to FILE in the other format and stop: a Stratus spec for .yaml/.yml,
    /// else a SPACE4AI system description.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["runtime", "out", "json"])]
    convert: Option<PathBuf>,
    /// Benchmark every system_description*.json under this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["instance", "runtime", "out"])]
    bench: Option<PathBuf>,
    /// Reference costs for --bench (default: the first reference_costs.json in DIR or above).
    #[arg(long, requires = "bench")]
    reference: Option<PathBuf>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    stratus_server::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration like 500ms, 10s, 2m or 1h"))
}

/// Exit codes: 0 solved, 1 bad input, 2 infeasible, 3 out of time before any placement.
pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.bench {
        let options = Options {
            time_limit: args.time_limit.or(Some(Duration::from_secs(10))),
        };
        return bench::run(
            dir,
            args.reference.as_deref(),
            args.lambda,
            args.time,
            &options,
            args.json,
        );
    }
    let Some(path) = &args.instance else {
        anyhow::bail!("an INSTANCE file is required");
    };
    let system = match load_system(path, args.lambda, args.time) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e:#}", path.display());
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(target) = &args.convert {
        let text = if is_yaml(target) {
            stratus_planner::Spec::from_system(&system).to_yaml()
        } else {
            serde_json::to_string_pretty(&stratus_planner::to_space4ai_json(&system))? + "\n"
        };
        std::fs::write(target, text)
            .with_context(|| format!("cannot write {}", target.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options {
        time_limit: Some(args.time_limit.unwrap_or(Duration::from_secs(60))),
    };
    let current = match args.current.as_deref().map(|p| read_current(p, &system)) {
        None => None,
        Some(Ok(placement)) => Some(placement),
        Some(Err(code)) => return Ok(code),
    };
    let started = Instant::now();
    let outcome = match &current {
        Some(placement) => stratus_planner::replan(&system, placement, &options),
        None => stratus_planner::solve(&system, &options),
    };
    let seconds = started.elapsed().as_secs_f64();
    let plan = match outcome {
        Ok(plan) => plan,
        Err(SolveError::Infeasible) => {
            let deadline = Some(Instant::now() + Duration::from_secs(30));
            let why = match &current {
                Some(placement) => stratus_planner::explain_replan(&system, placement, deadline),
                None => stratus_planner::explain(&system, deadline),
            };
            eprintln!("infeasible: {why}");
            return Ok(ExitCode::from(2));
        }
        Err(e @ SolveError::OutOfTime { .. }) => {
            eprintln!("no answer: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    if let Some(out) = &args.out {
        let json =
            stratus_planner::report::solution_json(&system, &plan.placement, &plan.evaluation);
        let text = serde_json::to_string_pretty(&json)? + "\n";
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&render::summary(&system, &plan, seconds))?
        );
    } else {
        print!("{}", render::table(&system, &plan));
        if current.is_some() {
            println!(
                "re-planned under SPACE4AI-R's rules: edge kept as deployed and priced by its \
                 energy share (design-time cost {:.4})",
                plan.evaluation.total_cost
            );
        }
        eprintln!("searched {} nodes in {:.1} ms", plan.nodes, seconds * 1e3);
    }
    Ok(ExitCode::SUCCESS)
}

/// The deployed solution for `--runtime`; a message and exit code 1 when it is unreadable.
fn read_current(path: &Path, system: &System) -> Result<Placement, ExitCode> {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Placement::parse(&text, system).map_err(|e| e.to_string()));
    parsed.map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        ExitCode::from(1)
    })
}

/// Reads a SPACE4AI JSON description or a Stratus YAML spec, applying the overrides.
pub fn load_system(path: &Path, lambda: Option<f64>, time: Option<f64>) -> anyhow::Result<System> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !is_yaml(path) {
        return Ok(System::parse(&text, lambda, time)?);
    }
    let mut system = stratus_planner::Spec::from_yaml(&text)?.to_system()?;
    if let Some(l) = lambda {
        system.lambda = l;
    }
    if let Some(t) = time {
        system.time = t;
    }
    Ok(system)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}
