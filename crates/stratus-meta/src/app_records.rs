//! The row of an application: what `stratus apply` created for it in one project.

use stratus_core::AppResources;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    pub project: String,
    pub name: String,
    pub resources: AppResources,
    /// SHA-256 of the manifest last applied, so a client can tell whether it changed.
    pub manifest_digest: String,
    pub updated_ms: i64,
}
