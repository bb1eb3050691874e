//! `requirements.txt` for `stratus deploy`: makes sure the server has the environment and
//! returns its hash for the function's `dependencies`.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use stratus_client::environments::{BuildEvent, EnvironmentList};

use crate::client::NativeClient;

/// Builds (or finds) the environment of `requirements` on the server, showing pip's output as
/// it runs. `None` when the file names nothing.
pub(crate) async fn ensure(
    client: &NativeClient,
    requirements: &str,
) -> anyhow::Result<Option<String>> {
    if stratus_server::normalise_requirements(requirements).is_empty() {
        return Ok(None);
    }
    // The hash includes the server's interpreter, which only the server knows.
    let listed: EnvironmentList = client.get("/v1/environments").await?;
    let Some(tag) = listed.python.as_deref() else {
        bail!("the server has no Python interpreter, so it cannot install requirements.txt");
    };
    let hash = stratus_server::environment_hash(requirements, tag);
    let short = &hash[..12];
    let mut last = None;
    client
        .stream_lines(
            http::Method::PUT,
            &format!("/v1/environments/{hash}"),
            Bytes::from(requirements.to_owned()),
            |line| {
                let event: BuildEvent = serde_json::from_str(line)
                    .with_context(|| format!("unexpected answer from the server: {line}"))?;
                match event {
                    BuildEvent::Output { line } => eprintln!("  | {line}"),
                    BuildEvent::Waiting => {
                        eprintln!("  waiting for another deploy installing the same requirements");
                    }
                    finished => last = Some(finished),
                }
                Ok(())
            },
        )
        .await
        .context("installing requirements.txt failed")?;
    let Some(last) = last else {
        bail!("the server stopped before the dependencies were installed");
    };
    // Progress, like pip's lines: stderr, so `deploy --json` and `apply --json` keep stdout to
    // their one JSON document.
    match last {
        BuildEvent::Done { status, .. } if status == "cached" => {
            eprintln!("dependencies: {short} (cached)");
        }
        BuildEvent::Done { environment, .. } => {
            let megabytes = environment.size_bytes as f64 / 1e6;
            let seconds = environment.build_seconds;
            eprintln!("dependencies: {short} (installed in {seconds:.1} s, {megabytes:.1} MB)");
        }
        BuildEvent::Failed { error } => bail!("installing requirements.txt failed: {error}"),
        BuildEvent::Output { .. } | BuildEvent::Waiting => {
            bail!("installing requirements.txt failed: unknown error")
        }
    }
    Ok(Some(hash))
}
