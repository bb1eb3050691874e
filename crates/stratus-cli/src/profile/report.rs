//! What `stratus profile` prints: progress lines on stderr, then a table or one JSON document.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::Run;
use super::fit::{Model, Observation, Prediction, cross_validate};
use super::load::Progress;
use super::spec::Updated;
use super::stats::Summary;

/// A progress line (stderr, about once a second).
pub(super) fn progress(label: &str, p: &Progress) {
    let p50 = p
        .p50
        .map_or_else(|| "-".to_owned(), |s| format!("{:.1} ms", s * 1e3));
    eprintln!(
        "[{label}] {:>4.0}s  sent {}  completed {}  errors {}  p50 {p50}",
        p.elapsed.as_secs_f64(),
        p.sent,
        p.completed,
        p.errors
    );
}

/// A memory size's fitted model and how well it predicts rates it was not fitted on.
pub(super) struct MemoryModel {
    pub memory_mb: u32,
    pub model: Option<Model>,
    pub predictions: Vec<Prediction>,
    pub mape_pct: Option<f64>,
}

pub(super) fn models(memories: &[u32], runs: &[Run], idle_timeout_s: f64) -> Vec<MemoryModel> {
    memories
        .iter()
        .map(|&memory_mb| {
            let observations: Vec<Observation> = runs
                .iter()
                .filter(|r| r.memory_mb == Some(memory_mb))
                .map(|r| Observation::from_outcome(r.rate, &r.outcome))
                .collect();
            let (predictions, mape_pct) = cross_validate(&observations, idle_timeout_s);
            MemoryModel {
                memory_mb,
                model: Model::fit(&observations, idle_timeout_s),
                predictions,
                mape_pct,
            }
        })
        .collect()
}

fn run_json(run: &Run) -> Value {
    let o = &run.outcome;
    let server = Summary::of(
        o.samples
            .iter()
            .filter(|s| !s.error)
            .filter_map(|s| s.duration),
    );
    json!({
        "memory_mb": run.memory_mb,
        "rate": run.rate,
        "duration_s": o.plan.duration.as_secs_f64(),
        "sent": o.scheduled,
        "ok": o.ok(),
        "errors": o.errors(),
        "late": o.late,
        "cold_starts": o.cold_starts(),
        "offered_rate": o.offered_rate(),
        "throughput": o.throughput(),
        "max_lag_s": o.max_lag(),
        "latency_s": o.latency(),
        "server_duration_s": server,
    })
}

fn model_json(m: &MemoryModel) -> Value {
    json!({
        "memory_mb": m.memory_mb,
        "model": m.model,
        "predictions": m.predictions,
        "mape_pct": m.mape_pct,
    })
}

fn ms(seconds: f64) -> String {
    format!("{:.1}", seconds * 1e3)
}

fn runs_table(runs: &[Run]) -> String {
    let mut out = String::from(
        "memory  rate/s   sent     ok  errors  late  cold  throughput  p50 ms  p90 ms  p99 ms  max ms\n",
    );
    for run in runs {
        let o = &run.outcome;
        let l = o.latency();
        let memory = run
            .memory_mb
            .map_or_else(|| "-".to_owned(), |m| m.to_string());
        out += &format!(
            "{memory:>6}  {:>6}  {:>5}  {:>5}  {:>6}  {:>4}  {:>4}  {:>10.1}  {:>6}  {:>6}  {:>6}  {:>6}\n",
            run.rate,
            o.scheduled,
            o.ok(),
            o.errors(),
            o.late,
            o.cold_starts(),
            o.throughput(),
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.max)
        );
    }
    out
}

pub(super) fn print_url(url: &str, runs: &[Run], as_json: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if as_json {
        let document = json!({ "url": url, "runs": runs.iter().map(run_json).collect::<Vec<_>>() });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&document)?)?;
    } else {
        write!(stdout, "{}", runs_table(runs))?;
    }
    Ok(())
}

pub(super) fn print_function(
    name: &str,
    runs: &[Run],
    models: &[MemoryModel],
    spec: Option<(&Path, &[Updated])>,
    as_json: bool,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if as_json {
        let mut document = json!({
            "function": name,
            "runs": runs.iter().map(run_json).collect::<Vec<_>>(),
            "models": models.iter().map(model_json).collect::<Vec<_>>(),
        });
        if let Some((path, updated)) = spec {
            document["spec"] = json!({ "file": path.display().to_string(), "updated": updated });
        }
        writeln!(stdout, "{}", serde_json::to_string_pretty(&document)?)?;
        return Ok(());
    }
    write!(stdout, "{}", runs_table(runs))?;
    writeln!(stdout)?;
    writeln!(
        stdout,
        "memory  warm ms  cold ms  E[S²] ms²  overhead ms  held-out MAPE"
    )?;
    for m in models {
        let Some(model) = &m.model else {
            writeln!(stdout, "{:>6}  no successful warm invocation", m.memory_mb)?;
            continue;
        };
        writeln!(
            stdout,
            "{:>6}  {:>7}  {:>7}  {:>9.2}  {:>11}  {}",
            m.memory_mb,
            ms(model.warm_s),
            model.cold_s.map_or_else(|| "-".to_owned(), ms),
            model.warm_second_moment_s2 * 1e6,
            ms(model.overhead_s),
            m.mape_pct
                .map_or_else(|| "- (needs two rates)".to_owned(), |e| format!("{e:.1} %"))
        )?;
    }
    if let Some((path, updated)) = spec {
        for u in updated {
            writeln!(
                stdout,
                "{}: {}/{} on {}: warm {:.4} s, cold {:.4} s",
                path.display(),
                u.deployment,
                u.partition,
                u.resource,
                u.warm,
                u.cold
            )?;
        }
    }
    Ok(())
}
