//! `/v1/keys`: the caller's project keys (`stratus keys`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::{Method, StatusCode};
use stratus_client::keys::{CreateKey, Key, KeyList};
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
        .add(Method::GET, "/v1/keys/{access_key_id}", show_key)
        .add(Method::DELETE, "/v1/keys/{access_key_id}", delete_key)
}

/// The key as listed; `with_secret` (only when it is created) adds its secret and token.
fn key_of(key: &KeyRecord, with_secret: bool) -> Key {
    Key {
        access_key_id: key.access_key_id.clone(),
        project: key.project.clone(),
        role: key.role.as_str().to_owned(),
        created_ms: key.created_ms,
        secret_access_key: with_secret.then(|| key.secret.clone()),
        token: with_secret.then(|| stratus_identity::bearer_token(key)),
    }
}

/// Creates a key in a project (the caller's own, or any for an operator).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, description = "The new key with its secret and token", body = Key)))]
pub(crate) async fn create_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Key>)> {
    let request: CreateKey = parse_json(&body, "invalid JSON body")?;
    let role = match request.role.as_deref() {
        None => Role::Member,
        Some(text) => text.parse::<Role>().map_err(|e| Problem::invalid(e.0))?,
    };
    let key = state
        .identity
        .create_key(&caller, &request.project, role)
        .await?;
    Ok((StatusCode::CREATED, Json(key_of(&key, true))))
}

/// The keys the caller may see, without secrets.
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses((status = 200, description = "Keys", body = KeyList)))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<KeyList>> {
    let keys = state.identity.list_keys(&caller).await?;
    Ok(Json(KeyList {
        keys: keys.iter().map(|k| key_of(k, false)).collect(),
    }))
}

/// One key the caller may see, without its secret.
#[utoipa::path(get, path = "/v1/keys/{access_key_id}", tag = "keys",
    params(("access_key_id" = String, Path)),
    responses((status = 200, description = "The key", body = Key)))]
pub(crate) async fn show_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Key>> {
    let keys = state.identity.list_keys(&caller).await?;
    keys.iter()
        .find(|key| key.access_key_id == id)
        .map(|key| Json(key_of(key, false)))
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not found",
                format!("no access key {id:?} that you may see"),
            )
        })
}

/// Deletes a key; its token stops working at once.
#[utoipa::path(delete, path = "/v1/keys/{access_key_id}", tag = "keys",
    params(("access_key_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.identity.delete_key(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
