//! The project quotas the function pools enforce: concurrent invocations and worker memory.
//! (The function-count quota is checked by the metadata write that creates a function.)

use std::sync::Arc;

use stratus_identity::Quotas;

use crate::pool::{ProjectLimits, ProjectLoad};
use crate::{Functions, RuntimeError, RuntimeResult};

impl Functions {
    /// Where project quotas come from; set once by the composition root. Without it, projects
    /// are unlimited (as in tests that build the service alone).
    pub fn set_quotas(&self, quotas: Arc<Quotas>) {
        let _ = self.quotas.set(quotas);
    }

    /// What `project` runs now: invocations in flight and the memory of its live workers.
    #[must_use]
    pub fn project_load(&self, project: &str) -> ProjectLoad {
        self.pools.project_load(project)
    }

    /// The project's running-work limits, from the quota cache.
    pub(crate) async fn project_limits(&self, project: &str) -> RuntimeResult<ProjectLimits> {
        let Some(quotas) = self.quotas.get() else {
            return Ok(ProjectLimits::default());
        };
        let limits = quotas.limits(project).await.map_err(|error| {
            RuntimeError::Unavailable(format!("cannot read the project's quotas: {error}"))
        })?;
        Ok(ProjectLimits {
            concurrent_invocations: limits.max_concurrent_invocations,
            worker_memory_mb: limits.max_worker_memory_mb,
        })
    }
}
