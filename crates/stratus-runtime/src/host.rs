//! What the host offers workers: its Python installation, the sandbox, cgroups, and the limits
//! the operator set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cgroup::Cgroups;
use crate::sandbox::Isolation;

/// The interpreter `python3.x` functions run on, and the directories it needs inside the
/// sandbox. On Lambda the base environment has boto3; here it is whatever this interpreter
/// has (the setup scripts use a virtualenv with boto3).
#[derive(Debug, Clone)]
pub struct HostPython {
    pub executable: PathBuf,
    /// `sys.prefix` and `sys.base_prefix`: shown read-only at the same paths inside the sandbox.
    pub dirs: Vec<PathBuf>,
    pub version: String,
    pub has_boto3: bool,
    /// Whether `python -m pip` works: dependency environments are installed with it.
    pub has_pip: bool,
}

const PROBE: &str = "import sys, json, importlib.util as u\nprint(json.dumps({'exe': sys.executable, 'dirs': sorted({sys.prefix, sys.base_prefix}), 'version': '%d.%d.%d' % sys.version_info[:3], 'boto3': u.find_spec('boto3') is not None, 'pip': u.find_spec('pip') is not None}))";

impl HostPython {
    /// Asks `program` where it lives.
    ///
    /// # Errors
    /// A message when it cannot be run or answers nonsense.
    pub fn discover(program: &Path) -> Result<Self, String> {
        let output = std::process::Command::new(program)
            .args(["-c", PROBE])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed: {}",
                program.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let probe: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("unexpected answer from {}: {e}", program.display()))?;
        let text = |key: &str| probe.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let executable = text("exe").ok_or("python did not report sys.executable")?;
        // A virtualenv's `bin/python` is a symlink into the base installation; both
        // directories must be visible, and the venv's `bin` directory must be too.
        let dirs = probe
            .get("dirs")
            .and_then(|v| v.as_array())
            .map(|dirs| {
                dirs.iter()
                    .filter_map(|d| d.as_str())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            executable: PathBuf::from(executable),
            dirs,
            version: text("version").unwrap_or_default(),
            has_boto3: probe.get("boto3").and_then(serde_json::Value::as_bool) == Some(true),
            has_pip: probe.get("pip").and_then(serde_json::Value::as_bool) == Some(true),
        })
    }

    /// The directory holding the interpreter: first on a worker's PATH, so that `python3` in a
    /// `provided` bootstrap script is this one.
    #[must_use]
    pub fn bin_dir(&self) -> Option<&Path> {
        self.executable.parent()
    }

    /// What dependency environments are installed for, part of their hash: compiled wheels
    /// fit one minor version and one architecture (patch releases share the ABI).
    #[must_use]
    pub fn environment_tag(&self) -> String {
        let mut parts = self.version.split('.');
        let major = parts.next().unwrap_or("3");
        let minor = parts.next().unwrap_or("0");
        format!("python{major}.{minor}-{}", std::env::consts::ARCH)
    }
}

/// How the function service runs.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub data_dir: PathBuf,
    pub region: String,
    /// The edge's URL, given to functions as `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    /// The CA certificate that signed the edge's certificate, when clients must be told to
    /// trust it: every worker sees it read-only at `/etc/stratus/ca.pem`, named by
    /// `AWS_CA_BUNDLE`.
    pub ca_bundle: Option<PathBuf>,
    pub isolation: Option<Isolation>,
    /// Why `isolation` is `None`: what the host lacks, said to whoever tries to run code.
    pub no_sandbox_reason: String,
    /// Which projects' workers may reach the outside world (edge only otherwise).
    pub internet: crate::outbound::InternetAccess,
    pub cgroups: Option<Cgroups>,
    pub python: Option<HostPython>,
    /// Memory all workers together may be sized at.
    pub memory_budget_mb: u64,
    /// How long an idle worker stays warm before it is stopped.
    pub keep_warm: Duration,
    /// Retries of a failed asynchronous invocation (Lambda's default is 2).
    pub async_retries: u32,
    /// The first retry's delay; each further retry doubles it.
    pub async_retry_base: Duration,
    /// Events older than this are dead-lettered instead of retried (Lambda: 6 hours).
    pub max_event_age: Duration,
    /// Where invocations are counted (`GET /metrics`); the server shares one with the edge.
    pub metrics: std::sync::Arc<stratus_core::metrics::Metrics>,
}

impl RuntimeConfig {
    /// Defaults for `data_dir`: no sandbox or Python yet (the server detects those).
    #[must_use]
    pub fn new(data_dir: PathBuf, region: String, endpoint: String) -> Self {
        Self {
            data_dir,
            region,
            endpoint,
            ca_bundle: None,
            isolation: None,
            no_sandbox_reason: "no sandbox was configured".into(),
            internet: crate::outbound::InternetAccess::default(),
            cgroups: None,
            python: None,
            memory_budget_mb: 4096,
            keep_warm: Duration::from_secs(300),
            async_retries: 2,
            async_retry_base: Duration::from_secs(1),
            max_event_age: Duration::from_secs(6 * 3600),
            metrics: std::sync::Arc::new(stratus_core::metrics::Metrics::new(
                env!("CARGO_PKG_VERSION"),
                0.0,
            )),
        }
    }
}
