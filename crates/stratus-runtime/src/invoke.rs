//! Running invocations: pick or start a worker, hand it the event, meter and log the result.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stratus_core::{Action, RuntimeKind};
use stratus_identity::Principal;
use stratus_meta::{InvocationRecord, VersionRecord};

use crate::functions::{FunctionView, Functions, require};
use crate::logs::LogLine;
use crate::pool::{Denied, PoolKey, ProjectLimits, Slot};
use crate::runtime_api::{Event, Reply};
use crate::sandbox::{DEPENDENCIES_DIR, Mount, RUNTIME_DIR, TASK_ROOT};
use crate::worker::{Failure, Outcome, Worker, WorkerSpec};
use crate::{MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD, RuntimeError, RuntimeResult, report};

/// Where a worker finds the edge's CA certificate (a read-only bind of the host's file).
const CA_BUNDLE: &str = "/etc/stratus/ca.pem";

/// A synchronous invocation.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    pub qualifier: Option<String>,
    pub payload: Bytes,
    /// `LogType: Tail`: return the last 4 KB of the log.
    pub tail_log: bool,
    pub client_context: Option<String>,
}

/// What one invocation cost, as its REPORT line states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Metering {
    pub init_ms: Option<f64>,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u32,
    pub max_memory_mb: u64,
    /// `success`, `error` (handled by the runtime), `timeout`, `crash`, `oom`, `init-error`.
    pub outcome: &'static str,
}

#[derive(Debug, Clone)]
pub struct InvokeResponse {
    pub request_id: String,
    pub executed_version: String,
    pub payload: Bytes,
    /// `Unhandled` when the function failed (Lambda's `X-Amz-Function-Error`).
    pub function_error: Option<&'static str>,
    pub log_tail: Option<String>,
    pub metering: Metering,
}

/// One invocation to run, whatever started it.
pub(crate) struct Run {
    pub request_id: String,
    pub payload: Bytes,
    pub client_context: Option<String>,
    pub tail_log: bool,
    /// Given to the function in its trace header (see `stratus_core::lineage`).
    pub chain_depth: u32,
}

/// What `finish` needs to know about an invocation besides its outcome.
struct Finished<'a> {
    request_id: &'a str,
    started_ms: i64,
    /// The stream of the worker that ran it.
    log_stream: String,
    tail_log: bool,
}

/// Whether a throttled invocation fails at once (sync) or waits for capacity (async).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnThrottle {
    Fail,
    Wait,
}

impl Functions {
    /// Invokes a function and waits for its result (`RequestResponse`).
    ///
    /// # Errors
    /// NotFound, Forbidden, TooLarge, Throttled, Unavailable (no sandbox), worker start failures.
    /// A failing function is not an error: it is a response with `function_error` set.
    pub async fn invoke(
        &self,
        caller: &Principal,
        name: &str,
        request: InvokeRequest,
    ) -> RuntimeResult<InvokeResponse> {
        require(caller, Action::Write)?;
        if request.payload.len() > MAX_SYNC_PAYLOAD {
            return Err(RuntimeError::TooLarge(format!(
                "{} byte payload is too large for the RequestResponse invocation type ({MAX_SYNC_PAYLOAD} bytes)",
                request.payload.len()
            )));
        }
        let view = self
            .resolve(&caller.project, name, request.qualifier.as_deref())
            .await?;
        let run = Run {
            request_id: crate::request_id(),
            payload: request.payload,
            client_context: request.client_context,
            tail_log: request.tail_log,
            chain_depth: 0,
        };
        self.run(&view, run, OnThrottle::Fail).await
    }

    /// Invokes for an event source mapping, in `project` (the mapping was authorised when it
    /// was created): waits for capacity instead of failing when the function is at its
    /// concurrency, because the batch is already received and would otherwise only come back
    /// after its visibility timeout.
    ///
    /// # Errors
    /// NotFound, TooLarge, worker start failures. A failing function is a response with
    /// `function_error` set.
    pub async fn invoke_for_mapping(
        &self,
        project: &str,
        name: &str,
        qualifier: Option<&str>,
        payload: Bytes,
        chain_depth: u32,
    ) -> RuntimeResult<InvokeResponse> {
        if payload.len() > MAX_SYNC_PAYLOAD {
            return Err(RuntimeError::TooLarge(format!(
                "{} byte batch is too large for a synchronous invocation ({MAX_SYNC_PAYLOAD} bytes)",
                payload.len()
            )));
        }
        let view = self.resolve(project, name, qualifier).await?;
        let run = Run {
            request_id: crate::request_id(),
            payload,
            client_context: None,
            tail_log: false,
            chain_depth,
        };
        self.run(&view, run, OnThrottle::Wait).await
    }

    /// Checks that an invocation could run (`DryRun`), without running it.
    ///
    /// # Errors
    /// NotFound, Forbidden.
    pub async fn dry_run(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
    ) -> RuntimeResult<FunctionView> {
        require(caller, Action::Write)?;
        self.resolve(&caller.project, name, qualifier).await
    }

    /// Accepts an asynchronous invocation (`Event`): durable once this returns its id.
    ///
    /// # Errors
    /// NotFound, Forbidden, TooLarge, storage failures.
    pub async fn invoke_async(
        &self,
        caller: &Principal,
        name: &str,
        qualifier: Option<&str>,
        payload: Bytes,
    ) -> RuntimeResult<String> {
        require(caller, Action::Write)?;
        if payload.len() > MAX_ASYNC_PAYLOAD {
            return Err(RuntimeError::TooLarge(format!(
                "{} byte payload is too large for the Event invocation type ({MAX_ASYNC_PAYLOAD} bytes)",
                payload.len()
            )));
        }
        let view = self.resolve(&caller.project, name, qualifier).await?;
        let id = crate::request_id();
        let now = crate::now_ms();
        let function = (
            caller.project.as_str(),
            view.version.name.as_str(),
            view.version.version.as_str(),
        );
        self.meta
            .put_invocation(InvocationRecord::queued(
                id.clone(),
                function,
                payload.to_vec(),
                now,
                0,
            ))
            .await?;
        self.dispatcher.wake.notify_one();
        Ok(id)
    }

    /// Runs one invocation of `view` on a pooled worker.
    pub(crate) async fn run(
        &self,
        view: &FunctionView,
        run: Run,
        on_throttle: OnThrottle,
    ) -> RuntimeResult<InvokeResponse> {
        let Run {
            request_id,
            payload,
            client_context,
            tail_log,
            chain_depth,
        } = run;
        let config = &view.version.config;
        let key = Functions::pool_key(view);
        let (slot, cold_start_permit) = self.acquire(&key, view, on_throttle).await?;
        let _in_flight = crate::invocation_metrics::InFlight::start(
            &self.config.metrics,
            &view.version.project,
            &view.version.name,
        );
        let mut worker = match slot {
            Slot::Warm(worker) => *worker,
            Slot::Cold => match self.start_worker(&view.version).await {
                Ok(worker) => worker,
                Err(error) => {
                    drop(cold_start_permit);
                    self.pools.release(&key, None, config.memory_mb);
                    return Err(error);
                }
            },
        };
        let timeout = Duration::from_secs(u64::from(config.timeout_s));
        let deadline = crate::now_ms() + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let event = Event {
            request_id: request_id.clone(),
            payload,
            deadline_epoch_ms: u64::try_from(deadline).unwrap_or(0),
            invoked_arn: crate::function_arn(
                &self.config.region,
                &view.version.project,
                &view.version.name,
                qualifier_of(view),
            ),
            client_context,
            trace_id: stratus_core::lineage::trace_header(&request_id, chain_depth),
        };
        let started_ms = crate::now_ms();
        let outcome = worker.invoke(event, timeout).await;
        let healthy = outcome.result.is_ok();
        let log_stream = worker.log_stream.clone();
        // Before `release`, whose notification wakes those waiting for a start.
        drop(cold_start_permit);
        self.pools
            .release(&key, healthy.then_some(worker), config.memory_mb);
        let finished = Finished {
            request_id: &request_id,
            started_ms,
            log_stream,
            tail_log,
        };
        Ok(self.finish(view, outcome, finished))
    }

    /// A warm worker or a slot to start one. Queued (asynchronous) invocations also need one of
    /// the few cold-start permits to start a worker: a backlog released at once (after a
    /// restart, or a burst of uploads) would otherwise start a process per event and thrash the
    /// CPUs until every one of them misses its init deadline. Waiting, they take workers as
    /// earlier invocations return them, as Lambda's gradual burst scaling does.
    async fn acquire(
        &self,
        key: &PoolKey,
        view: &FunctionView,
        on_throttle: OnThrottle,
    ) -> RuntimeResult<(Slot, Option<tokio::sync::OwnedSemaphorePermit>)> {
        let memory = view.version.config.memory_mb;
        loop {
            // Register interest before trying, so a release between the try and the wait
            // is not missed.
            let freed = self.pools.freed.notified();
            let mut permit = None;
            if on_throttle == OnThrottle::Wait && !self.pools.has_idle(key) {
                match Arc::clone(&self.cold_starts).try_acquire_owned() {
                    Ok(granted) => permit = Some(granted),
                    Err(_) => {
                        let _ = tokio::time::timeout(Duration::from_millis(100), freed).await;
                        continue;
                    }
                }
            }
            // Re-read each round (from the cache): a waiting async call sees a changed limit.
            let reserved = self
                .resolve(
                    &view.version.project,
                    &view.version.name,
                    Some(&view.version.version),
                )
                .await?
                .function
                .reserved_concurrency;
            let project = self.project_limits(&view.version.project).await?;
            match self.pools.acquire(key, memory, reserved, project) {
                // A warm worker turned up after all: the permit goes back at once.
                Ok(Slot::Warm(worker)) => return Ok((Slot::Warm(worker), None)),
                Ok(Slot::Cold) => return Ok((Slot::Cold, permit)),
                Err(denied) if on_throttle == OnThrottle::Fail => {
                    crate::invocation_metrics::throttled(
                        &self.config.metrics,
                        &view.version.project,
                        &view.version.name,
                    );
                    return Err(throttled(denied, &view.version.project, project));
                }
                Err(_) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), freed).await;
                }
            }
        }
    }

    /// Starts a worker for `version` (not yet initialised).
    pub(crate) async fn start_worker(&self, version: &VersionRecord) -> RuntimeResult<Worker> {
        let Some(isolation) = &self.config.isolation else {
            return Err(RuntimeError::Unavailable(format!(
                "functions cannot run: the host has no usable sandbox ({}); start the server with --insecure-no-sandbox to run code without one",
                self.config.no_sandbox_reason
            )));
        };
        let code_dir = {
            let code = self.code.clone();
            let sha = version.code_sha256.clone();
            tokio::task::spawn_blocking(move || code.task_dir(&sha))
                .await
                .map_err(|e| RuntimeError::Io(std::io::Error::other(e)))??
        };
        let spec = self.worker_spec(version, code_dir).await?;
        let edge = self.edge_access();
        Ok(Worker::start(spec, isolation, self.config.cgroups.as_ref(), edge.as_ref()).await?)
    }

    async fn worker_spec(
        &self,
        version: &VersionRecord,
        code_dir: std::path::PathBuf,
    ) -> RuntimeResult<WorkerSpec> {
        let config = &version.config;
        let mut host_dirs = Vec::new();
        let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
        let argv = match config.kind() {
            Some(RuntimeKind::Python) => {
                let Some(python) = &self.config.python else {
                    return Err(RuntimeError::Unavailable(
                        "no Python interpreter was found for python runtimes (set --python)".into(),
                    ));
                };
                host_dirs.extend(python.dirs.iter().cloned());
                if let Some(bin) = python.bin_dir() {
                    path = format!("{}:{path}", bin.display());
                }
                vec![
                    python.executable.to_string_lossy().into_owned(),
                    "-u".into(),
                    format!("{RUNTIME_DIR}/bootstrap.py"),
                ]
            }
            _ => {
                // `provided`: the code's bootstrap; a script in it may call the host Python.
                if let Some(python) = &self.config.python {
                    host_dirs.extend(python.dirs.iter().cloned());
                    if let Some(bin) = python.bin_dir() {
                        path = format!("{}:{path}", bin.display());
                    }
                }
                vec![format!("{TASK_ROOT}/bootstrap")]
            }
        };
        let key = self
            .identity
            .lookup(
                &self
                    .meta
                    .get_function(&version.project, &version.name)
                    .await?
                    .map(|f| f.execution_key)
                    .unwrap_or_default(),
            )
            .await
            .ok()
            .flatten();
        let log_group = format!("/aws/lambda/{}", version.name);
        let mut env: Vec<(String, String)> = config
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut set = |name: &str, value: String| env.push((name.to_owned(), value));
        set("PATH", path);
        set("LANG", "en_US.UTF-8".into());
        set("TZ", ":UTC".into());
        set("HOME", "/tmp".into());
        set("_HANDLER", config.handler.clone());
        set("AWS_REGION", self.config.region.clone());
        set("AWS_DEFAULT_REGION", self.config.region.clone());
        set(
            "AWS_EXECUTION_ENV",
            format!("AWS_Lambda_{}", config.runtime),
        );
        set("AWS_LAMBDA_FUNCTION_NAME", version.name.clone());
        set(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            config.memory_mb.to_string(),
        );
        set("AWS_LAMBDA_FUNCTION_VERSION", version.version.clone());
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
        set("AWS_LAMBDA_LOG_GROUP_NAME", log_group);
        // Lambda's shape: the worker's start date, the version, 32 hex digits of its own.
        let log_stream = format!(
            "{}/[{}]{}",
            time_date(),
            version.version,
            hex::encode(rand::random::<[u8; 16]>())
        );
        set("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.clone());
        set("LAMBDA_TASK_ROOT", TASK_ROOT.into());
        set("LAMBDA_RUNTIME_DIR", RUNTIME_DIR.into());
        set("AWS_ENDPOINT_URL", self.worker_endpoint());
        let mut mounts = self.dependency_mounts(config)?;
        // Lambda's order: the code first, then layer packages, then the runtime's own.
        set(
            "PYTHONPATH",
            if mounts.is_empty() {
                TASK_ROOT.into()
            } else {
                format!("{TASK_ROOT}:{DEPENDENCIES_DIR}")
            },
        );
        // The edge's own CA (self-signed TLS): boto3 and the aws CLI read AWS_CA_BUNDLE.
        if let Some(ca) = &self.config.ca_bundle {
            set("AWS_CA_BUNDLE", CA_BUNDLE.into());
            mounts.push(Mount {
                host: ca.clone(),
                inside: CA_BUNDLE,
                writable: false,
            });
        }
        if let Some(key) = key {
            set("AWS_ACCESS_KEY_ID", key.access_key_id);
            set("AWS_SECRET_ACCESS_KEY", key.secret);
        }
        let uid = crate::sandbox::worker_uid(&version.project);
        let volumes = config
            .volumes
            .iter()
            .map(|name| {
                let dir = self
                    .config
                    .data_dir
                    .join("volumes")
                    .join(&version.project)
                    .join(name);
                std::fs::create_dir_all(&dir)?;
                // The project's workers write it as the project's uid. Fails only for a server
                // that is not root, whose unsandboxed workers run as itself anyway.
                let _ = std::os::unix::fs::chown(&dir, Some(uid), Some(uid));
                Ok((dir, name.clone()))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(WorkerSpec {
            id: format!("w{}", &crate::request_id()[..8]),
            log_stream,
            memory_mb: config.memory_mb,
            code_dir,
            runtime_dir: self.runtime_dir.clone(),
            host_dirs,
            volumes,
            mounts,
            env,
            argv,
            run_dir: self.run_dir.clone(),
            uid,
            tmp_mb: config.ephemeral_storage_mb(),
            internet: self.config.internet.allows(&version.project),
        })
    }

    /// The edge as workers' namespaces see it.
    fn edge_access(&self) -> Option<crate::worker::EdgeAccess> {
        let port = self.config.endpoint.parse::<http::Uri>().ok()?.port_u16()?;
        Some(crate::worker::EdgeAccess {
            port,
            gateway: std::sync::Arc::clone(&self.edge_gateway),
        })
    }

    /// `AWS_ENDPOINT_URL` for a worker. In the sandbox the edge listens on the namespace's
    /// loopback at the edge's own port, whatever address the host's listener has.
    fn worker_endpoint(&self) -> String {
        let endpoint = &self.config.endpoint;
        let sandboxed = matches!(
            self.config.isolation,
            Some(crate::sandbox::Isolation::Bubblewrap(_))
        );
        match endpoint.parse::<http::Uri>() {
            Ok(uri) if sandboxed => match (uri.scheme_str(), uri.port_u16()) {
                (Some(scheme), Some(port)) => format!("{scheme}://127.0.0.1:{port}"),
                _ => endpoint.clone(),
            },
            _ => endpoint.clone(),
        }
    }

    /// The function's dependency environment, read-only at `/opt/python` (for every runtime, as
    /// Lambda mounts layers: a `provided` bootstrap may run Python too).
    fn dependency_mounts(
        &self,
        config: &stratus_core::FunctionConfig,
    ) -> RuntimeResult<Vec<Mount>> {
        let Some(hash) = &config.dependencies else {
            return Ok(Vec::new());
        };
        let host = self.envs.python_dir(hash);
        if !host.is_dir() {
            return Err(RuntimeError::Unavailable(format!(
                "the function's dependency environment {hash} is missing on this server; deploy it again"
            )));
        }
        Ok(vec![Mount {
            host,
            inside: DEPENDENCIES_DIR,
            writable: false,
        }])
    }

    /// Starts and initialises workers until `version`'s pool holds `min_instances`.
    pub(crate) async fn top_up(&self, version: &VersionRecord) {
        let view = FunctionView {
            function: match self
                .meta
                .get_function(&version.project, &version.name)
                .await
            {
                Ok(Some(function)) => function,
                _ => return,
            },
            version: version.clone(),
        };
        let key = Functions::pool_key(&view);
        while self.pools.size(&key) < version.config.min_instances as usize {
            let Ok(project) = self.project_limits(&version.project).await else {
                return;
            };
            let Ok(Slot::Cold) = self
                .pools
                .acquire(&key, version.config.memory_mb, None, project)
            else {
                return;
            };
            let worker = match self.start_worker(version).await {
                Ok(mut worker) => match worker.initialize().await {
                    Ok(_) => Some(worker),
                    Err(failure) => {
                        tracing::warn!(?failure, function = %version.name, "pre-warmed worker failed to start");
                        None
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, function = %version.name, "cannot pre-warm a worker");
                    None
                }
            };
            match worker {
                Some(worker) => self.pools.add_idle(&key, worker),
                None => {
                    self.pools.release(&key, None, version.config.memory_mb);
                    return;
                }
            }
        }
    }

    /// Meters, logs and shapes the response of a finished invocation.
    fn finish(
        &self,
        view: &FunctionView,
        outcome: Outcome,
        finished: Finished<'_>,
    ) -> InvokeResponse {
        let Finished {
            request_id,
            started_ms,
            log_stream,
            tail_log,
        } = finished;
        let version = &view.version;
        let config = &version.config;
        let (payload, function_error, status, extra_line) = match outcome.result {
            Ok(Reply::Response(body)) => (body, None, "success", None),
            Ok(Reply::Error { body, .. }) => (body, Some("Unhandled"), "error", None),
            Err(Failure::Init { body, .. }) => (body, Some("Unhandled"), "init-error", None),
            Err(Failure::TimedOut { seconds }) => (
                report::platform_error(
                    request_id,
                    "Sandbox.Timedout",
                    &format!("Task timed out after {seconds:.2} seconds"),
                ),
                Some("Unhandled"),
                "timeout",
                Some(report::timeout_message(request_id, seconds)),
            ),
            Err(Failure::InitTimedOut) => (
                report::platform_error(
                    request_id,
                    "Sandbox.Timedout",
                    "Init phase timed out after 10.00 seconds",
                ),
                Some("Unhandled"),
                "timeout",
                None,
            ),
            Err(Failure::OutOfMemory) => (
                report::platform_error(
                    request_id,
                    "Runtime.OutOfMemory",
                    "Runtime exited with error: signal: killed (out of memory)",
                ),
                Some("Unhandled"),
                "oom",
                Some(format!(
                    "Error: Runtime exited with error: signal: killed (the function exceeded its {} MB of memory)",
                    config.memory_mb
                )),
            ),
            Err(Failure::Exited(status)) => (
                report::platform_error(
                    request_id,
                    "Runtime.ExitError",
                    &format!("Runtime exited with error: {status}"),
                ),
                Some("Unhandled"),
                "crash",
                None,
            ),
        };
        let metering = Metering {
            init_ms: outcome.init_duration.map(|d| d.as_secs_f64() * 1000.0),
            duration_ms: outcome.duration.as_secs_f64() * 1000.0,
            billed_ms: report::billed_ms(outcome.duration),
            memory_mb: config.memory_mb,
            max_memory_mb: outcome
                .max_memory_bytes
                .map_or(0, |b| b.div_ceil(1024 * 1024)),
            outcome: status,
        };
        self.meter_usage(version, &metering);
        crate::invocation_metrics::finished(
            &self.config.metrics,
            &version.project,
            &version.name,
            &metering,
        );
        let mut lines = Vec::with_capacity(outcome.output.len() + 4);
        lines.push(report::start_line(request_id, &version.version));
        lines.extend(outcome.output);
        lines.extend(extra_line);
        lines.push(report::end_line(request_id));
        lines.push(report::report_line(request_id, &metering));
        let log_tail = tail_log.then(|| report::tail(&lines));
        let ended_ms = crate::now_ms();
        let count = lines.len();
        let log_lines = lines
            .into_iter()
            .enumerate()
            .map(|(i, message)| LogLine {
                timestamp_ms: if i == 0 {
                    started_ms
                } else if i + 2 >= count {
                    ended_ms
                } else {
                    ended_ms.min(started_ms + i as i64)
                },
                version: version.version.clone(),
                stream: log_stream.clone(),
                message,
            })
            .collect();
        self.logs.append(&version.project, &version.name, log_lines);
        InvokeResponse {
            request_id: request_id.to_owned(),
            executed_version: version.version.clone(),
            payload,
            function_error,
            log_tail,
            metering,
        }
    }
}

/// The error a synchronous invocation gets when no slot was granted.
fn throttled(denied: Denied, project: &str, limits: ProjectLimits) -> RuntimeError {
    let unlimited = || "unlimited".to_owned();
    match denied {
        Denied::Concurrency => RuntimeError::Throttled("Rate Exceeded.".into()),
        Denied::Memory => {
            RuntimeError::Throttled("the server's worker memory budget is exhausted".into())
        }
        Denied::ProjectConcurrency => RuntimeError::ConcurrencyLimitExceeded(format!(
            "Rate Exceeded: project {project} has max_concurrent_invocations = {} and all are in use",
            limits
                .concurrent_invocations
                .map_or_else(unlimited, |n| n.to_string())
        )),
        Denied::ProjectMemory => RuntimeError::Throttled(format!(
            "project {project} has max_worker_memory_mb = {} and its workers use it all",
            limits
                .worker_memory_mb
                .map_or_else(unlimited, |n| n.to_string())
        )),
    }
}

fn qualifier_of(view: &FunctionView) -> Option<&str> {
    (view.version.version != crate::functions::LATEST).then_some(view.version.version.as_str())
}

fn time_date() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}/{:02}/{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}
