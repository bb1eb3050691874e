//! `/v1/keys`: the caller's project keys (`stratus keys`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use stratus_core::Role;
use stratus_meta::KeyRecord;

use super::caller::Caller;
use super::problem::{ApiResult, Problem, parse_json};
use super::state::AppState;
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<AppState> {
    RouteTable::new()
        .add(Method::GET, "/v1/keys", list_keys)
        .add(Method::POST, "/v1/keys", create_key)
        .add(Method::DELETE, "/v1/keys/{access_key_id}", delete_key)
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
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let request: CreateKey = parse_json(&body, "invalid JSON body")?;
    let role = match request.role.as_deref() {
        None => Role::Member,
        Some(text) => text.parse::<Role>().map_err(|e| Problem::invalid(e.0))?,
    };
    let key = state
        .identity
        .create_key(&caller, &request.project, role)
        .await?;
    Ok((StatusCode::CREATED, Json(key_json(&key, true))))
}

async fn list_keys(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let keys = state.identity.list_keys(&caller).await?;
    Ok(Json(
        json!({ "keys": keys.iter().map(|k| key_json(k, false)).collect::<Vec<_>>() }),
    ))
}

async fn delete_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.identity.delete_key(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
