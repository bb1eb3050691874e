//! Counters, gauges and histograms with label sets. Recording is a few atomic operations; a
//! labeled series is found under a read lock (the write lock is taken once, when a label set
//! is first seen), and callers on hot paths may keep the returned `Arc` instead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::render;

/// Adds `delta` to an `f64` stored as its bits (there is no atomic float).
fn add_f64(cell: &AtomicU64, delta: f64) {
    let mut current = cell.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// A value that only goes up.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (in flight now, a queue's depth).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    pub fn add(&self, delta: f64) {
        add_f64(&self.0, delta);
    }

    #[must_use]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Observations counted into fixed buckets (each bucket holds only its own range; rendering
/// makes them cumulative, as the exposition format requires).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, plus the last for values above every bound.
    counts: Vec<AtomicU64>,
    sum: AtomicU64,
}

impl Histogram {
    /// `bounds` must be sorted ascending; `+Inf` is implied.
    #[must_use]
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub fn observe(&self, value: f64) {
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum, value);
    }

    /// `(upper bound, cumulative count)` per bucket, `+Inf` last; then the sum.
    #[must_use]
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64) {
        let mut running = 0;
        let buckets = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&self.counts)
            .map(|(bound, count)| {
                running += count.load(Ordering::Relaxed);
                (bound, running)
            })
            .collect();
        (buckets, f64::from_bits(self.sum.load(Ordering::Relaxed)))
    }
}

/// What a family's series are.
pub trait Metric: Send + Sync + 'static {
    const TYPE: &'static str;
    /// Appends this series' sample lines; `labels` is the rendered `k="v",...` text (no braces).
    fn render(&self, name: &str, labels: &str, out: &mut String);
}

impl Metric for Counter {
    const TYPE: &'static str = "counter";
    fn render(&self, name: &str, labels: &str, out: &mut String) {
        render::sample(out, name, labels, "", render::Number::Int(self.get()));
    }
}

impl Metric for Gauge {
    const TYPE: &'static str = "gauge";
    fn render(&self, name: &str, labels: &str, out: &mut String) {
        render::sample(out, name, labels, "", render::Number::Float(self.get()));
    }
}

impl Metric for Histogram {
    const TYPE: &'static str = "histogram";
    fn render(&self, name: &str, labels: &str, out: &mut String) {
        let (buckets, sum) = self.snapshot();
        let total = buckets.last().map_or(0, |(_, count)| *count);
        let bucket_name = format!("{name}_bucket");
        for (bound, count) in buckets {
            let le = format!("le=\"{}\"", render::Number::Float(bound));
            let labels = if labels.is_empty() {
                le
            } else {
                format!("{labels},{le}")
            };
            render::sample(out, &bucket_name, &labels, "", render::Number::Int(count));
        }
        render::sample(out, name, labels, "_sum", render::Number::Float(sum));
        render::sample(out, name, labels, "_count", render::Number::Int(total));
    }
}

struct Series<M> {
    values: Vec<String>,
    metric: Arc<M>,
}

/// One metric name with its label names, and a series per label-value set seen so far.
pub struct Family<M> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    make: Box<dyn Fn() -> M + Send + Sync>,
    /// Keyed by the values joined with NUL, which no label value we export contains
    /// (names of projects, functions, queues and S3 operations are validated identifiers).
    series: RwLock<HashMap<String, Series<M>>>,
}

impl<M> std::fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<M: Metric + Default> Family<M> {
    #[must_use]
    pub fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Self::with_factory(name, help, labels, M::default)
    }
}

impl Family<Histogram> {
    #[must_use]
    pub fn histogram(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Self {
        Self::with_factory(name, help, labels, move || Histogram::new(bounds))
    }
}

impl<M: Metric> Family<M> {
    fn with_factory(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        make: impl Fn() -> M + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            help,
            labels,
            make: Box::new(make),
            series: RwLock::new(HashMap::new()),
        }
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The series for these label values (in the family's label order), created on first use.
    /// Missing values render as empty strings, extra ones are ignored.
    pub fn with(&self, values: &[&str]) -> Arc<M> {
        let key = values.join("\0");
        if let Ok(series) = self.series.read()
            && let Some(found) = series.get(&key)
        {
            return Arc::clone(&found.metric);
        }
        let mut series = self
            .series
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = series.entry(key).or_insert_with(|| Series {
            values: self
                .labels
                .iter()
                .enumerate()
                .map(|(i, _)| values.get(i).map_or_else(String::new, |v| (*v).to_owned()))
                .collect(),
            metric: Arc::new((self.make)()),
        });
        Arc::clone(&entry.metric)
    }

    /// Forgets every series (scrape-time gauges are rebuilt from the database each scrape).
    pub fn clear(&self) {
        if let Ok(mut series) = self.series.write() {
            series.clear();
        }
    }

    /// Appends `# HELP`, `# TYPE` and every series, ordered by label values.
    pub fn render(&self, out: &mut String) {
        render::header(out, self.name, self.help, M::TYPE);
        let series = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ordered: Vec<&Series<M>> = series.values().collect();
        ordered.sort_by(|a, b| a.values.cmp(&b.values));
        for one in ordered {
            let labels = render::labels(self.labels, &one.values);
            one.metric.render(self.name, &labels, out);
        }
    }
}
