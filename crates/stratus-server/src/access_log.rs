//! One access-log event per request at debug level (target `stratus::access`): method, path,
//! status, duration to the response head, and the caller's project when authentication
//! noted it. With the level off, `begin` costs one cached callsite check and nothing else.

use std::time::Instant;

use stratus_api::AccessLogCaller;

/// The access log's target: `RUST_LOG=stratus::access=debug` turns on this log alone.
const TARGET: &str = "stratus::access";

/// What is known of a request when it arrives.
pub(crate) struct Entry {
    started: Instant,
    method: hyper::Method,
    /// The path without the query: query strings carry presigned URLs' signatures.
    path: String,
    caller: AccessLogCaller,
}

impl Entry {
    /// Starts an entry for `request`, or `None` when the access log is off.
    pub(crate) fn begin<B>(request: &mut hyper::Request<B>) -> Option<Self> {
        if !tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            return None;
        }
        let caller = AccessLogCaller::default();
        request.extensions_mut().insert(caller.clone());
        Some(Self {
            started: Instant::now(),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            caller,
        })
    }

    /// Logs the entry with the response's status.
    pub(crate) fn finish(self, status: hyper::StatusCode) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            target: TARGET,
            method = %self.method,
            path = %self.path,
            status = status.as_u16(),
            duration_ms,
            project = self.caller.project().unwrap_or("-"),
            "request"
        );
    }
}
