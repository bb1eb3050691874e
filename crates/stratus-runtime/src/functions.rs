//! The function service: lifecycle of functions and versions, with tenancy checks. Invocation
//! lives in `invoke.rs`, asynchronous delivery in `dispatch.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use stratus_core::{Action, FunctionConfig, FunctionName};
use stratus_identity::{Identity, Principal};
use stratus_meta::{FunctionRecord, FunctionRepository, MetaError, VersionRecord};

use crate::code::CodeStore;
use crate::dispatch::Dispatcher;
use crate::envs::EnvStore;
use crate::host::RuntimeConfig;
use crate::logs::LogStore;
use crate::pool::{PoolKey, Pools};
use crate::{RuntimeError, RuntimeResult, now_ms};

/// The Python runtime client, written into the data directory at start.
const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");

pub const LATEST: &str = "$LATEST";

/// A function as the API shows it: the function and one of its versions.
#[derive(Debug, Clone)]
pub struct FunctionView {
    pub function: FunctionRecord,
    pub version: VersionRecord,
}

/// CreateFunction's input.
#[derive(Debug, Clone)]
pub struct NewFunction {
    pub name: String,
    pub config: FunctionConfig,
    pub zip: Vec<u8>,
    pub publish: bool,
}

/// UpdateFunctionCode's input.
#[derive(Debug, Clone)]
pub struct CodeUpdate {
    pub zip: Vec<u8>,
    pub publish: bool,
    pub revision_id: Option<String>,
}

/// UpdateFunctionConfiguration's input: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct ConfigUpdate {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub environment: Option<BTreeMap<String, String>>,
    pub description: Option<String>,
    pub min_instances: Option<u32>,
    pub volumes: Option<Vec<String>>,
    pub role: Option<String>,
    /// `Some(None)` removes the dependency environment.
    pub dependencies: Option<Option<String>>,
    /// The size of `/tmp` in MB (Lambda's `EphemeralStorage.Size`).
    pub ephemeral_storage_mb: Option<u32>,
    pub revision_id: Option<String>,
}

impl ConfigUpdate {
    fn apply(self, config: &mut FunctionConfig) {
        if let Some(v) = self.runtime {
            config.runtime = v;
        }
        if let Some(v) = self.handler {
            config.handler = v;
        }
        if let Some(v) = self.memory_mb {
            config.memory_mb = v;
        }
        if let Some(v) = self.timeout_s {
            config.timeout_s = v;
        }
        if let Some(v) = self.environment {
            config.environment = v;
        }
        if let Some(v) = self.description {
            config.description = v;
        }
        if let Some(v) = self.min_instances {
            config.min_instances = v;
        }
        if let Some(v) = self.volumes {
            config.volumes = v;
        }
        if let Some(v) = self.role {
            config.role = v;
        }
        if let Some(v) = self.ephemeral_storage_mb {
            config.ephemeral_storage_mb = Some(v);
        }
        if let Some(v) = self.dependencies {
            config.dependencies = v;
        }
    }
}

pub struct Functions {
    pub(crate) meta: Arc<dyn FunctionRepository>,
    pub(crate) identity: Arc<Identity>,
    pub(crate) config: RuntimeConfig,
    pub(crate) code: CodeStore,
    pub(crate) envs: Arc<EnvStore>,
    pub(crate) logs: LogStore,
    pub(crate) pools: Pools,
    /// Cold starts queued invocations may have in flight at once (see `Functions::acquire`).
    pub(crate) cold_starts: Arc<tokio::sync::Semaphore>,
    pub(crate) views: crate::views::ViewCache,
    pub(crate) dispatcher: Dispatcher,
    /// Where invocation records go (Lambda destinations); set once by the composition root.
    pub(crate) destinations: std::sync::OnceLock<Arc<dyn crate::DestinationSink>>,
    /// Where billed usage goes (see `usage.rs`); set once by the composition root.
    pub(crate) usage: std::sync::OnceLock<Arc<stratus_meta::UsageMeter>>,
    /// Project quotas on running work (see `quotas.rs`); set once by the composition root.
    pub(crate) quotas: std::sync::OnceLock<Arc<stratus_identity::Quotas>>,
    /// How workers' namespaces reach the edge; set once by the composition root.
    pub(crate) edge_gateway: crate::worker::EdgeGatewaySlot,
    /// Where the runtime client lives on the host (mounted at `/opt/stratus`).
    pub(crate) runtime_dir: PathBuf,
    pub(crate) run_dir: PathBuf,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions").finish_non_exhaustive()
    }
}

pub(crate) fn require(caller: &Principal, action: Action) -> RuntimeResult<()> {
    if caller.may(action) {
        Ok(())
    } else {
        Err(RuntimeError::Forbidden(format!(
            "the {} role of key {} may not do this",
            caller.role.as_str(),
            caller.access_key_id
        )))
    }
}

fn parse_name(name: &str) -> RuntimeResult<FunctionName> {
    FunctionName::parse(name).map_err(|e| RuntimeError::Invalid {
        field: "FunctionName",
        message: e.0,
    })
}

pub(crate) fn not_found(name: &str, qualifier: Option<&str>) -> RuntimeError {
    let arn = match qualifier {
        Some(q) => format!("{name}:{q}"),
        None => name.to_owned(),
    };
    RuntimeError::NotFound(format!("Function not found: {arn}"))
}

/// Two concurrent cold starts per CPU keep the CPUs busy while processes wait on IO, without
/// letting a backlog start hundreds at once.
fn cold_start_limit() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2)
}

fn revision() -> String {
    crate::request_id()
}

impl Functions {
    /// Opens the service: writes the runtime client, removes unreferenced code and leftover
    /// worker files, and starts the background tasks (keep-warm reaper, asynchronous
    /// dispatcher, scheduler), which hold only a weak reference and stop with the service.
    ///
    /// # Errors
    /// Unusable data directory or metadata.
    pub async fn open(
        config: RuntimeConfig,
        meta: Arc<dyn FunctionRepository>,
        identity: Arc<Identity>,
    ) -> RuntimeResult<Arc<Self>> {
        let code = CodeStore::open(&config.data_dir)?;
        code.collect(&meta.code_in_use().await?);
        let envs = EnvStore::open(&config.data_dir)?;
        let envs_in_use = meta
            .all_functions()
            .await?
            .into_iter()
            .filter_map(|version| version.config.dependencies)
            .collect();
        envs.collect(&envs_in_use);
        let runtime_dir = config.data_dir.join("runtimes").join("python");
        std::fs::create_dir_all(&runtime_dir)?;
        std::fs::write(runtime_dir.join("bootstrap.py"), PYTHON_BOOTSTRAP)?;
        let run_dir = config.data_dir.join("run");
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(&run_dir)?;
        let service = Arc::new(Self {
            logs: LogStore::open(&config.data_dir)?,
            pools: Pools::new(config.memory_budget_mb),
            cold_starts: Arc::new(tokio::sync::Semaphore::new(cold_start_limit())),
            views: crate::views::ViewCache::default(),
            dispatcher: Dispatcher::default(),
            destinations: std::sync::OnceLock::new(),
            usage: std::sync::OnceLock::new(),
            quotas: std::sync::OnceLock::new(),
            edge_gateway: Arc::new(tokio::sync::SetOnce::new()),
            meta,
            identity,
            code,
            envs: Arc::new(envs),
            runtime_dir,
            run_dir,
            config,
        });
        tokio::spawn(crate::dispatch::run(Arc::downgrade(&service)));
        tokio::spawn(crate::schedules::run(Arc::downgrade(&service)));
        tokio::spawn(keep_warm(Arc::downgrade(&service)));
        tokio::spawn(crate::log_groups::sweeper(Arc::downgrade(&service)));
        Ok(service)
    }

    #[must_use]
    pub fn dispatch_waker(&self) -> std::sync::Arc<tokio::sync::Notify> {
        std::sync::Arc::clone(&self.dispatcher.wake)
    }

    /// Connects the dispatcher to the services that receive invocation records (set once).
    pub fn set_destination_sink(&self, sink: Arc<dyn crate::DestinationSink>) {
        let _ = self.destinations.set(sink);
    }

    /// Connects workers' network namespaces to the edge (set once).
    pub fn set_edge_gateway(&self, gateway: Arc<dyn crate::netns::EdgeGateway>) {
        let _ = self.edge_gateway.set(gateway);
    }

    #[must_use]
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    #[must_use]
    pub fn logs(&self) -> &LogStore {
        &self.logs
    }

    /// Stops every idle worker and writes pending log lines (server shutdown; blocks for at
    /// most a few milliseconds).
    pub fn shutdown(&self) {
        self.pools.clear();
        // Workers still held by in-flight tasks are not dropped before the process exits: end
        // every pasta this server started by its pid file, as a restart after a crash would.
        if let Some(isolation) = &self.config.isolation {
            isolation.stop_outbound_links();
        }
        self.logs.flush();
    }

    /// # Errors
    /// Invalid name or configuration, bad zip, existing name, storage failures.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewFunction,
    ) -> RuntimeResult<FunctionView> {
        require(caller, Action::Write)?;
        let name = parse_name(&new.name)?;
        new.config.validate().map_err(|e| RuntimeError::Invalid {
            field: e.field,
            message: e.message,
        })?;
        self.check_dependencies(&new.config)?;
        if self
            .meta
            .get_function(&caller.project, name.as_str())
            .await?
            .is_some()
        {
            return Err(RuntimeError::AlreadyExists(format!(
                "Function already exist: {name}"
            )));
        }
        let stored = self.store_code(new.zip).await?;
        let key = self
            .identity
            .service_key(&caller.project)
            .await
            .map_err(|e| {
                RuntimeError::Unavailable(format!("cannot create the function's key: {e}"))
            })?;
        let now = now_ms();
        let function = FunctionRecord {
            project: caller.project.clone(),
            name: name.as_str().to_owned(),
            reserved_concurrency: None,
            created_ms: now,
            execution_key: key.access_key_id,
        };
        let latest = VersionRecord {
            project: caller.project.clone(),
            name: name.as_str().to_owned(),
            version: LATEST.into(),
            config: new.config,
            code_sha256: stored.sha256,
            code_size: stored.size,
            last_modified_ms: now,
            revision_id: revision(),
        };
        let created = self
            .meta
            .create_function(function.clone(), latest.clone())
            .await;
        self.views.invalidate();
        match created {
            Ok(()) => {}
            Err(MetaError::AlreadyExists(_)) => {
                return Err(RuntimeError::AlreadyExists(format!(
                    "Function already exist: {name}"
                )));
            }
            Err(quota @ MetaError::QuotaExceeded { .. }) => {
                return Err(RuntimeError::QuotaExceeded(quota.to_string()));
            }
            Err(error) => return Err(error.into()),
        }
        let view = FunctionView {
            function,
            version: latest,
        };
        if new.publish {
            return self.publish(caller, name.as_str()).await;
        }
        Ok(view)
    }

    /// A function may only name an environment that is built: a worker could not start
    /// without it. (One `stat`-sized read of `env.json`.)
    fn check_dependencies(&self, config: &FunctionConfig) -> RuntimeResult<()> {
        match &config.dependencies {
            Some(hash) if self.envs.info(hash).is_none() => Err(RuntimeError::Invalid {
                field: "Dependencies",
                message: format!(
                    "environment {hash} does not exist on this server; build it first (PUT /v1/environments/{hash})"
                ),
            }),
            _ => Ok(()),
        }
    }

    async fn store_code(&self, zip: Vec<u8>) -> RuntimeResult<crate::code::StoredCode> {
        let code = self.code.clone();
        tokio::task::spawn_blocking(move || code.put(&zip))
            .await
            .map_err(|e| RuntimeError::Io(std::io::Error::other(e)))?
    }

    /// A function and one version (`$LATEST` when `qualifier` is `None`).
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn get(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<FunctionView> {
        require(caller, Action::Read)?;
        self.resolve(&caller.project, name, qualifier).await
    }

    /// Whether `project` has the function (and version); for services that act for a project
    /// whose caller was authorised earlier, such as event source mappings.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn exists(
        &self,
        project: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<bool> {
        match self.resolve(project, name, qualifier).await {
            Ok(_) => Ok(true),
            Err(RuntimeError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn resolve(
        &self,
        project: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<FunctionView> {
        let version = match qualifier {
            None | Some("" | LATEST) => LATEST,
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q,
            // Aliases are not supported; Lambda answers the same for an unknown one.
            Some(q) => return Err(not_found(name, Some(q))),
        };
        if let Some(view) = self.views.get(project, name, version) {
            return Ok(view);
        }
        let generation = self.views.generation();
        let Some(function) = self.meta.get_function(project, name).await? else {
            return Err(not_found(name, None));
        };
        let Some(version) = self.meta.get_version(project, name, version).await? else {
            return Err(not_found(name, qualifier));
        };
        let view = FunctionView { function, version };
        self.views.insert(generation, &view);
        Ok(view)
    }

    /// `$LATEST` of up to `limit` functions named after `marker`.
    ///
    /// # Errors
    /// Forbidden, storage failures.
    pub async fn list(
        &self,
        caller: &Principal,
        marker: &str,
        limit: usize,
    ) -> RuntimeResult<Vec<FunctionView>> {
        require(caller, Action::Read)?;
        let versions = self
            .meta
            .list_functions(&caller.project, marker, limit)
            .await?;
        let mut views = Vec::with_capacity(versions.len());
        for version in versions {
            if let Some(function) = self
                .meta
                .get_function(&caller.project, &version.name)
                .await?
            {
                views.push(FunctionView { function, version });
            }
        }
        Ok(views)
    }

    /// Every version of a function, `$LATEST` first.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn versions(
        &self,
        caller: &Principal,
        name: &str,
    ) -> RuntimeResult<Vec<FunctionView>> {
        let latest = self.get(caller, name, None).await?;
        let versions = self.meta.list_versions(&caller.project, name).await?;
        Ok(versions
            .into_iter()
            .map(|version| FunctionView {
                function: latest.function.clone(),
                version,
            })
            .collect())
    }

    /// # Errors
    /// NotFound, Forbidden, Conflict (stale revision), bad zip, storage failures.
    pub async fn update_code(
        &self,
        caller: &Principal,
        name: &str,
        update: CodeUpdate,
    ) -> RuntimeResult<FunctionView> {
        require(caller, Action::Write)?;
        let current = self.resolve(&caller.project, name, None).await?;
        let stored = self.store_code(update.zip).await?;
        let version = VersionRecord {
            code_sha256: stored.sha256,
            code_size: stored.size,
            last_modified_ms: now_ms(),
            revision_id: revision(),
            ..current.version
        };
        self.replace_latest(version.clone(), update.revision_id)
            .await?;
        if update.publish {
            return self.publish(caller, name).await;
        }
        Ok(FunctionView {
            function: current.function,
            version,
        })
    }

    /// # Errors
    /// NotFound, Forbidden, Invalid, Conflict (stale revision), storage failures.
    pub async fn update_config(
        &self,
        caller: &Principal,
        name: &str,
        update: ConfigUpdate,
    ) -> RuntimeResult<FunctionView> {
        require(caller, Action::Write)?;
        let current = self.resolve(&caller.project, name, None).await?;
        let expected = update.revision_id.clone();
        let mut config = current.version.config.clone();
        update.apply(&mut config);
        config.validate().map_err(|e| RuntimeError::Invalid {
            field: e.field,
            message: e.message,
        })?;
        self.check_dependencies(&config)?;
        let version = VersionRecord {
            config,
            last_modified_ms: now_ms(),
            revision_id: revision(),
            ..current.version
        };
        self.replace_latest(version.clone(), expected).await?;
        Ok(FunctionView {
            function: current.function,
            version,
        })
    }

    async fn replace_latest(
        &self,
        version: VersionRecord,
        expected: Option<String>,
    ) -> RuntimeResult<()> {
        let updated = self.meta.update_latest(version, expected).await;
        self.views.invalidate();
        match updated {
            Ok(()) => Ok(()),
            Err(MetaError::PreconditionFailed) => Err(RuntimeError::Conflict(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )),
            Err(MetaError::NotFound(_)) => Err(RuntimeError::NotFound("Function not found".into())),
            Err(error) => Err(error.into()),
        }
    }

    /// Freezes `$LATEST` as a numbered version.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn publish(&self, caller: &Principal, name: &str) -> RuntimeResult<FunctionView> {
        require(caller, Action::Write)?;
        let current = self.resolve(&caller.project, name, None).await?;
        let version = self
            .meta
            .publish_version(&caller.project, name, now_ms())
            .await;
        self.views.invalidate();
        let version = version?;
        Ok(FunctionView {
            function: current.function,
            version,
        })
    }

    /// Sets (`Some`) or removes (`None`) reserved concurrency.
    ///
    /// # Errors
    /// NotFound, Forbidden, Invalid, storage failures.
    pub async fn set_concurrency(
        &self,
        caller: &Principal,
        name: &str,
        reserved: Option<u32>,
    ) -> RuntimeResult<()> {
        require(caller, Action::Write)?;
        if reserved.is_some_and(|r| r > 1000) {
            return Err(RuntimeError::Invalid {
                field: "ReservedConcurrentExecutions",
                message: "must be between 0 and 1000".into(),
            });
        }
        self.resolve(&caller.project, name, None).await?;
        let set = self
            .meta
            .set_reserved_concurrency(&caller.project, name, reserved)
            .await;
        self.views.invalidate();
        set?;
        // Async invocations waiting for capacity re-check the new limit now.
        self.pools.freed.notify_waiters();
        Ok(())
    }

    /// Deletes a function with every version, its workers, logs and execution key.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn delete(&self, caller: &Principal, name: &str) -> RuntimeResult<()> {
        require(caller, Action::Write)?;
        let deleted = self.meta.delete_function(&caller.project, name).await;
        self.views.invalidate();
        let function = match deleted {
            Ok(function) => function,
            Err(MetaError::NotFound(_)) => return Err(not_found(name, None)),
            Err(error) => return Err(error.into()),
        };
        let operator = Principal {
            access_key_id: String::new(),
            project: stratus_identity::OPERATOR_PROJECT.into(),
            role: stratus_core::Role::Admin,
            chain_depth: 0,
        };
        if let Err(error) = self
            .identity
            .delete_key(&operator, &function.execution_key)
            .await
        {
            tracing::warn!(%error, function = name, "cannot delete the function's key");
        }
        self.logs.remove(&caller.project, name);
        Ok(())
    }

    /// The zip of one version and the function it belongs to, for a request the edge has
    /// already authorised (a presigned code location signed with the function's own key).
    ///
    /// # Errors
    /// NotFound, storage failures.
    pub async fn code_package(
        &self,
        project: &str,
        name: &str,
        version: &str,
    ) -> RuntimeResult<(FunctionView, PathBuf)> {
        let view = self.resolve(project, name, Some(version)).await?;
        let path = self.code.package_path(&view.version.code_sha256);
        Ok((view, path))
    }

    /// A function's dead-lettered asynchronous invocations, newest first.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn dead_letters(
        &self,
        caller: &Principal,
        name: &str,
        limit: usize,
    ) -> RuntimeResult<Vec<stratus_meta::InvocationRecord>> {
        self.get(caller, name, None).await?;
        Ok(self.meta.dead_letters(&caller.project, name, limit).await?)
    }

    /// An asynchronous invocation of the caller's project.
    ///
    /// # Errors
    /// NotFound, Forbidden, storage failures.
    pub async fn invocation(
        &self,
        caller: &Principal,
        id: &str,
    ) -> RuntimeResult<stratus_meta::InvocationRecord> {
        require(caller, Action::Read)?;
        match self.meta.get_invocation(id).await? {
            Some(record) if record.project == caller.project => Ok(record),
            _ => Err(RuntimeError::NotFound(format!("invocation {id} not found"))),
        }
    }

    /// Recent log lines of a function.
    ///
    /// # Errors
    /// NotFound, Forbidden.
    pub async fn read_logs(
        &self,
        caller: &Principal,
        name: &str,
        since_ms: i64,
        limit: usize,
    ) -> RuntimeResult<Vec<crate::LogLine>> {
        self.get(caller, name, None).await?;
        // Events past the function's log retention are never shown.
        let retention = self.meta.log_retentions(&caller.project).await?;
        let since_ms = match retention.get(name) {
            Some(days) => since_ms.max(now_ms() - i64::from(*days) * 86_400_000),
            None => since_ms,
        };
        let logs = self.logs.clone();
        let (project, name) = (caller.project.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || logs.read(&project, &name, since_ms, limit))
            .await
            .map_err(|e| RuntimeError::Io(std::io::Error::other(e)))
    }

    pub(crate) fn pool_key(view: &FunctionView) -> PoolKey {
        PoolKey {
            project: view.version.project.clone(),
            function: view.version.name.clone(),
            version: view.version.version.clone(),
            revision: view.version.revision_id.clone(),
        }
    }
}

/// Every second: stop workers idle past the keep-warm period (keeping `min_instances`), drop
/// pools of deleted functions and replaced revisions, and top pools up to `min_instances`.
async fn keep_warm(service: std::sync::Weak<Functions>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(service) = service.upgrade() else {
            return;
        };
        let Ok(versions) = service.meta.all_functions().await else {
            continue;
        };
        let current: std::collections::HashMap<PoolKey, u32> = versions
            .iter()
            .map(|v| {
                let key = PoolKey {
                    project: v.project.clone(),
                    function: v.name.clone(),
                    version: v.version.clone(),
                    revision: v.revision_id.clone(),
                };
                (key, v.config.min_instances)
            })
            .collect();
        service.pools.reap(
            service.config.keep_warm,
            |key| current.get(key).copied().unwrap_or(0) as usize,
            |key| !current.contains_key(key),
        );
        for version in versions
            .iter()
            .filter(|v| v.config.min_instances > 0 && v.version == LATEST)
        {
            service.top_up(version).await;
        }
    }
}
