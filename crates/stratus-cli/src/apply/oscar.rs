//! OSCAR FDL files: every service becomes a function that runs its script through our shim
//! (`stratus_oscar.py`), with bucket triggers from its inputs; missing buckets are created, as
//! OSCAR does. Everything is checked before the first change (parsing, scripts, limits, then
//! which buckets the project may use), and applying the same file twice changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use stratus_client::functions::{DeployRequest, FunctionDetails};
use stratus_core::{BucketTrigger, FunctionConfig, Trigger};

use super::Progress;
use super::fdl::{Fdl, Service, StorageIo};
use crate::buckets::BucketState;
use crate::client::{NativeClient, Target};

/// The shim every script service runs; the server recognises services by this handler.
const SHIM: &str = include_str!("stratus_oscar.py");
const HANDLER: &str = "stratus_oscar.handler";
const RUNTIME: &str = "python3.11";
/// OSCAR's jobs have no time limit; Lambda's longest timeout is the closest we have.
const TIMEOUT_S: u32 = 900;
/// OSCAR's default memory (256Mi).
const DEFAULT_MEMORY_MB: u32 = 256;
/// Variables the shim reads; an FDL may not set them itself.
const SHIM_VARIABLES: &[&str] = &[
    "STRATUS_OSCAR_OUTPUTS",
    "STRATUS_OSCAR_LOG_LEVEL",
    "STRATUS_OSCAR_IMAGE",
    "STRATUS_OSCAR_CPU",
];

/// One service, ready to deploy.
struct ServicePlan {
    name: String,
    /// Where it is in the file (`functions.oscar[0].CLUSTER`), for messages.
    field: String,
    config: FunctionConfig,
    zip: Vec<u8>,
    triggers: Vec<BucketTrigger>,
    reserved_concurrency: Option<u32>,
}

struct Plan {
    services: Vec<ServicePlan>,
    /// Every bucket named, with the first field naming it.
    buckets: BTreeMap<String, String>,
    warnings: Vec<String>,
}

/// What `apply --json` prints for an OSCAR file.
#[derive(serde::Serialize)]
struct Applied<'a> {
    file: String,
    buckets_created: Vec<&'a str>,
    services: BTreeMap<&'a str, ServiceAction>,
    warnings: &'a [String],
}

pub(crate) async fn apply(
    target: &Target,
    file: &Path,
    text: &str,
    progress: Progress,
) -> anyhow::Result<()> {
    let shown = file.display();
    // One line: the file, then the field and what is wrong (with its line when known).
    let in_file = |error: anyhow::Error| anyhow::anyhow!("{shown}: {error:#}");
    let plan = plan(file, text).map_err(in_file)?;
    for warning in &plan.warnings {
        eprintln!("warning: {shown}: {warning}");
    }
    let client = NativeClient::new(target)?;
    check_remote(&client, &plan).await.map_err(in_file)?;
    let mut applied = Applied {
        file: shown.to_string(),
        buckets_created: Vec::new(),
        services: BTreeMap::new(),
        warnings: &plan.warnings,
    };
    for bucket in plan.buckets.keys() {
        if client.ensure_bucket(bucket).await? == BucketState::Created {
            progress.line(format_args!("created bucket {bucket}"));
            applied.buckets_created.push(bucket);
        }
    }
    for service in &plan.services {
        let action = deploy(&client, service, progress).await?;
        applied.services.insert(&service.name, action);
    }
    let changed = !applied.buckets_created.is_empty()
        || applied
            .services
            .values()
            .any(|action| *action != ServiceAction::Unchanged);
    if !changed {
        progress.line(format_args!(
            "nothing to change: the server already matches {shown}"
        ));
    }
    progress.result(&applied)
}

/// Parses and checks the file; reads every script. Makes no request.
fn plan(file: &Path, text: &str) -> anyhow::Result<Plan> {
    // serde_norway's messages carry the line and column of the offending value.
    let fdl: Fdl = serde_norway::from_str(text)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut plan = Plan {
        services: Vec::new(),
        buckets: BTreeMap::new(),
        warnings: Vec::new(),
    };
    if fdl.clusters.is_some() {
        plan.warnings
            .push("clusters: ignored (stratus apply deploys to its own server)".into());
    }
    let mut names = BTreeSet::new();
    for (index, entry) in fdl.functions.oscar.iter().enumerate() {
        for (cluster, service) in entry {
            let field = format!("functions.oscar[{index}].{cluster}");
            if !names.insert(service.name.as_str().to_owned()) {
                bail!(
                    "{field}.name: the service {} is defined twice",
                    service.name
                );
            }
            let planned = plan_service(dir, text, &field, service, &fdl, &mut plan)?;
            plan.services.push(planned);
        }
    }
    Ok(plan)
}

fn plan_service(
    dir: &Path,
    text: &str,
    field: &str,
    service: &Service,
    fdl: &Fdl,
    plan: &mut Plan,
) -> anyhow::Result<ServicePlan> {
    let name = service.name.as_str();
    let Some(script_path) = &service.script else {
        bail!(
            "{field}.script: required (Stratus runs the service's script; it cannot run an \
             image's own command)"
        );
    };
    let script = std::fs::read(dir.join(script_path)).with_context(|| {
        format!(
            "{field}.script{}: cannot read {}",
            line_of(text, "script:", script_path),
            dir.join(script_path).display()
        )
    })?;
    for ignored in service.ignored_fields() {
        plan.warnings.push(format!(
            "{field}.{ignored}: ignored (it only tunes Kubernetes)"
        ));
    }
    if let Some(image) = &service.image {
        plan.warnings.push(format!(
            "{field}.image: {image} is recorded for a Kubernetes backend; this server runs \
             the script on its own Python runtime"
        ));
    }
    let mut memory_mb = service.memory.map_or(DEFAULT_MEMORY_MB, |m| m.0);
    if memory_mb < stratus_core::function::MIN_MEMORY_MB {
        plan.warnings.push(format!(
            "{field}.memory: {memory_mb} MB raised to the minimum, {} MB",
            stratus_core::function::MIN_MEMORY_MB
        ));
        memory_mb = stratus_core::function::MIN_MEMORY_MB;
    }
    for (kind, ios) in [("input", &service.input), ("output", &service.output)] {
        for (i, io) in ios.iter().enumerate() {
            check_provider(fdl, &format!("{field}.{kind}[{i}]"), io, plan);
            plan.buckets
                .entry(io.path.bucket.clone())
                .or_insert_with(|| format!("{field}.{kind}[{i}].path"));
        }
    }
    let environment = environment(field, service)?;
    let mut config = FunctionConfig::new(RUNTIME, HANDLER);
    config.memory_mb = memory_mb;
    config.timeout_s = TIMEOUT_S;
    config.environment = environment;
    config.description = match &service.image {
        Some(image) => format!("OSCAR script service (image {image})"),
        None => "OSCAR script service".to_owned(),
    };
    let synchronous = service.synchronous.as_ref();
    config.min_instances = synchronous.map_or(0, |s| s.min_scale);
    config.validate().map_err(|e| {
        let at = match e.field {
            "Environment" => "environment",
            "Description" => "image",
            "MinInstances" => "synchronous.min_scale",
            other => other,
        };
        anyhow::anyhow!("{field}.{at}: {}", e.message)
    })?;
    let triggers = triggers(&service.input);
    for trigger in &triggers {
        trigger
            .validate()
            .map_err(|e| anyhow::anyhow!("{field}.input: {e}"))?;
    }
    Ok(ServicePlan {
        name: name.to_owned(),
        field: field.to_owned(),
        config,
        zip: package(&script)?,
        triggers,
        reserved_concurrency: synchronous.and_then(|s| (s.max_scale > 0).then_some(s.max_scale)),
    })
}

/// `minio.ID` paths are ours whatever `storage_providers.minio.ID` says; say so if it names
/// another server.
fn check_provider(fdl: &Fdl, field: &str, io: &StorageIo, plan: &mut Plan) {
    let id = &io.storage_provider.id;
    let declared = fdl.storage_providers.get("minio").and_then(|m| m.get(id));
    if declared.is_some_and(|d| d.get("endpoint").is_some()) {
        plan.warnings.push(format!(
            "{field}.storage_provider: storage_providers.minio.{id} names another server; \
             Stratus serves {} from its own store",
            io.path
        ));
    }
}

/// The service's variables and secrets, plus what the shim reads: the outputs (OSCAR's
/// `output` list as JSON), the log level, and the image and cpu recorded for other backends.
fn environment(field: &str, service: &Service) -> anyhow::Result<BTreeMap<String, String>> {
    let env = &service.environment;
    let mut vars = BTreeMap::new();
    for (name, value) in env.variables.iter().chain(&env.secrets) {
        if SHIM_VARIABLES.contains(&name.as_str()) {
            bail!("{field}.environment: {name} is set by Stratus for the service's handler");
        }
        if vars.insert(name.clone(), value.to_string()).is_some() {
            bail!("{field}.environment: {name} is both a variable and a secret");
        }
    }
    let outputs: Vec<Value> = service
        .output
        .iter()
        .map(|o| json!({ "path": o.path.to_string(), "prefix": o.prefix.0, "suffix": o.suffix.0 }))
        .collect();
    vars.insert(
        "STRATUS_OSCAR_OUTPUTS".into(),
        Value::from(outputs).to_string(),
    );
    if let Some(level) = &service.log_level {
        vars.insert("STRATUS_OSCAR_LOG_LEVEL".into(), level.0.clone());
    }
    if let Some(image) = &service.image {
        vars.insert("STRATUS_OSCAR_IMAGE".into(), image.clone());
    }
    // CPU follows memory, as in Lambda (a share proportional to the memory size): the value is
    // kept for a backend that schedules CPUs (Kubernetes), not enforced here.
    if let Some(cpu) = &service.cpu {
        vars.insert("STRATUS_OSCAR_CPU".into(), cpu.0.clone());
    }
    Ok(vars)
}

/// One bucket trigger per input path and (prefix, suffix) pair. The path's folder is the key
/// prefix; the input's `prefix`/`suffix` lists narrow it (a Stratus extension: OSCAR applies
/// them to outputs only). Entries another entry already covers are dropped, so no upload
/// matches two triggers and runs twice.
fn triggers(inputs: &[StorageIo]) -> Vec<BucketTrigger> {
    let mut out = Vec::new();
    for input in inputs {
        let prefixes = minimal(&input.prefix.0, |a, b| a.starts_with(b));
        let suffixes = minimal(&input.suffix.0, |a, b| a.ends_with(b));
        for prefix in &prefixes {
            for suffix in &suffixes {
                let key_prefix = format!("{}{prefix}", input.path.key_prefix());
                out.push(BucketTrigger {
                    bucket: input.path.bucket.clone(),
                    prefix: (!key_prefix.is_empty()).then_some(key_prefix),
                    suffix: (!suffix.is_empty()).then(|| suffix.clone()),
                    events: vec!["s3:ObjectCreated:*".to_owned()],
                });
            }
        }
    }
    out.dedup();
    out
}

/// The entries no other entry covers (`covers(a, b)`: b matches everything a does); `[""]`
/// (everything) for an empty list.
fn minimal(items: &[String], covers: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let unique: BTreeSet<&String> = items.iter().collect();
    let kept: Vec<String> = unique
        .iter()
        .filter(|a| !unique.iter().any(|b| b != *a && covers(a, b)))
        .map(|a| (*a).clone())
        .collect();
    if kept.is_empty() || kept.iter().any(String::is_empty) {
        vec![String::new()]
    } else {
        kept
    }
}

/// The function's code: the shim and the script. Timestamps are fixed so the same script
/// always makes the same package (and the same SHA-256, which is how a re-apply sees that
/// nothing changed).
fn package(script: &[u8]) -> anyhow::Result<Vec<u8>> {
    crate::functions::reproducible_zip([
        (
            "stratus_oscar.py".to_owned(),
            SHIM.as_bytes().to_vec(),
            0o644,
        ),
        ("script.sh".to_owned(), script.to_vec(), 0o755),
    ])
}

/// ` (line N)` for the first line holding both `key` and `value`, to point at a field that
/// only fails after parsing; empty when not found.
fn line_of(text: &str, key: &str, value: &str) -> String {
    text.lines()
        .position(|line| line.contains(key) && line.contains(value))
        .map(|i| format!(" (line {})", i + 1))
        .unwrap_or_default()
}

/// Checks what only the server knows before anything changes: each bucket is the project's or
/// free to create, and no service name belongs to an ordinary function.
async fn check_remote(client: &NativeClient, plan: &Plan) -> anyhow::Result<()> {
    let own: BTreeSet<String> = client
        .list_buckets()
        .await?
        .into_iter()
        .map(|b| b.name)
        .collect();
    for (bucket, field) in &plan.buckets {
        if own.contains(bucket) {
            continue;
        }
        // Listing a bucket we do not own answers 404 (free) or 403 (another project's).
        let path = format!("/v1/buckets/{bucket}/objects?limit=1");
        let (status, _, body) = client
            .call_raw(http::Method::GET, &path, bytes::Bytes::new())
            .await?;
        match status {
            http::StatusCode::NOT_FOUND => {}
            http::StatusCode::FORBIDDEN => bail!(
                "{field}: the bucket {bucket} belongs to another project, so this project \
                 cannot create or use it"
            ),
            _ => bail!(
                "{field}: cannot check the bucket {bucket}: {} ({status})",
                crate::client::problem_detail(&body)
            ),
        }
    }
    for service in &plan.services {
        let path = format!("/v1/functions/{}", service.name);
        let (status, _, body) = client
            .call_raw(http::Method::GET, &path, bytes::Bytes::new())
            .await?;
        if status.is_success() {
            let current: FunctionDetails = serde_json::from_slice(&body)?;
            if current.summary.handler != HANDLER {
                bail!(
                    "{}.name: {} is an ordinary function in this project, not a script \
                     service; choose another name",
                    service.field,
                    service.name
                );
            }
        }
    }
    Ok(())
}

/// What `apply` did to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum ServiceAction {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates the service's function.
async fn deploy(
    client: &NativeClient,
    service: &ServicePlan,
    progress: Progress,
) -> anyhow::Result<ServiceAction> {
    let path = format!("/v1/functions/{}", service.name);
    let (status, _, body) = client
        .call_raw(http::Method::GET, &path, bytes::Bytes::new())
        .await?;
    let current: Option<FunctionDetails> = if status.is_success() {
        Some(serde_json::from_slice(&body)?)
    } else {
        None
    };
    if current.as_ref().is_some_and(|c| unchanged(c, service)) {
        progress.line(format_args!("service {} unchanged", service.name));
        return Ok(ServiceAction::Unchanged);
    }
    let request = DeployRequest {
        config: service.config.clone(),
        zip: base64::engine::general_purpose::STANDARD.encode(&service.zip),
        reserved_concurrency: service.reserved_concurrency,
        publish: false,
        triggers: service
            .triggers
            .iter()
            .cloned()
            .map(Trigger::Bucket)
            .collect(),
    };
    let _deployed: FunctionDetails = client
        .request(http::Method::PUT, &path, Some(&request))
        .await?;
    let (action, verb) = if current.is_some() {
        (ServiceAction::Updated, "updated")
    } else {
        (ServiceAction::Created, "created")
    };
    progress.line(format_args!(
        "{verb} service {} ({} trigger{}; POST /run/{} or /job/{})",
        service.name,
        service.triggers.len(),
        if service.triggers.len() == 1 { "" } else { "s" },
        service.name,
        service.name
    ));
    Ok(action)
}

/// Whether the deployed function already is exactly this service.
fn unchanged(current: &FunctionDetails, service: &ServicePlan) -> bool {
    let sha = hex::encode(Sha256::digest(&service.zip));
    // Triggers compare as sets: their order carries no meaning.
    let key = |triggers: &[BucketTrigger]| -> BTreeSet<String> {
        triggers
            .iter()
            .filter_map(|t| serde_json::to_string(t).ok())
            .collect()
    };
    let shown = &current.summary;
    shown.code_sha256 == sha
        && shown.shows(&service.config)
        && shown.reserved_concurrency == service.reserved_concurrency
        && key(&current.triggers) == key(&service.triggers)
}

#[cfg(test)]
mod tests;
