//! The shape of an OSCAR FDL file (`functions: oscar: - CLUSTER: SERVICE`), as serde types that
//! check every value while parsing, so that each mistake is reported with its line and column
//! (serde_norway attaches them to errors raised inside `Deserialize`).
//!
//! Fields are in three groups: supported; accepted and ignored with a warning (they only tune
//! Kubernetes); and refused, because silently dropping them would change what the service does
//! or who may call it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fdl {
    pub functions: Functions,
    /// Credentials of storage providers. Stratus's own store serves `minio` paths, so these are
    /// only checked for providers that paths name.
    #[serde(default)]
    pub storage_providers: BTreeMap<String, BTreeMap<String, serde_norway::Value>>,
    /// OSCAR CLI's cluster endpoints; `stratus apply` talks to its own server instead.
    #[serde(default)]
    pub clusters: Option<serde_norway::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Functions {
    /// Each entry maps a cluster identifier to a service; Stratus is one cluster, so the
    /// identifier is only used in messages.
    pub oscar: Vec<BTreeMap<String, Service>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Service {
    pub name: ServiceName,
    #[serde(default)]
    pub memory: Option<Memory>,
    #[serde(default)]
    pub cpu: Option<Cpu>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default)]
    pub input: Vec<StorageIo>,
    #[serde(default)]
    pub output: Vec<StorageIo>,
    #[serde(default)]
    pub environment: Environment,
    #[serde(default)]
    pub log_level: Option<LogLevel>,
    #[serde(default)]
    pub synchronous: Option<Synchronous>,
    // Kubernetes-only tuning: accepted, ignored, warned about.
    #[serde(default)]
    pub alpine: Option<serde_norway::Value>,
    #[serde(default)]
    pub image_pull_secrets: Option<serde_norway::Value>,
    #[serde(default)]
    pub image_prefetch: Option<serde_norway::Value>,
    #[serde(default)]
    pub labels: Option<serde_norway::Value>,
    #[serde(default)]
    pub annotations: Option<serde_norway::Value>,
    #[serde(default)]
    pub cluster_id: Option<serde_norway::Value>,
    // OSCAR features Stratus does not have: refused with their line. (The leading `_` says
    // the value is never read: parsing one fails.)
    #[serde(default, rename = "expose")]
    _expose: Option<Unsupported>,
    #[serde(default, rename = "kserve")]
    _kserve: Option<Unsupported>,
    #[serde(default, rename = "mount")]
    _mount: Option<Unsupported>,
    #[serde(default, rename = "volume")]
    _volume: Option<Unsupported>,
    #[serde(default, rename = "federation")]
    _federation: Option<Unsupported>,
    #[serde(default, rename = "replicas")]
    _replicas: Option<Unsupported>,
    #[serde(default, rename = "delegation")]
    _delegation: Option<Unsupported>,
    #[serde(default, rename = "enable_gpu")]
    _enable_gpu: Option<Unsupported>,
    #[serde(default, rename = "enable_sgx")]
    _enable_sgx: Option<Unsupported>,
    #[serde(default, rename = "file_stage_in")]
    _file_stage_in: Option<Unsupported>,
    #[serde(default, rename = "allowed_users")]
    _allowed_users: Option<Unsupported>,
    #[serde(default, rename = "visibility")]
    _visibility: Option<Unsupported>,
    #[serde(default, rename = "isolation_level")]
    _isolation_level: Option<Unsupported>,
    #[serde(default, rename = "vo")]
    _vo: Option<Unsupported>,
    #[serde(default, rename = "total_memory")]
    _total_memory: Option<Unsupported>,
    #[serde(default, rename = "total_cpu")]
    _total_cpu: Option<Unsupported>,
    #[serde(default, rename = "ephemeral_storage_request")]
    _ephemeral_storage_request: Option<Unsupported>,
    #[serde(default, rename = "interlink_node_name")]
    _interlink_node_name: Option<Unsupported>,
}

impl Service {
    /// The accepted-but-ignored fields this service sets.
    pub(crate) fn ignored_fields(&self) -> Vec<&'static str> {
        [
            ("alpine", self.alpine.is_some()),
            ("image_pull_secrets", self.image_pull_secrets.is_some()),
            ("image_prefetch", self.image_prefetch.is_some()),
            ("labels", self.labels.is_some()),
            ("annotations", self.annotations.is_some()),
            ("cluster_id", self.cluster_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// Parses a scalar (string, number or boolean: YAML's `cpu: 1` and `cpu: '1'` mean the same
/// to OSCAR) with `parse` *inside* the visitor: serde_norway then reports the scalar's own line
/// and column, where a `try_from` error would point at the enclosing mapping.
struct ParseScalar<T>(fn(&str) -> Result<T, String>, &'static str);

impl<T> de::Visitor<'_> for ParseScalar<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

/// `Deserialize` through [`ParseScalar`] with the type's `parse`.
macro_rules! parsed_scalar {
    ($type:ty, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(ParseScalar(<$type>::parse, $expecting))
            }
        }
    };
}

parsed_scalar!(ServiceName, "a service name");
parsed_scalar!(Memory, "a memory quantity such as 1Gi");
parsed_scalar!(Cpu, "a cpu quantity such as 0.5");
parsed_scalar!(LogLevel, "a log level");
parsed_scalar!(Provider, "a storage provider such as minio");
parsed_scalar!(IoPath, "a path BUCKET/PREFIX");

/// A service's name: a function name (letters, digits, `-`, `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceName(pub stratus_core::FunctionName);

impl ServiceName {
    fn parse(text: &str) -> Result<Self, String> {
        stratus_core::FunctionName::parse(text)
            .map(ServiceName)
            .map_err(|e| e.0)
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field OSCAR knows and Stratus cannot honour; parsing it fails where it stands.
#[derive(Debug)]
pub(crate) struct Unsupported;

impl<'de> Deserialize<'de> for Unsupported {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Failing inside the visitor, not before it, gives the value's own line and column.
        deserializer.deserialize_any(Refuse)
    }
}

struct Refuse;

impl Refuse {
    fn fail<T, E: de::Error>() -> Result<T, E> {
        Err(E::custom(
            "this OSCAR field is not supported by Stratus (see docs/oscar.md)",
        ))
    }
}

impl<'de> de::Visitor<'de> for Refuse {
    type Value = Unsupported;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nothing (the field is not supported)")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Unsupported, E> {
        Self::fail()
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Unsupported, A::Error> {
        Self::fail()
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Unsupported, A::Error> {
        Self::fail()
    }
}

/// A YAML scalar where OSCAR takes a string: `cpu: 1` and `cpu: '1.0'` mean the same.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Text(text) => f.write_str(text),
            Scalar::Integer(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Splits a Kubernetes quantity into its number and suffix (`1.5Gi` → 1.5, `Gi`).
fn quantity(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..end].parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some((number, &text[end..]))
}

/// `memory:` in MB (Lambda's MiB), rounded up: `512Mi` → 512, `1Gi` → 1024, `1G` → 954.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Memory(pub u32);

impl Memory {
    fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("invalid memory {text:?}: use a Kubernetes quantity such as 512Mi or 1Gi");
        let (number, suffix) = quantity(text).ok_or_else(bad)?;
        let unit: f64 = match suffix {
            "" => 1.0,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "Ki" => 1024.0,
            "Mi" => 1024.0 * 1024.0,
            "Gi" => 1024.0 * 1024.0 * 1024.0,
            "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return Err(bad()),
        };
        let mib = (number * unit / (1024.0 * 1024.0)).ceil();
        if mib > f64::from(stratus_core::function::MAX_MEMORY_MB) {
            return Err(format!(
                "memory {text:?} is more than a function may have ({} MB)",
                stratus_core::function::MAX_MEMORY_MB
            ));
        }
        // In range by the check above; `as` cannot truncate.
        Ok(Memory(mib as u32))
    }
}

/// `cpu:` as OSCAR writes it (`'1.0'`, `500m`), checked and kept as text. Stratus gives CPU in
/// proportion to memory, as Lambda does, so the value is recorded (for a Kubernetes backend)
/// rather than enforced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cpu(pub String);

impl Cpu {
    fn parse(text: &str) -> Result<Self, String> {
        match quantity(text) {
            Some((number, "" | "m")) if number > 0.0 => Ok(Cpu(text.trim().to_owned())),
            _ => Err(format!(
                "invalid cpu {text:?}: use a Kubernetes quantity such as '0.5', '1.0' or 500m"
            )),
        }
    }
}

/// OSCAR's supervisor levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLevel(pub String);

impl LogLevel {
    fn parse(value: &str) -> Result<Self, String> {
        let upper = value.to_ascii_uppercase();
        match upper.as_str() {
            "NOTSET" | "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL" => Ok(LogLevel(upper)),
            _ => Err(format!(
                "invalid log_level {value:?}: use NOTSET, DEBUG, INFO, WARNING, ERROR or CRITICAL"
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Environment {
    #[serde(default)]
    pub variables: BTreeMap<String, Scalar>,
    /// OSCAR keeps these in a Kubernetes secret; here they are environment variables too.
    #[serde(default)]
    pub secrets: BTreeMap<String, Scalar>,
}

/// `synchronous:` scaling, which maps onto warm instances and reserved concurrency.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Synchronous {
    #[serde(default)]
    pub min_scale: u32,
    /// 0 is unlimited, as in OSCAR.
    #[serde(default)]
    pub max_scale: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageIo {
    pub storage_provider: Provider,
    pub path: IoPath,
    #[serde(default)]
    pub suffix: OneOrMany,
    #[serde(default)]
    pub prefix: OneOrMany,
}

/// `minio` or `minio.ID`: Stratus's own store, whatever the ID. Other providers (s3, onedata,
/// webdav, rucio) are refused: their data is not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provider {
    /// The `ID` of `minio.ID` (`default` for plain `minio`).
    pub id: String,
}

impl Provider {
    fn parse(value: &str) -> Result<Self, String> {
        let (kind, id) = value.split_once('.').unwrap_or((value, "default"));
        if kind != "minio" || id.is_empty() {
            return Err(format!(
                "storage provider {value:?} is not supported: Stratus serves minio and \
                 minio.ID paths from its own store; other providers' data is not here"
            ));
        }
        Ok(Provider { id: id.to_owned() })
    }
}

/// `bucket/prefix`: the first segment is the bucket (as in OSCAR), the rest a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IoPath {
    pub bucket: String,
    /// Without leading or trailing slashes; empty for the whole bucket.
    pub prefix: String,
}

impl IoPath {
    /// The key prefix objects under this path share: `prefix/`, or nothing for a bucket.
    pub(crate) fn key_prefix(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }
}

impl fmt::Display for IoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            f.write_str(&self.bucket)
        } else {
            write!(f, "{}/{}", self.bucket, self.prefix)
        }
    }
}

impl IoPath {
    fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim_matches('/');
        let (bucket, prefix) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        stratus_core::BucketName::parse(bucket).map_err(|e| format!("path {value:?}: {}", e.0))?;
        Ok(IoPath {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

/// OSCAR writes `suffix:` and `prefix:` as lists; a single string is accepted too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "OneOrManyRaw")]
pub(crate) struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> Self {
        match raw {
            OneOrManyRaw::One(one) => OneOrMany(vec![one]),
            OneOrManyRaw::Many(many) => OneOrMany(many),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities_become_megabytes() {
        let mb = |text: &str| Memory::parse(text).map(|m| m.0);
        assert_eq!(mb("512Mi"), Ok(512));
        assert_eq!(mb("1Gi"), Ok(1024));
        assert_eq!(mb("1.5Gi"), Ok(1536));
        assert_eq!(mb("1G"), Ok(954));
        assert_eq!(mb("200Mi"), Ok(200));
        assert_eq!(mb("268435456"), Ok(256));
        assert!(mb("1Gb").expect_err("no unit Gb").contains("512Mi or 1Gi"));
        assert!(
            mb("64Gi")
                .expect_err("too much")
                .contains("more than a function may have")
        );
    }

    #[test]
    fn cpu_providers_and_paths_are_checked() {
        assert_eq!(Cpu::parse("1.0"), Ok(Cpu("1.0".into())));
        assert!(Cpu::parse("500m").is_ok() && Cpu::parse("2").is_ok());
        assert!(Cpu::parse("lots").is_err());
        assert_eq!(Provider::parse("minio").map(|p| p.id), Ok("default".into()));
        assert!(Provider::parse("minio.edge").is_ok());
        assert!(
            Provider::parse("s3.aws")
                .expect_err("not ours")
                .contains("\"s3.aws\"")
        );
        let path = IoPath::parse("/scans/in/raw/").expect("a path");
        assert_eq!(
            (path.bucket.as_str(), path.prefix.as_str()),
            ("scans", "in/raw")
        );
        assert_eq!(path.key_prefix(), "in/raw/");
        assert!(IoPath::parse("Bad_Bucket/x").is_err());
    }
}
