//! The HTTP edge. One port serves every API: a request signed with AWS Signature V4 (in the
//! `Authorization` header or a presigned query) is routed by the service named in its credential
//! scope; `/fn/NAME/...` reaches a function's URL (API Gateway v2 events); unsigned requests
//! under `/v1/` go to the native REST API, `/run/NAME` and `/job/NAME` to OSCAR script services,
//! `/metrics` to the Prometheus exposition, `/console` to the web console, `OPTIONS` to CORS,
//! `/website/` to static websites, and the rest to S3, which serves what buckets grant
//! anonymous requests and refuses the rest in its own XML. This crate is the only one that knows HTTP, XML and AWS
//! wire formats.
//!
//! `Edge::handle` is the entry point for every request (the server calls it per request);
//! `routing::destination` picks the API, in the order its tests pin down.
//!
//! Files:
//! - `routing.rs` — `Destination` and `destination`: which API a request addresses.
//! - `s3/` — the `s3s::S3` implementation over `Store`: `objects.rs`, `listing.rs`,
//!   `buckets.rs` (with notification configuration), `multipart.rs`; `errors.rs` the one place
//!   store errors become S3 codes; `checksums.rs` Content-MD5 and flexible checksums (also
//!   `aws-chunked` trailers); `auth.rs` the SigV4 secret lookup; `usage.rs` the access check
//!   that notes each operation for metrics and billing (and lets in what buckets grant
//!   outsiders, `public.rs`, and checks `x-amz-expected-bucket-owner`, `expected_owner.rs`);
//!   `convert.rs` DTO conversions; `access_config.rs` ACLs, policies, Block Public Access and
//!   tagging; `cors.rs`, `website.rs` those configurations; `post_object.rs` browser form
//!   uploads; `host.rs` virtual hosts under `--domain`; `versioning.rs` versioning, Object
//!   Lock, ListObjectVersions and object tagging; `bucket_pages.rs` ListBuckets' pages; `part_reads.rs` GET/HEAD `partNumber`; `multipart_checksums.rs`
//!   multipart checksums (COMPOSITE and FULL_OBJECT); `attributes.rs` GetObjectAttributes, an
//!   s3s custom route; `presign_checks.rs` what the edge checks before s3s (presigned URL
//!   validity, the SigV2 bucket path).
//! - `browser/` — what browsers reach unsigned: CORS preflights and response headers
//!   (`cors.rs`), static websites (`website.rs`), form uploads' file name, `acl`, `tagging` and `policy` fields (`post.rs`),
//!   and the `--domain` host styles (`mod.rs`).
//! - `lambda/` — the Lambda REST-JSON API: `handlers.rs` one function per operation,
//!   `invoke.rs`, `url_config.rs`, `mappings.rs` (event source mappings),
//!   `event_invoke_config.rs`, `model.rs` the JSON shapes, `errors.rs` the one place function
//!   errors become Lambda error names.
//! - `sqs/` — SQS in both protocols (AWS JSON 1.0 and query), one function per operation over
//!   one input shape (`ops/`: `queues.rs`, `messages.rs`, `batch.rs`); its `errors.rs` is the one place queue errors become SQS codes.
//! - `sns/` — SNS (query protocol in, XML out), one function per action (`ops/`: `topics.rs`,
//!   `subscriptions.rs`, `publish.rs`), the unsigned
//!   confirmation links, and the `HttpDelivery` to `http`/`https` subscribers; its `errors.rs`
//!   is the one place topic errors become SNS errors.
//! - `logs/` — the CloudWatch Logs subset (AWS JSON 1.1): `input.rs`, `ops.rs` one function per
//!   operation, `errors.rs` (`docs/logs.md`).
//! - `function_url/` — `/fn/NAME/...`: API Gateway v2 events (`event.rs`), CORS (`cors.rs`).
//! - `native/` — the `/v1` REST API (axum): `mod.rs` only assembles the router; `problem.rs`
//!   the `Problem` error response (RFC 9457 problem documents, a `From` for each domain error so
//!   handlers use `?`), `caller.rs` the `Caller` extractor (bearer token or console session),
//!   `state.rs`, `table.rs` (`RouteTable`: a router and the list of its routes from the same
//!   calls), one file per resource (buckets and objects through the same `Store` calls as S3,
//!   functions, URLs, environments, events, keys, apps, projects and quotas, queues and topics,
//!   cost, plan, health), and `openapi.rs`, the OpenAPI 3.1 document utoipa generates from the
//!   handlers and the `stratus-client` types (`GET /v1/openapi.json`; a test checks it lists
//!   exactly the served routes).
//! - `console/` — the web console: `assets.rs` the embedded files of `console/` (strict CSP),
//!   `session.rs` server-side sessions and CSRF tokens, `mod.rs` the session routes
//!   (`docs/console.md`).
//! - `oscar.rs` — OSCAR's `/run/NAME` and `/job/NAME` for script services (`docs/oscar.md`).
//! - `metrics_endpoint.rs` — `GET /metrics` and the per-operation S3 request counts.
//! - `sigv4.rs`, `aws_auth.rs` — SigV4 verification for every non-S3 service (s3s verifies S3).
//! - `code_location.rs` — GetFunction's presigned code links (HMAC, ten minutes).
//! - `triggers.rs` — a function's bucket triggers as notification rules it owns.
//! - `cost_report.rs` — usage rows priced with `stratus-cost`, for `GET /v1/cost`.
//! - `outbound_tls.rs` — what outbound HTTPS trusts (system roots plus an operator CA file).
//! - `request_ids.rs` — request ids on every AWS answer (S3's headers and error XML included).
//! - `chunked_uploads.rs` — S3 uploads with `Transfer-Encoding: chunked` and no length.
//! - `xml.rs` — XML text for the query protocols' responses.

mod aws_auth;
mod browser;
mod chunked_uploads;
mod code_location;
mod console;
mod cost_report;
mod function_url;
mod lambda;
mod logs;
mod metrics_endpoint;
mod native;
mod oscar;
mod outbound_tls;
mod request_ids;
mod routing;
mod s3;
mod sigv4;
mod sns;
mod sqs;
mod triggers;
mod xml;

use std::sync::Arc;

use axum::body::Body;
use http::{Request, Response};
use hyper::body::Incoming;
use stratus_events::Queues;
use stratus_events::Topics;
use stratus_events::mappings::Mappings;
use stratus_identity::{Apps, Identity};
use stratus_runtime::Functions;
use stratus_store::Store;

pub use function_url::PeerAddr;
pub use outbound_tls::tls_client_config;
pub use routing::{Destination, destination};
pub use sns::HyperHttpDelivery;

/// The event-chain depth a request carries in `X-Amzn-Trace-Id` (which AWS SDKs inside a
/// function copy from `_X_AMZN_TRACE_ID`); 0 without one. See `stratus_core::lineage`.
pub(crate) fn chain_depth(headers: &http::HeaderMap) -> u32 {
    headers
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .map_or(0, stratus_core::lineage::chain_depth)
}

/// The `name=value` pairs of a URL query or an `application/x-www-form-urlencoded` body, in
/// order and with repeats, decoded by the WHATWG rules: `+` is a space, `%XX` a byte, a `%`
/// without two hex digits after it stays as it is, and bytes that are not UTF-8 become U+FFFD.
/// (SigV4 canonicalisation has its own rules, in `sigv4.rs`.)
pub(crate) fn form_pairs(input: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(input).map(|(name, value)| (name.into_owned(), value.into_owned()))
}

/// The largest single PUT body S3 accepts; larger objects must use multipart upload.
pub const MAX_PUT_BYTES: u64 = stratus_store::MAX_BODY_BYTES;

/// What billing needs at the edge: the usage meter (S3 requests are counted into it, cost
/// reports read through it) and the prices bills are computed with.
#[derive(Clone)]
pub struct Billing {
    pub usage: Arc<stratus_meta::UsageMeter>,
    pub prices: Arc<stratus_cost::PriceCatalog>,
}

/// Marks a request that arrived over TLS (the server inserts it): the console's cookie is then
/// `Secure` and every response carries `Strict-Transport-Security`.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// Where authentication notes the caller's project for the edge's access log. The server
/// inserts it only while that log is enabled, so noting costs nothing otherwise; requests that
/// authenticate elsewhere (S3's own signature check) leave it empty.
#[derive(Debug, Clone, Default)]
pub struct AccessLogCaller(Arc<std::sync::OnceLock<String>>);

impl AccessLogCaller {
    /// The project of the authenticated caller, once known.
    #[must_use]
    pub fn project(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Notes `project` in the request's slot, when it has one.
    pub(crate) fn note(extensions: &http::Extensions, project: &str) {
        if let Some(slot) = extensions.get::<Self>() {
            let _ = slot.0.set(project.to_owned());
        }
    }
}

/// HSTS for a year: a browser that once reached the edge over TLS never falls back to http.
const HSTS: http::HeaderValue = http::HeaderValue::from_static("max-age=31536000");

/// The services the edge routes to.
#[derive(Clone)]
pub struct Edge {
    s3: s3s::service::S3Service,
    lambda: lambda::LambdaApi,
    sqs: sqs::SqsApi,
    logs: logs::LogsApi,
    urls: function_url::FunctionUrls,
    oscar: oscar::OscarServices,
    sns: sns::SnsApi,
    native: axum::Router,
    console: console::Console,
    /// CORS preflights and headers, static websites, virtual hosts (`browser/`).
    browser: browser::Browser,
    /// `GET /metrics` and the S3 request counts; set by [`Edge::with_metrics`].
    metrics: Option<Arc<metrics_endpoint::MetricsEndpoint>>,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge").finish_non_exhaustive()
    }
}

impl Edge {
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "the composition root hands over each service once"
    )]
    pub fn new(
        store: Arc<Store>,
        identity: Arc<Identity>,
        functions: Arc<Functions>,
        apps: Arc<Apps>,
        mappings: Arc<Mappings>,
        queues: Arc<Queues>,
        topics: Arc<Topics>,
        billing: Billing,
    ) -> Self {
        let sqs = sqs::SqsApi {
            queues: Arc::clone(&queues),
            identity: Arc::clone(&identity),
        };
        let browser = browser::Browser {
            store: Arc::clone(&store),
            domain: Arc::new(std::sync::OnceLock::new()),
        };
        let s3 = s3::service(
            Arc::clone(&store),
            Arc::clone(&identity),
            Arc::clone(&functions),
            (Arc::clone(&queues), Arc::clone(&topics)),
            Arc::clone(&billing.usage),
            Arc::clone(&browser.domain),
        );
        let lambda = lambda::LambdaApi {
            functions: Arc::clone(&functions),
            identity: Arc::clone(&identity),
            store: Arc::clone(&store),
            mappings,
        };
        let logs = logs::LogsApi {
            functions: Arc::clone(&functions),
            identity: Arc::clone(&identity),
        };
        let urls = function_url::FunctionUrls {
            functions: Arc::clone(&functions),
            identity: Arc::clone(&identity),
        };
        let oscar = oscar::OscarServices {
            functions: Arc::clone(&functions),
            identity: Arc::clone(&identity),
        };
        let sns = sns::SnsApi {
            topics: Arc::clone(&topics),
            identity: Arc::clone(&identity),
        };
        let console = console::Console {
            identity: Arc::clone(&identity),
            sessions: Arc::new(console::Sessions::default()),
        };
        let messaging = native::messaging::routes(Arc::clone(&identity), queues, topics);
        let native = native::router(native::AppState {
            store,
            identity,
            functions,
            apps,
            billing,
        })
        .merge(messaging);
        Self {
            s3,
            lambda,
            sqs,
            logs,
            urls,
            oscar,
            sns,
            native,
            console,
            browser,
            metrics: None,
        }
    }

    /// Serves `GET /metrics` from `metrics` (and `source` for values read at scrape time),
    /// counts S3 requests into it, and adds `POST /v1/plan`, whose runs it counts. `public`
    /// drops the operator-token requirement of `/metrics`.
    #[must_use]
    pub fn with_metrics(
        mut self,
        metrics: Arc<stratus_core::metrics::Metrics>,
        source: Arc<dyn stratus_meta::MetricsRepository>,
        public: bool,
    ) -> Self {
        let identity = Arc::clone(&self.sqs.identity);
        self.native = self.native.merge(native::plan::routes(
            Arc::clone(&identity),
            Arc::clone(&metrics),
        ));
        self.metrics = Some(Arc::new(metrics_endpoint::MetricsEndpoint {
            metrics,
            source,
            identity,
            public,
        }));
        self
    }

    /// Serves `/v1/projects` (projects, their quotas and usage) from `quotas`.
    #[must_use]
    pub fn with_quotas(mut self, quotas: Arc<stratus_identity::Quotas>) -> Self {
        self.native = self.native.merge(native::projects::routes(
            Arc::clone(&self.sqs.identity),
            quotas,
            Arc::clone(&self.lambda.functions),
        ));
        self
    }

    /// Serves `BUCKET.DOMAIN` as virtual-hosted-style S3 and `BUCKET.s3-website.DOMAIN` as the
    /// bucket's website; the bare domain routes as any other host.
    #[must_use]
    pub fn with_domain(self, domain: Option<String>) -> Self {
        if let Some(domain) = domain {
            let _ = self
                .browser
                .domain
                .set(domain.trim_end_matches('.').to_ascii_lowercase());
        }
        self
    }

    /// Serves one request on whichever API it addresses.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let over_tls = request.extensions().get::<OverTls>().is_some();
        let mut response = self.route(request).await;
        if over_tls {
            response
                .headers_mut()
                .insert(http::header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
        response
    }

    async fn route(&self, mut request: Request<Incoming>) -> Response<Body> {
        match self.browser.style(&request) {
            browser::HostStyle::Path => s3::presign_checks::sigv2_bucket_path(&mut request),
            browser::HostStyle::Website(bucket) => {
                return self.browser.website_host(request, &bucket).await;
            }
            // Every request to BUCKET.DOMAIN is S3's, signed or not (its paths are keys).
            browser::HostStyle::Bucket(_) => {
                let unsigned = !matches!(destination(&request), Destination::Aws(_));
                if unsigned && request.method() == http::Method::OPTIONS {
                    return self.browser.preflight(request).await;
                }
                return self.serve_s3(request).await;
            }
        }
        match destination(&request) {
            Destination::FunctionUrl => self.urls.handle(request).await,
            Destination::Aws(service) if service == "s3" => self.serve_s3(request).await,
            Destination::Aws(service) if service == "lambda" => {
                request_ids::ensure_amzn_request_id(self.lambda.handle(request).await)
            }
            Destination::Aws(service) if service == "sqs" => {
                request_ids::ensure_amzn_request_id(self.sqs.handle(request).await)
            }
            Destination::Aws(service) if service == "sns" => {
                request_ids::ensure_amzn_request_id(self.sns.handle(request).await)
            }
            Destination::Aws(service) if service == "logs" => {
                request_ids::ensure_amzn_request_id(self.logs.handle(request).await)
            }
            Destination::SnsConfirmation => self.sns.handle_confirmation_link(request).await,
            Destination::Aws(service) => native::problem(
                http::StatusCode::NOT_IMPLEMENTED,
                "service not available",
                &format!("the AWS service {service:?} is not served by this Stratus version"),
            ),
            Destination::Native => self.serve_native(request).await,
            Destination::Metrics => match &self.metrics {
                Some(endpoint) => endpoint.handle(request).await,
                None => native::problem(
                    http::StatusCode::NOT_FOUND,
                    "not found",
                    "metrics are not enabled",
                ),
            },
            Destination::Oscar => self.oscar.handle(request).await,
            Destination::Console => self.console.handle(request.map(Body::new)).await,
            Destination::CorsPreflight => self.browser.preflight(request).await,
            Destination::Website => self.browser.website(request).await,
            Destination::AnonymousS3 => self.serve_s3(request).await,
        }
    }

    async fn serve_s3(&self, mut request: Request<Incoming>) -> Response<Body> {
        let probe = metrics_endpoint::S3Probe::attach(&mut request);
        if let Some(refusal) = s3::presign_checks::expiry_refusal(request.uri()) {
            return match refusal.to_http_response() {
                Ok(response) => request_ids::stamp_s3(response).map(Body::new),
                Err(_) => Response::new(Body::empty()),
            };
        }
        let cors = self.browser.actual_request(&request);
        // A PUT without a length is read whole first (s3s needs one); anything else streams,
        // a browser form past the peek that reads its file name.
        let (request, form_upload) =
            if chunked_uploads::is_unframed_upload(request.method(), request.headers()) {
                match chunked_uploads::buffer(request).await {
                    Ok(request) => (request, None),
                    Err(refusal) => match refusal.to_http_response() {
                        Ok(response) => return request_ids::stamp_s3(response).map(Body::new),
                        Err(_) => return Response::new(Body::empty()),
                    },
                }
            } else {
                browser::post::tap(request)
            };
        match self.s3.call(request).await {
            Ok(response) => {
                if let Some(endpoint) = &self.metrics {
                    probe.record(&endpoint.metrics, &response);
                }
                let mut response = request_ids::stamp_s3(response).map(Body::new);
                if let Some(form) = form_upload {
                    response = browser::post::rewrite_policy_error(response, &form).await;
                    response = browser::post::name_the_stored_key(response, &form).await;
                }
                if let Some(cors) = cors {
                    self.browser.decorate(cors, &mut response).await;
                }
                response
            }
            Err(error) => {
                tracing::error!(?error, "s3 request failed outside the protocol");
                native::problem(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                    "the S3 request could not be served",
                )
            }
        }
    }

    async fn serve_native(&self, request: Request<Incoming>) -> Response<Body> {
        use tower::ServiceExt as _;
        let mut request = request.map(Body::new);
        if let Err(refused) = self.attach_session(&mut request).await {
            return refused;
        }
        match self.native.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// A console session cookie authenticates `/v1` requests that carry no `Authorization`
    /// header: its principal goes into the request's extensions (read by the `Caller`
    /// extractor). Unsafe methods must also carry the session's CSRF token, else 403. An
    /// unknown or expired cookie attaches nothing, so the request is answered 401 as without it.
    async fn attach_session(&self, request: &mut Request<Body>) -> Result<(), Response<Body>> {
        if request.headers().contains_key(http::header::AUTHORIZATION) {
            return Ok(());
        }
        let Some(id) = console::session::cookie_value(request.headers()) else {
            return Ok(());
        };
        let Some(view) = self
            .console
            .sessions
            .resolve(&self.console.identity, &id)
            .await
        else {
            return Ok(());
        };
        let safe = matches!(*request.method(), http::Method::GET | http::Method::HEAD);
        if !safe && !console::session::csrf_ok(request.headers(), &view.csrf_token) {
            return Err(native::problem(
                http::StatusCode::FORBIDDEN,
                "forbidden",
                "a request made with the console's session cookie needs its X-CSRF-Token header",
            ));
        }
        let principal = stratus_identity::Principal {
            chain_depth: chain_depth(request.headers()),
            ..view.principal
        };
        request
            .extensions_mut()
            .insert(console::SessionPrincipal(principal));
        Ok(())
    }
}
