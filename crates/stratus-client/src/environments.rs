//! `/v1/environments`: Python dependency environments built from a `requirements.txt`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Environment {
    /// The hash of the interpreter tag and the requirements.
    pub hash: String,
    pub python: String,
    pub size_bytes: u64,
    pub created_ms: i64,
    pub build_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentList {
    /// The interpreter tag clients hash requirements with; null when Python is not available.
    pub python: Option<String>,
    pub environments: Vec<Environment>,
}

/// One line of the `application/x-ndjson` answer to `PUT /v1/environments/HASH`: pip's output
/// as it happens, `waiting` while another request builds the same environment, and last
/// `done` or `failed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum BuildEvent {
    Output {
        line: String,
    },
    Waiting,
    Done {
        /// `built` by this request, or `cached`.
        status: String,
        environment: Environment,
    },
    Failed {
        error: String,
    },
}
