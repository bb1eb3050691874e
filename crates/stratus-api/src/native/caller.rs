//! The `Caller` extractor: who sends a `/v1` request, from `Authorization: Bearer <token>` or a
//! console session (see `Edge::attach_session`, which already checked its CSRF token).

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::IntoResponse as _;
use http::request::Parts;
use http::{Response, StatusCode};
use stratus_identity::{Identity, IdentityError, Principal};

use super::problem::Problem;

/// The authenticated caller. Every `/v1` router's state names the `Identity`
/// ([`KnowsIdentity`]), so every `/v1` route authenticates the same way.
pub(crate) struct Caller(pub Principal);

/// A router state that can authenticate bearer tokens.
pub(crate) trait KnowsIdentity {
    fn identity(&self) -> &Identity;
}

impl<S: KnowsIdentity + Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = match parts.extensions.get::<crate::console::SessionPrincipal>() {
            Some(session) => session.0.clone(),
            None => authenticate(state.identity(), &parts.headers, "").await?,
        };
        crate::AccessLogCaller::note(&parts.extensions, &principal.project);
        Ok(Caller(principal))
    }
}

/// Authenticates `Authorization: Bearer <token>` (401 otherwise), with the event-chain depth of
/// the request's trace header. `hint` is appended to the message that asks for a token.
pub(crate) async fn authenticate(
    identity: &Identity,
    headers: &http::HeaderMap,
    hint: &str,
) -> Result<Principal, Problem> {
    let unauthorized =
        |detail: String| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized(format!("send Authorization: Bearer $STRATUS_TOKEN{hint}")))?;
    let principal = identity
        .authenticate_token(token.trim())
        .await
        .map_err(|err| match err {
            IdentityError::Forbidden(detail) => unauthorized(detail),
            other => Problem::from(other),
        })?;
    Ok(Principal {
        chain_depth: crate::chain_depth(headers),
        ..principal
    })
}

/// [`authenticate`] for the edge's other bearer-token services (metrics, OSCAR), which answer
/// with finished responses.
pub(crate) async fn bearer_caller(
    identity: &Identity,
    headers: &http::HeaderMap,
    hint: &str,
) -> Result<Principal, Response<Body>> {
    authenticate(identity, headers, hint)
        .await
        .map_err(|problem| problem.into_response())
}
