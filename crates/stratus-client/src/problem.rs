//! The error body of every `/v1` failure.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An RFC 9457 problem document, sent as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProblemDocument {
    /// Always `about:blank`: the status and title say what went wrong.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of failure, e.g. `not found`, `invalid request`, `unauthorized`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
}
