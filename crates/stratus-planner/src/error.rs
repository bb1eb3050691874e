//! Parse errors; each names the offending field and, where there is one, the component.

use thiserror::Error;

/// Why a system description or solution file could not be turned into the typed model.
#[derive(Debug, Error, PartialEq)]
pub enum ParseError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("missing field `{field}` in {context}")]
    Missing { field: String, context: String },
    #[error("field `{field}` in {context} has the wrong type: expected {expected}")]
    WrongType {
        field: String,
        context: String,
        expected: &'static str,
    },
    #[error("component `{component}`: {message}")]
    Component { component: String, message: String },
    #[error("unknown resource `{resource}` referenced in {context}")]
    UnknownResource { resource: String, context: String },
    #[error("unknown component `{component}` referenced in {context}")]
    UnknownComponent { component: String, context: String },
}
