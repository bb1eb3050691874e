//! GetFunction's `Code.Location`: like Lambda's presigned S3 URL, a link anyone holding it can
//! download the version's zip from for ten minutes, with no other credentials. It is signed
//! with the secret of the function's own execution key, so it dies with the function.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use stratus_identity::Identity;
use stratus_meta::FunctionRecord;

use crate::native::table::RouteTable;
use crate::native::{AppState, problem};
use crate::sigv4::hmac;

/// How long a code location stays valid: Lambda's presigned URLs last ten minutes.
const VALID_FOR_S: i64 = 600;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new().add(Method::GET, "/v1/functions/{name}/code", download)
}

fn string_to_sign(project: &str, name: &str, version: &str, expires: i64) -> String {
    format!("stratus-code\n{project}\n{name}\n{version}\n{expires}")
}

async fn execution_secret(identity: &Identity, function: &FunctionRecord) -> Option<String> {
    identity
        .lookup(&function.execution_key)
        .await
        .ok()
        .flatten()
        .map(|key| key.secret)
}

/// The presigned location of one version's code, or `None` when the function's key is gone.
pub(crate) async fn location(
    identity: &Arc<Identity>,
    endpoint: &str,
    function: &FunctionRecord,
    version: &str,
) -> Option<String> {
    let secret = execution_secret(identity, function).await?;
    let expires = stratus_runtime::now_ms() / 1000 + VALID_FOR_S;
    let signature = hmac(
        secret.as_bytes(),
        string_to_sign(&function.project, &function.name, version, expires).as_bytes(),
    );
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    Some(format!(
        "{endpoint}/v1/functions/{}/code?project={}&version={}&expires={expires}&signature={}",
        encode(&function.name),
        encode(&function.project),
        encode(version),
        hex::encode(signature)
    ))
}

#[derive(Deserialize)]
pub(crate) struct Signed {
    project: String,
    version: String,
    expires: i64,
    signature: String,
}

/// GetFunction's presigned code link: the version's zip, for whoever holds a valid signature.
#[utoipa::path(get, operation_id = "download_function_code", path = "/v1/functions/{name}/code", tag = "functions", security(()),
    params(("name" = String, Path),
        ("project" = String, Query), ("version" = String, Query),
        ("expires" = i64, Query, description = "Unix seconds"), ("signature" = String, Query)),
    responses((status = 200, description = "The code package", body = stratus_client::Binary, content_type = "application/zip")))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(signed): Query<Signed>,
) -> Response<Body> {
    let denied = || {
        problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the code location is invalid or has expired; call GetFunction for a fresh one",
        )
    };
    if signed.expires < stratus_runtime::now_ms() / 1000 {
        return denied();
    }
    let Ok((view, path)) = state
        .functions
        .code_package(&signed.project, &name, &signed.version)
        .await
    else {
        return denied();
    };
    let Some(secret) = execution_secret(&state.identity, &view.function).await else {
        return denied();
    };
    let expected = hmac(
        secret.as_bytes(),
        string_to_sign(&signed.project, &name, &signed.version, signed.expires).as_bytes(),
    );
    let given = hex::decode(&signed.signature).unwrap_or_default();
    if !stratus_core::secret::eq(&given, &expected) {
        return denied();
    }
    match tokio::fs::read(&path).await {
        Ok(zip) => Response::builder()
            .header(http::header::CONTENT_TYPE, "application/zip")
            .body(Body::from(zip))
            .unwrap_or_default(),
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot read a code package");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "the code package cannot be read",
            )
        }
    }
}
