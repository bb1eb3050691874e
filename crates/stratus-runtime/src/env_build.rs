//! Building dependency environments: `pip install --target` of a `requirements.txt`, run in the
//! workers' sandbox (an sdist's build script is arbitrary code), its output streamed to the
//! caller line by line. The layout and durability are `envs.rs`'s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stratus_core::Action;
use stratus_identity::Principal;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::mpsc;

use crate::envs::{EnvInfo, EnvStore, Staging, environment_hash, is_environment_hash};
use crate::functions::{Functions, require};
use crate::host::HostPython;
use crate::netns::NetNamespace;
use crate::sandbox::{self, DEPENDENCIES_DIR, Isolation, Mount, SandboxSpec};
use crate::{RuntimeError, RuntimeResult};

/// `/tmp` of a dependency build (pip unpacks and builds wheels there), in MB.
const BUILD_TMP_MB: u32 = 2048;

/// Requirements files are short; this bounds what one request can make the server hash.
pub const MAX_REQUIREMENTS_BYTES: usize = 64 * 1024;
/// A build running longer than this is killed (large wheels take minutes, not hours).
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Where pip's requirements file and scratch space appear inside the build sandbox.
const BUILD_DIR: &str = "/opt/build";
/// Output lines buffered between pip and a slow client before pip is held back.
const PROGRESS_BUFFER: usize = 256;

/// What a build reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent {
    /// A line pip printed (stdout or stderr).
    Output(String),
    /// Another request is building the same environment; this one waits for it.
    Waiting,
    /// The end: the environment (and whether it was built by this request), or why not.
    Finished(Result<Built, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub info: EnvInfo,
    /// `false` when another request built it while this one waited.
    pub by_this_request: bool,
}

/// The answer to a build request.
#[derive(Debug)]
pub enum EnvironmentBuild {
    /// Already built: nothing to do.
    Cached(EnvInfo),
    /// Building; events follow, ending with [`BuildEvent::Finished`].
    Started(mpsc::Receiver<BuildEvent>),
}

impl Functions {
    /// The interpreter tag environment hashes are computed with.
    ///
    /// # Errors
    /// Unavailable when the server has no Python.
    pub fn environment_tag(&self) -> RuntimeResult<String> {
        Ok(self.host_python()?.environment_tag())
    }

    fn host_python(&self) -> RuntimeResult<&HostPython> {
        self.config.python.as_ref().ok_or_else(|| {
            RuntimeError::Unavailable(
                "the server has no Python interpreter (start it with --python)".into(),
            )
        })
    }

    /// A built environment.
    ///
    /// # Errors
    /// NotFound, Forbidden.
    pub async fn environment(&self, caller: &Principal, hash: &str) -> RuntimeResult<EnvInfo> {
        require(caller, Action::Read)?;
        let envs = Arc::clone(&self.envs);
        let hash = hash.to_owned();
        blocking(move || envs.info(&hash).ok_or(hash))
            .await?
            .map_err(|hash| RuntimeError::NotFound(format!("environment {hash} does not exist")))
    }

    /// Every built environment (they are shared by all projects: see ARCHITECTURE.md).
    ///
    /// # Errors
    /// Forbidden.
    pub async fn environments(&self, caller: &Principal) -> RuntimeResult<Vec<EnvInfo>> {
        require(caller, Action::Read)?;
        let envs = Arc::clone(&self.envs);
        blocking(move || envs.list()).await
    }

    /// Builds the environment of `requirements` unless it exists. `hash` is what the caller
    /// computed; a different answer here means it used another interpreter tag or normalisation.
    /// The build runs to the end even if the caller stops listening.
    ///
    /// # Errors
    /// Forbidden, Invalid (hash mismatch, empty requirements), TooLarge, Unavailable (no
    /// Python, no pip, no sandbox).
    pub async fn build_environment(
        &self,
        caller: &Principal,
        hash: &str,
        requirements: &str,
    ) -> RuntimeResult<EnvironmentBuild> {
        require(caller, Action::Write)?;
        if requirements.len() > MAX_REQUIREMENTS_BYTES {
            return Err(RuntimeError::TooLarge(format!(
                "requirements of {} bytes exceed {MAX_REQUIREMENTS_BYTES}",
                requirements.len()
            )));
        }
        let python = self.host_python()?.clone();
        let tag = python.environment_tag();
        let expected = environment_hash(requirements, &tag);
        if !is_environment_hash(hash) || hash != expected {
            return Err(RuntimeError::Invalid {
                field: "hash",
                message: format!(
                    "{hash} is not the hash of these requirements for {tag} (expected {expected})"
                ),
            });
        }
        if crate::envs::normalise_requirements(requirements).is_empty() {
            return Err(RuntimeError::Invalid {
                field: "requirements",
                message: "no requirements (only comments and blank lines)".into(),
            });
        }
        if let Ok(info) = self.environment(caller, hash).await {
            return Ok(EnvironmentBuild::Cached(info));
        }
        if !python.has_pip {
            return Err(RuntimeError::Unavailable(format!(
                "the server's Python ({}) has no pip; install it (python -m ensurepip) to use requirements.txt",
                python.executable.display()
            )));
        }
        let Some(isolation) = self.config.isolation.clone() else {
            return Err(RuntimeError::Unavailable(format!(
                "dependencies cannot be installed: the host has no usable sandbox ({}); start the server with --insecure-no-sandbox to run pip without one",
                self.config.no_sandbox_reason
            )));
        };
        let (events, receiver) = mpsc::channel(PROGRESS_BUFFER);
        let job = Job {
            envs: Arc::clone(&self.envs),
            hash: hash.to_owned(),
            requirements: requirements.to_owned(),
            python,
            isolation,
            events,
        };
        tokio::spawn(job.run());
        Ok(EnvironmentBuild::Started(receiver))
    }
}

/// One build request's work, detached from the request that started it.
struct Job {
    envs: Arc<EnvStore>,
    hash: String,
    requirements: String,
    python: HostPython,
    isolation: Isolation,
    events: mpsc::Sender<BuildEvent>,
}

impl Job {
    async fn run(self) {
        let lock = self.envs.build_lock(&self.hash);
        let guard = match Arc::clone(&lock).try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                self.report(BuildEvent::Waiting).await;
                Arc::clone(&lock).lock_owned().await
            }
        };
        let envs = Arc::clone(&self.envs);
        let hash = self.hash.clone();
        let outcome = match blocking(move || envs.info(&hash)).await {
            Ok(Some(info)) => Ok(Built {
                info,
                by_this_request: false,
            }),
            _ => self.build().await.map(|info| Built {
                info,
                by_this_request: true,
            }),
        };
        drop(guard);
        self.envs.release_lock(&self.hash, lock);
        match &outcome {
            Ok(built) => tracing::info!(
                environment = %self.hash,
                size_bytes = built.info.size_bytes,
                seconds = built.info.build_seconds,
                "dependency environment ready"
            ),
            Err(error) => {
                tracing::warn!(environment = %self.hash, %error, "dependency build failed")
            }
        }
        self.report(BuildEvent::Finished(outcome)).await;
    }

    /// A closed channel means the client left; the build goes on for the next one.
    async fn report(&self, event: BuildEvent) {
        let _ = self.events.send(event).await;
    }

    async fn build(&self) -> Result<EnvInfo, String> {
        let started = Instant::now();
        let envs = Arc::clone(&self.envs);
        let (hash, requirements) = (self.hash.clone(), self.requirements.clone());
        let staging = blocking(move || envs.stage(&hash, &requirements))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot create the build directory: {e}"))?;
        self.run_pip(&staging).await?;
        let tag = self.python.environment_tag();
        let seconds = started.elapsed().as_secs_f64();
        blocking(move || staging.commit(&tag, seconds))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot store the environment: {e}"))
    }

    async fn run_pip(&self, staging: &Staging) -> Result<(), String> {
        let work = staging.work_dir();
        let mounts = [
            Mount {
                host: staging.python_dir(),
                inside: DEPENDENCIES_DIR,
                writable: true,
            },
            Mount {
                host: work.clone(),
                inside: BUILD_DIR,
                writable: true,
            },
        ];
        let argv = pip_argv(&self.python);
        let env = pip_env(&self.python);
        let mut host_dirs = self.python.dirs.clone();
        host_dirs.extend(operator_pip_paths(&env));
        // pip runs as the build uid, in a namespace of its own that reaches the package index
        // (the outside world) but no service of the host.
        for dir in [staging.python_dir(), work.clone()] {
            let _ =
                std::os::unix::fs::chown(&dir, Some(sandbox::BUILD_UID), Some(sandbox::BUILD_UID));
        }
        let (network, _outbound) = match &self.isolation {
            Isolation::Bubblewrap(hardened) => {
                let outbound = hardened.outbound.as_ref().map_err(|missing| {
                    format!("dependency builds need network access to the package index, but the host lacks {missing}")
                })?;
                let (namespace, _) = NetNamespace::create(&[])
                    .map_err(|e| format!("cannot create the build's network namespace: {e}"))?;
                let link = outbound
                    .attach(
                        &namespace,
                        &format!("build-{}", &self.hash[..12.min(self.hash.len())]),
                        &operator_loopback_ports(&env),
                    )
                    .await
                    .map_err(|e| format!("cannot connect the build to the network: {e}"))?;
                (Some(namespace), Some(link))
            }
            Isolation::None => (None, None),
        };
        let spec = SandboxSpec {
            code_dir: &work,
            runtime_dir: None,
            host_dirs: &host_dirs,
            volumes: &[],
            mounts: &mounts,
            env: &env,
            argv: &argv,
            output: None,
            cgroup: None,
            uid: sandbox::BUILD_UID,
            network: network.as_ref(),
            tmp_mb: BUILD_TMP_MB,
        };
        let mut child = sandbox::command(&self.isolation, &spec)
            .and_then(|mut command| command.spawn())
            .map_err(|e| format!("cannot start pip: {e}"))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let finished = async {
            // Both at once: pip blocks when either pipe is full.
            tokio::join!(self.forward(stdout), self.forward(stderr));
            child.wait().await
        };
        // On timeout `child` is dropped, which kills pip (kill_on_drop; bwrap takes its
        // children with it).
        match tokio::time::timeout(BUILD_LIMIT, finished).await {
            Err(_) => Err(format!(
                "pip did not finish within {} minutes",
                BUILD_LIMIT.as_secs() / 60
            )),
            Ok(Err(error)) => Err(format!("waiting for pip failed: {error}")),
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("pip failed ({status})")),
        }
    }

    /// Sends each line `reader` produces as [`BuildEvent::Output`].
    async fn forward<R: tokio::io::AsyncRead + Unpin>(&self, reader: Option<R>) {
        let Some(reader) = reader else {
            return;
        };
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                    self.report(BuildEvent::Output(text)).await;
                }
            }
        }
    }
}

fn pip_argv(python: &HostPython) -> Vec<String> {
    [
        python.executable.to_string_lossy().as_ref(),
        "-m",
        "pip",
        "install",
        "--target",
        DEPENDENCIES_DIR,
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        // A shared cache would let one project's build plant wheels for another's.
        "--no-cache-dir",
        "--requirement",
        &format!("{BUILD_DIR}/requirements.txt"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// pip's environment: the operator's pip settings and proxies pass through (an index mirror,
/// say); nothing else of the server's environment does.
fn pip_env(python: &HostPython) -> Vec<(String, String)> {
    let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
    if let Some(bin) = python.bin_dir() {
        path = format!("{}:{path}", bin.display());
    }
    let mut env = vec![
        ("PATH".to_owned(), path),
        ("HOME".to_owned(), format!("{BUILD_DIR}/tmp")),
        ("TMPDIR".to_owned(), format!("{BUILD_DIR}/tmp")),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ("PYTHONNOUSERSITE".to_owned(), "1".to_owned()),
        ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
    ];
    let passes = |name: &str| {
        name.starts_with("PIP_")
            || matches!(
                name.to_ascii_lowercase().as_str(),
                "http_proxy" | "https_proxy" | "no_proxy" | "all_proxy"
            )
    };
    env.extend(std::env::vars().filter(|(name, _)| passes(name)));
    env
}

/// Local files the operator's pip settings name (a wheelhouse in `PIP_FIND_LINKS`, a
/// certificate, a config file, `/etc/pip.conf`): shown read-only in the build sandbox, which
/// otherwise sees none of the host's files. Requirements files cannot add to this list.
fn operator_pip_paths(env: &[(String, String)]) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/etc/pip.conf")];
    for (name, value) in env {
        if name.starts_with("PIP_") {
            paths.extend(
                value
                    .split_whitespace()
                    .map(|word| PathBuf::from(word.strip_prefix("file://").unwrap_or(word))),
            );
        }
    }
    paths.retain(|path| path.is_absolute() && path.exists());
    paths.sort();
    paths.dedup();
    paths
}

/// Ports of the host's loopback that the operator's pip settings point at (a package mirror or
/// proxy on `127.0.0.1`): forwarded into the build's namespace, which otherwise has no way to
/// the host's services. Requirements files cannot add to this list.
fn operator_loopback_ports(env: &[(String, String)]) -> Vec<u16> {
    let mut ports: Vec<u16> = env
        .iter()
        .filter(|(name, _)| {
            name.starts_with("PIP_") || name.to_ascii_lowercase().ends_with("_proxy")
        })
        .flat_map(|(_, value)| {
            value
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|word| {
            let uri = word.parse::<http::Uri>().ok()?;
            let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            let default_port = match uri.scheme_str()? {
                "http" => 80,
                "https" => 443,
                _ => return None,
            };
            loopback.then(|| uri.port_u16().unwrap_or(default_port))
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> RuntimeResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| RuntimeError::Io(std::io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_operators_loopback_index_and_proxy_ports_reach_the_build() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let ports = operator_loopback_ports(&env(&[
            ("PIP_INDEX_URL", "http://127.0.0.1:3141/root/pypi/+simple/"),
            (
                "PIP_FIND_LINKS",
                "/opt/wheels http://localhost:8080/ https://pypi.org/simple",
            ),
            ("https_proxy", "http://[::1]:3128"),
            ("PATH", "http://127.0.0.1:9999/"),
        ]));
        assert_eq!(ports, vec![3128, 3141, 8080]);
    }

    #[test]
    fn only_existing_absolute_paths_of_pip_settings_are_shown() {
        let wheels = tempfile::tempdir().expect("tempdir");
        let dir = wheels.path().display().to_string();
        let env = vec![
            (
                "PIP_FIND_LINKS".to_owned(),
                format!("file://{dir} relative /no/such/dir"),
            ),
            ("PIP_DEFAULT_TIMEOUT".to_owned(), "180".to_owned()),
            ("HOME".to_owned(), dir.clone()),
        ];
        let paths = operator_pip_paths(&env);
        assert!(paths.contains(&wheels.path().to_path_buf()));
        assert!(paths.iter().all(|p| p.exists() && p.is_absolute()));
        let without_pip = operator_pip_paths(&[("HOME".to_owned(), dir)]);
        assert!(!without_pip.contains(&wheels.path().to_path_buf()));
    }
}
