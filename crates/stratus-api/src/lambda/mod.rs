//! The Lambda API (REST-JSON, `/2015-03-31/functions/...`), signed with SigV4 for `lambda`.
//! Requests are buffered (Lambda's bodies are bounded: 6 MB invokes, 50 MB zipped code), their
//! signature verified, then routed by method and path to the function service.

mod errors;
mod event_invoke_config;
mod handlers;
mod invoke;
mod mappings;
mod model;
mod url_config;

use std::sync::Arc;

use axum::body::Body;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use stratus_events::mappings::Mappings;
use stratus_identity::{Identity, Principal};
use stratus_runtime::Functions;
use stratus_store::Store;

pub(crate) use errors::lambda_error;

/// The largest request body read: a 50 MB zip, base64-encoded inside JSON.
const MAX_BODY: usize = 72 * 1024 * 1024;

#[derive(Clone)]
pub(crate) struct LambdaApi {
    pub functions: Arc<Functions>,
    pub identity: Arc<Identity>,
    pub store: Arc<Store>,
    pub mappings: Arc<Mappings>,
}

/// A verified request: who sent it and what.
pub(crate) struct Call {
    pub caller: Principal,
    pub method: Method,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Call {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl LambdaApi {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let call = match self.authenticate(request).await {
            Ok(call) => call,
            Err(response) => return response,
        };
        handlers::route(self, call).await
    }

    async fn authenticate(&self, request: Request<Incoming>) -> Result<Call, Response<Body>> {
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return Err(lambda_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
                ));
            }
        };
        let raw_path = parts.uri.path().to_owned();
        let raw_query = parts.uri.query().unwrap_or("").to_owned();
        let caller = crate::aws_auth::verify_request(&self.identity, &parts, &body)
            .await
            .map_err(|(code, message)| lambda_error(StatusCode::FORBIDDEN, code, &message))?;
        let segments = raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let query = crate::form_pairs(raw_query.as_bytes()).collect();
        Ok(Call {
            caller,
            method: parts.method,
            segments,
            query,
            headers: parts.headers,
            body,
        })
    }
}
