//! CORS as S3 answers it. A preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered from the bucket's rules alone — 200 with the
//! `Access-Control-*` headers of the first matching rule, else 403 `CORSResponse` — and an
//! actual request with an `Origin` gets those headers on its response when a rule matches its
//! method. Neither needs credentials: a bucket's CORS rules are public by design.

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use stratus_store::{CorsRule, matching_rule};

use super::{Browser, xml_error};

const NOT_ENABLED: &str = "CORS is not enabled for this bucket.";
const NOT_ALLOWED: &str = "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Access-Control-Request-Headers`, split and lower-cased.
fn requested_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("access-control-request-headers")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Adds the headers a matching rule grants.
fn grant(headers: &mut HeaderMap, rule: &CorsRule, origin: &str, methods_for: Option<&[String]>) {
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    if rule.any_origin() {
        set("access-control-allow-origin", "*");
    } else {
        set("access-control-allow-origin", origin);
        set("access-control-allow-credentials", "true");
    }
    set(
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if let Some(requested) = methods_for.filter(|h| !h.is_empty()) {
        set("access-control-allow-headers", &requested.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        set(
            "access-control-expose-headers",
            &rule.expose_headers.join(", "),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        set("access-control-max-age", &age.to_string());
    }
    headers.insert(
        http::header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    );
}

impl Browser {
    /// Answers an unsigned `OPTIONS` request.
    pub(crate) async fn preflight<B>(&self, request: Request<B>) -> Response<Body> {
        let headers = request.headers();
        let Some(origin) = header(headers, "origin") else {
            return xml_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Insufficient information. Origin request header needed.",
                "",
            );
        };
        let Some(method) = header(headers, "access-control-request-method") else {
            return xml_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid Access-Control-Request-Method: null",
                "",
            );
        };
        let detail = format!(
            "<Method>{}</Method><ResourceType>OBJECT</ResourceType>",
            crate::xml::escape(method)
        );
        let rules = match self.bucket_of(&request) {
            Some(bucket) => self.store.cors_rules(&bucket).await,
            None => Ok(None),
        };
        let rules = match rules {
            Ok(Some(rules)) => rules,
            Ok(None) => {
                return xml_error(StatusCode::FORBIDDEN, "CORSResponse", NOT_ENABLED, &detail);
            }
            Err(error) => {
                tracing::error!(?error, "reading CORS rules failed");
                return xml_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                    "",
                );
            }
        };
        let requested = requested_headers(headers);
        let Some(rule) = matching_rule(&rules, origin, method, &requested) else {
            return xml_error(StatusCode::FORBIDDEN, "CORSResponse", NOT_ALLOWED, &detail);
        };
        let mut response = Response::new(Body::empty());
        grant(
            response.headers_mut(),
            rule,
            origin,
            Some(requested.as_slice()),
        );
        response
    }

    /// What an actual request needs to decorate its response: its bucket, origin and method.
    pub(crate) fn actual_request<B>(&self, request: &Request<B>) -> Option<ActualRequest> {
        let origin = header(request.headers(), "origin")?.to_owned();
        Some(ActualRequest {
            bucket: self.bucket_of(request)?,
            origin,
            method: request.method().clone(),
        })
    }

    /// Adds the CORS headers of the rule matching `actual` to `response`, if one does.
    pub(crate) async fn decorate(&self, actual: ActualRequest, response: &mut Response<Body>) {
        let Ok(Some(rules)) = self.store.cors_rules(&actual.bucket).await else {
            return;
        };
        if let Some(rule) = matching_rule(&rules, &actual.origin, actual.method.as_str(), &[]) {
            grant(response.headers_mut(), rule, &actual.origin, None);
        }
    }
}

/// An actual (non-preflight) request from a browser, as far as CORS cares.
pub(crate) struct ActualRequest {
    bucket: String,
    origin: String,
    method: Method,
}
