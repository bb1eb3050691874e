//! What the server has now, read before planning: this application's record, which functions
//! other applications own, the buckets the manifest names and the deployed functions. Reading
//! it also finishes validation (a bucket of another project, an undeclared bucket, a function
//! of another application), so every refusal happens before the first change.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use stratus_client::apps::AppList;
use stratus_client::environments::EnvironmentList;
use stratus_client::functions::{FunctionDetails, FunctionUrl};
use stratus_core::AppResources;

use super::manifest::Manifest;
use crate::client::{NativeClient, problem_detail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BucketState {
    /// The project's bucket.
    Ours,
    Missing,
    /// Another project's: the name is taken.
    Foreign,
}

/// The server's side of a plan.
#[derive(Debug, Default)]
pub(crate) struct Current {
    /// This application's record (empty when it was never applied).
    pub(crate) record: AppResources,
    pub(crate) applied_before: bool,
    pub(crate) digest: String,
    pub(crate) buckets: BTreeMap<String, BucketState>,
    /// `GET /v1/functions/NAME` of every deployed function the plan involves.
    pub(crate) functions: BTreeMap<String, FunctionDetails>,
    /// The URL auth (`none`/`bearer`) of functions whose function.yaml asks for a URL.
    pub(crate) urls: BTreeMap<String, String>,
    /// The server's interpreter tag, when some function has requirements.
    pub(crate) python: Option<String>,
}

/// Lists at most one object: 200 for the project's bucket, 403 for another project's, 404 for
/// none. Read-only, unlike probing with a create.
async fn probe_bucket(client: &NativeClient, bucket: &str) -> anyhow::Result<BucketState> {
    let path = format!("/v1/buckets/{bucket}/objects?limit=1");
    let (status, _, body) = client
        .call_raw(http::Method::GET, &path, Bytes::new())
        .await?;
    match status {
        http::StatusCode::OK => Ok(BucketState::Ours),
        http::StatusCode::NOT_FOUND => Ok(BucketState::Missing),
        http::StatusCode::FORBIDDEN => Ok(BucketState::Foreign),
        _ => bail!("bucket {bucket}: {} ({status})", problem_detail(&body)),
    }
}

/// `Some(body)` for a 2xx, `None` for a 404, an error otherwise.
async fn get_optional<T: serde::de::DeserializeOwned>(
    client: &NativeClient,
    path: &str,
) -> anyhow::Result<Option<T>> {
    let (status, _, body) = client
        .call_raw(http::Method::GET, path, Bytes::new())
        .await?;
    if status == http::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        bail!("{path}: {} ({status})", problem_detail(&body));
    }
    Ok(Some(serde_json::from_slice(&body)?))
}

/// Reads the current state and refuses what cannot be applied.
pub(crate) async fn observe(client: &NativeClient, manifest: &Manifest) -> anyhow::Result<Current> {
    let app = manifest.name.as_str();
    let mut current = Current::default();
    let listed: AppList = client
        .get("/v1/apps")
        .await
        .context("cannot list the project's applications")?;
    let mut owner_of: BTreeMap<String, String> = BTreeMap::new();
    for other in listed.apps {
        let name = other.name;
        let resources = other.resources;
        if name == app {
            current.record = resources;
            current.applied_before = true;
            current.digest = other.manifest_digest;
        } else {
            for function in resources.functions {
                owner_of.insert(function.name, name.clone());
            }
        }
    }
    for stage in &manifest.stages {
        if let Some(owner) = owner_of.get(stage.name()) {
            bail!(
                "function {} ({}) belongs to application {owner}; remove it there first",
                stage.name(),
                stage.path
            );
        }
    }
    // Every bucket the manifest names, and those the application created before (to remove).
    let named = manifest
        .buckets
        .iter()
        .map(String::as_str)
        .chain(manifest.stages.iter().flat_map(|s| s.buckets()))
        .chain(current.record.buckets.iter().map(String::as_str));
    for bucket in named
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let state = probe_bucket(client, &bucket).await?;
        current.buckets.insert(bucket, state);
    }
    for bucket in &manifest.buckets {
        if current.buckets[bucket] == BucketState::Foreign {
            bail!(
                "bucket {bucket} is taken by another project; bucket names are global, choose another"
            );
        }
    }
    for stage in &manifest.stages {
        for bucket in stage.buckets() {
            let declared = manifest.buckets.iter().any(|b| b == bucket);
            match current.buckets[bucket] {
                BucketState::Foreign => bail!(
                    "function {} uses bucket {bucket}, which belongs to another project",
                    stage.name()
                ),
                BucketState::Missing if !declared => bail!(
                    "function {} uses bucket {bucket}, which is neither declared under buckets: nor an existing bucket of this project",
                    stage.name()
                ),
                _ => {}
            }
        }
    }
    let names = manifest
        .stages
        .iter()
        .map(|s| s.name().to_owned())
        .chain(current.record.functions.iter().map(|f| f.name.clone()))
        .collect::<std::collections::BTreeSet<_>>();
    for name in names {
        if let Some(summary) = get_optional(client, &format!("/v1/functions/{name}")).await? {
            current.functions.insert(name, summary);
        }
    }
    for stage in &manifest.stages {
        if stage.local.spec.url.is_some() && current.functions.contains_key(stage.name()) {
            let path = format!("/v1/functions/{}/url", stage.name());
            if let Some(url) = get_optional::<FunctionUrl>(client, &path).await? {
                let auth = url.auth;
                current.urls.insert(stage.name().to_owned(), auth);
            }
        }
    }
    let needs_python = manifest.stages.iter().any(|s| {
        s.local
            .requirements
            .as_deref()
            .is_some_and(|r| !stratus_server::normalise_requirements(r).is_empty())
    });
    if needs_python {
        let listed: EnvironmentList = client.get("/v1/environments").await?;
        match listed.python {
            Some(tag) => current.python = Some(tag),
            None => bail!(
                "the server has no Python interpreter, so it cannot install a requirements.txt"
            ),
        }
    }
    Ok(current)
}
