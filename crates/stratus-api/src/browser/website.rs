//! Static websites, as S3 website endpoints serve them: unsigned GET and HEAD only; objects only
//! where public access grants anonymous reads; the index document for `/` and `dir/`; a 302 from
//! `dir` to `dir/` when `dir/index` exists; routing rules before the lookup (prefix conditions)
//! and after it (error-code conditions); the error document, or an HTML error page, with the
//! error's status. Reached at `/website/BUCKET/KEY` or, with `--domain`, at
//! `BUCKET.s3-website.DOMAIN/KEY`.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use stratus_store::{
    BodyStream, ObjectRecord, PublicOperation, RoutingRule, StoreError, WebsiteConfig,
};

use super::{Browser, host};
use crate::OverTls;

/// What an anonymous read of one key found.
enum Fetched {
    Found(Box<ObjectRecord>, BodyStream),
    /// 404 NoSuchKey: the key is missing and the bucket lets visitors know it.
    Missing,
    /// 403 AccessDenied: not public (or missing in a bucket visitors may not list).
    Denied,
}

/// Where the site's keys start in URLs: `/website/BUCKET/` or `/`.
struct Site<'a> {
    bucket: &'a str,
    base: String,
    host: String,
    scheme: &'static str,
    head: bool,
}

fn html_error(
    status: StatusCode,
    code: &str,
    message: &str,
    detail: &str,
    head: bool,
) -> Response<Body> {
    let request_id = stratus_runtime::request_id();
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n<li>Code: {code}</li>\n<li>Message: {}</li>\n{detail}<li>RequestId: {request_id}</li>\n<li>HostId: {request_id}</li>\n</ul>\n<hr/>\n</body>\n</html>\n",
        crate::xml::escape(message)
    );
    let length = body.len();
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(http::header::CONTENT_LENGTH, length)
        .header("x-amz-request-id", request_id)
        .body(if head {
            Body::empty()
        } else {
            Body::from(body)
        })
        .unwrap_or_default()
}

fn redirect(status: StatusCode, location: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::LOCATION, location)
        .header(http::header::CONTENT_LENGTH, 0)
        .body(Body::empty())
        .unwrap_or_default()
}

fn object_response(
    status: StatusCode,
    record: &ObjectRecord,
    body: BodyStream,
    head: bool,
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(http::header::CONTENT_LENGTH, record.size)
        .header(http::header::ETAG, format!("\"{}\"", record.etag));
    if let Some(content_type) = &record.headers.content_type {
        builder = builder.header(http::header::CONTENT_TYPE, content_type);
    }
    if let Some(modified) =
        time::OffsetDateTime::from_unix_timestamp(record.last_modified_ms / 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc2822)
                    .ok()
            })
    {
        builder = builder.header(
            http::header::LAST_MODIFIED,
            modified.replace("+0000", "GMT"),
        );
    }
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(body)
    };
    builder.body(body).unwrap_or_default()
}

impl Browser {
    /// `/website/BUCKET/KEY`.
    pub(crate) async fn website<B>(&self, request: Request<B>) -> Response<Body> {
        let rest = request.uri().path().strip_prefix("/website/").unwrap_or("");
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let base = format!("/website/{bucket}/");
        self.serve_site(&request, bucket, key, base).await
    }

    /// `BUCKET.s3-website.DOMAIN/KEY`.
    pub(crate) async fn website_host<B>(
        &self,
        request: Request<B>,
        bucket: &str,
    ) -> Response<Body> {
        let key = request.uri().path().trim_start_matches('/').to_owned();
        self.serve_site(&request, bucket, &key, "/".to_owned())
            .await
    }

    async fn serve_site<B>(
        &self,
        request: &Request<B>,
        bucket: &str,
        raw_key: &str,
        base: String,
    ) -> Response<Body> {
        let head = request.method() == http::Method::HEAD;
        if !matches!(*request.method(), http::Method::GET | http::Method::HEAD) {
            return html_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                "",
                head,
            );
        }
        let key = percent_decode_str(raw_key).decode_utf8_lossy().into_owned();
        let site = Site {
            bucket,
            base,
            host: request
                .headers()
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| host(request.headers(), request.uri()))
                .unwrap_or_default(),
            scheme: if request.extensions().get::<OverTls>().is_some() {
                "https"
            } else {
                "http"
            },
            head,
        };
        let config = match self.store.website_for_visitors(bucket).await {
            Ok(config) => config,
            Err(StoreError::NoSuchBucket) => {
                let detail = format!("<li>BucketName: {}</li>\n", crate::xml::escape(bucket));
                return html_error(
                    StatusCode::NOT_FOUND,
                    "NoSuchBucket",
                    "The specified bucket does not exist",
                    &detail,
                    head,
                );
            }
            Err(StoreError::NoSuchConfiguration(_)) => {
                let detail = format!("<li>BucketName: {}</li>\n", crate::xml::escape(bucket));
                return html_error(
                    StatusCode::NOT_FOUND,
                    "NoSuchWebsiteConfiguration",
                    "The specified bucket does not have a website configuration",
                    &detail,
                    head,
                );
            }
            Err(error) => return internal(&error, head),
        };
        if let Some(all) = &config.redirect_all {
            let scheme = all.protocol.as_deref().unwrap_or(site.scheme);
            return redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("{scheme}://{}/{key}", all.host_name),
            );
        }
        if let Some(rule) = config.routing_rules.iter().find(|r| r.matches(&key, None)) {
            return rule_redirect(rule, &key, &site);
        }
        self.serve_key(&config, &site, &key).await
    }

    async fn fetch(&self, bucket: &str, key: &str) -> Result<Fetched, StoreError> {
        let Some(visitor) = self
            .store
            .public_grant(None, bucket, Some(key), PublicOperation::GetObject)
            .await?
        else {
            return Ok(Fetched::Denied);
        };
        match self
            .store
            .get_object(&visitor, bucket, key, |_| Ok::<_, StoreError>(None))
            .await
        {
            Ok((record, _, body)) => Ok(Fetched::Found(Box::new(record), body)),
            Err(StoreError::NoSuchKey) => Ok(Fetched::Missing),
            Err(error) => Err(error),
        }
    }

    async fn serve_key(
        &self,
        config: &WebsiteConfig,
        site: &Site<'_>,
        key: &str,
    ) -> Response<Body> {
        let suffix = config.index_suffix.as_deref().unwrap_or("index.html");
        let lookup = if key.is_empty() || key.ends_with('/') {
            format!("{key}{suffix}")
        } else {
            key.to_owned()
        };
        let fetched = match self.fetch(site.bucket, &lookup).await {
            Ok(fetched) => fetched,
            Err(error) => return internal(&error, site.head),
        };
        let (status, code, message) = match fetched {
            Fetched::Found(record, body) => {
                return object_response(StatusCode::OK, &record, body, site.head);
            }
            Fetched::Missing => (
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ),
            Fetched::Denied => (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
        };
        // `dir` without its slash: S3 sends the browser to `dir/` when `dir/INDEX` exists.
        if lookup == key
            && !key.is_empty()
            && let Ok(Fetched::Found(..)) =
                self.fetch(site.bucket, &format!("{key}/{suffix}")).await
        {
            return redirect(StatusCode::FOUND, &format!("{}{key}/", site.base));
        }
        if let Some(rule) = config
            .routing_rules
            .iter()
            .find(|r| r.matches(key, Some(status.as_u16())))
        {
            return rule_redirect(rule, key, site);
        }
        if let Some(error_key) = &config.error_key
            && let Ok(Fetched::Found(record, body)) = self.fetch(site.bucket, error_key).await
        {
            return object_response(status, &record, body, site.head);
        }
        let detail = format!("<li>Key: {}</li>\n", crate::xml::escape(&lookup));
        html_error(status, code, message, &detail, site.head)
    }
}

fn rule_redirect(rule: &RoutingRule, key: &str, site: &Site<'_>) -> Response<Body> {
    let target = rule.redirected_key(key);
    let scheme = rule.redirect.protocol.as_deref().unwrap_or(site.scheme);
    let location = match &rule.redirect.host_name {
        Some(host) => format!("{scheme}://{host}/{target}"),
        None => format!("{scheme}://{}{}{target}", site.host, site.base),
    };
    let status = rule
        .redirect
        .http_redirect_code
        .as_deref()
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::MOVED_PERMANENTLY);
    redirect(status, &location)
}

fn internal(error: &StoreError, head: bool) -> Response<Body> {
    tracing::error!(?error, "website request failed");
    html_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "We encountered an internal error. Please try again.",
        "",
        head,
    )
}
