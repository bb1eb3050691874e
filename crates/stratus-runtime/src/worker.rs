//! One worker: a sandboxed runtime process serving one invocation at a time through its own
//! Runtime API listener. The worker owns the process, its cgroup and its output file, and turns
//! everything that can go wrong (init error, crash, timeout, OOM) into an [`Outcome`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::sync::oneshot;

use crate::cgroup::WorkerCgroup;
use crate::netns::{EdgeGateway, NetNamespace, RUNTIME_API_PORT};
use crate::outbound::OutboundLink;
use crate::runtime_api::{self, Event, Peers, Reply};
use crate::sandbox::{self, Isolation, SandboxSpec};

/// Lambda's limit on the init phase, outside the function's own timeout.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Output kept per invocation; a handler printing more only loses the middle of its log.
const MAX_OUTPUT_BYTES: u64 = 256 * 1024;

/// How an invocation ended when the runtime did not answer it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The runtime reported an init error (`/runtime/init/error`).
    Init {
        error_type: Option<String>,
        body: bytes::Bytes,
    },
    InitTimedOut,
    TimedOut {
        seconds: f64,
    },
    OutOfMemory,
    /// The process exited without answering.
    Exited(String),
}

/// Everything one invocation produced.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Reply, Failure>,
    /// Set on the invocation that started the process (a cold start).
    pub init_duration: Option<Duration>,
    pub duration: Duration,
    pub max_memory_bytes: Option<u64>,
    /// Lines the process printed during the invocation.
    pub output: Vec<String>,
}

/// Where a worker comes from.
#[derive(Debug)]
pub struct WorkerSpec {
    pub id: String,
    /// The CloudWatch log stream this worker's invocations log to.
    pub log_stream: String,
    pub memory_mb: u32,
    pub code_dir: PathBuf,
    pub runtime_dir: PathBuf,
    pub host_dirs: Vec<PathBuf>,
    pub volumes: Vec<(PathBuf, String)>,
    pub mounts: Vec<sandbox::Mount>,
    pub env: Vec<(String, String)>,
    pub argv: Vec<String>,
    pub run_dir: PathBuf,
    /// The project's unprivileged uid.
    pub uid: u32,
    /// The size of `/tmp` (Lambda's ephemeral storage), in MB.
    pub tmp_mb: u32,
    /// Whether the worker may open connections to the outside world.
    pub internet: bool,
}

/// Who serves the edge inside workers' namespaces. Set once by the composition root, after the
/// function service exists (the edge is built on it); workers started before that (the
/// dispatcher and scheduler start with the service) wait for it instead of missing the edge.
pub type EdgeGatewaySlot = std::sync::Arc<tokio::sync::SetOnce<std::sync::Arc<dyn EdgeGateway>>>;

/// The edge as a worker's namespace sees it: its port there, and who serves it.
#[derive(Clone)]
pub struct EdgeAccess {
    pub port: u16,
    pub gateway: EdgeGatewaySlot,
}

/// What a sandboxed worker's network is made of; all of it ends with the worker.
struct Network {
    namespace: NetNamespace,
    edge: Option<tokio::task::JoinHandle<()>>,
    _outbound: Option<OutboundLink>,
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Some(edge) = &self.edge {
            edge.abort();
        }
    }
}

pub struct Worker {
    pub id: String,
    pub log_stream: String,
    pub memory_mb: u32,
    child: Child,
    api: runtime_api::Handle,
    init_error: Option<oneshot::Receiver<Reply>>,
    cgroup: Option<WorkerCgroup>,
    output_path: PathBuf,
    /// A read handle on the output file, opened once (not per invocation).
    output: Option<std::fs::File>,
    output_offset: u64,
    /// Declared after `child`: the namespace outlives the process's kill.
    _network: Option<Network>,
    initialized: bool,
    pub last_used: Instant,
    pub invocations: u64,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the process; its init runs while the first invocation waits.
    ///
    /// # Errors
    /// The cgroup, listener, output file or process cannot be created.
    pub async fn start(
        spec: WorkerSpec,
        isolation: &Isolation,
        cgroups: Option<&crate::cgroup::Cgroups>,
        edge: Option<&EdgeAccess>,
    ) -> std::io::Result<Self> {
        let cgroup = cgroups
            .map(|c| c.create(&spec.id, spec.memory_mb))
            .transpose()?;
        let (init_tx, init_rx) = oneshot::channel();
        let (api, network) = match isolation {
            Isolation::Bubblewrap(hardened) => {
                let mut ports = vec![RUNTIME_API_PORT];
                ports.extend(edge.map(|edge| edge.port));
                let (namespace, listeners) = NetNamespace::create(&ports)?;
                let mut listeners = listeners.into_iter();
                let api_listener = listeners
                    .next()
                    .ok_or_else(|| std::io::Error::other("no runtime api listener"))?;
                let api = runtime_api::Handle::serve(
                    tokio::net::TcpListener::from_std(api_listener)?,
                    init_tx,
                    Peers::Namespace,
                )?;
                let edge_task = match (edge, listeners.next()) {
                    (Some(edge), Some(listener)) => {
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        let gateway = std::sync::Arc::clone(&edge.gateway);
                        Some(tokio::spawn(async move {
                            let gateway = std::sync::Arc::clone(gateway.wait().await);
                            gateway.serve(listener).await;
                        }))
                    }
                    _ => None,
                };
                let outbound = if spec.internet {
                    let outbound = hardened.outbound.as_ref().map_err(|missing| {
                        std::io::Error::other(format!(
                            "this project's workers may reach the internet, but the host lacks {missing}"
                        ))
                    })?;
                    Some(outbound.attach(&namespace, &spec.id, &[]).await?)
                } else {
                    None
                };
                let network = Network {
                    namespace,
                    edge: edge_task,
                    _outbound: outbound,
                };
                (api, Some(network))
            }
            Isolation::None => (runtime_api::Handle::start(init_tx).await?, None),
        };
        std::fs::create_dir_all(&spec.run_dir)?;
        let output_path = spec.run_dir.join(format!("{}.out", spec.id));
        let mut env = spec.env;
        env.push(("AWS_LAMBDA_RUNTIME_API".into(), api.address.to_string()));
        let sandbox_spec = SandboxSpec {
            code_dir: &spec.code_dir,
            runtime_dir: Some(&spec.runtime_dir),
            host_dirs: &spec.host_dirs,
            volumes: &spec.volumes,
            mounts: &spec.mounts,
            env: &env,
            argv: &spec.argv,
            output: Some(&output_path),
            cgroup: cgroup.as_ref(),
            uid: spec.uid,
            network: network.as_ref().map(|n| &n.namespace),
            tmp_mb: spec.tmp_mb,
        };
        let child = sandbox::command(isolation, &sandbox_spec)?.spawn()?;
        if let Some(pid) = child.id() {
            api.set_owner(pid);
        }
        let output = std::fs::File::open(&output_path).ok();
        Ok(Self {
            id: spec.id,
            log_stream: spec.log_stream,
            memory_mb: spec.memory_mb,
            child,
            api,
            init_error: Some(init_rx),
            cgroup,
            output_path,
            output,
            output_offset: 0,
            _network: network,
            initialized: false,
            last_used: Instant::now(),
            invocations: 0,
        })
    }

    /// Runs one invocation to its end. A worker whose outcome is not a runtime reply has been
    /// killed and must not be reused.
    pub async fn invoke(&mut self, event: Event, timeout: Duration) -> Outcome {
        let began = Instant::now();
        if let Some(cgroup) = &self.cgroup {
            cgroup.reset_peak();
        }
        let mut init_duration = None;
        let result = match self.api.dispatch(event).await {
            Err(()) => Err(Failure::Exited("the runtime API stopped".into())),
            Ok(reply) => {
                let init = if self.initialized {
                    Ok(())
                } else {
                    let init = self.initialize().await;
                    init_duration = Some(began.elapsed());
                    init
                };
                match init {
                    Ok(()) => self.await_reply(reply, timeout).await,
                    Err(failure) => Err(failure),
                }
            }
        };
        let duration = began.elapsed() - init_duration.unwrap_or_default();
        if result.is_err() {
            self.kill().await;
        }
        self.invocations += 1;
        self.last_used = Instant::now();
        Outcome {
            result,
            init_duration,
            duration,
            max_memory_bytes: self
                .cgroup
                .as_ref()
                .and_then(WorkerCgroup::peak_memory_bytes),
            output: self.take_output(),
        }
    }

    /// Waits until the runtime asks for its first event (its init is done), at most 10 s.
    ///
    /// # Errors
    /// The runtime's init error, its exit, or the init time limit.
    pub async fn initialize(&mut self) -> Result<(), Failure> {
        let Some(mut init_error) = self.init_error.take() else {
            return Ok(());
        };
        let outcome = tokio::select! {
            () = self.api.channel().ready.notified() => Ok(()),
            Ok(Reply::Error { error_type, body }) = &mut init_error => Err(Failure::Init { error_type, body }),
            status = self.child.wait() => Err(self.exit_failure(status)),
            () = tokio::time::sleep(INIT_LIMIT) => Err(Failure::InitTimedOut),
        };
        if outcome.is_ok() {
            self.initialized = true;
            // A later init error cannot happen; keep the receiver alive so the sender stays quiet.
            self.init_error = Some(init_error);
        }
        outcome
    }

    async fn await_reply(
        &mut self,
        reply: oneshot::Receiver<Reply>,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        tokio::select! {
            reply = reply => reply.map_err(|_| Failure::Exited("the runtime dropped the invocation".into())),
            status = self.child.wait() => Err(self.exit_failure(status)),
            () = tokio::time::sleep(timeout) => Err(Failure::TimedOut { seconds: timeout.as_secs_f64() }),
        }
    }

    fn exit_failure(&self, status: std::io::Result<std::process::ExitStatus>) -> Failure {
        if self.cgroup.as_ref().is_some_and(|c| c.oom_kills() > 0) {
            return Failure::OutOfMemory;
        }
        match status {
            Ok(status) => Failure::Exited(status.to_string()),
            Err(error) => Failure::Exited(error.to_string()),
        }
    }

    /// Whether the process is still running (an idle worker can die, e.g. killed by hand).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process tree and waits for it.
    pub async fn kill(&mut self) {
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    /// Lines written since the last call. The runtime flushes before it posts its reply, so by
    /// the time a reply arrives its output is in the file: reading it here misses nothing.
    fn take_output(&mut self) -> Vec<String> {
        use std::os::unix::fs::FileExt as _;
        let Some(file) = &self.output else {
            return Vec::new();
        };
        let end = file.metadata().map(|m| m.len()).unwrap_or(0);
        if end <= self.output_offset {
            return Vec::new();
        }
        let start = self.output_offset.max(end.saturating_sub(MAX_OUTPUT_BYTES));
        let mut bytes = vec![0; usize::try_from(end - start).unwrap_or(0)];
        if file.read_exact_at(&mut bytes, start).is_err() {
            return Vec::new();
        }
        self.output_offset = end;
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.output_path);
    }
}
