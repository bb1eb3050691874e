//! Application manifests (docs/applications.md): `stratus apply app.yaml` plans and converges
//! the buckets and functions an application declares; `stratus delete app NAME` removes what it
//! created; `stratus apps ls` lists the project's applications.
//!
//! Order of work: parse and check the manifest locally (`manifest`, `graph`), read the server's
//! state and refuse what cannot be applied (`state`), compute the plan (`plan`), print it, and
//! only then change anything. The server keeps the application's record (`/v1/apps/NAME`): it
//! is widened to everything the apply may create *before* the first change, so an interrupted
//! apply still leaves every created resource owned, then set to the final state at the end.

mod graph;
mod manifest;
mod plan;
mod state;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Subcommand;
use sha2::Digest as _;
use stratus_client::apps::{App, AppList, AppTeardown, RecordApp};
use stratus_core::AppResources;

use self::manifest::Manifest;
use self::plan::{BucketAction, Change, Desired, FunctionAction, Plan};
use super::Progress;
use crate::client::{NativeClient, Target, problem_detail};

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[derive(Subcommand)]
pub(crate) enum DeleteCommand {
    /// Delete an application: its functions and triggers, and the buckets it created if empty.
    App {
        name: String,
        /// Print what was deleted and kept as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum AppsCommand {
    /// List the project's applications.
    #[command(visible_alias = "list")]
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Show what an application owns.
    #[command(visible_aliases = ["get", "describe"])]
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an application (as `stratus delete app NAME`).
    #[command(visible_aliases = ["delete", "remove"])]
    Rm {
        name: String,
        /// Print what was deleted and kept as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What `apply --json` prints for an application manifest.
#[derive(serde::Serialize)]
struct Applied<'a> {
    application: &'a str,
    dry_run: bool,
    /// Every bucket and function the plan considered, with what it does to each.
    changes: Vec<Change>,
    added: usize,
    changed: usize,
    removed: usize,
    /// `source -> function -> output` lines of the application's graph.
    edges: Vec<String>,
}

/// `stratus apply` for a manifest whose text was read from `file`.
pub(crate) async fn apply(
    target: &Target,
    file: &Path,
    text: &str,
    dry_run: bool,
    progress: Progress,
) -> anyhow::Result<()> {
    let manifest = manifest::load(file, text)?;
    let client = NativeClient::new(target)?;
    let current = state::observe(&client, &manifest).await?;
    let desired: Vec<Desired> = manifest
        .stages
        .iter()
        .map(|s| Desired::of(s, current.python.as_deref()))
        .collect();
    let plan = plan::diff(&manifest, &desired, &current);
    print_plan(&manifest, &plan, progress);
    let (added, changed, removed) = plan.counts();
    let applied = Applied {
        application: manifest.name.as_str(),
        dry_run,
        changes: plan.changes(),
        added,
        changed,
        removed,
        edges: graph::dag_lines(&manifest.stages),
    };
    if dry_run {
        progress.line("dry run: nothing was changed");
        return progress.result(&applied);
    }
    if plan.is_empty() {
        // Nothing to deploy; the record may still lag (first apply of a manifest that only
        // uses existing buckets, or an edited comment changed the digest).
        let stale = !current.applied_before
            || current.digest != manifest.digest
            || current.record != plan.resources;
        if stale {
            record(&client, &manifest, &plan.resources, &manifest.digest).await?;
        }
        return progress.result(&applied);
    }
    let app = manifest.name.as_str();
    converge(&client, &manifest, &desired, &current, &plan, progress)
        .await
        .with_context(|| {
            format!(
                "apply of {app} stopped part-way; what it created is recorded: run stratus apply again to finish, or stratus delete app {app} to remove it"
            )
        })?;
    progress.line(format_args!(
        "applied {app}: {added} added, {changed} changed, {removed} removed"
    ));
    progress.result(&applied)
}

fn print_plan(manifest: &Manifest, plan: &Plan, progress: Progress) {
    progress.line(format_args!("application {}", manifest.name));
    for line in plan.lines() {
        progress.line(format_args!("  {line}"));
    }
    let edges = graph::dag_lines(&manifest.stages);
    if !edges.is_empty() {
        progress.line("edges:");
        for line in edges {
            progress.line(format_args!("  {line}"));
        }
    }
    let (added, changed, removed) = plan.counts();
    if plan.is_empty() {
        progress.line("no changes");
    } else {
        progress.line(format_args!(
            "plan: {added} to add, {changed} to change, {removed} to remove"
        ));
    }
}

async fn record(
    client: &NativeClient,
    manifest: &Manifest,
    resources: &AppResources,
    digest: &str,
) -> anyhow::Result<()> {
    let body = RecordApp {
        resources: resources.clone(),
        manifest_digest: digest.to_owned(),
    };
    let path = format!("/v1/apps/{}", manifest.name);
    let _recorded: App = client
        .request(http::Method::PUT, &path, Some(&body))
        .await
        .context("cannot record the application")?;
    Ok(())
}

/// The record before the first change: everything recorded so far plus everything this apply
/// may create, so nothing it creates can be left unowned by an interruption.
fn widened(current: &AppResources, target: &AppResources) -> AppResources {
    let mut intent = current.clone();
    for bucket in &target.buckets {
        if !intent.buckets.contains(bucket) {
            intent.buckets.push(bucket.clone());
        }
    }
    for function in &target.functions {
        if intent.function(&function.name).is_none() {
            intent.functions.push(function.clone());
        }
    }
    intent
}

async fn converge(
    client: &NativeClient,
    manifest: &Manifest,
    desired: &[Desired],
    current: &state::Current,
    plan: &Plan,
    progress: Progress,
) -> anyhow::Result<()> {
    // Dependencies first: a pip failure is the likeliest one, and building an environment
    // changes nothing any function sees.
    let mut dependencies = Vec::new();
    for ((_, action), stage) in plan.functions.iter().zip(&manifest.stages) {
        let hash = match (&stage.local.requirements, action.deploys()) {
            (Some(text), true) => crate::environments::ensure(client, text).await?,
            _ => None,
        };
        dependencies.push(hash);
    }
    let intent = widened(&current.record, &plan.resources);
    record(client, manifest, &intent, &current.digest).await?;
    for (bucket, action) in &plan.buckets {
        if *action == BucketAction::Create {
            client.ensure_bucket(bucket).await?;
            progress.line(format_args!("created bucket {bucket}"));
        }
    }
    // `plan.functions` starts with one entry per stage, in manifest order.
    for (((_, action), stage), (want, hash)) in plan
        .functions
        .iter()
        .zip(&manifest.stages)
        .zip(desired.iter().zip(&dependencies))
    {
        if action.deploys() {
            let report = !progress.json();
            crate::functions::send(
                client,
                &stage.local,
                hash.as_deref(),
                &want.triggers,
                report,
            )
            .await?;
        }
    }
    for (function, action) in &plan.functions {
        if *action == FunctionAction::Remove {
            let path = format!("/v1/functions/{function}");
            let (status, _, body) = client
                .call_raw(http::Method::DELETE, &path, Bytes::new())
                .await?;
            if !status.is_success() && status != http::StatusCode::NOT_FOUND {
                anyhow::bail!("function {function}: {} ({status})", problem_detail(&body));
            }
            progress.line(format_args!("deleted function {function}"));
        }
    }
    for (bucket, action) in &plan.buckets {
        if *action == BucketAction::Remove {
            remove_bucket(client, manifest, bucket, progress).await?;
        }
    }
    record(client, manifest, &plan.resources, &manifest.digest).await
}

/// Deletes a bucket the application created and no longer declares; one holding objects is
/// kept (and is no longer the application's), like CloudFormation's retained resources.
async fn remove_bucket(
    client: &NativeClient,
    manifest: &Manifest,
    bucket: &str,
    progress: Progress,
) -> anyhow::Result<()> {
    let path = format!("/v1/buckets/{bucket}");
    let (status, _, body) = client
        .call_raw(http::Method::DELETE, &path, Bytes::new())
        .await?;
    match status {
        s if s.is_success() || s == http::StatusCode::NOT_FOUND => {
            progress.line(format_args!("deleted bucket {bucket}"));
        }
        http::StatusCode::CONFLICT => progress.line(format_args!(
            "kept bucket {bucket}: it is not empty; it no longer belongs to application {}",
            manifest.name
        )),
        _ => anyhow::bail!("bucket {bucket}: {} ({status})", problem_detail(&body)),
    }
    Ok(())
}

/// `stratus delete app NAME`: the server removes what the application created.
pub(crate) async fn delete(target: &Target, command: DeleteCommand) -> anyhow::Result<ExitCode> {
    let DeleteCommand::App { name, json } = command;
    let client = NativeClient::new(target)?;
    let report: AppTeardown = client
        .request(
            http::Method::DELETE,
            &format!("/v1/apps/{name}"),
            None::<&()>,
        )
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    for function in &report.deleted_functions {
        println!("deleted function {function}");
    }
    for bucket in &report.deleted_buckets {
        println!("deleted bucket {bucket}");
    }
    for kept in &report.kept_buckets {
        println!("kept bucket {}: {}", kept.name, kept.reason);
    }
    println!("deleted application {name}");
    Ok(ExitCode::SUCCESS)
}

/// `stratus apps show NAME`.
async fn show(target: &Target, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let client = NativeClient::new(target)?;
    let app: App = client.get(&format!("/v1/apps/{name}")).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&app)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("application: {}", app.name);
    println!("updated:     {}", crate::client::shown_time(app.updated_ms));
    println!("manifest:    sha256 {}", app.manifest_digest);
    println!("buckets:     {}", app.resources.buckets.join(", "));
    for function in &app.resources.functions {
        println!(
            "function:    {} (outputs: {})",
            function.name,
            function.outputs.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `stratus apps ls|show|rm`.
pub(crate) async fn run(target: &Target, command: AppsCommand) -> anyhow::Result<ExitCode> {
    let json = match command {
        AppsCommand::Ls { json } => json,
        AppsCommand::Show { name, json } => return show(target, &name, json).await,
        AppsCommand::Rm { name, json } => {
            return delete(target, DeleteCommand::App { name, json }).await;
        }
    };
    let client = NativeClient::new(target)?;
    let listed: AppList = client.get("/v1/apps").await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&listed.apps)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<24} {:<40} BUCKETS", "NAME", "FUNCTIONS");
    for app in &listed.apps {
        let resources = &app.resources;
        let functions: Vec<&str> = resources
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        println!(
            "{:<24} {:<40} {}",
            app.name,
            functions.join(", "),
            resources.buckets.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
