//! `requirements.txt` for `stratus deploy`: makes sure the server has the environment and
//! returns its hash for the function's `dependencies`.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use serde_json::Value;

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
    let listed = client
        .call(http::Method::GET, "/v1/environments", None)
        .await?;
    let Some(tag) = listed["python"].as_str() else {
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
                let event: Value = serde_json::from_str(line)
                    .with_context(|| format!("unexpected answer from the server: {line}"))?;
                match event["event"].as_str() {
                    Some("output") => eprintln!("  | {}", event["line"].as_str().unwrap_or("")),
                    Some("waiting") => {
                        eprintln!("  waiting for another deploy installing the same requirements");
                    }
                    _ => last = Some(event),
                }
                Ok(())
            },
        )
        .await
        .context("installing requirements.txt failed")?;
    let Some(last) = last else {
        bail!("the server stopped before the dependencies were installed");
    };
    match (last["event"].as_str(), last["status"].as_str()) {
        (Some("done"), Some("cached")) => println!("dependencies: {short} (cached)"),
        (Some("done"), _) => {
            let env = &last["environment"];
            let megabytes = env["size_bytes"].as_f64().unwrap_or(0.0) / 1e6;
            let seconds = env["build_seconds"].as_f64().unwrap_or(0.0);
            println!("dependencies: {short} (installed in {seconds:.1} s, {megabytes:.1} MB)");
        }
        _ => bail!(
            "installing requirements.txt failed: {}",
            last["error"].as_str().unwrap_or("unknown error")
        ),
    }
    Ok(Some(hash))
}
