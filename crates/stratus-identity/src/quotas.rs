//! Per-project quotas: who may read and set them, cached for the invocation path.
//!
//! Storage and function-count limits are enforced by the metadata writes themselves (inside
//! their transactions, so concurrent writes cannot pass a limit together); the runtime asks
//! [`Quotas::limits`] for the concurrency and worker-memory limits on every acquire, hence the
//! cache. Only this process sets quotas, so updating the cache on set keeps it exact.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use stratus_core::{Action, ProjectName};
use stratus_meta::{QuotaLimits, QuotaRepository, StoredUsage};

use crate::{IdentityError, IdentityResult, Principal};

/// A change to a project's limits: `None` keeps a limit, `Some(None)` removes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaChange {
    pub max_storage_bytes: Option<Option<u64>>,
    pub max_objects: Option<Option<u64>>,
    pub max_functions: Option<Option<u64>>,
    pub max_worker_memory_mb: Option<Option<u64>>,
    pub max_concurrent_invocations: Option<Option<u64>>,
}

impl QuotaChange {
    fn apply(self, mut limits: QuotaLimits) -> QuotaLimits {
        let merge = |old: &mut Option<u64>, new: Option<Option<u64>>| {
            if let Some(new) = new {
                *old = new;
            }
        };
        merge(&mut limits.max_storage_bytes, self.max_storage_bytes);
        merge(&mut limits.max_objects, self.max_objects);
        merge(&mut limits.max_functions, self.max_functions);
        merge(&mut limits.max_worker_memory_mb, self.max_worker_memory_mb);
        merge(
            &mut limits.max_concurrent_invocations,
            self.max_concurrent_invocations,
        );
        limits
    }
}

pub struct Quotas {
    repo: Arc<dyn QuotaRepository>,
    cache: RwLock<HashMap<String, QuotaLimits>>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas").finish_non_exhaustive()
    }
}

fn poisoned() -> IdentityError {
    IdentityError::Invalid("quota cache poisoned by an earlier panic".into())
}

/// Operators see every project; anyone else (any role, read-only included) only their own.
fn require_reader(caller: &Principal, project: &str) -> IdentityResult<()> {
    if caller.is_operator() || (caller.project == project && caller.may(Action::Read)) {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(format!(
            "a key of project {} cannot read project {project}",
            caller.project
        )))
    }
}

impl Quotas {
    #[must_use]
    pub fn new(repo: Arc<dyn QuotaRepository>) -> Self {
        Self {
            repo,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The project's limits, for the platform's own checks (no caller check).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn limits(&self, project: &str) -> IdentityResult<QuotaLimits> {
        if let Some(limits) = self.cache.read().map_err(|_| poisoned())?.get(project) {
            return Ok(*limits);
        }
        let limits = self.repo.get_quota(project).await?;
        self.cache
            .write()
            .map_err(|_| poisoned())?
            .entry(project.to_owned())
            .or_insert(limits);
        Ok(limits)
    }

    /// The project's limits, for a caller allowed to see them.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for another project's non-operator key.
    pub async fn get(&self, caller: &Principal, project: &str) -> IdentityResult<QuotaLimits> {
        require_reader(caller, project)?;
        self.limits(project).await
    }

    /// Changes a project's limits (operators only) and returns the limits now in force.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for non-operators, [`IdentityError::Invalid`] for a bad name.
    pub async fn set(
        &self,
        caller: &Principal,
        project: &str,
        change: QuotaChange,
    ) -> IdentityResult<QuotaLimits> {
        if !caller.is_operator() {
            return Err(IdentityError::Forbidden(
                "only operators (admin keys of project admin) set quotas".into(),
            ));
        }
        let project = ProjectName::parse(project).map_err(|e| IdentityError::Invalid(e.0))?;
        let limits = change.apply(self.repo.get_quota(project.as_str()).await?);
        self.repo.set_quota(project.as_str(), limits).await?;
        self.cache
            .write()
            .map_err(|_| poisoned())?
            .insert(project.as_str().to_owned(), limits);
        Ok(limits)
    }

    /// Stored usage (bytes, objects, functions) of the projects the caller may see: every known
    /// project for operators, their own otherwise.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn visible_usage(&self, caller: &Principal) -> IdentityResult<Vec<StoredUsage>> {
        let scope = (!caller.is_operator()).then_some(caller.project.as_str());
        let mut rows = self.repo.stored_usage(scope).await?;
        if let Some(own) = scope
            && rows.is_empty()
        {
            rows.push(StoredUsage {
                project: own.to_owned(),
                ..StoredUsage::default()
            });
        }
        Ok(rows)
    }

    /// Stored usage of one project the caller may see.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for another project's non-operator key.
    pub async fn usage(&self, caller: &Principal, project: &str) -> IdentityResult<StoredUsage> {
        require_reader(caller, project)?;
        Ok(self
            .repo
            .stored_usage(Some(project))
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| StoredUsage {
                project: project.to_owned(),
                ..StoredUsage::default()
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_core::Role;
    use stratus_meta::SqliteMeta;

    fn principal(project: &str, role: Role) -> Principal {
        Principal {
            access_key_id: "AK".into(),
            project: project.into(),
            role,
            chain_depth: 0,
        }
    }

    #[test]
    fn a_change_keeps_omitted_limits_and_removes_nulls() {
        let old = QuotaLimits {
            max_objects: Some(5),
            max_functions: Some(2),
            ..QuotaLimits::default()
        };
        let change = QuotaChange {
            max_functions: Some(None),
            max_storage_bytes: Some(Some(10)),
            ..QuotaChange::default()
        };
        let new = change.apply(old);
        assert_eq!(new.max_objects, Some(5));
        assert_eq!(new.max_functions, None);
        assert_eq!(new.max_storage_bytes, Some(10));
    }

    #[tokio::test]
    async fn only_operators_set_and_projects_read_their_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
        let quotas = Quotas::new(Arc::new(meta));
        let change = QuotaChange {
            max_objects: Some(Some(3)),
            ..QuotaChange::default()
        };
        let team_admin = principal("team", Role::Admin);
        assert!(matches!(
            quotas.set(&team_admin, "team", change).await,
            Err(IdentityError::Forbidden(_))
        ));
        let operator = principal(crate::OPERATOR_PROJECT, Role::Admin);
        quotas.set(&operator, "team", change).await.expect("set");
        let reader = principal("team", Role::ReadOnly);
        assert_eq!(
            quotas.get(&reader, "team").await.expect("own").max_objects,
            Some(3)
        );
        assert!(
            quotas
                .get(&principal("other", Role::Admin), "team")
                .await
                .is_err()
        );
        assert!(quotas.set(&operator, "Bad Name!", change).await.is_err());
    }
}
