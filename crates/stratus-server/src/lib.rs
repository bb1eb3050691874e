//! The composition root: opens the data directory, wires metadata, identity, store and the
//! edge together, and serves them on one listener until told to shut down.
//!
//! `Server::start(Config)` locks and opens the data directory, builds every service, binds the
//! listener and writes `server.json`/`credentials`; `Server::serve(shutdown)` accepts
//! connections and hands each request to `stratus_api::Edge::handle` until the shutdown future
//! resolves, then drains within a deadline. Background services stop on one watch channel.
//!
//! Files:
//! - `lib.rs` — `Config`, `Server`, the wiring and the accept loop (`listen()` only after the
//!   files clients read are written).
//! - `access_log.rs` — one debug line per request (target `stratus::access`: method, path,
//!   status, duration, project).
//! - `config_file.rs` — the TOML `FileConfig` (typed, unknown keys refused).
//! - `files.rs` — `credentials` and `server.json`, what clients read from the data directory.
//! - `tls.rs` — TLS on the edge (rustls: the resolver SIGHUP reloads, the self-signed CA and
//!   certificate under `DATA_DIR/tls/`; `docs/tls.md`).
//! - `worker_edge.rs` — the edge served on the listener inside each worker's network namespace.
//! - `destinations.rs` — the runtime's `DestinationSink` over queues, topics and functions.
//! - `outbox_relay.rs` — delivers bucket notifications for queue and topic rules from the outbox
//!   (`outbox_relay_tests.rs` runs it against a real store).
//! - `deliveries.rs`, `mapping_invoker.rs` — SNS `lambda` subscriptions and event source mappings
//!   invoke functions through `stratus-runtime`.

mod access_log;
mod config_file;
mod deliveries;
mod destinations;
mod files;
mod mapping_invoker;
mod outbox_relay;
mod tls;
mod worker_edge;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use stratus_api::Edge;
use stratus_identity::Identity;
use stratus_meta::{KeyRecord, SqliteMeta};
use stratus_store::Store;
use tokio::net::{TcpListener, TcpSocket};

pub use config_file::{FileConfig, parse_duration};
pub use files::{Credentials, ServerInfo, read_credentials, read_server_info};
/// The CLI's HTTPS clients trust what the server's outbound HTTPS trusts.
pub use stratus_api::tls_client_config;
/// The CLI hashes a `requirements.txt` exactly as the server does.
pub use stratus_runtime::envs::{environment_hash, normalise_requirements};
pub use tls::{CertResolver, TlsSource};

/// Everything `stratus server` needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub region: String,
    /// How long in-flight requests may run after shutdown is requested.
    pub drain_deadline: Duration,
    /// The interpreter `python3.x` functions run on (found on PATH when not absolute).
    pub python: PathBuf,
    /// Run function code without a sandbox when bubblewrap or cgroups are missing.
    pub insecure_no_sandbox: bool,
    /// Memory all function workers together may be sized at, in MB.
    pub worker_memory_mb: u64,
    /// How long an idle worker stays warm.
    pub keep_warm: Duration,
    /// The wait before an SNS delivery's second attempt; it doubles after each failure.
    pub sns_retry_base: Duration,
    /// How often metered usage is written to the database (kill -9 loses at most this much).
    pub usage_flush: Duration,
    /// How often stored bytes are sampled for storage billing.
    pub storage_sample_interval: Duration,
    /// How often the lifecycle sweeper applies every bucket's lifecycle rules.
    pub lifecycle_interval: Duration,
    /// How long one lifecycle "day" is: a day in production; a few seconds in tests.
    pub lifecycle_day: Duration,
    /// The prices bills are computed with.
    pub prices: stratus_cost::PriceCatalog,
    /// Serve `GET /metrics` to anyone; by default it needs an operator's bearer token,
    /// because its series name every project's functions and queues.
    pub public_metrics: bool,
    /// Projects whose function workers may open connections to the outside world (`*`: all);
    /// every other project's workers reach only the edge.
    pub worker_internet: Vec<String>,
    /// Serve HTTPS (every API, the console, function URLs) instead of plain HTTP.
    pub tls: Option<TlsSource>,
    /// A PEM file of CA certificates outbound HTTPS (SNS `https` subscribers) trusts besides
    /// the system's roots.
    pub outbound_ca_file: Option<PathBuf>,
    /// With a domain, `BUCKET.DOMAIN` is virtual-hosted-style S3 and `BUCKET.s3-website.DOMAIN`
    /// the bucket's website; the bare domain serves as any host does.
    pub domain: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(".stratus"),
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            region: "us-east-1".into(),
            drain_deadline: Duration::from_secs(10),
            python: PathBuf::from("python3"),
            insecure_no_sandbox: false,
            worker_memory_mb: default_worker_memory_mb(),
            keep_warm: Duration::from_secs(300),
            sns_retry_base: stratus_events::RetryPolicy::default().base,
            usage_flush: Duration::from_secs(5),
            storage_sample_interval: Duration::from_secs(3600),
            lifecycle_interval: Duration::from_secs(3600),
            lifecycle_day: Duration::from_secs(86_400),
            prices: stratus_cost::PriceCatalog::default(),
            public_metrics: false,
            worker_internet: Vec::new(),
            tls: None,
            outbound_ca_file: None,
            domain: None,
        }
    }
}

/// Half of the host's memory: workers may use that much, the rest stays for the host.
fn default_worker_memory_mb() -> u64 {
    let total_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .unwrap_or(4 * 1024 * 1024);
    (total_kb / 1024 / 2).max(512)
}

/// The metrics every service records into, stamped with this process's start time.
fn new_metrics() -> Arc<stratus_core::metrics::Metrics> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    Arc::new(stratus_core::metrics::Metrics::new(
        env!("CARGO_PKG_VERSION"),
        started,
    ))
}

/// Detects the sandbox and Python; says at start what functions will and will not be able to do.
fn runtime_config(config: &Config, endpoint: String) -> stratus_runtime::RuntimeConfig {
    use stratus_runtime::sandbox::Isolation;
    let mut runtime = stratus_runtime::RuntimeConfig::new(
        config.data_dir.clone(),
        config.region.clone(),
        endpoint,
    );
    runtime.memory_budget_mb = config.worker_memory_mb;
    runtime.keep_warm = config.keep_warm;
    runtime.cgroups = stratus_runtime::cgroup::Cgroups::detect();
    runtime.internet =
        stratus_runtime::outbound::InternetAccess::from_list(&config.worker_internet);
    let isolation = Isolation::detect(
        &config.data_dir.join("sandbox"),
        &config.data_dir.join("run"),
    );
    let isolation = match (isolation, &runtime.cgroups) {
        (Ok(_), Some(cgroups)) if !cgroups.limits_processes() => Err(
            "no usable cgroup pids controller: a fork bomb would not stay inside its worker"
                .to_owned(),
        ),
        (isolation, _) => isolation,
    };
    runtime.isolation = match (&isolation, &runtime.cgroups) {
        (Ok(isolation), Some(cgroups)) => {
            tracing::info!(
                sandbox = isolation.name(),
                cgroups = cgroups.version(),
                "functions run sandboxed: own uid, no capabilities, seccomp, own network namespace"
            );
            if let Some(Err(missing)) = match isolation {
                Isolation::Bubblewrap(hardened) => Some(&hardened.outbound),
                Isolation::None => None,
            } {
                tracing::warn!(%missing, "dependency builds and projects allowed outside (--worker-internet) cannot reach the network");
            }
            Some(isolation.clone())
        }
        _ if config.insecure_no_sandbox => {
            tracing::warn!(
                "--insecure-no-sandbox: function code runs as plain processes of this server's user"
            );
            Some(Isolation::None)
        }
        (Err(why), _) => {
            tracing::error!(reason = %why, "functions cannot run: no sandbox (run scripts/setup-system.sh or install bubblewrap, passt, nftables, util-linux; or pass --insecure-no-sandbox)");
            runtime.no_sandbox_reason.clone_from(why);
            None
        }
        (Ok(_), None) => {
            tracing::error!(
                "functions cannot run: no usable cgroup memory controller (run as root, or pass --insecure-no-sandbox)"
            );
            runtime.no_sandbox_reason = "no usable cgroup memory controller (run as root)".into();
            None
        }
    };
    match stratus_runtime::HostPython::discover(&config.python) {
        Ok(python) => {
            if !python.has_boto3 {
                tracing::warn!(python = %python.executable.display(), "boto3 is not importable by this interpreter; python functions cannot use it (set --python to one that has it)");
            }
            if !python.has_pip {
                tracing::warn!(python = %python.executable.display(), "pip is not importable by this interpreter; functions with a requirements.txt cannot be deployed");
            }
            tracing::info!(python = %python.executable.display(), version = %python.version, "python runtime");
            runtime.python = Some(python);
        }
        Err(why) => tracing::warn!(reason = %why, "python functions cannot run"),
    }
    runtime
}

/// Connects functions and buckets to queues and topics: Lambda destinations, and the outbox
/// relay that delivers bucket notifications for queue and topic rules.
fn wire_messaging(
    store: &Arc<Store>,
    functions: &Arc<stratus_runtime::Functions>,
    queues: Arc<dyn stratus_events::QueueDelivery>,
    topics: Arc<dyn stratus_events::TopicDelivery>,
) {
    functions.set_destination_sink(Arc::new(destinations::Destinations {
        queues: Arc::clone(&queues),
        topics: Arc::clone(&topics),
        functions: Arc::downgrade(functions),
    }));
    let wake = Arc::new(tokio::sync::Notify::new());
    store.notify_outbox_written(Arc::clone(&wake));
    let relay = outbox_relay::OutboxRelay {
        store: Arc::downgrade(store),
        queues,
        topics,
        wake,
    };
    tokio::spawn(relay.run());
}

/// SNS delivery retries: the configured first wait, the default cap and attempt count.
fn sns_retry_policy(config: &Config) -> stratus_events::RetryPolicy {
    stratus_events::RetryPolicy {
        base: config.sns_retry_base,
        ..stratus_events::RetryPolicy::default()
    }
}

/// Starts the usage meter: invocations count into it, a task flushes it and another samples
/// stored bytes, both stopping with the server.
fn start_metering(
    config: &Config,
    meta: &Arc<SqliteMeta>,
    functions: &Arc<stratus_runtime::Functions>,
    stop_requested: &tokio::sync::watch::Receiver<bool>,
) -> Arc<stratus_meta::UsageMeter> {
    let usage = Arc::new(stratus_meta::UsageMeter::new(meta.clone()));
    functions.set_usage_meter(Arc::clone(&usage));
    tokio::spawn(
        Arc::clone(&usage).run_flusher(config.usage_flush, stopped(stop_requested.clone())),
    );
    tokio::spawn(Arc::clone(&usage).run_storage_sampler(
        config.storage_sample_interval,
        stopped(stop_requested.clone()),
    ));
    usage
}

/// Starts the lifecycle sweeper (`stratus-store`'s `lifecycle_sweep.rs`), stopping with the
/// server.
fn start_lifecycle(
    config: &Config,
    store: &Arc<Store>,
    metrics: &Arc<stratus_core::metrics::Metrics>,
    stop_requested: &tokio::sync::watch::Receiver<bool>,
) {
    let clock = stratus_store::LifecycleClock {
        day_ms: i64::try_from(config.lifecycle_day.as_millis()).unwrap_or(i64::MAX),
    };
    tokio::spawn(Arc::clone(store).run_lifecycle(
        config.lifecycle_interval,
        clock,
        Some(Arc::clone(metrics)),
        stopped(stop_requested.clone()),
    ));
}

/// The edge's socket: bound (its port known, connections refused) until [`Server::listen`].
enum EdgeSocket {
    Bound(TcpSocket),
    Listening(TcpListener),
    /// Only while switching from one state to the other.
    Switching,
}

/// Connections queued before `accept` (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 1024;

/// Binds `address` without listening: the port is known (and reserved) but connections are
/// refused until everything clients read (`server.json`) is in place.
fn bind_edge(address: SocketAddr) -> std::io::Result<TcpSocket> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restart may reuse the port while old connections linger
    // in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    Ok(socket)
}

/// A started (bound, not yet serving) server.
pub struct Server {
    socket: EdgeSocket,
    /// Present when serving HTTPS.
    tls: Option<tls::EdgeTls>,
    edge: Edge,
    functions: Arc<stratus_runtime::Functions>,
    /// Flushed once more after the drain, so a graceful stop keeps all metered usage.
    usage: Arc<stratus_meta::UsageMeter>,
    /// Set when serving ends; background services (event source mappings, ...) stop on it.
    stopping: tokio::sync::watch::Sender<bool>,
    address: SocketAddr,
    created_admin: Option<KeyRecord>,
    config: Config,
    /// Held for the server's lifetime: two servers on one data directory would corrupt it.
    _data_dir_lock: std::fs::File,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The URL of the edge at `address`. A certificate cannot name the unspecified address, so
/// over TLS a wildcard listener is reached through loopback.
fn endpoint_url(address: SocketAddr, tls: bool) -> String {
    if !tls {
        return format!("http://{address}");
    }
    let mut address = address;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("https://{address}")
}

/// One accepted connection, before it is served.
pub(crate) struct Connection {
    builder: auto::Builder<TokioExecutor>,
    /// The drain's watcher; connections from inside workers' namespaces have none (they end
    /// with their worker).
    watcher: Option<hyper_util::server::graceful::Watcher>,
    edge: Edge,
    peer: SocketAddr,
}

impl Connection {
    /// Serves an accepted connection, after a TLS handshake when `tls` is given. The handshake
    /// runs on the connection's own task, so a slow client never holds up the accept loop.
    pub(crate) async fn accept(
        self,
        stream: tokio::net::TcpStream,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let _ = stream.set_nodelay(true);
        let peer = self.peer;
        match tls {
            None => self.serve(stream, false).await,
            Some(acceptor) => {
                match tokio::time::timeout(tls::HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => self.serve(stream, true).await,
                    Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    }

    /// Serves the connection (plain or TLS) until it ends or the drain closes it.
    async fn serve<I>(self, io: I, over_tls: bool)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            builder,
            watcher,
            edge,
            peer,
        } = self;
        let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let edge = edge.clone();
            request.extensions_mut().insert(stratus_api::PeerAddr(peer));
            if over_tls {
                request.extensions_mut().insert(stratus_api::OverTls);
            }
            let entry = access_log::Entry::begin(&mut request);
            async move {
                let response = edge.handle(request).await;
                if let Some(entry) = entry {
                    entry.finish(response.status());
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), service)
            .into_owned();
        let ended = match watcher {
            Some(watcher) => watcher.watch(connection).await,
            None => connection.await,
        };
        if let Err(error) = ended {
            tracing::debug!(%error, "connection ended with an error");
        }
    }
}

/// Resolves once the server is told to stop: background services take it as their shutdown.
async fn stopped(mut stop_requested: tokio::sync::watch::Receiver<bool>) {
    let _ = stop_requested.wait_for(|stop| *stop).await;
}

/// Takes an exclusive lock on `DIR/lock`; the kernel releases it when the process dies, even by
/// SIGKILL, so a crashed server never blocks its successor.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = data_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    if file.try_lock().is_err() {
        anyhow::bail!("another stratus server is using {}", data_dir.display());
    }
    Ok(file)
}

impl Server {
    /// Opens the data directory (collecting orphaned blobs), creates the operator key on first
    /// start, binds the listener and records its address in `server.json`.
    ///
    /// # Errors
    /// Unusable data directory, database or address.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        config
            .prices
            .validate()
            .map_err(|why| anyhow::anyhow!("invalid prices: {why}"))?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        let data_dir_lock = lock_data_dir(&config.data_dir)?;
        // Certificates first: a bad file refuses the start before anything else is opened.
        let edge_tls = match &config.tls {
            Some(source) => Some(tls::EdgeTls::new(tls::TlsFiles::prepare(
                source,
                &config.data_dir,
                config.listen,
            )?)?),
            None => None,
        };
        let outbound_tls = stratus_api::tls_client_config(config.outbound_ca_file.as_deref())
            .map_err(|why| anyhow::anyhow!("{why}"))?;
        let metrics = new_metrics();
        let meta = Arc::new(
            SqliteMeta::open(&config.data_dir.join("meta.db"))
                .context("cannot open metadata database")?,
        );
        let identity = Arc::new(Identity::new(meta.clone()));
        let created_admin = identity
            .bootstrap()
            .await
            .context("cannot create the operator key")?;
        if let Some(key) = &created_admin {
            files::write_credentials(&config.data_dir, key)?;
        }
        let store = Arc::new(
            Store::open(&config.data_dir, meta.clone(), &config.region)
                .await
                .context("cannot open object store")?,
        );
        // Bind first: functions are told the edge's address to call back into. Connections
        // are refused until `listen`, after `server.json` is written: a client that waits for
        // the port finds everything it reads in place.
        let socket = bind_edge(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = socket.local_addr()?;
        let endpoint = endpoint_url(address, edge_tls.is_some());
        let mut runtime = runtime_config(&config, endpoint.clone());
        runtime.metrics = Arc::clone(&metrics);
        runtime.ca_bundle = edge_tls.as_ref().and_then(|tls| tls.files.ca.clone());
        let functions =
            stratus_runtime::Functions::open(runtime, meta.clone(), Arc::clone(&identity))
                .await
                .context("cannot open the function service")?;
        // Uploads that match a bucket trigger queue their invocation in the upload's own
        // transaction; this wakes the dispatcher right after that commit.
        store.notify_invocations_queued(functions.dispatch_waker());
        let quotas = Arc::new(stratus_identity::Quotas::new(meta.clone()));
        functions.set_quotas(Arc::clone(&quotas));
        let apps = Arc::new(stratus_identity::Apps::new(meta.clone()));
        // Background services stop when `serve` ends (see `stopped`).
        let (stopping, stop_requested) = tokio::sync::watch::channel(false);
        let queues =
            Arc::new(stratus_events::Queues::new(meta.clone()).with_metrics(Arc::clone(&metrics)));
        tokio::spawn(Arc::clone(&queues).run_sweeper(stopped(stop_requested.clone())));
        let mappings = stratus_events::mappings::Mappings::new(
            meta.clone(),
            Arc::clone(&queues) as _,
            Arc::new(mapping_invoker::RuntimeInvoker {
                functions: Arc::clone(&functions),
                region: config.region.clone(),
            }),
        );
        tokio::spawn(Arc::clone(&mappings).run(stopped(stop_requested.clone())));
        let topics = Arc::new(
            stratus_events::Topics::new(
                meta.clone(),
                Arc::clone(&queues) as _,
                Arc::new(deliveries::FunctionInvocations {
                    functions: Arc::clone(&functions),
                }),
                Arc::new(stratus_api::HyperHttpDelivery::with_tls(outbound_tls)),
                endpoint.clone(),
                sns_retry_policy(&config),
            )
            .with_metrics(Arc::clone(&metrics)),
        );
        tokio::spawn(stratus_events::Topics::run_deliveries(Arc::downgrade(
            &topics,
        )));
        wire_messaging(
            &store,
            &functions,
            Arc::clone(&queues) as _,
            Arc::clone(&topics) as _,
        );
        let usage = start_metering(&config, &meta, &functions, &stop_requested);
        start_lifecycle(&config, &store, &metrics, &stop_requested);
        let edge = Edge::new(
            store,
            identity,
            Arc::clone(&functions),
            apps,
            mappings,
            queues,
            topics,
            stratus_api::Billing {
                usage: Arc::clone(&usage),
                prices: Arc::new(config.prices.clone()),
            },
        )
        .with_metrics(metrics, meta, config.public_metrics)
        .with_quotas(quotas)
        .with_domain(config.domain.clone());
        functions.set_edge_gateway(Arc::new(worker_edge::WorkerEdge {
            edge: edge.clone(),
            tls: edge_tls.as_ref().map(|tls| tls.acceptor.clone()),
        }));
        files::write_server_info(
            &config.data_dir,
            address,
            &endpoint,
            &config.region,
            edge_tls.as_ref().and_then(|tls| tls.files.ca.as_deref()),
        )?;
        Ok(Self {
            socket: EdgeSocket::Bound(socket),
            tls: edge_tls,
            edge,
            functions,
            usage,
            stopping,
            address,
            created_admin,
            config,
            _data_dir_lock: data_dir_lock,
        })
    }

    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL clients reach this server at (`https://` when serving TLS).
    #[must_use]
    pub fn endpoint(&self) -> String {
        endpoint_url(self.address, self.tls.is_some())
    }

    /// Re-reads the TLS certificate and key (SIGHUP); `None` when not serving TLS.
    #[must_use]
    pub fn tls_reloader(&self) -> Option<Arc<CertResolver>> {
        self.tls.as_ref().map(|tls| Arc::clone(&tls.resolver))
    }

    /// The operator key, when this start created it.
    #[must_use]
    pub fn created_admin_key(&self) -> Option<&KeyRecord> {
        self.created_admin.as_ref()
    }

    /// Starts accepting connections (they queue until [`Server::serve`] runs). Everything clients
    /// read is in place by then; call it before announcing readiness. Calling it again does
    /// nothing.
    ///
    /// # Errors
    /// The kernel refusing to listen on the bound socket.
    pub fn listen(&mut self) -> anyhow::Result<()> {
        self.socket = match std::mem::replace(&mut self.socket, EdgeSocket::Switching) {
            EdgeSocket::Bound(socket) => EdgeSocket::Listening(
                socket
                    .listen(LISTEN_BACKLOG)
                    .with_context(|| format!("cannot listen on {}", self.address))?,
            ),
            other => other,
        };
        Ok(())
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
    /// within the drain deadline. Listens first if [`Server::listen`] was not called.
    ///
    /// # Errors
    /// A failing listener.
    pub async fn serve(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.listen()?;
        let EdgeSocket::Listening(listener) =
            std::mem::replace(&mut self.socket, EdgeSocket::Switching)
        else {
            anyhow::bail!("the edge socket is not listening");
        };
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let connection = Connection {
                builder: builder.clone(),
                watcher: Some(graceful.watcher()),
                edge: self.edge.clone(),
                peer,
            };
            let acceptor = self.tls.as_ref().map(|tls| tls.acceptor.clone());
            tokio::spawn(connection.accept(stream, acceptor));
        }
        // Refuse new connections at once instead of leaving them in the backlog until the end.
        drop(listener);
        tracing::info!(deadline = ?self.config.drain_deadline, "draining in-flight requests");
        if tokio::time::timeout(self.config.drain_deadline, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain deadline passed; closing remaining connections");
        }
        self.functions.shutdown();
        if let Err(error) = self.usage.flush().await {
            tracing::error!(%error, "cannot store the last metered usage");
        }
        let _ = self.stopping.send(true);
        files::remove_server_info(&self.config.data_dir);
        Ok(())
    }
}
