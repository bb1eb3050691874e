//! Finding, starting and stopping the servers under test. A started server is owned by a
//! [`Server`], which stops it when dropped, so an error anywhere in the run leaves no stray
//! process behind.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const INSTALL_S3S_FS: &str =
    "cargo install s3s-fs --version 0.14.1 --locked --features binary --root target/bench-tools";

/// The server binaries to benchmark.
#[derive(Debug)]
pub struct Binaries {
    pub stratus: PathBuf,
    pub s3s_fs: Option<PathBuf>,
    /// `s3s-fs --version`, for the report.
    pub s3s_fs_version: Option<String>,
}

impl Binaries {
    /// `STRATUS_BIN`, else `stratus` next to this binary (both are built into target/release);
    /// `S3S_FS_BIN`, else the `cargo install --root target/bench-tools` location.
    pub fn locate(target_dir: &Path) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let own_dir = exe
            .parent()
            .context("bench binary has no parent directory")?;
        let stratus =
            std::env::var_os("STRATUS_BIN").map_or_else(|| own_dir.join("stratus"), PathBuf::from);
        if !stratus.is_file() {
            bail!(
                "{} not found: build it with `cargo build --release -p stratus-cli` or set STRATUS_BIN",
                stratus.display()
            );
        }
        let s3s_fs = std::env::var_os("S3S_FS_BIN")
            .map_or_else(|| target_dir.join("bench-tools/bin/s3s-fs"), PathBuf::from);
        if !s3s_fs.is_file() {
            eprintln!(
                "s3s-fs: {} not found, skipping that column; install it with:\n    {INSTALL_S3S_FS}",
                s3s_fs.display()
            );
            return Ok(Self {
                stratus,
                s3s_fs: None,
                s3s_fs_version: None,
            });
        }
        let s3s_fs_version = version_of(&s3s_fs);
        Ok(Self {
            stratus,
            s3s_fs: Some(s3s_fs),
            s3s_fs_version,
        })
    }
}

pub fn s3s_fs_missing_note() -> Option<String> {
    Some(format!(
        "s3s-fs column skipped: not installed (install with `{INSTALL_S3S_FS}`)"
    ))
}

/// Where and how to reach a started server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub access_key: String,
    pub secret_key: String,
}

/// A running server process; stopped on [`Server::stop`] or, failing that, on drop.
#[derive(Debug)]
pub struct Server {
    pub endpoint: Endpoint,
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// Starts `stratus server` on a free port and waits until it has written `server.json`.
pub async fn start_stratus(bin: &Path, data_dir: &Path) -> anyhow::Result<Server> {
    std::fs::create_dir_all(data_dir)?;
    let log = data_dir.with_extension("log");
    let mut command = Command::new(bin);
    command
        .arg("server")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"]);
    let mut server = spawn("stratus", command, &log)?;
    let info_path = data_dir.join("server.json");
    let deadline = Instant::now() + START_TIMEOUT;
    // server.json is written after the listener is bound, and the credentials before that.
    while !info_path.is_file() {
        server.check_alive_before(deadline).await?;
    }
    let info: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&info_path)?)?;
    server.endpoint.url = info["endpoint"]
        .as_str()
        .context("server.json has no endpoint")?
        .to_owned();
    let credentials = std::fs::read_to_string(data_dir.join("credentials"))?;
    server.endpoint.access_key = ini_value(&credentials, "aws_access_key_id")?;
    server.endpoint.secret_key = ini_value(&credentials, "aws_secret_access_key")?;
    Ok(server)
}

/// Starts s3s-fs on a free port with a fixed key and waits until it accepts connections.
pub async fn start_s3s_fs(bin: &Path, root: &Path) -> anyhow::Result<Server> {
    std::fs::create_dir_all(root)?;
    // s3s-fs cannot report the port it bound, so pick a free one; the race with other
    // processes grabbing it in between is harmless on a benchmark machine.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let (access_key, secret_key) = ("stratus-bench", "stratus-bench-secret");
    let mut command = Command::new(bin);
    command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
    command
        .args(["--access-key", access_key, "--secret-key", secret_key])
        .arg(root);
    let mut server = spawn("s3s-fs", command, &root.with_extension("log"))?;
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        server.check_alive_before(deadline).await?;
    }
    server.endpoint = Endpoint {
        url: format!("http://127.0.0.1:{port}"),
        access_key: access_key.into(),
        secret_key: secret_key.into(),
    };
    Ok(server)
}

fn spawn(name: &'static str, mut command: Command, log: &Path) -> anyhow::Result<Server> {
    let log_file = File::create(log)?;
    // Logs go to a file: on the terminal they would cost time and bury the results. RUST_LOG
    // is dropped so that a verbose setting meant for something else cannot slow the servers.
    command
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
    let endpoint = Endpoint {
        url: String::new(),
        access_key: String::new(),
        secret_key: String::new(),
    };
    Ok(Server {
        endpoint,
        name,
        child,
        log: log.to_path_buf(),
    })
}

impl Server {
    /// Sleeps a moment while waiting for startup; fails if the process died or took too long.
    async fn check_alive_before(&mut self, deadline: Instant) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited during startup ({status}); its log:\n{}",
                self.name,
                self.log_tail()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not start within {START_TIMEOUT:?}; its log:\n{}",
                self.name,
                self.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(())
    }

    /// SIGTERM (a graceful stop for Stratus), then SIGKILL if it lingers.
    pub async fn stop(mut self) {
        self.signal_term();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "{}: did not stop within {STOP_TIMEOUT:?} of SIGTERM, killing it",
            self.name
        );
        // Drop does the kill.
    }

    fn signal_term(&self) {
        // std has no SIGTERM and the workspace forbids unsafe, so ask kill(1).
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Still running here means stop() was not called (an error or panic) or timed out.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `key = value` from an INI file (the credentials file has a single section).
fn ini_value(text: &str, key: &str) -> anyhow::Result<String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_owned())
        .with_context(|| format!("credentials file has no {key}"))
}

fn version_of(bin: &Path) -> Option<String> {
    let output = Command::new(bin).arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned()).filter(|v| !v.is_empty())
}
