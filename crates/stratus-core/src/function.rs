//! The function model: what a user deploys, validated once so that the runtime can trust it.
//! Limits follow AWS Lambda's, so a configuration that works there works here and vice versa.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::InvalidId;

/// Lambda's memory range, in MB.
pub const MIN_MEMORY_MB: u32 = 128;
pub const MAX_MEMORY_MB: u32 = 10_240;
/// Lambda's longest timeout, in seconds.
pub const MAX_TIMEOUT_S: u32 = 900;
/// Lambda's limit on the total size of environment variable names and values.
pub const MAX_ENVIRONMENT_BYTES: usize = 4 * 1024;
/// Environment variables the platform sets itself; a function may not override them (Lambda's
/// reserved set, plus ours).
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// A function name: 1–64 letters, digits, hyphens and underscores (Lambda's rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FunctionName(String);

impl FunctionName {
    /// # Errors
    /// [`InvalidId`] naming the broken rule.
    pub fn parse(name: &str) -> Result<Self, InvalidId> {
        if name.is_empty() || name.len() > 64 {
            return Err(InvalidId(format!(
                "invalid function name {name:?}: must be 1 to 64 characters long"
            )));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidId(format!(
                "invalid function name {name:?}: only letters, digits, hyphens and underscores are allowed"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FunctionName {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FunctionName> for String {
    fn from(value: FunctionName) -> Self {
        value.0
    }
}

impl fmt::Display for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a worker runs the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `python3.x`: our runtime client imports `module.func` from the code.
    Python,
    /// `provided*`: the code's own `bootstrap` executable speaks the Runtime API.
    Provided,
}

impl RuntimeKind {
    /// Classifies a Lambda runtime identifier; `None` for ones we do not run.
    #[must_use]
    pub fn of(runtime: &str) -> Option<Self> {
        if let Some(minor) = runtime.strip_prefix("python3.") {
            return (!minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
                .then_some(Self::Python);
        }
        matches!(runtime, "provided" | "provided.al2" | "provided.al2023").then_some(Self::Provided)
    }
}

/// The versioned part of a function: everything `PublishVersion` freezes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionConfig {
    pub runtime: String,
    pub handler: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// The execution role's ARN, kept for Lambda API compatibility; Stratus authorises a
    /// function's calls by its project's key instead.
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub description: String,
    /// Workers kept warm even when idle (scale-to-zero stops at this many).
    #[serde(default)]
    pub min_instances: u32,
    /// Project volumes mounted read-write at `/mnt/NAME`.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The hash of a dependency environment (packages from a `requirements.txt`), mounted
    /// read-only at `/opt/python`. Omitted when absent, so rows written before this field
    /// existed and rows without it read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<String>,
    /// The size of `/tmp` in MB (Lambda's `EphemeralStorage`); absent means Lambda's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage_mb: Option<u32>,
}

/// Lambda's range for `EphemeralStorage.Size`, in MB; the default is the minimum.
pub const MIN_EPHEMERAL_STORAGE_MB: u32 = 512;
pub const MAX_EPHEMERAL_STORAGE_MB: u32 = 10_240;

/// A configuration value out of range; names the field as Lambda's API spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidConfig {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Result<(), InvalidConfig> {
    Err(InvalidConfig {
        field,
        message: message.into(),
    })
}

impl FunctionConfig {
    /// Lambda's defaults for a new function.
    #[must_use]
    pub fn new(runtime: &str, handler: &str) -> Self {
        Self {
            runtime: runtime.to_owned(),
            handler: handler.to_owned(),
            memory_mb: 128,
            timeout_s: 3,
            role: String::new(),
            environment: BTreeMap::new(),
            description: String::new(),
            min_instances: 0,
            volumes: Vec::new(),
            dependencies: None,
            ephemeral_storage_mb: None,
        }
    }

    /// The size of `/tmp`, in MB.
    #[must_use]
    pub fn ephemeral_storage_mb(&self) -> u32 {
        self.ephemeral_storage_mb
            .unwrap_or(MIN_EPHEMERAL_STORAGE_MB)
    }

    #[must_use]
    pub fn kind(&self) -> Option<RuntimeKind> {
        RuntimeKind::of(&self.runtime)
    }

    /// Checks every field against Lambda's limits.
    ///
    /// # Errors
    /// The first field out of range.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let Some(kind) = self.kind() else {
            return invalid(
                "Runtime",
                format!(
                    "unsupported runtime {:?}: use python3.x or provided",
                    self.runtime
                ),
            );
        };
        if !(MIN_MEMORY_MB..=MAX_MEMORY_MB).contains(&self.memory_mb) {
            return invalid(
                "MemorySize",
                format!(
                    "{} is outside {MIN_MEMORY_MB}..={MAX_MEMORY_MB} MB",
                    self.memory_mb
                ),
            );
        }
        if !(1..=MAX_TIMEOUT_S).contains(&self.timeout_s) {
            return invalid(
                "Timeout",
                format!("{} is outside 1..={MAX_TIMEOUT_S} seconds", self.timeout_s),
            );
        }
        self.validate_handler(kind)?;
        self.validate_environment()?;
        if self.description.len() > 256 {
            return invalid("Description", "longer than 256 characters");
        }
        if let Some(size) = self.ephemeral_storage_mb
            && !(MIN_EPHEMERAL_STORAGE_MB..=MAX_EPHEMERAL_STORAGE_MB).contains(&size)
        {
            return invalid(
                "EphemeralStorage.Size",
                format!(
                    "{size} is outside {MIN_EPHEMERAL_STORAGE_MB}..={MAX_EPHEMERAL_STORAGE_MB} MB"
                ),
            );
        }
        if self.min_instances > 100 {
            return invalid("MinInstances", "at most 100 warm instances");
        }
        for volume in &self.volumes {
            let ok = !volume.is_empty()
                && volume.len() <= 64
                && volume
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return invalid(
                    "Volumes",
                    format!("invalid volume name {volume:?}: 1 to 64 letters, digits, - or _"),
                );
            }
        }
        if let Some(hash) = &self.dependencies {
            let is_sha256 = hash.len() == 64
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !is_sha256 {
                return invalid(
                    "Dependencies",
                    format!("{hash:?} is not an environment hash (64 lowercase hex digits)"),
                );
            }
        }
        Ok(())
    }

    fn validate_handler(&self, kind: RuntimeKind) -> Result<(), InvalidConfig> {
        let handler = &self.handler;
        if handler.is_empty() || handler.len() > 128 {
            return invalid("Handler", "must be 1 to 128 characters long");
        }
        if handler.bytes().any(|b| b.is_ascii_whitespace() || b == 0) {
            return invalid("Handler", "must not contain whitespace");
        }
        if kind == RuntimeKind::Python {
            let valid = handler
                .rsplit_once('.')
                .is_some_and(|(module, func)| !module.is_empty() && !func.is_empty());
            if !valid {
                return invalid(
                    "Handler",
                    format!("{handler:?} must be MODULE.FUNCTION, e.g. app.handler"),
                );
            }
        }
        Ok(())
    }

    fn validate_environment(&self) -> Result<(), InvalidConfig> {
        let mut total = 0;
        for (name, value) in &self.environment {
            let valid_name = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_name {
                return invalid(
                    "Environment",
                    format!(
                        "invalid variable name {name:?}: letters, digits and _, starting with a letter"
                    ),
                );
            }
            if RESERVED_ENV.contains(&name.as_str()) {
                return invalid("Environment", format!("{name} is reserved by the runtime"));
            }
            total += name.len() + value.len();
        }
        if total > MAX_ENVIRONMENT_BYTES {
            return invalid(
                "Environment",
                format!("variables take {total} bytes, more than {MAX_ENVIRONMENT_BYTES}"),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_lambda_rules() {
        assert!(FunctionName::parse("resize-images_2").is_ok());
        assert!(FunctionName::parse("").is_err());
        assert!(FunctionName::parse(&"a".repeat(65)).is_err());
        assert!(FunctionName::parse("a:b").is_err());
    }

    #[test]
    fn runtimes_are_classified() {
        assert_eq!(RuntimeKind::of("python3.12"), Some(RuntimeKind::Python));
        assert_eq!(
            RuntimeKind::of("provided.al2023"),
            Some(RuntimeKind::Provided)
        );
        assert_eq!(RuntimeKind::of("python3."), None);
        assert_eq!(RuntimeKind::of("nodejs20.x"), None);
    }

    #[test]
    fn validation_names_the_field() {
        let mut config = FunctionConfig::new("python3.11", "app.handler");
        assert!(config.validate().is_ok());
        config.memory_mb = 64;
        assert_eq!(config.validate().map_err(|e| e.field), Err("MemorySize"));
        config.memory_mb = 256;
        config.timeout_s = 901;
        assert_eq!(config.validate().map_err(|e| e.field), Err("Timeout"));
        config.timeout_s = 10;
        config.handler = "handler".into();
        assert_eq!(config.validate().map_err(|e| e.field), Err("Handler"));
        config.handler = "app.handler".into();
        config.environment.insert("AWS_REGION".into(), "x".into());
        assert_eq!(config.validate().map_err(|e| e.field), Err("Environment"));
        config.environment.clear();
        config.runtime = "java21".into();
        assert_eq!(config.validate().map_err(|e| e.field), Err("Runtime"));
        config.runtime = "python3.11".into();
        config.dependencies = Some("ABC".into());
        assert_eq!(config.validate().map_err(|e| e.field), Err("Dependencies"));
        config.dependencies = Some("a".repeat(64));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn dependencies_are_optional_in_stored_json() {
        // A row written before `dependencies` existed still reads, and one without it is
        // written without the key (older binaries, which deny unknown fields, read it too).
        let old =
            r#"{"runtime":"python3.11","handler":"app.handler","memory_mb":128,"timeout_s":3}"#;
        let config: FunctionConfig = serde_json::from_str(old).expect("old row");
        assert_eq!(config.dependencies, None);
        let written = serde_json::to_string(&config).expect("json");
        assert!(!written.contains("dependencies"));
    }
}
