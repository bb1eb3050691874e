//! SigV4 authentication for the AWS protocols other than S3: verify the signature against the
//! key's secret and turn the key into a principal. Errors come back as `(code, message)` in
//! the names every AWS JSON service uses, for each protocol to wrap in its own format.

use stratus_identity::{Identity, IdentityError, Principal};

use crate::sigv4::{self, SigV4Error, SignedParts};

pub(crate) type AuthError = (&'static str, String);

/// Verifies a request whose body has been read in full: the path, query and headers as received.
pub(crate) async fn verify_request(
    identity: &Identity,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Principal, AuthError> {
    let signed = SignedParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let principal = verify(identity, &signed).await?;
    crate::AccessLogCaller::note(&parts.extensions, &principal.project);
    Ok(principal)
}

pub(crate) async fn verify(
    identity: &Identity,
    parts: &SignedParts<'_>,
) -> Result<Principal, AuthError> {
    let auth = sigv4::parse(parts).map_err(signature_error)?;
    let key = match identity.lookup(&auth.access_key).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            return Err((
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ));
        }
        Err(error) => {
            tracing::error!(?error, "key lookup failed");
            return Err(("ServiceException", "identity lookup failed".into()));
        }
    };
    sigv4::verify(parts, &auth, &key.secret, time::OffsetDateTime::now_utc())
        .map_err(signature_error)?;
    identity
        .principal(&key.access_key_id)
        .await
        .map_err(|error| match error {
            IdentityError::NotFound(_) => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            other => ("ServiceException", other.to_string()),
        })
}

fn signature_error(error: SigV4Error) -> AuthError {
    match error {
        SigV4Error::Missing => (
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ),
        SigV4Error::Malformed(message) => ("IncompleteSignatureException", message),
        SigV4Error::Expired(message) => ("InvalidSignatureException", message),
        SigV4Error::Mismatch => (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.".into(),
        ),
    }
}
