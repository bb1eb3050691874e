//! The project's application ledger: which buckets and functions each application created.
//! It lives beside keys because it is an ownership record of a project, read and written under
//! the same tenancy rule: a caller sees and changes only its own project's applications.

use std::sync::Arc;

use stratus_core::{Action, AppName, AppResources};
use stratus_meta::{AppRecord, AppRepository};

use crate::{IdentityError, IdentityResult, Principal, now_ms};

pub struct Apps {
    repo: Arc<dyn AppRepository>,
}

impl std::fmt::Debug for Apps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apps").finish_non_exhaustive()
    }
}

fn require(caller: &Principal, action: Action) -> IdentityResult<()> {
    if caller.may(action) {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(format!(
            "the {} role of key {} may not do this",
            caller.role.as_str(),
            caller.access_key_id
        )))
    }
}

fn parse_name(name: &str) -> IdentityResult<AppName> {
    AppName::parse(name).map_err(|e| IdentityError::Invalid(e.0))
}

impl Apps {
    #[must_use]
    pub fn new(repo: Arc<dyn AppRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// [`IdentityError::Forbidden`] without read access, storage failures.
    pub async fn list(&self, caller: &Principal) -> IdentityResult<Vec<AppRecord>> {
        require(caller, Action::Read)?;
        Ok(self.repo.list_apps(&caller.project).await?)
    }

    /// The caller's project's application of that name, if any.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`], [`IdentityError::Invalid`] for a bad name, storage failures.
    pub async fn get(&self, caller: &Principal, name: &str) -> IdentityResult<Option<AppRecord>> {
        require(caller, Action::Read)?;
        let name = parse_name(name)?;
        Ok(self.repo.get_app(&caller.project, name.as_str()).await?)
    }

    /// Records (or replaces) what the application owns.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`], [`IdentityError::Invalid`] for bad names, storage failures.
    pub async fn put(
        &self,
        caller: &Principal,
        name: &str,
        resources: AppResources,
        manifest_digest: String,
    ) -> IdentityResult<AppRecord> {
        require(caller, Action::Write)?;
        let name = parse_name(name)?;
        resources
            .validate()
            .map_err(|e| IdentityError::Invalid(e.0))?;
        let record = AppRecord {
            project: caller.project.clone(),
            name: name.as_str().to_owned(),
            resources,
            manifest_digest,
            updated_ms: now_ms(),
        };
        self.repo.put_app(record.clone()).await?;
        Ok(record)
    }

    /// Forgets the application; false when it did not exist. Removing its resources is the
    /// caller's part (each through its own service, which checks tenancy again).
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`], [`IdentityError::Invalid`], storage failures.
    pub async fn delete(&self, caller: &Principal, name: &str) -> IdentityResult<bool> {
        require(caller, Action::Write)?;
        let name = parse_name(name)?;
        Ok(self.repo.delete_app(&caller.project, name.as_str()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_core::Role;
    use stratus_meta::{IdentityRepository, KeyRecord, SqliteMeta};

    fn principal(project: &str, role: Role) -> Principal {
        Principal {
            access_key_id: format!("AK-{project}"),
            project: project.into(),
            role,
            chain_depth: 0,
        }
    }

    #[tokio::test]
    async fn apps_are_invisible_to_other_projects_and_read_only_keys_cannot_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = Arc::new(SqliteMeta::open(&dir.path().join("meta.db")).expect("open"));
        for project in ["p", "q"] {
            meta.create_key(KeyRecord {
                access_key_id: format!("AK-{project}"),
                secret: "s".into(),
                project: project.into(),
                role: Role::Member,
                created_ms: 1,
            })
            .await
            .expect("key");
        }
        let apps = Apps::new(meta);
        let (p, q) = (principal("p", Role::Member), principal("q", Role::Member));
        let resources = AppResources {
            buckets: vec!["scans".into()],
            functions: Vec::new(),
        };
        apps.put(&p, "pipe", resources, "d".into())
            .await
            .expect("put");
        assert!(apps.get(&q, "pipe").await.expect("get").is_none());
        assert!(apps.list(&q).await.expect("list").is_empty());
        assert!(!apps.delete(&q, "pipe").await.expect("delete"));
        assert_eq!(apps.list(&p).await.expect("list").len(), 1);
        let reader = principal("p", Role::ReadOnly);
        assert!(apps.get(&reader, "pipe").await.expect("read").is_some());
        assert!(matches!(
            apps.delete(&reader, "pipe").await,
            Err(IdentityError::Forbidden(_))
        ));
        assert!(matches!(
            apps.get(&p, "no/such").await,
            Err(IdentityError::Invalid(_))
        ));
        let twice = AppResources {
            buckets: vec!["scans".into(), "scans".into()],
            functions: Vec::new(),
        };
        assert!(apps.put(&p, "pipe", twice, "d".into()).await.is_err());
    }
}
