//! `GET /v1/health`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` while the server answers.
    pub status: String,
    /// The server's version.
    pub version: String,
}
