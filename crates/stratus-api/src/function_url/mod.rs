//! Serving function URLs: `/fn/NAME/{proxy+}` reaches a function without the Lambda API, so
//! curl, a browser or a frontend can call it. `AuthType` `NONE` lets anyone in; `AWS_IAM` asks
//! for a SigV4 signature or a bearer token of the function's project. Errors answer as function
//! URLs do: a small JSON `{"Message": ...}` with the HTTP status.

mod cors;
mod event;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use stratus_core::Action;
use stratus_identity::{Identity, Principal};
use stratus_meta::FunctionUrlRecord;
use stratus_runtime::{Functions, RuntimeError};

use cors::Cors;
use event::{HttpRequest, request_event, response_from_result};

/// The client's address, put into each request's extensions by the server's accept loop.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

#[derive(Clone)]
pub(crate) struct FunctionUrls {
    pub functions: Arc<Functions>,
    pub identity: Arc<Identity>,
}

fn message(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "Message": text }).to_string(),
        ))
        .unwrap_or_default()
}

/// Where clients reach a function's URL: this server as the request named it (`Host`).
pub(crate) fn public_url(headers: &http::HeaderMap, function: &str) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/fn/{function}/")
}

/// `/fn/NAME/rest` → (`NAME`, `/rest`).
fn split_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/fn/")?;
    let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?
        .into_owned();
    (!name.is_empty()).then(|| (name, format!("/{tail}")))
}

impl FunctionUrls {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let Some((name, raw_path)) = split_path(request.uri().path()) else {
            return message(StatusCode::NOT_FOUND, "name a function URL: /fn/NAME/");
        };
        let url = match self.functions.url_by_name(&name).await {
            Ok(Some(url)) => url,
            Ok(None) => {
                return message(
                    StatusCode::NOT_FOUND,
                    &format!("no function URL /fn/{name}/"),
                );
            }
            Err(error) => {
                tracing::error!(%error, "function URL lookup failed");
                return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
        };
        let cors = Cors::parse(url.cors.as_deref());
        let is_preflight = request.method() == Method::OPTIONS
            && request.headers().contains_key(http::header::ORIGIN)
            && request
                .headers()
                .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
        if let (true, Some(cors)) = (is_preflight, &cors) {
            let mut response = Response::new(Body::empty());
            response
                .headers_mut()
                .extend(cors.preflight_headers(request.headers()));
            return response;
        }
        let cors_headers = cors
            .map(|c| c.response_headers(request.headers()))
            .unwrap_or_default();
        let mut response = self.invoke(request, &url, &raw_path).await;
        response.headers_mut().extend(cors_headers);
        response
    }

    async fn invoke(
        &self,
        request: Request<Incoming>,
        url: &FunctionUrlRecord,
        raw_path: &str,
    ) -> Response<Body> {
        let peer = request.extensions().get::<PeerAddr>().map(|p| p.0);
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, stratus_runtime::MAX_SYNC_PAYLOAD)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
        };
        if url.auth_type != stratus_runtime::UrlAuth::None.as_str() {
            match self.caller(&parts, &body).await {
                Some(caller) if caller.project == url.project && caller.may(Action::Write) => {}
                _ => return message(StatusCode::FORBIDDEN, "Forbidden"),
            }
        }
        let request_id = stratus_runtime::request_id();
        let account_id = stratus_runtime::account_id(&url.project);
        let event = request_event(&HttpRequest {
            method: parts.method.as_str(),
            raw_path,
            raw_query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
            source_ip: peer.map_or_else(|| "127.0.0.1".to_owned(), |p| p.ip().to_string()),
            request_id: &request_id,
            url_name: &url.function,
            account_id: &account_id,
            now: time::OffsetDateTime::now_utc(),
        });
        let event = Bytes::from(event.to_string());
        let result = self
            .functions
            .invoke_url(url, request_id.clone(), event)
            .await;
        let mut response = match result {
            Ok(done) if done.function_error.is_some() => {
                message(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
            Ok(done) => match response_from_result(&done.payload) {
                Ok(http) => {
                    let mut response = Response::new(Body::from(http.body));
                    *response.status_mut() = http.status;
                    for (name, value) in http.headers {
                        response.headers_mut().append(name, value);
                    }
                    response
                }
                Err(bad) => {
                    tracing::info!(function = %url.function, reason = %bad.0, "function URL result is not a response");
                    message(StatusCode::BAD_GATEWAY, "Internal Server Error")
                }
            },
            Err(RuntimeError::Throttled(_) | RuntimeError::ConcurrencyLimitExceeded(_)) => {
                message(StatusCode::TOO_MANY_REQUESTS, "Rate Exceeded.")
            }
            Err(RuntimeError::TooLarge(_)) => {
                message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
            }
            Err(RuntimeError::NotFound(text)) => message(StatusCode::NOT_FOUND, &text),
            Err(RuntimeError::Unavailable(text)) => message(StatusCode::SERVICE_UNAVAILABLE, &text),
            Err(error) => {
                tracing::error!(%error, function = %url.function, "function URL invocation failed");
                message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        };
        if let Ok(id) = http::HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-requestid", id);
        }
        response
    }

    /// The caller of an `AWS_IAM` URL: a bearer token, or a SigV4 signature (as botocore's
    /// `SigV4Auth` signs requests to IAM-protected function URLs).
    async fn caller(&self, parts: &http::request::Parts, body: &Bytes) -> Option<Principal> {
        let auth = parts
            .headers
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        if let Some(token) = auth.strip_prefix("Bearer ") {
            return self.identity.authenticate_token(token.trim()).await.ok();
        }
        crate::aws_auth::verify_request(&self.identity, parts, body)
            .await
            .ok()
    }
}
