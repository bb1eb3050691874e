//! `stratus server` options and their precedence: flags, then `STRATUS_*` variables (both read
//! by clap), then the `--config` file, then the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use stratus_server::{Config, FileConfig};

#[derive(clap::Args)]
pub(crate) struct ServerArgs {
    /// A TOML file with any of: data_dir, listen, region, drain_deadline ("10s").
    #[arg(long, env = "STRATUS_CONFIG")]
    config: Option<PathBuf>,
    /// Where metadata, objects and credentials live [default: .stratus].
    #[arg(long, env = "STRATUS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (see DATA_DIR/server.json) [default: 127.0.0.1:4566].
    #[arg(long, env = "STRATUS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Region reported to AWS clients [default: us-east-1].
    #[arg(long, env = "STRATUS_REGION")]
    region: Option<String>,
    /// Seconds in-flight requests may take to finish after SIGINT/SIGTERM [default: 10].
    #[arg(long, env = "STRATUS_DRAIN_SECONDS")]
    drain_seconds: Option<u64>,
}

impl ServerArgs {
    /// The server configuration these options describe.
    pub(crate) fn resolve(self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let defaults = Config::default();
        Ok(Config {
            data_dir: self.data_dir.or(file.data_dir).unwrap_or(defaults.data_dir),
            listen: self.listen.or(file.listen).unwrap_or(defaults.listen),
            region: self.region.or(file.region).unwrap_or(defaults.region),
            drain_deadline: self
                .drain_seconds
                .map(Duration::from_secs)
                .or(file.drain_deadline)
                .unwrap_or(defaults.drain_deadline),
        })
    }
}
