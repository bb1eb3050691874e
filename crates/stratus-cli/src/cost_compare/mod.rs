//! `stratus cost compare`: the same traffic priced on serverless billing and on the cheapest
//! always-on fleet that meets a p95 bound, with the break-even utilisation. Offline: it reads
//! a trace or generates one, and needs no server (docs/cost-compare.md).

mod chart;
mod render;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args};
use stratus_cost::PriceCatalog;
use stratus_cost::compare::{Comparison, Synthetic, SyntheticKind, Trace, Workload, compare};

/// Synthetic trace defaults: 10 req/s for 30 days, intermittent on 5 minutes an hour.
const DEFAULT_RATE: f64 = 10.0;
const DEFAULT_DAYS: f64 = 30.0;
const DEFAULT_ACTIVE_MINUTES: u32 = 5;

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["trace", "synthetic"])))]
pub struct CompareArgs {
    /// A CSV trace: header `start_seconds,requests`, one row per evenly spaced interval.
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    trace: Option<PathBuf>,
    /// A generated trace: constant, diurnal, bursty or intermittent.
    #[arg(long, value_name = "KIND")]
    synthetic: Option<String>,
    /// Mean requests per second of the synthetic trace [default: 10].
    #[arg(long, conflicts_with = "trace", allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Length of the synthetic trace in days [default: 30].
    #[arg(long, conflicts_with = "trace", allow_negative_numbers = true)]
    days: Option<f64>,
    /// Minutes on per hour of the intermittent trace (its duty cycle is this ÷ 60) [default: 5].
    #[arg(long, conflicts_with = "trace")]
    active_minutes: Option<u32>,
    /// Mean service time of one request, ms (measure it with `stratus profile`).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100.0)]
    service_ms: f64,
    /// The function's memory, MB: Lambda bills it and it limits requests per instance.
    #[arg(long, default_value_t = 128)]
    memory_mb: u32,
    /// The p95 response time the always-on fleet must meet at peak, ms [default: 5 × the
    /// service time].
    #[arg(long, allow_negative_numbers = true)]
    p95_ms: Option<f64>,
    /// The function needs a GPU: only GPU instance types, one request per GPU at a time.
    #[arg(long)]
    gpu: bool,
    /// A price catalog (.toml or .json, the `[prices]` section of the server's configuration)
    /// instead of AWS's public prices.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Draw cost against the fleet's mean utilisation, with the break-even, to FILE.svg.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// Prices the trace both ways and prints (and draws) the comparison.
///
/// # Errors
/// Bad input (trace, parameters, catalog, chart path) or a chart that cannot be written.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    // Every input is checked before anything is written.
    if let Some(path) = &args.chart {
        chart::check_path(path)?;
    }
    let catalog = match &args.catalog {
        Some(path) => read_catalog(path)?,
        None => PriceCatalog::default(),
    };
    let (trace, source) = load_trace(&args)?;
    let workload = Workload {
        service_ms: args.service_ms,
        memory_mb: args.memory_mb,
        p95_bound_ms: args.p95_ms,
        gpu: args.gpu,
    };
    let comparison = compare(&trace, &workload, &catalog)?;
    if let Some(path) = &args.chart {
        chart::draw(path, &comparison, &source)?;
    }
    if args.json {
        let report = JsonReport {
            source: &source,
            comparison: &comparison,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::table(&comparison, &source));
    }
    Ok(())
}

/// `--json`: where the traffic came from, then the comparison's fields.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    source: &'a str,
    #[serde(flatten)]
    comparison: &'a Comparison,
}

/// The trace and a short description of where it came from.
fn load_trace(args: &CompareArgs) -> anyhow::Result<(Trace, String)> {
    match (&args.trace, &args.synthetic) {
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the trace {}", path.display()))?;
            let trace = Trace::from_csv(&text).with_context(|| path.display().to_string())?;
            Ok((trace, format!("trace {}", path.display())))
        }
        (None, Some(kind)) => {
            let synthetic = Synthetic {
                kind: kind.parse::<SyntheticKind>()?,
                mean_rate: args.rate.unwrap_or(DEFAULT_RATE),
                days: args.days.unwrap_or(DEFAULT_DAYS),
                active_minutes: args.active_minutes.unwrap_or(DEFAULT_ACTIVE_MINUTES),
            };
            let trace = synthetic.generate()?;
            let (rate, days) = (synthetic.mean_rate, synthetic.days);
            let source = match synthetic.kind {
                SyntheticKind::Intermittent => format!(
                    "synthetic intermittent ({} min/h), {rate} req/s mean, {days} days",
                    synthetic.active_minutes
                ),
                kind => format!("synthetic {kind}, {rate} req/s mean, {days} days"),
            };
            Ok((trace, source))
        }
        // clap enforces exactly one; this is the message should it ever be bypassed.
        _ => bail!("give exactly one of --trace FILE or --synthetic KIND"),
    }
}

/// Reads a `PriceCatalog` from TOML or JSON, by extension, and validates it.
fn read_catalog(path: &Path) -> anyhow::Result<PriceCatalog> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the catalog {}", path.display()))?;
    let catalog: PriceCatalog = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => toml::from_str(&text)
            .with_context(|| format!("{} is not a valid price catalog", path.display()))?,
        Some("json") => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid price catalog", path.display()))?,
        _ => bail!(
            "the catalog {} must be a .toml or .json file",
            path.display()
        ),
    };
    catalog
        .validate()
        .map_err(|message| anyhow::anyhow!("{}: {message}", path.display()))?;
    Ok(catalog)
}
