//! What browsers reach without signing: CORS preflights (`OPTIONS`) and the CORS headers of
//! actual S3 responses (`cors.rs`), form uploads' extras (`post.rs`), and static websites (`website.rs`) at `/website/BUCKET/...`
//! or `BUCKET.s3-website.DOMAIN`. Everything bucket-specific is read through the store.

pub(crate) mod cors;
pub(crate) mod post;
pub(crate) mod website;

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use http::{HeaderMap, Request, Response, StatusCode};
use stratus_store::Store;

/// The browser-facing half of S3.
#[derive(Clone)]
pub(crate) struct Browser {
    pub(crate) store: Arc<Store>,
    /// `--domain`: `BUCKET.DOMAIN` is virtual-hosted S3, `BUCKET.s3-website.DOMAIN` a website.
    /// Set once by `Edge::with_domain`; shared with the S3 service's host parser.
    pub(crate) domain: Arc<OnceLock<String>>,
}

/// The request's host, without a port.
pub(crate) fn host(headers: &HeaderMap, uri: &http::Uri) -> Option<String> {
    let raw = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))?;
    let host = match raw.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(']') => {
            name.to_owned()
        }
        _ => raw,
    };
    Some(host.to_ascii_lowercase())
}

/// How a request's host relates to `--domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostStyle {
    /// The bare domain, an IP address or any other name: path-style, routed as before.
    Path,
    /// `BUCKET.DOMAIN`: virtual-hosted-style S3.
    Bucket(String),
    /// `BUCKET.s3-website.DOMAIN` (or `BUCKET.s3-website-REGION.DOMAIN`): the bucket's website.
    Website(String),
}

pub(crate) fn host_style(host: Option<&str>, domain: Option<&str>) -> HostStyle {
    let (Some(host), Some(domain)) = (host, domain) else {
        return HostStyle::Path;
    };
    let Some(prefix) = host
        .strip_suffix(domain)
        .and_then(|p| p.strip_suffix('.'))
        .filter(|p| !p.is_empty())
    else {
        return HostStyle::Path;
    };
    if let Some((bucket, site)) = prefix.rsplit_once('.')
        && (site == "s3-website" || site.starts_with("s3-website-"))
    {
        return HostStyle::Website(bucket.to_owned());
    }
    HostStyle::Bucket(prefix.to_owned())
}

impl Browser {
    /// How `request`'s host relates to `--domain`.
    pub(crate) fn style<B>(&self, request: &Request<B>) -> HostStyle {
        let host = host(request.headers(), request.uri());
        host_style(host.as_deref(), self.domain.get().map(String::as_str))
    }

    /// The bucket a path-style or virtual-hosted request addresses.
    pub(crate) fn bucket_of<B>(&self, request: &Request<B>) -> Option<String> {
        let host = host(request.headers(), request.uri());
        match host_style(host.as_deref(), self.domain.get().map(String::as_str)) {
            HostStyle::Bucket(bucket) | HostStyle::Website(bucket) => Some(bucket),
            HostStyle::Path => {
                let first = request
                    .uri()
                    .path()
                    .trim_start_matches('/')
                    .split('/')
                    .next()?;
                (!first.is_empty()).then(|| first.to_owned())
            }
        }
    }
}

/// An S3 XML error body with a fresh request id.
pub(crate) fn xml_error(
    status: StatusCode,
    code: &str,
    message: &str,
    extra: &str,
) -> Response<Body> {
    let request_id = stratus_runtime::request_id();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>{extra}<RequestId>{request_id}</RequestId></Error>",
        crate::xml::escape(message)
    );
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .header("x-amz-request-id", request_id)
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_split_into_buckets_and_websites() {
        let d = Some("example.test");
        assert_eq!(host_style(Some("example.test"), d), HostStyle::Path);
        assert_eq!(host_style(Some("127.0.0.1"), d), HostStyle::Path);
        assert_eq!(
            host_style(Some("photos.example.test"), d),
            HostStyle::Bucket("photos".into())
        );
        assert_eq!(
            host_style(Some("a.b.example.test"), d),
            HostStyle::Bucket("a.b".into())
        );
        assert_eq!(
            host_style(Some("site.s3-website.example.test"), d),
            HostStyle::Website("site".into())
        );
        assert_eq!(
            host_style(Some("site.s3-website-us-east-1.example.test"), d),
            HostStyle::Website("site".into())
        );
        assert_eq!(
            host_style(Some("photos.example.test"), None),
            HostStyle::Path
        );
        assert_eq!(host_style(Some("xexample.test"), d), HostStyle::Path);
    }
}
