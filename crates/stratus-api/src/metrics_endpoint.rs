//! `GET /metrics`: the Prometheus text exposition, and the S3 probe that counts every S3
//! request by operation. Series name every project's functions and queues, so the endpoint
//! needs an operator's bearer token unless the server was started with `public_metrics`.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use http::{Request, Response, StatusCode};
use s3s::access::S3AccessContext;
use stratus_core::metrics::{CONTENT_TYPE, Metrics, ScrapeValues};
use stratus_identity::Identity;
use stratus_meta::MetricsRepository;

use crate::native::{bearer_caller, problem};

/// What `/metrics` serves and who may read it.
pub(crate) struct MetricsEndpoint {
    pub metrics: Arc<Metrics>,
    pub source: Arc<dyn MetricsRepository>,
    pub identity: Arc<Identity>,
    pub public: bool,
}

impl MetricsEndpoint {
    pub(crate) async fn handle<B>(&self, request: Request<B>) -> Response<Body> {
        if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
            return problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "/metrics answers GET only",
            );
        }
        if !self.public {
            let hint = " (an operator key: admin key of the admin project)";
            match bearer_caller(&self.identity, request.headers(), hint).await {
                Ok(caller) if caller.is_operator() => {}
                Ok(_) => {
                    return problem(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "metrics name every project's resources: only an operator key may read them",
                    );
                }
                Err(refused) => return refused,
            }
        }
        let values = match self.scrape_values().await {
            Ok(values) => values,
            Err(error) => {
                tracing::error!(%error, "cannot read metrics from the database");
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                    "the metrics could not be read",
                );
            }
        };
        let text = self.metrics.render(&values);
        Response::builder()
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Body::from(text))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }

    async fn scrape_values(&self) -> stratus_meta::MetaResult<ScrapeValues> {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let backlog = self.source.async_backlog().await?;
        let queues = self.source.all_queue_counts(now_ms).await?;
        Ok(ScrapeValues {
            async_backlog: backlog
                .into_iter()
                .map(|(project, function, queued, oldest_ms)| {
                    let age_s = (now_ms - oldest_ms).max(0) as f64 / 1000.0;
                    (project, function, queued, age_s)
                })
                .collect(),
            queue_depths: queues
                .into_iter()
                .map(|(project, queue, counts)| (project, queue, counts.visible, counts.in_flight))
                .collect(),
        })
    }
}

/// Where the S3 operation's name is left for the edge to read after the call: s3s resolves
/// the operation inside its service, and tells it only to the access check.
#[derive(Clone, Default)]
pub(crate) struct S3Operation(Arc<OnceLock<String>>);

/// Notes the routed request's operation for the S3 metrics. Called by the S3 access check
/// (`s3::usage`), the one hook s3s runs per routed request with the operation known.
pub(crate) fn note_operation(cx: &mut S3AccessContext<'_>) {
    let name = cx.s3_op().name().to_owned();
    if let Some(slot) = cx.extensions_mut().get::<S3Operation>() {
        let _ = slot.0.set(name);
    }
}

/// One S3 request being counted: attached before s3s sees the request, recorded after.
pub(crate) struct S3Probe {
    operation: S3Operation,
    received_bytes: u64,
    /// A HEAD response declares the object's length but sends no body.
    is_head: bool,
}

impl S3Probe {
    pub(crate) fn attach<B>(request: &mut Request<B>) -> Self {
        let operation = S3Operation::default();
        request.extensions_mut().insert(operation.clone());
        // aws-chunked uploads declare the payload size apart from the framed body's.
        let declared = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let received_bytes = declared("x-amz-decoded-content-length")
            .or_else(|| declared("content-length"))
            .unwrap_or(0);
        Self {
            operation,
            received_bytes,
            is_head: request.method() == http::Method::HEAD,
        }
    }

    /// Counts the request; `operation` is `Unknown` when s3s refused it before routing.
    pub(crate) fn record<B: http_body::Body>(self, metrics: &Metrics, response: &Response<B>) {
        let operation = self.operation.0.get().map_or("Unknown", String::as_str);
        let status_class = match response.status().as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let sent_bytes = if self.is_head {
            0
        } else {
            response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .or_else(|| response.body().size_hint().exact())
                .unwrap_or(0)
        };
        metrics.s3_requests.with(&[operation, status_class]).inc();
        metrics
            .s3_received_bytes
            .with(&[operation])
            .add(self.received_bytes);
        metrics.s3_sent_bytes.with(&[operation]).add(sent_bytes);
    }
}
