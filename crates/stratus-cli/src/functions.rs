//! `stratus deploy`, `invoke`, `functions ls|rm` and `logs`: the native interface to functions.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use bytes::Bytes;
use clap::Subcommand;
use serde::Deserialize;
use stratus_client::functions::{
    DeployRequest, ExposeRequest, FunctionDetails, FunctionList, FunctionUrl, InvocationAccepted,
    LogList,
};
use stratus_core::FunctionConfig;

use crate::client::{NativeClient, Target, problem_detail};

/// `DIR/function.yaml`: the function's configuration, next to its code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunctionFile {
    pub(crate) name: String,
    pub(crate) runtime: String,
    pub(crate) handler: String,
    /// MB (Lambda's MemorySize).
    #[serde(default = "default_memory")]
    pub(crate) memory: u32,
    /// Seconds.
    #[serde(default = "default_timeout")]
    pub(crate) timeout: u32,
    #[serde(default)]
    pub(crate) reserved_concurrency: Option<u32>,
    #[serde(default)]
    pub(crate) min_instances: u32,
    #[serde(default)]
    pub(crate) environment: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) volumes: Vec<String>,
    /// Publish a numbered version after deploying.
    #[serde(default)]
    pub(crate) publish: bool,
    /// Serve the function at `/fn/NAME/`: `none` (anyone may call) or `bearer` (a token or SigV4
    /// signature of the project). Absent leaves an existing URL as it is.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// Bucket uploads and schedules that invoke the function (see `stratus_core::Trigger`).
    /// The deploy replaces the function's previous triggers with these.
    #[serde(default)]
    pub(crate) triggers: Vec<stratus_core::Trigger>,
}

fn default_memory() -> u32 {
    128
}

fn default_timeout() -> u32 {
    3
}

#[derive(Subcommand)]
pub(crate) enum FunctionsCommand {
    /// List the project's functions.
    #[command(visible_alias = "list")]
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Show one function: its configuration, versions, triggers and schedules.
    #[command(visible_aliases = ["get", "describe"])]
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a function with all its versions.
    #[command(visible_aliases = ["delete", "remove"])]
    Rm { name: String },
}

/// A function directory as read from disk: its `function.yaml`, zipped code and requirements.
pub(crate) struct LocalFunction {
    pub(crate) spec: FunctionFile,
    pub(crate) zip: Vec<u8>,
    pub(crate) requirements: Option<String>,
}

/// Reads and checks `DIR/function.yaml`, reads `DIR/requirements.txt` (if any) and zips `DIR`.
/// Touches no server, so `stratus apply` can validate every function before changing anything.
pub(crate) fn load(dir: &Path) -> anyhow::Result<LocalFunction> {
    let spec_path = dir.join("function.yaml");
    let text = std::fs::read_to_string(&spec_path)
        .with_context(|| format!("cannot read {}", spec_path.display()))?;
    let spec: FunctionFile = serde_norway::from_str(&text)
        .with_context(|| format!("invalid {}", spec_path.display()))?;
    if let Some(auth) = spec.url.as_deref()
        && !matches!(auth, "none" | "bearer")
    {
        bail!(
            "{}: url: {auth:?} must be none or bearer",
            spec_path.display()
        );
    }
    let requirements_path = dir.join("requirements.txt");
    let requirements = match std::fs::read_to_string(&requirements_path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot read {}", requirements_path.display()));
        }
    };
    let zip = zip_dir(dir)?;
    Ok(LocalFunction {
        spec,
        zip,
        requirements,
    })
}

impl LocalFunction {
    /// The configuration a deploy sends; `GET /v1/functions/NAME` shows the same fields back.
    pub(crate) fn config(&self, dependencies: Option<&str>) -> FunctionConfig {
        let spec = &self.spec;
        FunctionConfig {
            memory_mb: spec.memory,
            timeout_s: spec.timeout,
            environment: spec.environment.clone(),
            description: spec.description.clone(),
            min_instances: spec.min_instances,
            volumes: spec.volumes.clone(),
            dependencies: dependencies.map(str::to_owned),
            ..FunctionConfig::new(&spec.runtime, &spec.handler)
        }
    }
}

/// Reads `DIR/function.yaml`, zips `DIR`, installs `DIR/requirements.txt` on the server (if
/// any) and creates or updates the function. A failed install changes nothing. `json` prints
/// the deployed function (as `functions show --json` does) instead of a summary.
pub(crate) async fn deploy(target: &Target, dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let local = load(dir)?;
    let client = NativeClient::new(target)?;
    let dependencies = match &local.requirements {
        Some(text) => crate::environments::ensure(&client, text).await?,
        None => None,
    };
    eprintln!(
        "deploying {} ({} bytes zipped) from {}",
        local.spec.name,
        local.zip.len(),
        dir.display()
    );
    let deployed = send(
        &client,
        &local,
        dependencies.as_deref(),
        &local.spec.triggers,
        !json,
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&deployed)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates or updates the function with `triggers` (replacing its previous ones), then its URL
/// when `function.yaml` asks for one. The environment named by `dependencies` must exist.
/// `report` prints what was deployed; the answer is the deployed function either way.
pub(crate) async fn send(
    client: &NativeClient,
    local: &LocalFunction,
    dependencies: Option<&str>,
    triggers: &[stratus_core::Trigger],
    report: bool,
) -> anyhow::Result<FunctionDetails> {
    let spec = &local.spec;
    let request = DeployRequest {
        config: local.config(dependencies),
        zip: base64::engine::general_purpose::STANDARD.encode(&local.zip),
        reserved_concurrency: spec.reserved_concurrency,
        publish: spec.publish,
        triggers: triggers.to_vec(),
    };
    let path = format!("/v1/functions/{}", spec.name);
    let deployed: FunctionDetails = client
        .request(http::Method::PUT, &path, Some(&request))
        .await?;
    if report {
        let sha = &deployed.summary.code_sha256;
        println!(
            "deployed {} (version {}, code sha256 {})",
            spec.name,
            deployed.summary.version,
            sha.get(..12).unwrap_or(sha)
        );
        for schedule in &deployed.schedules {
            println!(
                "schedule {} next fires {}",
                schedule.schedule,
                schedule.next_fire.as_deref().unwrap_or("never")
            );
        }
    }
    if let Some(auth) = &spec.url {
        let path = format!("/v1/functions/{}/url", spec.name);
        let request = ExposeRequest {
            auth: auth.clone(),
            cors: None,
        };
        let exposed: FunctionUrl = client
            .request(http::Method::PUT, &path, Some(&request))
            .await?;
        if report {
            println!("url {} (auth {})", exposed.url, exposed.auth);
        }
    }
    Ok(deployed)
}

/// Every file under `dir` except `function.yaml` and hidden entries, with unix modes kept.
/// The bytes depend only on the files' paths, contents and modes (sorted paths, one fixed
/// timestamp), so an unchanged directory has an unchanged SHA-256 and `stratus apply` can
/// compare it with the deployed code.
pub(crate) fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    let mut entries = Vec::with_capacity(files.len());
    for relative in files {
        let path = dir.join(&relative);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path)?.permissions());
        entries.push((
            relative.to_string_lossy().into_owned(),
            std::fs::read(&path)?,
            mode & 0o777,
        ));
    }
    reproducible_zip(entries)
}

/// A zip of (name, contents, unix mode) entries, in the order given, with one fixed timestamp:
/// the same entries always make the same bytes, hence the same SHA-256.
pub(crate) fn reproducible_zip(
    entries: impl IntoIterator<Item = (String, Vec<u8>, u32)>,
) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body, mode) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(mode);
        writer.start_file(name, options)?;
        writer.write_all(&body)?;
    }
    Ok(writer.finish()?.into_inner())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if !(dir == root && name == "function.yaml") {
            out.push(path.strip_prefix(root)?.to_owned());
        }
    }
    Ok(())
}

/// Invokes a function: prints its result on stdout, its log on stderr; exit 1 on a function error.
pub(crate) async fn invoke(
    target: &Target,
    name: &str,
    payload: Option<&str>,
    asynchronous: bool,
    qualifier: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let payload = match payload {
        None => Bytes::from_static(b"{}"),
        Some(text) => match text.strip_prefix('@') {
            Some(file) => {
                Bytes::from(std::fs::read(file).with_context(|| format!("cannot read {file}"))?)
            }
            None => Bytes::from(text.to_owned()),
        },
    };
    let mut path = format!("/v1/functions/{name}/invoke?async={asynchronous}");
    if let Some(q) = qualifier {
        path.push_str(&format!("&qualifier={q}"));
    }
    let client = NativeClient::new(target)?;
    let (status, headers, body) = client.call_raw(http::Method::POST, &path, payload).await?;
    if !status.is_success() {
        return Err(crate::exit::ApiError {
            status,
            detail: problem_detail(&body),
        }
        .into());
    }
    if asynchronous {
        let accepted: InvocationAccepted = serde_json::from_slice(&body)?;
        println!("{}", accepted.invocation_id);
        return Ok(ExitCode::SUCCESS);
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(tail) = header("x-stratus-log-tail") {
        let log = base64::engine::general_purpose::STANDARD
            .decode(tail)
            .unwrap_or_default();
        eprint!("{}", String::from_utf8_lossy(&log));
    }
    std::io::stdout().write_all(&body)?;
    println!();
    Ok(if header("x-stratus-function-error").is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) async fn run(target: &Target, command: FunctionsCommand) -> anyhow::Result<ExitCode> {
    let client = NativeClient::new(target)?;
    match command {
        FunctionsCommand::Ls { json } => {
            let listed: FunctionList = client.get("/v1/functions").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listed.functions)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<32} {:<16} {:>7} {:>8}  HANDLER",
                "NAME", "RUNTIME", "MEMORY", "TIMEOUT"
            );
            for f in &listed.functions {
                println!(
                    "{:<32} {:<16} {:>5}MB {:>7}s  {}",
                    f.name, f.runtime, f.memory_mb, f.timeout_s, f.handler
                );
            }
        }
        FunctionsCommand::Show { name, json } => {
            let details: FunctionDetails = client.get(&format!("/v1/functions/{name}")).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&details)?);
            } else {
                print!("{}", describe(&details));
            }
        }
        FunctionsCommand::Rm { name } => {
            client
                .call(http::Method::DELETE, &format!("/v1/functions/{name}"), None)
                .await?;
            println!("deleted {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A function as `functions show` prints it: one `field: value` line each, then its versions,
/// triggers and schedules.
fn describe(details: &FunctionDetails) -> String {
    let f = &details.summary;
    let mut out = String::new();
    let mut line = |field: &str, value: &dyn std::fmt::Display| {
        out.push_str(&format!("{field:<22} {value}\n"));
    };
    line("name:", &f.name);
    line("version:", &f.version);
    line("runtime:", &f.runtime);
    line("handler:", &f.handler);
    line("memory:", &format!("{} MB", f.memory_mb));
    line("timeout:", &format!("{} s", f.timeout_s));
    line("min instances:", &f.min_instances);
    let reserved = f
        .reserved_concurrency
        .map_or_else(|| "unreserved".to_owned(), |n| n.to_string());
    line("reserved concurrency:", &reserved);
    line("code sha256:", &f.code_sha256);
    line("code size:", &format!("{} bytes", f.code_size));
    line("revision:", &f.revision_id);
    if !f.description.is_empty() {
        line("description:", &f.description);
    }
    if let Some(hash) = &f.dependencies {
        line("dependencies:", hash);
    }
    if !f.volumes.is_empty() {
        line("volumes:", &f.volumes.join(", "));
    }
    for (key, value) in &f.environment {
        line("environment:", &format!("{key}={value}"));
    }
    if let Some(versions) = &details.versions {
        line("versions:", &versions.join(", "));
    }
    for trigger in &details.triggers {
        let shown = serde_json::to_string(trigger).unwrap_or_default();
        line("trigger:", &shown);
    }
    for schedule in &details.schedules {
        let next = schedule.next_fire.as_deref().unwrap_or("never");
        line("schedule:", &format!("{} (next {next})", schedule.schedule));
    }
    out
}

/// Prints a function's log; `--follow` keeps polling for new lines until interrupted.
/// `json` prints the events instead: the whole page, or one object a line while following.
pub(crate) async fn logs(
    target: &Target,
    name: &str,
    follow: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let client = NativeClient::new(target)?;
    let mut since = 0i64;
    loop {
        let path = format!("/v1/functions/{name}/logs?since_ms={since}&limit=10000");
        let page: LogList = client.get(&path).await?;
        if json && !follow {
            println!("{}", serde_json::to_string_pretty(&page)?);
            return Ok(ExitCode::SUCCESS);
        }
        let mut last_seen = None;
        for event in &page.events {
            let ts = event.timestamp_ms;
            // Lines at exactly `since` were printed by the previous poll.
            if follow && since > 0 && ts <= since {
                continue;
            }
            if json {
                println!("{}", serde_json::to_string(event)?);
            } else {
                println!("{}", event.message);
            }
            last_seen = Some(ts);
        }
        if !follow {
            return Ok(ExitCode::SUCCESS);
        }
        since = last_seen.unwrap_or(since).max(since);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stratus apply` compares the zip's SHA-256 with the deployed code's, so identical files
    /// must zip to identical bytes whenever and wherever they are zipped.
    #[test]
    fn zips_depend_only_on_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("lib")).expect("mkdir");
        std::fs::write(dir.path().join("main.py"), "print(1)\n").expect("write");
        std::fs::write(dir.path().join("lib/util.py"), "X = 2\n").expect("write");
        std::fs::write(dir.path().join("function.yaml"), "name: f\n").expect("write");
        let first = zip_dir(dir.path()).expect("zip");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        // Rewriting the same bytes changes the files' times, not the zip.
        std::fs::write(dir.path().join("main.py"), "print(1)\n").expect("write");
        std::fs::write(dir.path().join("function.yaml"), "name: f\nmemory: 256\n").expect("write");
        assert_eq!(zip_dir(dir.path()).expect("zip"), first);
        std::fs::write(dir.path().join("main.py"), "print(2)\n").expect("write");
        assert_ne!(zip_dir(dir.path()).expect("zip"), first);
    }
}
