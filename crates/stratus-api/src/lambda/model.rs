//! Lambda's JSON shapes: requests we read and the configuration documents we write.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use stratus_runtime::FunctionView;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Environment {
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CodeLocation {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
}

/// `FileSystemConfigs`: Lambda's EFS mounts; here a project volume named after the mount path.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FileSystemConfig {
    #[expect(
        dead_code,
        reason = "Lambda's access-point ARN is accepted as clients send it; the volume is named by the mount path"
    )]
    pub arn: Option<String>,
    pub local_mount_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateFunction {
    pub function_name: String,
    pub runtime: Option<String>,
    #[serde(default)]
    pub role: String,
    pub handler: Option<String>,
    pub code: CodeLocation,
    pub description: Option<String>,
    pub timeout: Option<u32>,
    pub memory_size: Option<u32>,
    #[serde(default)]
    pub publish: bool,
    pub environment: Option<Environment>,
    pub package_type: Option<String>,
    #[serde(default)]
    pub layers: Vec<String>,
    #[serde(default)]
    pub file_system_configs: Vec<FileSystemConfig>,
    pub ephemeral_storage: Option<EphemeralStorage>,
}

/// Lambda's `EphemeralStorage`: the size of `/tmp`, in MB.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EphemeralStorage {
    pub size: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateConfiguration {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<u32>,
    pub memory_size: Option<u32>,
    pub environment: Option<Environment>,
    pub revision_id: Option<String>,
    pub layers: Option<Vec<String>>,
    pub file_system_configs: Option<Vec<FileSystemConfig>>,
    pub ephemeral_storage: Option<EphemeralStorage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateCode {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
    #[serde(default)]
    pub publish: bool,
    pub revision_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutConcurrency {
    pub reserved_concurrent_executions: i64,
}

/// `/mnt/NAME` → `NAME`.
pub(crate) fn volume_of(config: &FileSystemConfig) -> Result<String, String> {
    config
        .local_mount_path
        .strip_prefix("/mnt/")
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "LocalMountPath {:?} must be /mnt/NAME",
                config.local_mount_path
            )
        })
}

pub(crate) fn iso8601(ms: i64) -> String {
    let time = stratus_core::clock::at_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

/// Lambda's `FunctionConfiguration` document.
pub(crate) fn configuration(view: &FunctionView, region: &str) -> Value {
    let version = &view.version;
    let config = &version.config;
    let qualifier = (version.version != "$LATEST").then_some(version.version.as_str());
    let sha = hex::decode(&version.code_sha256).unwrap_or_default();
    let mut document = json!({
        "FunctionName": version.name,
        "FunctionArn": stratus_runtime::function_arn(region, &version.project, &version.name, qualifier),
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": version.code_size,
        "Description": config.description,
        "Timeout": config.timeout_s,
        "MemorySize": config.memory_mb,
        "LastModified": iso8601(version.last_modified_ms),
        "CodeSha256": base64::engine::general_purpose::STANDARD.encode(sha),
        "Version": version.version,
        "Environment": { "Variables": config.environment },
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": version.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [std::env::consts::ARCH.replace("aarch64", "arm64")],
        "EphemeralStorage": { "Size": config.ephemeral_storage_mb() },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", version.name) },
    });
    if !config.volumes.is_empty() {
        document["FileSystemConfigs"] = config
            .volumes
            .iter()
            .map(|name| json!({ "Arn": format!("stratus:volume:{}:{name}", version.project), "LocalMountPath": format!("/mnt/{name}") }))
            .collect();
    }
    document
}
