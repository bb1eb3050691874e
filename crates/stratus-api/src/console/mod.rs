//! The web console: static files at `/` and `/console/...`, and the session API at
//! `/console/api/session` (sign in with an access key pair, read the session, sign out). The
//! pages themselves call the `/v1` API with the session cookie and the CSRF header; see
//! `docs/console.md`.

mod assets;
pub(crate) mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use stratus_identity::Identity;

use crate::native::problem;
pub(crate) use session::{SessionPrincipal, Sessions};

/// How long a failed sign-in waits before answering, so guessing is slow and a wrong key id
/// cannot be told from a wrong secret by timing.
const FAILED_SIGN_IN_DELAY: Duration = Duration::from_millis(300);
/// Sign-in bodies are two short strings.
const MAX_SIGN_IN_BYTES: usize = 4096;

/// Serves the console and its sessions.
#[derive(Clone)]
pub(crate) struct Console {
    pub identity: Arc<Identity>,
    pub sessions: Arc<Sessions>,
}

/// Whether an unsigned request is for the console: anything under `/console`, or a browser's
/// `GET /` (no query, `Accept` naming `text/html`, as every browser's navigation does). An
/// SDK's anonymous ListBuckets on `/` asks for no HTML and still gets S3's `AccessDenied`.
pub(crate) fn is_console_request(
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> bool {
    let path = uri.path();
    if path == "/console" || path.starts_with("/console/") {
        return true;
    }
    let wants_html = headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    path == "/"
        && uri.query().is_none_or(str::is_empty)
        && (method == Method::GET || method == Method::HEAD)
        && wants_html
}

/// The headers every console response carries: nothing but our own files may run
/// (`default-src 'self'` rules out inline scripts), no MIME sniffing, no framing.
fn secure(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn view_json(view: &session::SessionView) -> serde_json::Value {
    let p = &view.principal;
    json!({
        "project": p.project,
        "role": p.role.as_str(),
        "access_key_id": p.access_key_id,
        "operator": p.is_operator(),
        "csrf_token": view.csrf_token,
    })
}

/// `Set-Cookie` for a session id; an empty id with max-age 0 clears it. `Secure` only over
/// TLS: a `Secure` cookie over plain http would never come back.
fn set_cookie(id: &str, over_tls: bool) -> String {
    let max_age = if id.is_empty() { 0 } else { 12 * 3600 };
    let secure = if over_tls { "; Secure" } else { "" };
    format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        session::COOKIE
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    access_key_id: String,
    secret_access_key: String,
}

impl Console {
    pub async fn handle(&self, request: Request<Body>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let response = if path == "/console/api/session" {
            self.session_api(request).await
        } else {
            Self::asset(request.method(), &path)
        };
        secure(response)
    }

    fn asset(method: &Method, path: &str) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            return problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "the console's files are read with GET",
            );
        }
        let relative = match path {
            "/" | "/console" | "/console/" => "index.html",
            other => other.trim_start_matches("/console/"),
        };
        let Some(asset) = assets::find(relative) else {
            return problem(StatusCode::NOT_FOUND, "not found", "no such console file");
        };
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(asset.body)
        };
        Response::builder()
            .header(http::header::CONTENT_TYPE, asset.content_type)
            .header(http::header::CONTENT_LENGTH, asset.body.len())
            // Embedded files change only with the binary; revalidating is cheap on loopback.
            .header(http::header::CACHE_CONTROL, "no-cache")
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }

    async fn session_api(&self, request: Request<Body>) -> Response<Body> {
        let over_tls = request.extensions().get::<crate::OverTls>().is_some()
            || request.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
        let cookie = session::cookie_value(request.headers());
        let current = match &cookie {
            Some(id) => self.sessions.resolve(&self.identity, id).await,
            None => None,
        };
        match *request.method() {
            Method::GET => match current {
                Some(view) => json_response(StatusCode::OK, &view_json(&view)),
                None => problem(StatusCode::UNAUTHORIZED, "unauthorized", "not signed in"),
            },
            Method::DELETE => match (cookie, current) {
                (Some(id), Some(view)) => {
                    if !session::csrf_ok(request.headers(), &view.csrf_token) {
                        return problem(
                            StatusCode::FORBIDDEN,
                            "forbidden",
                            "missing or wrong X-CSRF-Token header",
                        );
                    }
                    self.sessions.end(&id);
                    let mut response = Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .body(Body::empty())
                        .unwrap_or_else(|_| Response::new(Body::empty()));
                    if let Ok(value) = HeaderValue::from_str(&set_cookie("", over_tls)) {
                        response
                            .headers_mut()
                            .insert(http::header::SET_COOKIE, value);
                    }
                    response
                }
                _ => problem(StatusCode::UNAUTHORIZED, "unauthorized", "not signed in"),
            },
            Method::POST => self.sign_in(request, over_tls).await,
            _ => problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "use GET, POST or DELETE",
            ),
        }
    }

    async fn sign_in(&self, request: Request<Body>, over_tls: bool) -> Response<Body> {
        let bytes = match axum::body::to_bytes(request.into_body(), MAX_SIGN_IN_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid request",
                    "the sign-in body is unreadable or too large",
                );
            }
        };
        let form: SignIn = match serde_json::from_slice(&bytes) {
            Ok(form) => form,
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid request",
                    &format!("expected {{\"access_key_id\", \"secret_access_key\"}}: {e}"),
                );
            }
        };
        match self
            .sessions
            .sign_in(
                &self.identity,
                form.access_key_id.trim(),
                form.secret_access_key.trim(),
            )
            .await
        {
            Ok((id, view)) => {
                let mut response = json_response(StatusCode::OK, &view_json(&view));
                if let Ok(value) = HeaderValue::from_str(&set_cookie(&id, over_tls)) {
                    response
                        .headers_mut()
                        .insert(http::header::SET_COOKIE, value);
                }
                response
            }
            Err(stratus_identity::IdentityError::Forbidden(_)) => {
                tokio::time::sleep(FAILED_SIGN_IN_DELAY).await;
                problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "wrong access key id or secret",
                )
            }
            Err(other) => crate::native::identity_problem(other),
        }
    }
}
