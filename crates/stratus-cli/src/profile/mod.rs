//! `stratus profile`: drive a function (or any URL) with open-loop constant-rate load, report
//! its latency, and fit its performance model for the planner (OSCAR-P). See
//! `docs/profiling.md`.

mod fit;
mod load;
mod report;
mod spec;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::Args;
use stratus_client::functions::{ConfigureRequest, FunctionDetails, FunctionSummary};
use stratus_core::function::{MAX_MEMORY_MB, MIN_MEMORY_MB};

use crate::client::{NativeClient, Target};
use load::{Plan, RequestTemplate};

/// At most this many requests in one run (each keeps a sample of about 100 bytes).
const MAX_REQUESTS: f64 = 2_000_000.0;
/// At most this long per run.
const MAX_DURATION: Duration = Duration::from_secs(3600);

#[derive(Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    target: Target,
    /// The function to profile.
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    name: Option<String>,
    /// Attack this URL instead (GET, or POST with --payload): benchmarks the generator alone.
    #[arg(long, conflicts_with_all = ["memory", "spec"])]
    url: Option<String>,
    /// Requests per second, one run per rate (comma-separated).
    #[arg(long, required = true, value_delimiter = ',', allow_negative_numbers = true,
          value_parser = parse_rate)]
    rate: Vec<f64>,
    /// How long each run lasts ("500ms", "10s", "2m").
    #[arg(long, value_parser = parse_duration)]
    duration: Duration,
    /// Memory sizes to profile, MB (comma-separated; default: the function's own).
    #[arg(long, value_delimiter = ',', value_parser = parse_memory)]
    memory: Vec<u32>,
    /// The request body: JSON text, or @FILE.
    #[arg(long)]
    payload: Option<String>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Write the fitted warm/cold demands into this application spec (.yaml).
    #[arg(long, requires = "component")]
    spec: Option<PathBuf>,
    /// The spec's component the function implements.
    #[arg(long, requires = "spec")]
    component: Option<String>,
    /// Requests in flight at most; a request due beyond it is not sent and counts as late.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// A request unanswered after this long is an error.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// The server's keep-warm period (idle workers live this long), for the model.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    idle_timeout: Duration,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a positive rate (requests per second)"
        )),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    match stratus_server::parse_duration(text) {
        Some(d) if !d.is_zero() && d <= MAX_DURATION => Ok(d),
        _ => Err(format!(
            "`{text}` is not a positive duration like 500ms, 10s or 2m (at most 1h)"
        )),
    }
}

fn parse_memory(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(mb) if (MIN_MEMORY_MB..=MAX_MEMORY_MB).contains(&mb) => Ok(mb),
        _ => Err(format!(
            "`{text}` is not a memory size in MB between {MIN_MEMORY_MB} and {MAX_MEMORY_MB}"
        )),
    }
}

/// One run: its memory size (none for a URL), rate and outcome.
pub(crate) struct Run {
    memory_mb: Option<u32>,
    rate: f64,
    outcome: load::Outcome,
}

pub async fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    for &rate in &args.rate {
        if rate * args.duration.as_secs_f64() > MAX_REQUESTS {
            bail!(
                "{rate} requests/s for {:?} is more than {MAX_REQUESTS} requests",
                args.duration
            );
        }
    }
    let payload = read_payload(args.payload.as_deref())?;
    match args.url.clone() {
        Some(url) => attack_url(&args, &url, payload).await,
        None => profile_function(&args, payload).await,
    }
}

fn read_payload(payload: Option<&str>) -> anyhow::Result<Option<Bytes>> {
    let Some(text) = payload else {
        return Ok(None);
    };
    let bytes = match text.strip_prefix('@') {
        Some(file) => std::fs::read(file).with_context(|| format!("cannot read {file}"))?,
        None => text.as_bytes().to_vec(),
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).context("--payload is not JSON")?;
    Ok(Some(Bytes::from(bytes)))
}

fn plan(args: &ProfileArgs, rate: f64) -> Plan {
    Plan {
        rate,
        duration: args.duration,
        max_in_flight: args.max_in_flight as usize,
        timeout: args.timeout,
    }
}

async fn attack_url(
    args: &ProfileArgs,
    url: &str,
    payload: Option<Bytes>,
) -> anyhow::Result<ExitCode> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("`{url}` is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        bail!("`{url}`: only http:// and https:// URLs can be attacked");
    }
    let mut headers = http::HeaderMap::new();
    let method = if payload.is_some() {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        http::Method::POST
    } else {
        http::Method::GET
    };
    let template = RequestTemplate {
        method,
        uri,
        headers,
        body: payload.unwrap_or_default(),
    };
    let client = load::http_client(
        args.max_in_flight as usize,
        args.target.ca_bundle().as_deref(),
    )?;
    let mut runs = Vec::new();
    for &rate in &args.rate {
        let label = format!("{rate} req/s");
        let outcome = load::attack(&client, &template, plan(args, rate), |p| {
            report::progress(&label, p)
        })
        .await;
        runs.push(Run {
            memory_mb: None,
            rate,
            outcome,
        });
    }
    report::print_url(url, &runs, args.json)?;
    Ok(ExitCode::SUCCESS)
}

async fn profile_function(args: &ProfileArgs, payload: Option<Bytes>) -> anyhow::Result<ExitCode> {
    let name = args
        .name
        .as_deref()
        .context("a function NAME is required")?;
    let client = NativeClient::new(&args.target)?;
    let path = format!(
        "/v1/functions/{}",
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
    );
    let shown: FunctionDetails = client.get(&path).await?;
    let original = shown.summary.memory_mb;
    let memories = if args.memory.is_empty() {
        vec![original]
    } else {
        args.memory.clone()
    };
    // Everything that can be refused is refused before the function changes.
    let mut spec_target = match (&args.spec, &args.component) {
        (Some(file), Some(component)) => {
            let target = spec::SpecTarget::load(file, component)?;
            target.check_covers(&memories)?;
            Some(target)
        }
        _ => None,
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {}", client.token())
            .parse()
            .context("the token is not a header value")?,
    );
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let template = RequestTemplate {
        method: http::Method::POST,
        uri: format!("{}{path}/invoke", client.endpoint())
            .parse()
            .context("bad endpoint")?,
        headers,
        body: payload.unwrap_or_else(|| Bytes::from_static(b"{}")),
    };
    let http = load::http_client(args.max_in_flight as usize, client.ca_bundle())?;
    let work = async {
        let mut runs = Vec::new();
        for &memory in &memories {
            set_memory(&client, &path, memory).await?;
            for &rate in &args.rate {
                let label = format!("{name} {memory} MB, {rate} req/s");
                let outcome = load::attack(&http, &template, plan(args, rate), |p| {
                    report::progress(&label, p)
                })
                .await;
                runs.push(Run {
                    memory_mb: Some(memory),
                    rate,
                    outcome,
                });
            }
        }
        anyhow::Ok(runs)
    };
    let finished = tokio::select! {
        runs = work => Some(runs),
        _ = tokio::signal::ctrl_c() => None,
    };
    // The function gets its own memory size back however the runs ended.
    let restored = set_memory(&client, &path, original).await;
    let Some(runs) = finished else {
        restored?;
        eprintln!("interrupted; {name} is back at {original} MB");
        return Ok(ExitCode::from(130));
    };
    let runs = runs?;
    restored.with_context(|| format!("cannot restore {name} to {original} MB"))?;
    let idle = args.idle_timeout.as_secs_f64();
    let models = report::models(&memories, &runs, idle);
    let mut updated = Vec::new();
    if let Some(target) = &mut spec_target {
        for model in &models {
            if let Some(fitted) = &model.model {
                updated.extend(target.apply(model.memory_mb, fitted.warm_s, fitted.cold_s));
            }
        }
        if !updated.is_empty() {
            target.write()?;
        }
    }
    report::print_function(
        name,
        &runs,
        &models,
        spec_target.as_ref().map(|t| (t.path(), &updated[..])),
        args.json,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Sets the function's memory; every change is a new revision, so its next request is cold.
async fn set_memory(client: &NativeClient, path: &str, memory_mb: u32) -> anyhow::Result<()> {
    let body = ConfigureRequest {
        memory_mb: Some(memory_mb),
        ..ConfigureRequest::default()
    };
    let _configured: FunctionSummary = client
        .request(http::Method::PATCH, path, Some(&body))
        .await
        .with_context(|| format!("cannot set memory to {memory_mb} MB"))?;
    Ok(())
}
