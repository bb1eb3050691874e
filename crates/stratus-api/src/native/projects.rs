//! `/v1/projects`: projects with their quotas and usage (the web console's admin pages and
//! `stratus quota` / `stratus projects`).
//!
//! `GET /v1/projects` lists every project for operators and the caller's own otherwise;
//! `GET /v1/projects/{project}/quota` answers `{"project", "limits", "usage"}`;
//! `PUT /v1/projects/{project}/quota` takes `{"limits": {...}}` (operators only): an omitted
//! limit keeps its value, `null` removes it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::{Method, StatusCode};
use serde_json::{Map, Value};
use stratus_client::projects::{
    Project, ProjectList, ProjectUsage, QuotaChangeRequest, QuotaLimits as Limits,
};
use stratus_core::ProjectName;
use stratus_identity::{Identity, QuotaChange, Quotas};
use stratus_meta::{QuotaLimits, StoredUsage};
use stratus_runtime::Functions;

use super::caller::{Caller, KnowsIdentity};
use super::problem::{ApiResult, Problem};
use super::table::RouteTable;

pub(crate) fn table() -> RouteTable<ProjectsState> {
    RouteTable::new()
        .add(Method::GET, "/v1/projects", list_projects)
        .add(Method::GET, "/v1/projects/{project}/quota", show_quota)
        .add(Method::PUT, "/v1/projects/{project}/quota", set_quota)
}

#[derive(Clone)]
pub(crate) struct ProjectsState {
    identity: Arc<Identity>,
    quotas: Arc<Quotas>,
    functions: Arc<Functions>,
}

pub(crate) fn routes(
    identity: Arc<Identity>,
    quotas: Arc<Quotas>,
    functions: Arc<Functions>,
) -> axum::Router {
    table().into_router().with_state(ProjectsState {
        identity,
        quotas,
        functions,
    })
}

/// The names of the limits, as JSON and the CLI spell them.
pub(crate) const LIMIT_NAMES: [&str; 5] = [
    "max_storage_bytes",
    "max_objects",
    "max_functions",
    "max_worker_memory_mb",
    "max_concurrent_invocations",
];

fn limits_of(limits: QuotaLimits) -> Limits {
    Limits {
        max_storage_bytes: limits.max_storage_bytes,
        max_objects: limits.max_objects,
        max_functions: limits.max_functions,
        max_worker_memory_mb: limits.max_worker_memory_mb,
        max_concurrent_invocations: limits.max_concurrent_invocations,
    }
}

impl ProjectsState {
    /// One project's document: its limits, what it stores and what it runs now.
    async fn document(&self, stored: StoredUsage) -> ApiResult<Project> {
        let limits = self.quotas.limits(&stored.project).await?;
        let load = self.functions.project_load(&stored.project);
        Ok(Project {
            limits: limits_of(limits),
            usage: ProjectUsage {
                storage_bytes: stored.storage_bytes,
                objects: stored.objects,
                functions: stored.functions,
                worker_memory_mb: load.worker_memory_mb,
                concurrent_invocations: load.concurrent_invocations,
            },
            project: stored.project,
        })
    }
}

impl KnowsIdentity for ProjectsState {
    fn identity(&self) -> &Identity {
        &self.identity
    }
}

/// The project named in the path, or why it is no project name.
fn project_name(raw: &str) -> Result<String, String> {
    ProjectName::parse(raw)
        .map(|name| name.as_str().to_owned())
        .map_err(|e| e.0)
}

fn invalid(why: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid request", why)
}

/// Every project for operators, the caller's own otherwise.
#[utoipa::path(get, path = "/v1/projects", tag = "projects",
    responses((status = 200, description = "Projects", body = ProjectList)))]
pub(crate) async fn list_projects(
    State(state): State<ProjectsState>,
    Caller(caller): Caller,
) -> ApiResult<Json<ProjectList>> {
    let rows = state.quotas.visible_usage(&caller).await?;
    let mut projects = Vec::with_capacity(rows.len());
    for row in rows {
        projects.push(state.document(row).await?);
    }
    Ok(Json(ProjectList { projects }))
}

/// The project's limits and usage.
#[utoipa::path(get, path = "/v1/projects/{project}/quota", tag = "projects",
    params(("project" = String, Path)),
    responses((status = 200, description = "The project", body = Project)))]
pub(crate) async fn show_quota(
    State(state): State<ProjectsState>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> ApiResult<Json<Project>> {
    let project = project_name(&project).map_err(|why| invalid(&why))?;
    let stored = state.quotas.usage(&caller, &project).await?;
    Ok(Json(state.document(stored).await?))
}

/// Changes the project's limits (operators only).
#[utoipa::path(put, path = "/v1/projects/{project}/quota", tag = "projects",
    params(("project" = String, Path)), request_body = QuotaChangeRequest,
    responses((status = 200, description = "The project with its new limits", body = Project)))]
pub(crate) async fn set_quota(
    State(state): State<ProjectsState>,
    Path(project): Path<String>,
    Caller(caller): Caller,
    body: Bytes,
) -> ApiResult<Json<Project>> {
    let project = project_name(&project).map_err(|why| invalid(&why))?;
    let change = parse_change(&body).map_err(|why| invalid(&why))?;
    state.quotas.set(&caller, &project, change).await?;
    let stored = state.quotas.usage(&caller, &project).await?;
    Ok(Json(state.document(stored).await?))
}

/// Reads `{"limits": {NAME: int | null, ...}}`; anything else is refused whole, so a bad
/// request changes nothing.
fn parse_change(body: &[u8]) -> Result<QuotaChange, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(Value::Object(limits)) = document.get("limits") else {
        return Err(r#"expected {"limits": {...}}"#.into());
    };
    if let Value::Object(top) = &document
        && let Some(extra) = top.keys().find(|k| *k != "limits")
    {
        return Err(format!("unknown field {extra:?}"));
    }
    change_from(limits)
}

fn change_from(limits: &Map<String, Value>) -> Result<QuotaChange, String> {
    if let Some(unknown) = limits.keys().find(|k| !LIMIT_NAMES.contains(&k.as_str())) {
        return Err(format!(
            "unknown limit {unknown:?}; the limits are {}",
            LIMIT_NAMES.join(", ")
        ));
    }
    let field = |name: &str| -> Result<Option<Option<u64>>, String> {
        match limits.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => value.as_u64().map(|n| Some(Some(n))).ok_or_else(|| {
                format!("{name} must be a non-negative integer or null, not {value}")
            }),
        }
    };
    Ok(QuotaChange {
        max_storage_bytes: field("max_storage_bytes")?,
        max_objects: field("max_objects")?,
        max_functions: field("max_functions")?,
        max_worker_memory_mb: field("max_worker_memory_mb")?,
        max_concurrent_invocations: field("max_concurrent_invocations")?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_change;

    #[test]
    fn partial_changes_nulls_and_garbage() {
        let change = parse_change(br#"{"limits": {"max_objects": 5, "max_functions": null}}"#)
            .expect("valid");
        assert_eq!(change.max_objects, Some(Some(5)));
        assert_eq!(change.max_functions, Some(None));
        assert_eq!(change.max_storage_bytes, None);
        for bad in [
            &br#"{"limits": {"max_objects": -1}}"#[..],
            br#"{"limits": {"max_objects": "ten"}}"#,
            br#"{"limits": {"max_objects": 1.5}}"#,
            br#"{"limits": {"max_buckets": 1}}"#,
            br#"{"limits": 3}"#,
            br#"{"max_objects": 3}"#,
            br#"{"limits": {}, "extra": 1}"#,
            b"not json",
        ] {
            assert!(
                parse_change(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
