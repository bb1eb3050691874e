//! OSCAR's invocation routes for script services (`stratus apply FDL.yaml`):
//! `POST /run/NAME` runs the service synchronously and answers what OSCAR's supervisor answers
//! (one output file base64-encoded, several as a base64 zip, none: the script's output);
//! `POST /job/NAME` queues a durable asynchronous invocation and answers 201, as OSCAR does.
//!
//! The request body goes to the service's handler (`stratus_oscar.handler`) untouched, wrapped
//! as `{"stratusOscar": "run"|"job", "body": BASE64}`; the handler reads it as OSCAR does (JSON:
//! a storage event or the input file itself; anything else: base64 of the input file).
//!
//! Authentication: OSCAR takes a per-service token or an OIDC token; Stratus takes a bearer
//! token of the service's project (`Authorization: Bearer KEY_ID.SECRET`), like the rest of
//! its native API, so one credential model covers everything. Errors are problem documents.

use std::sync::Arc;

use axum::body::Body;
use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use serde_json::json;
use stratus_identity::Identity;
use stratus_runtime::{Functions, InvokeRequest, RuntimeError};

use crate::native::{bearer_caller, problem, runtime_problem};

/// The handler `stratus apply` gives every script service; only such functions are services.
pub const SERVICE_HANDLER: &str = "stratus_oscar.handler";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Job,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Job => "job",
        }
    }
}

/// `/run/NAME` or `/job/NAME` → the mode and the (percent-decoded) service name.
fn split_path(path: &str) -> Option<(Mode, String)> {
    let (mode, rest) = if let Some(rest) = path.strip_prefix("/run/") {
        (Mode::Run, rest)
    } else {
        (Mode::Job, path.strip_prefix("/job/")?)
    };
    let name = percent_encoding::percent_decode_str(rest.trim_end_matches('/'))
        .decode_utf8()
        .ok()?;
    (!name.is_empty() && !name.contains('/')).then(|| (mode, name.into_owned()))
}

#[derive(Clone)]
pub(crate) struct OscarServices {
    pub functions: Arc<Functions>,
    pub identity: Arc<Identity>,
}

impl OscarServices {
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let Some((mode, name)) = split_path(request.uri().path()) else {
            return problem(
                StatusCode::NOT_FOUND,
                "not found",
                "name a service: POST /run/NAME or /job/NAME",
            );
        };
        if request.method() != Method::POST {
            let mut response = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "script services are invoked with POST",
            );
            response
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
            return response;
        }
        match self.serve(request, mode, &name).await {
            Ok(response) | Err(response) => response,
        }
    }

    async fn serve(
        &self,
        request: Request<Incoming>,
        mode: Mode,
        name: &str,
    ) -> Result<Response<Body>, Response<Body>> {
        let (parts, body) = request.into_parts();
        let caller = bearer_caller(
            &self.identity,
            &parts.headers,
            " (a key of the service's project)",
        )
        .await?;
        let not_a_service = || {
            problem(
                StatusCode::NOT_FOUND,
                "not found",
                &format!(
                    "no script service named {name:?} in project {}",
                    caller.project
                ),
            )
        };
        match self.functions.get(&caller, name, None).await {
            Ok(view) if view.version.config.handler == SERVICE_HANDLER => {}
            Ok(_) | Err(RuntimeError::NotFound(_)) => return Err(not_a_service()),
            Err(error) => return Err(runtime_problem(&error)),
        }
        let body = Limited::new(body, stratus_runtime::MAX_SYNC_PAYLOAD)
            .collect()
            .await
            .map_err(|_| {
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too large",
                    "the request body is larger than an invocation payload may be",
                )
            })?
            .to_bytes();
        let event = json!({
            "stratusOscar": mode.as_str(),
            "body": base64::engine::general_purpose::STANDARD.encode(&body),
        });
        let payload = Bytes::from(event.to_string());
        match mode {
            Mode::Job => self.queue(&caller, name, payload).await,
            Mode::Run => self.run(&caller, name, payload).await,
        }
    }

    /// A durable asynchronous invocation: retried on failure, dead-lettered in the end.
    async fn queue(
        &self,
        caller: &stratus_identity::Principal,
        name: &str,
        payload: Bytes,
    ) -> Result<Response<Body>, Response<Body>> {
        let id = self
            .functions
            .invoke_async(caller, name, None, payload)
            .await
            .map_err(|e| runtime_problem(&e))?;
        Response::builder()
            .status(StatusCode::CREATED)
            .header("x-stratus-invocation-id", id)
            .body(Body::empty())
            .map_err(|_| internal())
    }

    async fn run(
        &self,
        caller: &stratus_identity::Principal,
        name: &str,
        payload: Bytes,
    ) -> Result<Response<Body>, Response<Body>> {
        let request = InvokeRequest {
            qualifier: None,
            payload,
            tail_log: false,
            client_context: None,
        };
        let done = self
            .functions
            .invoke(caller, name, request)
            .await
            .map_err(|e| runtime_problem(&e))?;
        let result: serde_json::Value = serde_json::from_slice(&done.payload).unwrap_or_default();
        if done.function_error.is_some() {
            let reason = result["errorMessage"]
                .as_str()
                .unwrap_or("the service failed");
            return Err(problem(StatusCode::BAD_GATEWAY, "service failed", reason));
        }
        let Some(text) = result["body"].as_str() else {
            return Err(problem(
                StatusCode::BAD_GATEWAY,
                "service failed",
                "the service's handler answered something other than {\"body\": TEXT}",
            ));
        };
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header("x-stratus-request-id", &done.request_id)
            .body(Body::from(text.to_owned()))
            .map_err(|_| internal())
    }
}

fn internal() -> Response<Body> {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error",
        "the response could not be written",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_a_mode_and_a_service() {
        assert_eq!(split_path("/run/upper"), Some((Mode::Run, "upper".into())));
        assert_eq!(split_path("/job/upper/"), Some((Mode::Job, "upper".into())));
        assert_eq!(split_path("/job/a%2Db"), Some((Mode::Job, "a-b".into())));
        assert_eq!(split_path("/run/"), None);
        assert_eq!(split_path("/run/a/b"), None);
        assert_eq!(split_path("/jobs/a"), None);
    }
}
