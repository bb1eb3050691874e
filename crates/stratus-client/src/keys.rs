//! `/v1/keys`: access keys and the bearer tokens made from them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Key {
    pub access_key_id: String,
    pub project: String,
    /// `operator`, `member` or `reader`.
    pub role: String,
    pub created_ms: i64,
    /// Only in the answer to the key's creation: it is never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    /// The bearer token (`STRATUS_TOKEN`), only when the key is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<Key>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub project: String,
    /// `member` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}
