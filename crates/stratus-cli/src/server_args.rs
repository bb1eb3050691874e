//! `stratus server` options and their precedence: flags, then `STRATUS_*` variables (both read
//! by clap), then the `--config` file, then the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use stratus_server::{Config, FileConfig, TlsSource};

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
    /// The Python interpreter `python3.x` functions run on; its packages (boto3) are the
    /// functions' base environment [default: python3].
    #[arg(long, env = "STRATUS_PYTHON")]
    python: Option<PathBuf>,
    /// Run function code as plain processes when bubblewrap or cgroups are missing (unsafe:
    /// development only).
    #[arg(long, env = "STRATUS_INSECURE_NO_SANDBOX")]
    insecure_no_sandbox: bool,
    /// Memory all function workers together may be sized at, in MB [default: half the host's].
    #[arg(long, env = "STRATUS_WORKER_MEMORY_MB")]
    worker_memory_mb: Option<u64>,
    /// How long an idle function worker stays warm, e.g. 30s or 5m [default: 5m].
    #[arg(long, env = "STRATUS_KEEP_WARM", value_parser = parse_duration_arg)]
    keep_warm: Option<Duration>,
    /// The wait before an SNS delivery's second attempt, e.g. 1s or 50ms; it doubles after
    /// each failure [default: 1s].
    #[arg(long, env = "STRATUS_SNS_RETRY_BASE", value_parser = parse_duration_arg)]
    sns_retry_base: Option<Duration>,
    /// How often metered usage is written to the database, e.g. 5s [default: 5s].
    #[arg(long, env = "STRATUS_USAGE_FLUSH", value_parser = parse_duration_arg)]
    usage_flush: Option<Duration>,
    /// How often stored bytes are sampled for storage billing, e.g. 1h [default: 1h].
    #[arg(long, env = "STRATUS_STORAGE_SAMPLE_INTERVAL", value_parser = parse_duration_arg)]
    storage_sample_interval: Option<Duration>,
    /// How often bucket lifecycle rules are applied, e.g. 1h or 10s [default: 1h].
    #[arg(long, env = "STRATUS_LIFECYCLE_INTERVAL", value_parser = parse_duration_arg)]
    lifecycle_interval: Option<Duration>,
    /// For tests only: one lifecycle day lasts this many seconds (docs/s3-lifecycle.md)
    /// [default: 86400].
    #[arg(long, env = "STRATUS_LIFECYCLE_DAY_SECONDS", hide = true)]
    lifecycle_day_seconds: Option<u64>,
    /// Serve GET /metrics without a token (for Prometheus on a trusted network); by default it
    /// needs an operator key (admin key of the `admin` project) as a bearer token.
    #[arg(long, env = "STRATUS_PUBLIC_METRICS")]
    public_metrics: bool,
    /// A project whose function workers may open connections to the outside world (repeat
    /// the flag, or `*` for every project); the others reach only the edge [default: none].
    #[arg(
        long = "worker-internet",
        env = "STRATUS_WORKER_INTERNET",
        value_delimiter = ','
    )]
    worker_internet: Vec<String>,
    /// Serve HTTPS with this PEM certificate chain, leaf first (needs --tls-key; reloaded on
    /// SIGHUP).
    #[arg(long, env = "STRATUS_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "STRATUS_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a CA and server certificate made under DATA_DIR/tls/ on first start
    /// (`stratus env` then exports AWS_CA_BUNDLE).
    #[arg(long, env = "STRATUS_TLS_SELF_SIGNED")]
    tls_self_signed: bool,
    /// A PEM file of CAs that outbound HTTPS (SNS https subscriptions) trusts besides the
    /// system's root certificates.
    #[arg(long, env = "STRATUS_OUTBOUND_CA_FILE")]
    outbound_ca_file: Option<PathBuf>,
    /// The DNS name clients reach the server by: BUCKET.DOMAIN is then virtual-hosted-style S3
    /// and BUCKET.s3-website.DOMAIN the bucket's static website (point a wildcard record at it).
    #[arg(long, env = "STRATUS_DOMAIN")]
    domain: Option<String>,
    /// Write this file (the endpoint, atomically) once the server accepts connections and
    /// DATA_DIR/server.json is in place; systemd's NOTIFY_SOCKET gets READY=1 at the same time.
    #[arg(long, env = "STRATUS_READY_FILE")]
    pub(crate) ready_file: Option<PathBuf>,
    /// Log lines as text or as one JSON object per line; the level comes from RUST_LOG, else
    /// STRATUS_LOG [default: info].
    #[arg(long, env = "STRATUS_LOG_FORMAT", value_enum, default_value_t)]
    pub(crate) log_format: crate::logging::LogFormat,
}

/// What one layer of configuration (flags and variables, or the file) says about TLS.
#[derive(Debug, Default)]
struct TlsLayer {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    self_signed: bool,
}

impl TlsLayer {
    fn names_files(&self) -> bool {
        self.cert.is_some() || self.key.is_some()
    }
}

/// The TLS source: flags and variables win over the file, a certificate or key file over
/// `self_signed` of a lower layer (and vice versa); naming both in one layer is an error, and
/// a certificate needs its key.
fn tls_source(upper: TlsLayer, file: TlsLayer) -> anyhow::Result<Option<TlsSource>> {
    for (layer, what) in [
        (&upper, "--tls-self-signed and --tls-cert/--tls-key"),
        (&file, "tls_self_signed and tls_cert/tls_key"),
    ] {
        if layer.self_signed && layer.names_files() {
            anyhow::bail!("{what} exclude each other: choose one");
        }
    }
    if upper.self_signed || (file.self_signed && !upper.names_files()) {
        return Ok(Some(TlsSource::SelfSigned));
    }
    match (upper.cert.or(file.cert), upper.key.or(file.key)) {
        (Some(cert), Some(key)) => Ok(Some(TlsSource::Files { cert, key })),
        (None, None) => Ok(None),
        (Some(cert), None) => anyhow::bail!(
            "TLS certificate {} has no key: give --tls-key (or tls_key)",
            cert.display()
        ),
        (None, Some(key)) => anyhow::bail!(
            "TLS key {} has no certificate: give --tls-cert (or tls_cert)",
            key.display()
        ),
    }
}

fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    stratus_server::parse_duration(text)
        .ok_or_else(|| format!("invalid duration {text:?}: use ms, s, m or h"))
}

/// Periodic tasks need a period: zero would spin.
fn positive(name: &str, period: Duration) -> anyhow::Result<Duration> {
    if period.is_zero() {
        anyhow::bail!("{name} must be longer than zero");
    }
    Ok(period)
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
            python: self.python.or(file.python).unwrap_or(defaults.python),
            insecure_no_sandbox: self.insecure_no_sandbox
                || file.insecure_no_sandbox.unwrap_or(false),
            worker_memory_mb: self
                .worker_memory_mb
                .or(file.worker_memory_mb)
                .unwrap_or(defaults.worker_memory_mb),
            keep_warm: self
                .keep_warm
                .or(file.keep_warm)
                .unwrap_or(defaults.keep_warm),
            sns_retry_base: positive(
                "sns_retry_base",
                self.sns_retry_base
                    .or(file.sns_retry_base)
                    .unwrap_or(defaults.sns_retry_base),
            )?,
            usage_flush: positive(
                "usage_flush",
                self.usage_flush
                    .or(file.usage_flush)
                    .unwrap_or(defaults.usage_flush),
            )?,
            storage_sample_interval: positive(
                "storage_sample_interval",
                self.storage_sample_interval
                    .or(file.storage_sample_interval)
                    .unwrap_or(defaults.storage_sample_interval),
            )?,
            lifecycle_interval: positive(
                "lifecycle_interval",
                self.lifecycle_interval
                    .or(file.lifecycle_interval)
                    .unwrap_or(defaults.lifecycle_interval),
            )?,
            lifecycle_day: positive(
                "lifecycle_day_seconds",
                self.lifecycle_day_seconds
                    .or(file.lifecycle_day_seconds)
                    .map_or(defaults.lifecycle_day, Duration::from_secs),
            )?,
            // Prices come from the file alone: a catalog is too big for flags.
            prices: file.prices.unwrap_or(defaults.prices),
            public_metrics: self.public_metrics || file.public_metrics.unwrap_or(false),
            worker_internet: if self.worker_internet.is_empty() {
                file.worker_internet.unwrap_or_default()
            } else {
                self.worker_internet
            },
            tls: tls_source(
                TlsLayer {
                    cert: self.tls_cert,
                    key: self.tls_key,
                    self_signed: self.tls_self_signed,
                },
                TlsLayer {
                    cert: file.tls_cert,
                    key: file.tls_key,
                    self_signed: file.tls_self_signed.unwrap_or(false),
                },
            )?,
            outbound_ca_file: self.outbound_ca_file.or(file.outbound_ca_file),
            domain: self.domain.or(file.domain),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    /// Resolves `args` (flags) over a config file holding `file`.
    fn resolve(args: &[&str], file: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stratus.toml");
        std::fs::write(&path, file).expect("write");
        let config = path.to_string_lossy().into_owned();
        let argv = ["stratus", "--config", config.as_str()]
            .into_iter()
            .chain(args.iter().copied());
        Cli::try_parse_from(argv).expect("parse").server.resolve()
    }

    fn files(cert: &str, key: &str) -> Option<TlsSource> {
        Some(TlsSource::Files {
            cert: cert.into(),
            key: key.into(),
        })
    }

    #[test]
    fn tls_comes_from_flags_over_the_file() {
        assert_eq!(resolve(&[], "").expect("plain").tls, None);
        let file = "tls_cert = \"/f/cert.pem\"\ntls_key = \"/f/key.pem\"\n";
        assert_eq!(
            resolve(&[], file).expect("file").tls,
            files("/f/cert.pem", "/f/key.pem")
        );
        // A flag replaces the file's value of the same key and keeps the other.
        assert_eq!(
            resolve(&["--tls-cert", "/a/cert.pem"], file)
                .expect("flag")
                .tls,
            files("/a/cert.pem", "/f/key.pem")
        );
        // Self-signed from the flags wins over the file's files, and the reverse.
        assert_eq!(
            resolve(&["--tls-self-signed"], file)
                .expect("self-signed")
                .tls,
            Some(TlsSource::SelfSigned)
        );
        assert_eq!(
            resolve(
                &["--tls-cert", "/a/c.pem", "--tls-key", "/a/k.pem"],
                "tls_self_signed = true\n"
            )
            .expect("files over self-signed")
            .tls,
            files("/a/c.pem", "/a/k.pem")
        );
        assert_eq!(
            resolve(&[], "tls_self_signed = true\n").expect("file").tls,
            Some(TlsSource::SelfSigned)
        );
    }

    #[test]
    fn incomplete_or_contradictory_tls_is_refused() {
        let error = resolve(&["--tls-cert", "/a/cert.pem"], "")
            .expect_err("no key")
            .to_string();
        assert!(
            error.contains("/a/cert.pem") && error.contains("no key"),
            "{error}"
        );
        let error = resolve(&[], "tls_key = \"/f/key.pem\"\n")
            .expect_err("no cert")
            .to_string();
        assert!(error.contains("/f/key.pem"), "{error}");
        let error = resolve(&["--tls-self-signed", "--tls-cert", "/a/c.pem"], "")
            .expect_err("both")
            .to_string();
        assert!(error.contains("exclude each other"), "{error}");
        let error = resolve(
            &[],
            "tls_self_signed = true\ntls_cert = \"/c\"\ntls_key = \"/k\"\n",
        )
        .expect_err("both in the file")
        .to_string();
        assert!(error.contains("tls_self_signed"), "{error}");
        assert!(
            resolve(&[], "tls_certificate = \"/c\"\n").is_err(),
            "unknown key"
        );
    }

    #[test]
    fn the_outbound_ca_file_comes_from_flags_over_the_file() {
        let file = "outbound_ca_file = \"/f/ca.pem\"\n";
        assert_eq!(
            resolve(&[], file).expect("file").outbound_ca_file,
            Some(PathBuf::from("/f/ca.pem"))
        );
        assert_eq!(
            resolve(&["--outbound-ca-file", "/a/ca.pem"], file)
                .expect("flag")
                .outbound_ca_file,
            Some(PathBuf::from("/a/ca.pem"))
        );
    }
}
