//! Console sessions: a signed-in browser holds an opaque random id in the `stratus_session`
//! cookie; everything else (which key, its CSRF token, when it expires) stays on the server, in
//! memory. A restart therefore signs every browser out, which is the safe direction.
//!
//! The cookie is an ambient credential (the browser attaches it to any request to this origin),
//! so every state-changing request made with it must also carry the session's CSRF token in
//! `X-CSRF-Token` (synchronizer-token pattern); `SameSite=Strict` is the second layer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng as _;
use stratus_identity::{Identity, IdentityError, Principal};

/// The cookie's name.
pub(crate) const COOKIE: &str = "stratus_session";
/// The header that must carry the session's CSRF token on unsafe methods.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends this long after sign-in, however active.
const ABSOLUTE_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// A session ends after this long without a request.
const IDLE_LIFETIME: Duration = Duration::from_secs(3600);

struct Session {
    access_key_id: String,
    csrf_token: String,
    created: Instant,
    last_used: Instant,
}

/// A live session, resolved for one request.
#[derive(Debug, Clone)]
pub(crate) struct SessionView {
    pub principal: Principal,
    pub csrf_token: String,
}

/// The principal a valid session cookie (with its CSRF token, where one was needed) stands
/// for; the edge puts it into the request's extensions for the `/v1` handlers.
#[derive(Debug, Clone)]
pub(crate) struct SessionPrincipal(pub Principal);

/// Every live console session of this process.
#[derive(Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

/// 256 random bits, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// Verifies the key pair and opens a session for it: `(session id, view)`.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for an unknown key or wrong secret.
    pub async fn sign_in(
        &self,
        identity: &Identity,
        access_key_id: &str,
        secret: &str,
    ) -> Result<(String, SessionView), IdentityError> {
        // A '.' would make the token ambiguous; no real key id has one.
        if access_key_id.contains('.') {
            return Err(IdentityError::Forbidden("invalid credentials".into()));
        }
        // authenticate_token compares the secret in constant time.
        let principal = identity
            .authenticate_token(&format!("{access_key_id}.{secret}"))
            .await?;
        let id = random_token();
        let csrf_token = random_token();
        let now = Instant::now();
        self.live
            .lock()
            .map_err(|_| IdentityError::Forbidden("session table unavailable".into()))?
            .insert(
                id.clone(),
                Session {
                    access_key_id: principal.access_key_id.clone(),
                    csrf_token: csrf_token.clone(),
                    created: now,
                    last_used: now,
                },
            );
        Ok((
            id,
            SessionView {
                principal,
                csrf_token,
            },
        ))
    }

    /// The session `id` stands for, if it is live and its key still exists; touching it
    /// restarts its idle clock. Expired sessions and those of deleted keys are dropped here.
    pub async fn resolve(&self, identity: &Identity, id: &str) -> Option<SessionView> {
        let (access_key_id, csrf_token) = {
            let mut live = self.live.lock().ok()?;
            let now = Instant::now();
            live.retain(|_, s| {
                now.duration_since(s.created) < ABSOLUTE_LIFETIME
                    && now.duration_since(s.last_used) < IDLE_LIFETIME
            });
            let session = live.get_mut(id)?;
            session.last_used = now;
            (session.access_key_id.clone(), session.csrf_token.clone())
        };
        match identity.principal(&access_key_id).await {
            Ok(principal) => Some(SessionView {
                principal,
                csrf_token,
            }),
            Err(_) => {
                // The key was deleted (or cannot be read): the session ends with it.
                self.end(id);
                None
            }
        }
    }

    /// Ends a session (sign-out); unknown ids are ignored.
    pub fn end(&self, id: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(id);
        }
    }
}

/// The session id in a request's `Cookie` headers, if any.
pub(crate) fn cookie_value(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Whether the request's `X-CSRF-Token` matches the session's token.
pub(crate) fn csrf_ok(headers: &http::HeaderMap, expected: &str) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| stratus_core::secret::eq(sent.as_bytes(), expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("a=1; stratus_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&headers).as_deref(), Some("abc"));
        headers.insert(http::header::COOKIE, http::HeaderValue::from_static("x=1"));
        assert_eq!(cookie_value(&headers), None);
    }

    #[test]
    fn csrf_needs_the_exact_token() {
        let mut headers = http::HeaderMap::new();
        assert!(!csrf_ok(&headers, "t0k"));
        headers.insert(CSRF_HEADER, http::HeaderValue::from_static("t0x"));
        assert!(!csrf_ok(&headers, "t0k"));
        headers.insert(CSRF_HEADER, http::HeaderValue::from_static("t0k"));
        assert!(csrf_ok(&headers, "t0k"));
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
    }
}
