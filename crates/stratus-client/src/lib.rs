//! The bodies of the native REST API under `/v1`: what the server (`stratus-api`) answers and
//! what the CLI reads, one definition for both, so renaming a field breaks the build rather
//! than a client. Every type derives utoipa's `ToSchema`; the server's OpenAPI document
//! (`GET /v1/openapi.json`) is generated from them.
//!
//! This crate knows no HTTP: the server depends on it without pulling in a client.

pub mod apps;
pub mod buckets;
pub mod cost;
pub mod environments;
pub mod events;
pub mod functions;
pub mod keys;
pub mod messaging;
pub mod problem;
pub mod projects;
pub mod system;

pub use problem::ProblemDocument;

/// Raw bytes in a body (an object, a code package): `type: string, format: binary` in the
/// document, which client generators turn into files or byte strings.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(pub Vec<u8>);
