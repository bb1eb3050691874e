//! An open-loop, constant-rate load generator (as Vegeta's `attack`).
//!
//! Request `i` is due at `start + i / rate`, computed from the start and never from an earlier
//! response, so a slow target cannot lower the offered rate (closed-loop generators hide
//! exactly the slowness one wants to see). The scheduler wakes at most once per timer tick and
//! fires every request that is due, each as its own task on a pooled keep-alive client that
//! opens as many connections as requests are in flight. A bound on requests in flight keeps a
//! dead target from exhausting memory or sockets: a request due while the bound is reached is
//! not sent and is counted as `late`, never silently skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, mpsc};

use super::stats::Summary;

pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A keep-alive client (http or https; HTTPS trusts the system's roots plus `ca`) that keeps
/// up to `connections` idle connections for reuse.
pub(crate) fn http_client(
    connections: usize,
    ca: Option<&std::path::Path>,
) -> anyhow::Result<HttpClient> {
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(crate::client::https_connector(ca)?))
}

/// What every request of an attack sends.
#[derive(Debug, Clone)]
pub(crate) struct RequestTemplate {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl RequestTemplate {
    fn build(&self) -> Result<http::Request<Full<Bytes>>, http::Error> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.uri.clone());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(self.headers.clone());
        }
        builder.body(Full::new(self.body.clone()))
    }
}

/// How long and how hard to attack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Requests per second.
    pub rate: f64,
    pub duration: Duration,
    /// Requests in flight at most; a request due beyond it is counted late.
    pub max_in_flight: usize,
    /// A request not answered within this is an error.
    pub timeout: Duration,
}

impl Plan {
    /// The number of requests the schedule holds: `rate × duration`, at least one.
    pub(crate) fn total(&self) -> u64 {
        ((self.rate * self.duration.as_secs_f64()).round() as u64).max(1)
    }

    /// When request `index` is due, counted from the attack's start.
    pub(crate) fn due(&self, index: u64) -> Duration {
        Duration::from_secs_f64(index as f64 / self.rate)
    }
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    /// Seconds from sending the request to reading the whole answer.
    pub latency: f64,
    /// Seconds the request started after it was due (the generator's own lag).
    pub lag: f64,
    /// HTTP status; 0 when no answer came (connection error, timeout).
    pub status: u16,
    /// Whether it failed: no answer, a non-2xx status or a function error.
    pub error: bool,
    /// Server-side figures from Stratus's invoke headers (seconds), when present.
    pub duration: Option<f64>,
    pub init: Option<f64>,
    pub billed: Option<f64>,
    pub max_memory_mb: Option<f64>,
}

impl Sample {
    pub(crate) fn cold(&self) -> bool {
        self.init.is_some()
    }
}

/// Where an attack stands (reported about once a second).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    pub elapsed: Duration,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub p50: Option<f64>,
}

/// Everything an attack measured.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub plan: Plan,
    /// Requests the schedule held: `ok + errors + late`.
    pub scheduled: u64,
    /// Requests not sent because `max_in_flight` were already in flight when they were due.
    pub late: u64,
    /// Answered requests, in completion order.
    pub samples: Vec<Sample>,
    /// From the first scheduled instant to the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    pub(crate) fn ok(&self) -> u64 {
        self.samples.iter().filter(|s| !s.error).count() as u64
    }

    pub(crate) fn errors(&self) -> u64 {
        self.samples.iter().filter(|s| s.error).count() as u64
    }

    pub(crate) fn cold_starts(&self) -> u64 {
        self.samples.iter().filter(|s| s.cold()).count() as u64
    }

    /// Successful answers per second over the whole attack.
    pub(crate) fn throughput(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests sent per second over the sending window (the rate actually offered).
    pub(crate) fn offered_rate(&self) -> f64 {
        let sent = self.scheduled - self.late;
        let window = self
            .plan
            .due(self.scheduled.saturating_sub(1))
            .as_secs_f64();
        if window > 0.0 {
            sent.saturating_sub(1) as f64 / window
        } else {
            sent as f64
        }
    }

    /// Latencies of successful requests.
    pub(crate) fn latency(&self) -> Summary {
        Summary::of(self.samples.iter().filter(|s| !s.error).map(|s| s.latency))
    }

    /// The worst lag of the scheduler behind the schedule, seconds.
    pub(crate) fn max_lag(&self) -> f64 {
        self.samples.iter().map(|s| s.lag).fold(0.0, f64::max)
    }
}

/// Runs one attack, calling `on_progress` about once a second.
pub(crate) async fn attack(
    client: &HttpClient,
    template: &RequestTemplate,
    plan: Plan,
    mut on_progress: impl FnMut(&Progress),
) -> Outcome {
    let (samples_tx, mut samples_rx) = mpsc::unbounded_channel();
    let start = Instant::now();
    let scheduler = tokio::spawn(schedule(
        client.clone(),
        Arc::new(template.clone()),
        plan,
        start,
        samples_tx,
    ));
    let mut samples = Vec::with_capacity(plan.total() as usize);
    let mut errors = 0;
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::from_std(start) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            sample = samples_rx.recv() => match sample {
                Some(sample) => {
                    errors += u64::from(sample.error);
                    samples.push(sample);
                }
                None => break,
            },
            _ = ticker.tick() => {
                let elapsed = start.elapsed();
                let due = (elapsed.as_secs_f64() * plan.rate).floor() as u64 + 1;
                on_progress(&Progress {
                    elapsed,
                    sent: due.min(plan.total()),
                    completed: samples.len() as u64,
                    errors,
                    p50: Summary::median_of(&samples),
                });
            }
        }
    }
    let elapsed = start.elapsed();
    // The channel closes only after the scheduler returned; a panic there counts every
    // unsent request as late rather than losing it.
    let late = match scheduler.await {
        Ok(late) => late,
        Err(_) => plan.total() - samples.len() as u64,
    };
    Outcome {
        plan,
        scheduled: plan.total(),
        late,
        samples,
        elapsed,
    }
}

/// Fires every request at its due instant; returns how many were late (not sent).
async fn schedule(
    client: HttpClient,
    template: Arc<RequestTemplate>,
    plan: Plan,
    start: Instant,
    samples: mpsc::UnboundedSender<Sample>,
) -> u64 {
    let in_flight = Arc::new(Semaphore::new(plan.max_in_flight));
    let total = plan.total();
    let mut late = 0;
    let mut next = 0;
    while next < total {
        let now = Instant::now();
        // Everything due by now goes out in this wake-up; the timer's granularity (about a
        // millisecond) then only bunches requests, it never loses or delays the schedule.
        while next < total && start + plan.due(next) <= now {
            let due = start + plan.due(next);
            next += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                late += 1;
                continue;
            };
            let (client, template, samples) = (client.clone(), template.clone(), samples.clone());
            tokio::spawn(async move {
                let sample = send(&client, &template, plan.timeout, due).await;
                drop(permit);
                // The receiver lives until every sender is gone.
                let _ = samples.send(sample);
            });
        }
        if next < total {
            tokio::time::sleep_until(tokio::time::Instant::from_std(start + plan.due(next))).await;
        }
    }
    late
}

async fn send(
    client: &HttpClient,
    template: &RequestTemplate,
    timeout: Duration,
    due: Instant,
) -> Sample {
    let sent = Instant::now();
    let mut sample = Sample {
        lag: sent.saturating_duration_since(due).as_secs_f64(),
        error: true,
        ..Sample::default()
    };
    let Ok(request) = template.build() else {
        return sample;
    };
    let exchange = async {
        let response = client.request(request).await.ok()?;
        let (parts, body) = response.into_parts();
        // Read the whole body: the answer is complete only then, and the connection can be reused.
        body.collect().await.ok()?;
        Some(parts)
    };
    let answer = tokio::time::timeout(timeout, exchange).await.ok().flatten();
    sample.latency = sent.elapsed().as_secs_f64();
    if let Some(parts) = answer {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok())
        };
        sample.status = parts.status.as_u16();
        sample.error =
            !parts.status.is_success() || parts.headers.contains_key("x-stratus-function-error");
        sample.duration = header("x-stratus-duration-ms").map(|ms| ms / 1e3);
        sample.init = header("x-stratus-init-ms").map(|ms| ms / 1e3);
        sample.billed = header("x-stratus-billed-ms").map(|ms| ms / 1e3);
        sample.max_memory_mb = header("x-stratus-max-memory-mb");
    }
    sample
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
