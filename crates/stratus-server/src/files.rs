//! Files the server leaves in its data directory for clients: `credentials` (the operator key,
//! AWS shared-credentials format, mode 0600) and `server.json` (where it listens, and the CA
//! that signed its certificate when that CA is the server's own).

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use stratus_meta::KeyRecord;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerInfo {
    pub address: String,
    pub endpoint: String,
    pub pid: u32,
    /// The region the server reports to AWS clients (`stratus env` exports it).
    #[serde(default = "default_region")]
    pub region: String,
    /// The CA certificate clients must trust (`DATA_DIR/tls/ca.pem`), when the server serves
    /// HTTPS with a certificate it made itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// What a `server.json` written before the region was recorded means.
fn default_region() -> String {
    "us-east-1".to_owned()
}

/// The operator key as read back from `credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub project: String,
    pub role: String,
    pub token: String,
}

/// Writes `path` so that a reader never sees it half-written: temp file, fsync, rename.
fn write_atomically(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn write_credentials(data_dir: &Path, key: &KeyRecord) -> anyhow::Result<()> {
    let contents = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\nstratus_project = {}\nstratus_role = {}\nstratus_token = {}\n",
        key.access_key_id,
        key.secret,
        key.project,
        key.role,
        stratus_identity::bearer_token(key)
    );
    write_atomically(&data_dir.join("credentials"), &contents, 0o600)
}

/// Reads the operator key written at first start.
///
/// # Errors
/// A missing or malformed file.
pub fn read_credentials(data_dir: &Path) -> anyhow::Result<Credentials> {
    let path = data_dir.join("credentials");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (has the server started once?)",
            path.display()
        )
    })?;
    let field = |name: &str| {
        text.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_owned())
            .with_context(|| format!("{} has no {name}", path.display()))
    };
    Ok(Credentials {
        access_key_id: field("aws_access_key_id")?,
        secret_access_key: field("aws_secret_access_key")?,
        project: field("stratus_project")?,
        role: field("stratus_role")?,
        token: field("stratus_token")?,
    })
}

pub(crate) fn write_server_info(
    data_dir: &Path,
    address: SocketAddr,
    endpoint: &str,
    region: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<()> {
    let info = ServerInfo {
        address: address.to_string(),
        endpoint: endpoint.to_owned(),
        pid: std::process::id(),
        region: region.to_owned(),
        // Absolute, so `stratus env` prints a path that works from any directory.
        ca_file: ca_file.map(|path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned())),
    };
    write_atomically(
        &data_dir.join("server.json"),
        &serde_json::to_string_pretty(&info)?,
        0o644,
    )
}

pub(crate) fn remove_server_info(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join("server.json"));
}

/// Reads where the server of `data_dir` listens.
///
/// # Errors
/// A missing or malformed file (the server is not running).
pub fn read_server_info(data_dir: &Path) -> anyhow::Result<ServerInfo> {
    let path = data_dir.join("server.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (is the server running?)", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}
