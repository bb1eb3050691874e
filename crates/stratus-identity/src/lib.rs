//! Identity and tenancy: who is calling, which project they act for, and what their role allows.
//!
//! Every resource belongs to a project. An access key binds a caller to one project and a role.
//! Keys of the bootstrap project `admin` with the admin role are operators: they manage keys of
//! every project. An admin key of any other project manages only its own project's keys.
//!
//! Files:
//! - `lib.rs` — `Identity`: generates keys, bootstraps the operator key, authenticates bearer
//!   tokens and SigV4 key ids (lookups cached: every signed request needs one), and decides who
//!   may manage which keys; `Principal`, the authenticated caller every domain call takes.
//! - `quotas.rs` — `Quotas`: per-project limits, who may read and set them, cached for the
//!   invocation path.
//! - `apps.rs` — `Apps`: the project's application ledger (what each `stratus apply`
//!   application created), an ownership record like the keys.

mod apps;
mod quotas;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rand::RngExt as _;
use rand::distr::Alphanumeric;
use stratus_core::{Action, ProjectName, Role};
use stratus_meta::{IdentityRepository, KeyRecord, MetaError};

pub use apps::Apps;
pub use quotas::{QuotaChange, Quotas};

/// The project created at first start; its admin keys operate the whole server.
pub const OPERATOR_PROJECT: &str = "admin";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub project: String,
    pub role: Role,
    /// How many event-triggered invocations led to this request (the `Lineage` of its trace
    /// header; see `stratus_core::lineage`): 0 unless a triggered function is calling. Writes
    /// pass it on to the events they cause, which is how an upload loop is stopped.
    pub chain_depth: u32,
}

impl Principal {
    #[must_use]
    pub fn may(&self, action: Action) -> bool {
        self.role.allows(action)
    }

    #[must_use]
    pub fn is_operator(&self) -> bool {
        self.role == Role::Admin && self.project == OPERATOR_PROJECT
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("access denied: {0}")]
    Forbidden(String),
    #[error("access key {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("identity storage failed")]
    Storage(#[source] MetaError),
}

impl From<MetaError> for IdentityError {
    fn from(err: MetaError) -> Self {
        IdentityError::Storage(err)
    }
}

pub type IdentityResult<T> = Result<T, IdentityError>;

/// Key management and lookup, with a read-through cache because every signed request looks up
/// its key.
pub struct Identity {
    repo: Arc<dyn IdentityRepository>,
    cache: RwLock<KeyCache>,
}

/// Looked-up keys, and the ids deleted by this process. A lookup that read the database just
/// before a delete committed must not put the deleted key back: ids are random and never reused,
/// so remembering revoked ones closes that race for good.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, KeyRecord>,
    revoked: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

fn poisoned() -> IdentityError {
    IdentityError::Invalid("identity cache poisoned by an earlier panic".into())
}

fn random_string(len: usize, upper: bool) -> String {
    let raw: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    if upper { raw.to_ascii_uppercase() } else { raw }
}

use stratus_core::clock::now_ms;

/// The bearer token for the native API is the key id and secret joined by a dot; it carries
/// exactly the power of the key itself.
#[must_use]
pub fn bearer_token(key: &KeyRecord) -> String {
    format!("{}.{}", key.access_key_id, key.secret)
}

impl Identity {
    #[must_use]
    pub fn new(repo: Arc<dyn IdentityRepository>) -> Self {
        Self {
            repo,
            cache: RwLock::new(KeyCache::default()),
        }
    }

    /// Creates the operator key on a fresh server. Returns it only when it was created now.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn bootstrap(&self) -> IdentityResult<Option<KeyRecord>> {
        if !self
            .repo
            .list_keys(Some(OPERATOR_PROJECT))
            .await?
            .is_empty()
        {
            return Ok(None);
        }
        let key = self.new_key(OPERATOR_PROJECT, Role::Admin).await?;
        tracing::info!(access_key_id = %key.access_key_id, "created the operator access key");
        Ok(Some(key))
    }

    async fn new_key(&self, project: &str, role: Role) -> IdentityResult<KeyRecord> {
        let key = KeyRecord {
            access_key_id: format!("SK{}", random_string(18, true)),
            secret: random_string(40, false),
            project: project.to_owned(),
            role,
            created_ms: now_ms(),
        };
        self.repo.create_key(key.clone()).await?;
        Ok(key)
    }

    /// A member key of `project` for the platform's own use on the project's behalf (a function's
    /// AWS SDK calls back into the server with it). No caller check: the platform is trusted.
    ///
    /// # Errors
    /// Invalid project name, storage failures.
    pub async fn service_key(&self, project: &str) -> IdentityResult<KeyRecord> {
        let project = ProjectName::parse(project).map_err(|e| IdentityError::Invalid(e.0))?;
        self.new_key(project.as_str(), Role::Member).await
    }

    /// The key record for `access_key_id`, if it exists.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn lookup(&self, access_key_id: &str) -> IdentityResult<Option<KeyRecord>> {
        {
            let cache = self.cache.read().map_err(|_| poisoned())?;
            if cache.revoked.contains(access_key_id) {
                return Ok(None);
            }
            if let Some(key) = cache.keys.get(access_key_id) {
                return Ok(Some(key.clone()));
            }
        }
        let key = self.repo.get_key(access_key_id).await?;
        let mut cache = self.cache.write().map_err(|_| poisoned())?;
        if cache.revoked.contains(access_key_id) {
            return Ok(None);
        }
        if let Some(key) = &key {
            cache.keys.insert(key.access_key_id.clone(), key.clone());
        }
        Ok(key)
    }

    /// The principal of a verified access key id.
    ///
    /// # Errors
    /// [`IdentityError::NotFound`] for an unknown key.
    pub async fn principal(&self, access_key_id: &str) -> IdentityResult<Principal> {
        let key = self
            .lookup(access_key_id)
            .await?
            .ok_or_else(|| IdentityError::NotFound(access_key_id.to_owned()))?;
        Ok(Principal {
            access_key_id: key.access_key_id,
            project: key.project,
            role: key.role,
            chain_depth: 0,
        })
    }

    /// Whether a project exists (has a key): what S3 needs to resolve a grant to a canonical id.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn project_exists(&self, project: &str) -> IdentityResult<bool> {
        Ok(!self.repo.list_keys(Some(project)).await?.is_empty())
    }

    /// Authenticates a native-API bearer token.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for a malformed or wrong token.
    pub async fn authenticate_token(&self, token: &str) -> IdentityResult<Principal> {
        let denied = || IdentityError::Forbidden("invalid bearer token".into());
        let (id, secret) = token.split_once('.').ok_or_else(denied)?;
        let key = self.lookup(id).await?.ok_or_else(denied)?;
        if !stratus_core::secret::eq(secret.as_bytes(), key.secret.as_bytes()) {
            return Err(denied());
        }
        Ok(Principal {
            access_key_id: key.access_key_id,
            project: key.project,
            role: key.role,
            chain_depth: 0,
        })
    }

    fn require_key_admin(caller: &Principal, project: &str) -> IdentityResult<()> {
        if !caller.may(Action::Administer) {
            return Err(IdentityError::Forbidden(
                "managing keys needs the admin role".into(),
            ));
        }
        if !caller.is_operator() && caller.project != project {
            return Err(IdentityError::Forbidden(format!(
                "an admin of project {} cannot manage project {project}",
                caller.project
            )));
        }
        Ok(())
    }

    /// Creates a key; the project comes into existence with its first key.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for non-admins, [`IdentityError::Invalid`] for a bad project name.
    pub async fn create_key(
        &self,
        caller: &Principal,
        project: &str,
        role: Role,
    ) -> IdentityResult<KeyRecord> {
        let project = ProjectName::parse(project).map_err(|e| IdentityError::Invalid(e.0))?;
        Self::require_key_admin(caller, project.as_str())?;
        self.new_key(project.as_str(), role).await
    }

    /// Keys visible to the caller: all for operators, their project's for project admins.
    ///
    /// # Errors
    /// [`IdentityError::Forbidden`] for non-admins.
    pub async fn list_keys(&self, caller: &Principal) -> IdentityResult<Vec<KeyRecord>> {
        Self::require_key_admin(caller, &caller.project)?;
        let scope = if caller.is_operator() {
            None
        } else {
            Some(caller.project.as_str())
        };
        Ok(self.repo.list_keys(scope).await?)
    }

    /// Deletes a key; it stops working at once.
    ///
    /// # Errors
    /// [`IdentityError::NotFound`], [`IdentityError::Forbidden`].
    pub async fn delete_key(&self, caller: &Principal, access_key_id: &str) -> IdentityResult<()> {
        let key = self
            .lookup(access_key_id)
            .await?
            .ok_or_else(|| IdentityError::NotFound(access_key_id.to_owned()))?;
        Self::require_key_admin(caller, &key.project)?;
        if key.access_key_id == caller.access_key_id {
            return Err(IdentityError::Invalid("a key cannot delete itself".into()));
        }
        {
            let mut cache = self.cache.write().map_err(|_| poisoned())?;
            cache.revoked.insert(access_key_id.to_owned());
            cache.keys.remove(access_key_id);
        }
        self.repo.delete_key(access_key_id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_meta::SqliteMeta;

    async fn identity() -> (tempfile::TempDir, Identity, KeyRecord) {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).expect("open");
        let identity = Identity::new(Arc::new(meta));
        let admin = identity
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("first start creates a key");
        (dir, identity, admin)
    }

    #[tokio::test]
    async fn bootstrap_is_idempotent_and_tokens_authenticate() {
        let (_dir, identity, admin) = identity().await;
        assert!(
            identity
                .bootstrap()
                .await
                .expect("second bootstrap")
                .is_none()
        );
        let principal = identity
            .authenticate_token(&bearer_token(&admin))
            .await
            .expect("valid token");
        assert!(principal.is_operator());
        let forged = format!("{}.{}", admin.access_key_id, "x".repeat(40));
        assert!(identity.authenticate_token(&forged).await.is_err());
    }

    #[tokio::test]
    async fn only_admins_manage_keys_and_only_in_their_scope() {
        let (_dir, identity, admin) = identity().await;
        let operator = identity
            .principal(&admin.access_key_id)
            .await
            .expect("operator");
        let member = identity
            .create_key(&operator, "team-a", Role::Member)
            .await
            .expect("create member");
        let member = identity
            .principal(&member.access_key_id)
            .await
            .expect("member");
        assert!(matches!(
            identity.create_key(&member, "team-a", Role::Admin).await,
            Err(IdentityError::Forbidden(_))
        ));
        let team_admin = identity
            .create_key(&operator, "team-a", Role::Admin)
            .await
            .expect("team admin");
        let team_admin = identity
            .principal(&team_admin.access_key_id)
            .await
            .expect("team admin");
        assert!(
            identity
                .create_key(&team_admin, "team-b", Role::Member)
                .await
                .is_err()
        );
        assert_eq!(
            identity.list_keys(&team_admin).await.expect("list").len(),
            2
        );
        identity
            .delete_key(&team_admin, &member.access_key_id)
            .await
            .expect("delete");
        assert!(
            identity
                .lookup(&member.access_key_id)
                .await
                .expect("lookup")
                .is_none()
        );
    }
}
