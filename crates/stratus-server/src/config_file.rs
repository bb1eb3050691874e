//! The optional configuration file (`stratus server --config FILE`, TOML). Every field is
//! optional: the command line merges flags over `STRATUS_*` variables over this file over the
//! defaults, so the file only has to name what differs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Deserializer};

/// What a configuration file may say. Unknown keys are an error, so a typo never goes unnoticed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub region: Option<String>,
    /// How long in-flight requests may run after shutdown, e.g. `"10s"` or `"1500ms"`.
    #[serde(default, deserialize_with = "duration")]
    pub drain_deadline: Option<Duration>,
    /// The interpreter `python3.x` functions run on.
    pub python: Option<PathBuf>,
    /// Run function code without bubblewrap/cgroups (development only).
    pub insecure_no_sandbox: Option<bool>,
    /// Memory all function workers together may be sized at, in MB.
    pub worker_memory_mb: Option<u64>,
    /// How long an idle worker stays warm, e.g. `"5m"`.
    #[serde(default, deserialize_with = "duration")]
    pub keep_warm: Option<Duration>,
    /// The wait before an SNS delivery's second attempt, e.g. `"1s"` (it doubles after each).
    #[serde(default, deserialize_with = "duration")]
    pub sns_retry_base: Option<Duration>,
    /// How often metered usage is written to the database, e.g. `"5s"`.
    #[serde(default, deserialize_with = "duration")]
    pub usage_flush: Option<Duration>,
    /// How often each project's stored bytes are sampled for storage billing, e.g. `"1h"`.
    #[serde(default, deserialize_with = "duration")]
    pub storage_sample_interval: Option<Duration>,
    /// How often bucket lifecycle rules are applied, e.g. `"1h"`.
    #[serde(default, deserialize_with = "duration")]
    pub lifecycle_interval: Option<Duration>,
    /// Seconds in one lifecycle day (a test knob; see docs/s3-lifecycle.md).
    pub lifecycle_day_seconds: Option<u64>,
    /// The price catalog bills use (`[prices.lambda]`, `[prices.s3]`, `[[prices.instances]]`);
    /// omitted prices keep AWS's public defaults.
    pub prices: Option<stratus_cost::PriceCatalog>,
    /// Serve `GET /metrics` without a token (scrapers on a trusted network).
    pub public_metrics: Option<bool>,
    /// Projects whose workers may reach the outside world (`"*"`: all).
    pub worker_internet: Option<Vec<String>>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a CA and certificate made under `DATA_DIR/tls/` on first start.
    pub tls_self_signed: Option<bool>,
    /// A PEM file of CAs outbound HTTPS (SNS `https` subscribers) trusts besides the system's.
    pub outbound_ca_file: Option<PathBuf>,
    /// `BUCKET.DOMAIN` is virtual-hosted-style S3, `BUCKET.s3-website.DOMAIN` a website.
    pub domain: Option<String>,
}

impl FileConfig {
    /// Reads and validates `path`.
    ///
    /// # Errors
    /// An unreadable file, invalid TOML, an unknown key or a badly typed value, naming the file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let config: Self = toml::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?;
        if let Some(prices) = &config.prices {
            prices
                .validate()
                .map_err(|why| anyhow::anyhow!("invalid config file {}: {why}", path.display()))?;
        }
        Ok(config)
    }
}

/// Parses `"250ms"`, `"10s"`, `"2m"` or `"1h"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(number)),
        "s" => Some(Duration::from_secs(number)),
        "m" => Some(Duration::from_secs(number.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(number.checked_mul(3600)?)),
        _ => None,
    }
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "invalid duration {text:?}: use a whole number with ms, s, m or h"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_units() {
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("ten s"), None);
    }

    #[test]
    fn files_are_typed_and_strict() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stratus.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndrain_deadline = \"3s\"\n",
        )
        .expect("write");
        let config = FileConfig::load(&path).expect("valid file");
        assert_eq!(
            config.listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9000)))
        );
        assert_eq!(config.drain_deadline, Some(Duration::from_secs(3)));
        assert_eq!(config.data_dir, None);
        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").expect("write");
        let error = format!("{:#}", FileConfig::load(&path).expect_err("typo rejected"));
        assert!(error.contains("lisen"), "{error}");
        std::fs::write(&path, "drain_deadline = \"soon\"\n").expect("write");
        assert!(FileConfig::load(&path).is_err());
    }

    #[test]
    fn prices_override_defaults_and_are_validated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stratus.toml");
        std::fs::write(
            &path,
            "usage_flush = \"2s\"\n[prices.lambda]\nper_million_requests = 1.5\n",
        )
        .expect("write");
        let config = FileConfig::load(&path).expect("valid file");
        let prices = config.prices.expect("prices");
        assert!((prices.lambda.per_million_requests - 1.5).abs() < f64::EPSILON);
        assert_eq!(prices.s3, stratus_cost::S3Prices::default());
        assert_eq!(config.usage_flush, Some(Duration::from_secs(2)));
        std::fs::write(&path, "[prices.s3]\nper_gb_month = -1.0\n").expect("write");
        let error = format!("{:#}", FileConfig::load(&path).expect_err("negative price"));
        assert!(error.contains("prices.s3.per_gb_month"), "{error}");
        std::fs::write(&path, "[prices.lambda]\nper_request = 1.0\n").expect("write");
        let error = format!("{:#}", FileConfig::load(&path).expect_err("typo"));
        assert!(error.contains("per_request"), "{error}");
    }
}

#[cfg(test)]
mod public_metrics_tests {
    use super::FileConfig;

    #[test]
    fn public_metrics_is_a_boolean_and_unset_by_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stratus.toml");
        std::fs::write(&path, "public_metrics = true\n").expect("write");
        let config = FileConfig::load(&path).expect("valid file");
        assert_eq!(config.public_metrics, Some(true));
        assert_eq!(FileConfig::default().public_metrics, None);
        std::fs::write(&path, "public_metrics = \"yes\"\n").expect("write");
        assert!(
            FileConfig::load(&path).is_err(),
            "a string is not a boolean"
        );
    }
}

#[cfg(test)]
mod lifecycle_tests {
    use std::time::Duration;

    use super::FileConfig;

    #[test]
    fn lifecycle_interval_and_day_seconds_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stratus.toml");
        std::fs::write(
            &path,
            "lifecycle_interval = \"10s\"\nlifecycle_day_seconds = 5\n",
        )
        .expect("write");
        let config = FileConfig::load(&path).expect("valid file");
        assert_eq!(config.lifecycle_interval, Some(Duration::from_secs(10)));
        assert_eq!(config.lifecycle_day_seconds, Some(5));
        std::fs::write(&path, "lifecycle_interval = \"often\"\n").expect("write");
        assert!(FileConfig::load(&path).is_err());
    }
}
