//! `/v1/projects`: projects with their quotas and usage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A project's limits; null is unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct QuotaLimits {
    pub max_storage_bytes: Option<u64>,
    pub max_objects: Option<u64>,
    pub max_functions: Option<u64>,
    pub max_worker_memory_mb: Option<u64>,
    pub max_concurrent_invocations: Option<u64>,
}

/// What a project stores and what it runs now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectUsage {
    pub storage_bytes: u64,
    pub objects: u64,
    pub functions: u64,
    pub worker_memory_mb: u64,
    pub concurrent_invocations: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub project: String,
    pub limits: QuotaLimits,
    pub usage: ProjectUsage,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectList {
    pub projects: Vec<Project>,
}

/// `PUT /v1/projects/NAME/quota` (operators only): an omitted limit keeps its value, null
/// removes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaChangeRequest {
    pub limits: BTreeMap<String, Option<u64>>,
}
