//! The native REST API under `/v1/`, authenticated with a bearer token. Errors are RFC 9457
//! problem documents (`application/problem+json`).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::routing::{delete, get};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use stratus_core::Role;
use stratus_identity::{Identity, IdentityError, Principal};
use stratus_meta::KeyRecord;
use stratus_store::Store;

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub identity: Arc<Identity>,
    pub functions: Arc<stratus_runtime::Functions>,
    pub apps: Arc<stratus_identity::Apps>,
    pub billing: crate::Billing,
}

pub(crate) fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/v1/health", get(health))
        .route("/v1/keys", get(list_keys).post(create_key))
        .route("/v1/keys/{access_key_id}", delete(delete_key))
        .route("/v1/events", get(recent_events))
        .merge(crate::native_functions::routes())
        .merge(crate::native_urls::routes())
        .merge(crate::code_location::routes())
        .merge(crate::native_environments::routes())
        .merge(crate::native_apps::routes())
        .merge(crate::native_buckets::routes())
        .merge(crate::native_cost::routes())
        .merge(crate::native_cost_compare::routes())
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "not found", "no such endpoint") })
        .with_state(state)
}

/// A problem document response.
pub(crate) fn problem(status: StatusCode, title: &str, detail: &str) -> Response<Body> {
    let body = json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/problem+json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) type ApiResult<T> = Result<T, Response<Body>>;

/// A store error as a problem document.
pub(crate) fn store_problem(error: &stratus_store::StoreError) -> Response<Body> {
    use stratus_store::StoreError as E;
    let (status, title) = match error {
        E::NoSuchBucket | E::NoSuchKey | E::NoSuchUpload => (StatusCode::NOT_FOUND, "not found"),
        E::AccessDenied(_) => (StatusCode::FORBIDDEN, "forbidden"),
        E::BucketAlreadyExists | E::BucketAlreadyOwnedByYou | E::BucketNotEmpty => {
            (StatusCode::CONFLICT, "conflict")
        }
        E::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition failed"),
        E::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "quota exceeded"),
        E::EntityTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too large"),
        E::InvalidPart(_)
        | E::InvalidPartOrder
        | E::EntityTooSmall(_)
        | E::InvalidArgument(_)
        | E::IncompleteBody(_) => (StatusCode::BAD_REQUEST, "invalid request"),
        E::Io(_) | E::Meta(_) => {
            tracing::error!(?error, "store failure");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    };
    problem(status, title, &error.to_string())
}

pub(crate) fn identity_problem(err: IdentityError) -> Response<Body> {
    match err {
        IdentityError::Forbidden(detail) => problem(StatusCode::FORBIDDEN, "forbidden", &detail),
        IdentityError::NotFound(id) => problem(
            StatusCode::NOT_FOUND,
            "not found",
            &format!("access key {id} does not exist"),
        ),
        IdentityError::Invalid(detail) => {
            problem(StatusCode::BAD_REQUEST, "invalid request", &detail)
        }
        IdentityError::Storage(error) => {
            tracing::error!(?error, "identity storage failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "identity storage failed",
            )
        }
    }
}

/// The caller, from `Authorization: Bearer <token>` or a console session (see
/// `Edge::attach_session`, which checked its CSRF token). Every `/v1` router's state names the
/// `Identity` ([`KnowsIdentity`]), so every `/v1` route authenticates the same way.
pub(crate) struct Caller(pub Principal);

/// A router state that can authenticate bearer tokens.
pub(crate) trait KnowsIdentity {
    fn identity(&self) -> &Identity;
}

impl KnowsIdentity for AppState {
    fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl<S: KnowsIdentity + Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response<Body>;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = match parts.extensions.get::<crate::console::SessionPrincipal>() {
            Some(session) => session.0.clone(),
            None => bearer_caller(state.identity(), &parts.headers, "").await?,
        };
        crate::AccessLogCaller::note(&parts.extensions, &principal.project);
        Ok(Caller(principal))
    }
}

/// Authenticates `Authorization: Bearer <token>` (401 problem documents otherwise), with the
/// event-chain depth of the request's trace header. `hint` is appended to the message that asks
/// for a token.
pub(crate) async fn bearer_caller(
    identity: &Identity,
    headers: &http::HeaderMap,
    hint: &str,
) -> ApiResult<Principal> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                &format!("send Authorization: Bearer $STRATUS_TOKEN{hint}"),
            )
        })?;
    let principal = identity
        .authenticate_token(token.trim())
        .await
        .map_err(|err| match err {
            IdentityError::Forbidden(detail) => {
                problem(StatusCode::UNAUTHORIZED, "unauthorized", &detail)
            }
            other => identity_problem(other),
        })?;
    Ok(Principal {
        chain_depth: crate::chain_depth(headers),
        ..principal
    })
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

fn key_json(key: &KeyRecord, with_secret: bool) -> serde_json::Value {
    let mut value = json!({
        "access_key_id": key.access_key_id,
        "project": key.project,
        "role": key.role.as_str(),
        "created_ms": key.created_ms,
    });
    if with_secret {
        value["secret_access_key"] = json!(key.secret);
        value["token"] = json!(stratus_identity::bearer_token(key));
    }
    value
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    project: String,
    #[serde(default)]
    role: Option<String>,
}

async fn create_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let request: CreateKey = serde_json::from_slice(&body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid request",
            &format!("invalid JSON body: {e}"),
        )
    })?;
    let role = match request.role.as_deref() {
        None => Role::Member,
        Some(text) => text
            .parse::<Role>()
            .map_err(|e| problem(StatusCode::BAD_REQUEST, "invalid request", &e.0))?,
    };
    let key = state
        .identity
        .create_key(&caller, &request.project, role)
        .await
        .map_err(identity_problem)?;
    Ok((StatusCode::CREATED, Json(key_json(&key, true))))
}

async fn list_keys(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let keys = state
        .identity
        .list_keys(&caller)
        .await
        .map_err(identity_problem)?;
    Ok(Json(
        json!({ "keys": keys.iter().map(|k| key_json(k, false)).collect::<Vec<_>>() }),
    ))
}

async fn delete_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .identity
        .delete_key(&caller, &id)
        .await
        .map_err(identity_problem)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EventsQuery {
    limit: Option<usize>,
}

/// The newest outbox events with their delivery state (`pending`, `delivered` or `failed` with
/// the reason), read-only. Operators see all events; other callers see only events of their
/// project's buckets.
async fn recent_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = query.limit.unwrap_or(1000).min(10_000);
    let events = state.store.recent_events(limit).await.map_err(|error| {
        tracing::error!(?error, "reading the outbox failed");
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "reading the outbox failed",
        )
    })?;
    let visible: Vec<_> = if caller.is_operator() {
        events
    } else {
        let own = state.store.list_buckets(&caller).await.map_err(|_| {
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "listing buckets failed",
            )
        })?;
        let own: std::collections::HashSet<_> = own.into_iter().map(|b| b.name).collect();
        events
            .into_iter()
            .filter(|e| own.contains(&e.bucket))
            .collect()
    };
    let events: Vec<_> = visible
        .iter()
        .map(|e| {
            json!({
                "id": e.event_id,
                "seq": e.seq,
                "bucket": e.bucket,
                "key": e.key,
                "event_name": e.event_name,
                "target": e.target,
                "payload": e.payload,
                "created_ms": e.created_ms,
                "state": match (e.consumed_ms, &e.failure) {
                    (None, _) => "pending",
                    (Some(_), None) => "delivered",
                    (Some(_), Some(_)) => "failed",
                },
                "consumed_ms": e.consumed_ms,
                "failure": e.failure,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}
