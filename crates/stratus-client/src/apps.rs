//! `/v1/apps`: what each application (`stratus apply`) created.

use serde::{Deserialize, Serialize};
use stratus_core::AppResources;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub name: String,
    /// The functions and buckets the application owns.
    #[schema(value_type = Object)]
    pub resources: AppResources,
    pub manifest_digest: String,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppList {
    pub apps: Vec<App>,
}

/// `PUT /v1/apps/NAME`: records what the application owns now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordApp {
    #[schema(value_type = Object)]
    pub resources: AppResources,
    #[serde(default)]
    pub manifest_digest: String,
}

/// A bucket a teardown kept, and why (not empty, or not the caller's to delete).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeptBucket {
    pub name: String,
    pub reason: String,
}

/// The answer to `DELETE /v1/apps/NAME`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppTeardown {
    pub name: String,
    pub deleted_functions: Vec<String>,
    pub deleted_buckets: Vec<String>,
    pub kept_buckets: Vec<KeptBucket>,
}
