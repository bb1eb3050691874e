//! The metrics Stratus exports at `GET /metrics`: a pure registry (no IO) and its renderer for
//! the Prometheus text format. One [`Metrics`] is created by the server and shared by the
//! services that record; scrape-time values (queue depths) are passed to [`Metrics::render`].
//!
//! Labels are low-cardinality by rule: projects, functions, queues, topics, S3 operations and
//! status classes, never request ids, object keys or access keys.

mod registry;
pub mod render;

pub use registry::{Counter, Family, Gauge, Histogram, Metric};
pub use render::CONTENT_TYPE;

/// Lambda-like duration buckets, 1 ms to 15 minutes (Lambda's longest timeout), in seconds.
pub const DURATION_BUCKETS: [f64; 19] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 900.0,
];

/// Planner run buckets: a small spec solves in milliseconds, a hard one hits its time limit.
pub const PLANNER_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0];

const FUNCTION: &[&str] = &["project", "function"];

/// Values read from the database when `/metrics` is scraped.
#[derive(Debug, Clone, Default)]
pub struct ScrapeValues {
    /// `(project, function, queued asynchronous invocations, age of the oldest in seconds)`.
    pub async_backlog: Vec<(String, String, u64, f64)>,
    /// `(project, queue, visible messages, in-flight messages)`.
    pub queue_depths: Vec<(String, String, u64, u64)>,
}

/// Every family Stratus exports.
#[derive(Debug)]
pub struct Metrics {
    pub function_invocations: Family<Counter>,
    pub function_errors: Family<Counter>,
    pub function_throttles: Family<Counter>,
    pub function_cold_starts: Family<Counter>,
    pub function_duration: Family<Histogram>,
    pub function_concurrent: Family<Gauge>,
    pub s3_requests: Family<Counter>,
    pub s3_received_bytes: Family<Counter>,
    pub s3_sent_bytes: Family<Counter>,
    pub sqs_sent: Family<Counter>,
    pub sqs_received: Family<Counter>,
    pub sqs_deleted: Family<Counter>,
    pub sns_published: Family<Counter>,
    pub sns_deliveries: Family<Counter>,
    pub planner_runs: Family<Counter>,
    pub s3_lifecycle_actions: Family<Counter>,
    pub planner_run_seconds: Family<Histogram>,
    version: String,
    start_time_seconds: f64,
}

impl Metrics {
    /// `version` is the build's version; `start_time_seconds` the process start (Unix time).
    #[must_use]
    pub fn new(version: &str, start_time_seconds: f64) -> Self {
        Self {
            function_invocations: Family::new(
                "stratus_function_invocations_total",
                "Invocations that ran, by outcome (success, error, timeout, crash, oom, init-error).",
                &["project", "function", "outcome"],
            ),
            function_errors: Family::new(
                "stratus_function_errors_total",
                "Invocations whose outcome was not success.",
                FUNCTION,
            ),
            function_throttles: Family::new(
                "stratus_function_throttles_total",
                "Synchronous invocations refused for concurrency or worker memory (429).",
                FUNCTION,
            ),
            function_cold_starts: Family::new(
                "stratus_function_cold_starts_total",
                "Invocations that started a new worker (had an init phase).",
                FUNCTION,
            ),
            function_duration: Family::histogram(
                "stratus_function_duration_seconds",
                "Invocation duration as the REPORT line states it (init excluded).",
                FUNCTION,
                &DURATION_BUCKETS,
            ),
            function_concurrent: Family::new(
                "stratus_function_concurrent_executions",
                "Invocations running now.",
                FUNCTION,
            ),
            s3_requests: Family::new(
                "stratus_s3_requests_total",
                "S3 requests by operation and response status class.",
                &["operation", "status_class"],
            ),
            s3_received_bytes: Family::new(
                "stratus_s3_received_bytes_total",
                "Request body bytes received by S3 operations (as declared by the request).",
                &["operation"],
            ),
            s3_sent_bytes: Family::new(
                "stratus_s3_sent_bytes_total",
                "Response body bytes sent by S3 operations (as declared by the response).",
                &["operation"],
            ),
            sqs_sent: Family::new(
                "stratus_sqs_messages_sent_total",
                "Messages accepted into a queue (SendMessage, batches, SNS and bucket deliveries).",
                &["project", "queue"],
            ),
            sqs_received: Family::new(
                "stratus_sqs_messages_received_total",
                "Messages handed to receivers.",
                &["project", "queue"],
            ),
            sqs_deleted: Family::new(
                "stratus_sqs_messages_deleted_total",
                "Messages deleted by their receipt handle.",
                &["project", "queue"],
            ),
            sns_published: Family::new(
                "stratus_sns_messages_published_total",
                "Messages published to a topic.",
                &["project", "topic"],
            ),
            sns_deliveries: Family::new(
                "stratus_sns_deliveries_total",
                "Delivery attempts to subscribers, by protocol and outcome.",
                &["protocol", "outcome"],
            ),
            planner_runs: Family::new(
                "stratus_planner_runs_total",
                "Placement planner runs by outcome (solved, infeasible, timeout, invalid).",
                &["outcome"],
            ),
            s3_lifecycle_actions: Family::new(
                "stratus_s3_lifecycle_actions_total",
                "Bucket lifecycle actions the sweeper took, by action (expire-current, \
                 expire-noncurrent, remove-delete-marker, abort-upload, skip-locked).",
                &["action"],
            ),
            planner_run_seconds: Family::histogram(
                "stratus_planner_run_seconds",
                "Placement planner run time.",
                &[],
                &PLANNER_BUCKETS,
            ),
            version: version.to_owned(),
            start_time_seconds,
        }
    }

    /// The whole exposition: recorded families, then `values` read at scrape time.
    #[must_use]
    pub fn render(&self, values: &ScrapeValues) -> String {
        let mut out = String::with_capacity(64 * 1024);
        self.function_invocations.render(&mut out);
        self.function_errors.render(&mut out);
        self.function_throttles.render(&mut out);
        self.function_cold_starts.render(&mut out);
        self.function_duration.render(&mut out);
        self.function_concurrent.render(&mut out);
        render_scrape_values(values, &mut out);
        for family in [
            &self.s3_requests,
            &self.s3_received_bytes,
            &self.s3_sent_bytes,
            &self.sqs_sent,
            &self.sqs_received,
            &self.sqs_deleted,
            &self.sns_published,
            &self.sns_deliveries,
            &self.planner_runs,
            &self.s3_lifecycle_actions,
        ] {
            family.render(&mut out);
        }
        self.planner_run_seconds.render(&mut out);
        let start: Family<Gauge> = Family::new(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds.",
            &[],
        );
        start.with(&[]).set(self.start_time_seconds);
        start.render(&mut out);
        let build: Family<Gauge> = Family::new(
            "stratus_build_info",
            "The running build; always 1.",
            &["version"],
        );
        build.with(&[&self.version]).set(1.0);
        build.render(&mut out);
        out
    }
}

fn render_scrape_values(values: &ScrapeValues, out: &mut String) {
    let depth: Family<Gauge> = Family::new(
        "stratus_function_async_queue_depth",
        "Asynchronous invocations queued and not yet finished (including those awaiting a retry).",
        FUNCTION,
    );
    let age: Family<Gauge> = Family::new(
        "stratus_function_async_oldest_age_seconds",
        "Age of the oldest queued asynchronous invocation.",
        FUNCTION,
    );
    for (project, function, queued, oldest) in &values.async_backlog {
        depth.with(&[project, function]).set(*queued as f64);
        age.with(&[project, function]).set(*oldest);
    }
    depth.render(out);
    age.render(out);
    let visible: Family<Gauge> = Family::new(
        "stratus_sqs_messages_visible",
        "Messages available for retrieval.",
        &["project", "queue"],
    );
    let in_flight: Family<Gauge> = Family::new(
        "stratus_sqs_messages_in_flight",
        "Messages received and not yet deleted or visible again.",
        &["project", "queue"],
    );
    for (project, queue, now_visible, now_in_flight) in &values.queue_depths {
        visible.with(&[project, queue]).set(*now_visible as f64);
        in_flight.with(&[project, queue]).set(*now_in_flight as f64);
    }
    visible.render(out);
    in_flight.render(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_and_type_even_before_anything_is_recorded() {
        let text = Metrics::new("1.2.3", 1000.0).render(&ScrapeValues::default());
        for name in [
            "stratus_function_invocations_total",
            "stratus_function_duration_seconds",
            "stratus_function_async_queue_depth",
            "stratus_s3_requests_total",
            "stratus_sqs_messages_visible",
            "stratus_planner_runs_total",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
        }
        assert!(text.contains("stratus_build_info{version=\"1.2.3\"} 1\n"));
        assert!(text.contains("process_start_time_seconds 1000\n"));
    }

    #[test]
    fn scrape_values_become_gauges() {
        let values = ScrapeValues {
            async_backlog: vec![("p".into(), "slow".into(), 3, 1.5)],
            queue_depths: vec![("p".into(), "q".into(), 7, 2)],
        };
        let text = Metrics::new("v", 0.0).render(&values);
        assert!(
            text.contains(
                "stratus_function_async_queue_depth{project=\"p\",function=\"slow\"} 3\n"
            )
        );
        assert!(text.contains(
            "stratus_function_async_oldest_age_seconds{project=\"p\",function=\"slow\"} 1.5\n"
        ));
        assert!(text.contains("stratus_sqs_messages_visible{project=\"p\",queue=\"q\"} 7\n"));
        assert!(text.contains("stratus_sqs_messages_in_flight{project=\"p\",queue=\"q\"} 2\n"));
    }
}
