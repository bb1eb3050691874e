//! CORS for function URLs, from Lambda's `Cors` settings: the platform answers preflight
//! requests itself and adds the allow headers to responses, so handlers need not.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Cors {
    allow_credentials: bool,
    allow_headers: Vec<String>,
    allow_methods: Vec<String>,
    allow_origins: Vec<String>,
    expose_headers: Vec<String>,
    max_age: Option<u64>,
}

impl Cors {
    pub(crate) fn parse(json: Option<&str>) -> Option<Self> {
        serde_json::from_str(json?).ok()
    }

    /// The origin to echo when the request's `Origin` is allowed.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(http::header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allow_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    fn join(values: &[String]) -> Option<HeaderValue> {
        (!values.is_empty())
            .then(|| HeaderValue::from_str(&values.join(",")).ok())
            .flatten()
    }

    /// Headers for an actual (non-preflight) response; empty when the origin is not allowed.
    pub(crate) fn response_headers(&self, request: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
        let Some(origin) = self.allowed_origin(request) else {
            return Vec::new();
        };
        let mut headers = vec![(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)];
        if self.allow_credentials {
            headers.push((
                http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
        if let Some(expose) = Self::join(&self.expose_headers) {
            headers.push((http::header::ACCESS_CONTROL_EXPOSE_HEADERS, expose));
        }
        headers
    }

    /// Headers answering a preflight `OPTIONS`.
    pub(crate) fn preflight_headers(&self, request: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = self.response_headers(request);
        if headers.is_empty() {
            return headers;
        }
        if let Some(methods) = Self::join(&self.allow_methods) {
            headers.push((http::header::ACCESS_CONTROL_ALLOW_METHODS, methods));
        }
        if let Some(allowed) = Self::join(&self.allow_headers) {
            headers.push((http::header::ACCESS_CONTROL_ALLOW_HEADERS, allowed));
        }
        if let Some(age) = self.max_age {
            headers.push((http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age)));
        }
        headers
    }
}
